# gameday-harness: every target installs what it needs and is quick when all is there.
# `make gameday` runs the main job against every system of the project; `make test` runs the tests.
# Systems are found, never listed: stack/<system>/, scenarios/<system>/ (see README "Add a system").

PYTHON ?= python3
VENV   ?= .venv
BIN    := $(VENV)/bin
STAMP  := $(VENV)/.installed
STACK  ?=
BENCH_ARGS ?=

.DEFAULT_GOAL := help
.PHONY: help venv docker node images browser gameday bench test unit lint clean

help: ## list the targets
	@grep -E '^[a-z-]+:.*## ' $(MAKEFILE_LIST) | awk -F':.*## ' '{printf "  make %-8s %s\n", $$1, $$2}'

$(STAMP): pyproject.toml
	@$(PYTHON) -m venv $(VENV) 2>/dev/null || { \
	  echo "python3 -m venv failed; installing python3-venv"; \
	  apt-get update -qq && DEBIAN_FRONTEND=noninteractive apt-get install -y -qq python3-venv >/dev/null && \
	  $(PYTHON) -m venv $(VENV); }
	$(BIN)/pip install -q --upgrade pip
	$(BIN)/pip install -q -e '.[dev]'
	@touch $@

venv: $(STAMP) ## make the virtualenv with the harness and its tools

docker: ## make a Docker engine answer (install and start it if needed)
	@bash scripts/ensure-docker.sh

node: ## Node.js and npm on this machine, for apps built on the host (Debian's packages, installed when missing)
	@command -v npm >/dev/null 2>&1 && command -v node >/dev/null 2>&1 || { \
	  [ "$$(id -u)" = 0 ] && command -v apt-get >/dev/null 2>&1 || { echo "install Node.js >= 18.18 and npm"; exit 3; }; \
	  echo "installing nodejs and npm (Debian's packages)"; \
	  apt-get update -qq && DEBIAN_FRONTEND=noninteractive apt-get install -y -qq nodejs npm >/dev/null; }

images: venv docker node ## build every system's stack images (STACK=FILE: one stack; base from Debian packages when no registry)
	$(BIN)/gameday build $(if $(STACK),--stack $(STACK))

browser: ## headless Chromium for the report's browser test (Debian's package, installed when missing)
	@command -v chromium >/dev/null 2>&1 || { \
	  [ "$$(id -u)" = 0 ] && command -v apt-get >/dev/null 2>&1 || { echo "install chromium (as root: apt-get install chromium)"; exit 3; }; \
	  echo "installing chromium (Debian's package)"; \
	  apt-get update -qq && DEBIAN_FRONTEND=noninteractive apt-get install -y -qq chromium >/dev/null; }

gameday: images ## the main job: a full gameday (every system's drills, each on a fresh stack)
	$(BIN)/gameday run

bench: images ## every benchmark (cold start too: ~15 min), one table + bench/results/all.json; BENCH_ARGS="--skip-cold"
	$(BIN)/python bench/bench_all.py $(BENCH_ARGS)

lint: venv ## ruff and mypy (strict on harness/)
	$(BIN)/ruff check .
	$(BIN)/mypy

unit: venv ## the tests that need no Docker
	$(BIN)/pytest -m "not docker"

test: images browser lint ## every test: unit, integration and drills (real Docker), the report in Chromium
	$(BIN)/pytest --durations=20

clean: venv ## remove every container, network and volume the harness left
	$(BIN)/gameday clean --all
