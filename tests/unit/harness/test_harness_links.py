"""Proxied links in a Compose file (x-gameday.links): what they map onto, every mistake an error at
its line before anything starts, the clients' /etc/hosts entries, and which Toxiproxy image runs."""

from __future__ import annotations

from pathlib import Path

import pytest

from harness.errors import DefinitionError
from harness.stack.definition import LinkSpec
from harness.stack.links import extra_hosts, proxy_aliases, proxy_definition
from tests.unit.harness.test_harness_compose import assert_at, error, load

SERVICES = """\
services:
  db:
    image: team/db
    networks:
      default:
        aliases: [postgres]
  app:
    image: team/app
  worker:
    image: team/app
"""


def with_links(links: str) -> str:
    return f"x-gameday:\n  default_host: app\n  links:\n{links}{SERVICES}"


def test_a_link_from_clients_keeps_the_targets_port_and_names(tmp_path: Path) -> None:
    definition = load(tmp_path, with_links("    db:\n      to: db:5432\n      from: [app, worker]\n"))
    [link] = definition.links
    assert link == LinkSpec(name="db", target="db", port=5432, clients=("app", "worker"), line=link.line)
    assert (link.listen, link.upstream) == (5432, "db:5432")
    assert definition.link("db") is link
    # every name of the target points the clients at the proxy; the target itself and others are untouched
    assert extra_hosts(definition, "app", "10.0.0.9") == {"db": "10.0.0.9", "postgres": "10.0.0.9"}
    assert extra_hosts(definition, "db", "10.0.0.9") == {}
    assert proxy_aliases(definition) == ()
    assert proxy_definition(link) == {"name": "db", "listen": "0.0.0.0:5432", "upstream": "db:5432", "enabled": True}


def test_a_link_with_its_own_name_and_port(tmp_path: Path) -> None:
    definition = load(tmp_path, with_links("    slow-db:\n      to: db:5432\n      listen: db-proxy:15432\n"))
    [link] = definition.links
    assert (link.listen_alias, link.listen, link.clients) == ("db-proxy", 15432, ())
    assert proxy_aliases(definition) == ("db-proxy",)
    assert extra_hosts(definition, "app", "10.0.0.9") == {}
    assert proxy_definition(link)["listen"] == "0.0.0.0:15432"


def test_no_links_no_proxy(tmp_path: Path) -> None:
    definition = load(tmp_path, SERVICES.replace("services:", "x-gameday: {default_host: app}\nservices:", 1))
    assert definition.links == ()
    with pytest.raises(DefinitionError, match=r"declare them in x-gameday\.links"):
        definition.link("db")


@pytest.mark.parametrize(("links", "fragment", "words"), [
    ("    db:\n      to: db\n      from: app\n", "to: db", ("SERVICE:PORT",)),
    ("    db:\n      to: db:99999\n      from: app\n", "to: db:99999", ("SERVICE:PORT",)),
    ("    db:\n      to: cache:6379\n      from: app\n", "to: cache", ("not a service",)),
    ("    db:\n      to: db:5432\n      from: [app, nobody]\n", "from:", ("nobody",)),
    ("    db:\n      to: db:5432\n      from: db\n", "from:", ("another service",)),
    ("    db:\n      to: db:5432\n", "    db:", ("either",)),
    ("    db:\n      to: db:5432\n      from: app\n      listen: p:1\n", "    db:", ("not both",)),
    ("    db:\n      to: db:5432\n      listen: postgres:15432\n", "listen:", ("new host name",)),
    ("    db:\n      to: db:5432\n      listen: Bad_Name:15432\n", "listen:", ("new host name",)),
    ("    db:\n      to: db:8474\n      from: app\n", "    db:", ("8474", "API")),
    ("    a:\n      to: db:5432\n      from: app\n    b:\n      to: db:5432\n      from: worker\n", "    b:",
     ("5432", "'a'", "listen: ALIAS:PORT")),
    ("    Db:\n      to: db:5432\n      from: app\n", "    Db:", ("not a link name",)),
    ("    db:\n      to: db:5432\n      from: app\n      latency: 100\n", "latency", ("not supported",)),
    ("    db: db:5432\n", "    db:", ("mapping",)),
])
def test_every_mistake_is_an_error_at_its_line(tmp_path: Path, links: str, fragment: str,
                                               words: tuple[str, ...]) -> None:
    text = with_links(links)
    assert_at(error(tmp_path, text), text, fragment, *words)
