#!/usr/bin/env bash
# Make a Docker engine answer on this machine, installing and starting it only when needed.
#
# - An engine that already answers (Docker Desktop, a CI runner, a running dockerd) is used as is:
#   nothing is installed.
# - Otherwise, on Debian/Ubuntu as root: install docker.io (and debootstrap, used to make a base
#   image without a registry), start dockerd in the background, and wait for its socket.
# Idempotent. Exit 0 when `docker info` answers, 3 with a message saying what to do otherwise.
set -euo pipefail

SOCKET_WAIT_SECONDS=${GAMEDAY_DOCKER_WAIT_SECONDS:-60}
DOCKERD_LOG=${GAMEDAY_DOCKERD_LOG:-/var/log/dockerd.log}

say() { printf 'ensure-docker: %s\n' "$*" >&2; }
die() { say "ERROR: $*"; exit 3; }

engine_answers() { command -v docker >/dev/null 2>&1 && timeout 10 docker info >/dev/null 2>&1; }

# Without a registry the base image is made with debootstrap: make sure it is there when needed.
ensure_debootstrap() {
  command -v debootstrap >/dev/null 2>&1 && return 0
  docker image inspect debian:bookworm-slim >/dev/null 2>&1 && return 0
  docker image inspect gameday/debian:bookworm >/dev/null 2>&1 && return 0
  if [ "$(id -u)" = 0 ] && command -v apt-get >/dev/null 2>&1; then
    say "installing debootstrap (to make a base image without a registry)"
    apt-get update -qq && DEBIAN_FRONTEND=noninteractive apt-get install -y -qq debootstrap >/dev/null \
      || die "apt-get install debootstrap failed"
  fi
}

if engine_answers; then
  ensure_debootstrap
  say "Docker engine answers; nothing to do."
  exit 0
fi

if ! command -v dockerd >/dev/null 2>&1; then
  if [ "$(id -u)" != 0 ]; then
    die "no Docker engine answers and dockerd is not installed. Install Docker (e.g. 'sudo apt-get install docker.io' or Docker Desktop), start it, and run this again."
  fi
  command -v apt-get >/dev/null 2>&1 || die "no Docker engine and no apt-get to install one. Install and start Docker, then run this again."
  say "installing docker.io and debootstrap from Debian's packages (about a minute)"
  apt-get update -qq || die "apt-get update failed; check the network to the Debian archive."
  DEBIAN_FRONTEND=noninteractive apt-get install -y -qq docker.io debootstrap >/dev/null \
    || die "apt-get install docker.io failed; see the output above."
fi

if ! pgrep -x dockerd >/dev/null 2>&1; then
  [ "$(id -u)" = 0 ] || die "dockerd is installed but not running and this is not root. Start it (e.g. 'sudo systemctl start docker') and run this again."
  say "starting dockerd (log: $DOCKERD_LOG)"
  # A dockerd killed with the machine's processes leaves a stale pid file; it is safe to drop.
  rm -f /var/run/docker.pid
  nohup dockerd >"$DOCKERD_LOG" 2>&1 &
fi

deadline=$((SECONDS + SOCKET_WAIT_SECONDS))
until engine_answers; do
  if [ "$SECONDS" -ge "$deadline" ]; then
    tail -n 20 "$DOCKERD_LOG" >&2 2>/dev/null || true
    die "dockerd did not answer within ${SOCKET_WAIT_SECONDS}s. Its last log lines are above ($DOCKERD_LOG)."
  fi
  sleep 0.5
done
ensure_debootstrap
say "Docker engine answers ($(docker version --format '{{.Server.Version}}' 2>/dev/null || echo unknown))."
