"""Past one machine: the same canned queries, pages, search and policies over a remote SPARQL
1.1 engine (`--engine URL`), here `oxigraph serve-read-only` on the built store (issue 7)."""

from __future__ import annotations

from collections.abc import Iterator

import pytest
from click.testing import CliRunner
from conftest import Server, oxigraph_server, start_server, stop_server

from cica_kg.cli import cli
from cica_kg.settings import Settings
from cica_kg.store import current_build


@pytest.fixture(scope="module")
def oxigraph_url(built_settings: Settings) -> Iterator[str]:
    info = current_build(built_settings.store)
    assert info is not None
    with oxigraph_server(info.store_path) as url:
        yield url


@pytest.fixture(scope="module")
def remote(oxigraph_url: str, tmp_path_factory: pytest.TempPathFactory) -> Iterator[Server]:
    settings = Settings.from_env({}, store=tmp_path_factory.mktemp("no-local-store"))
    server = start_server(settings, env={"CICA_KG_ENGINE": oxigraph_url})
    yield server
    stop_server(server)


def test_canned_query_over_the_remote_engine(remote: Server) -> None:
    r = remote.get("/queries/members.json", params={"date": "2015-06-01"})
    assert r.status_code == 200
    codes = {b["iso3"]["value"] for b in r.json()["results"]["bindings"]}
    assert len(codes) == 26 and "LKA" not in codes
    chair = remote.get("/queries/chair.json", params={"date": "2016-01-01"})
    assert [b["iso3"]["value"] for b in chair.json()["results"]["bindings"]] == ["CHN"]


def test_pages_and_search_over_the_remote_engine(remote: Server) -> None:
    page = remote.get("/id/state/KAZ", headers={"Accept": "text/html"})
    assert page.status_code == 200 and "<h1>Kazakhstan</h1>" in page.text
    ttl = remote.get("/id/state/KAZ.ttl")
    assert "Kazakhstan" in ttl.text
    hits = remote.get("/search.json", params={"q": "turkiye"}).json()["results"]
    assert hits[0]["iri"] == "https://w3id.org/cica-kg/id/state/TUR"
    home = remote.get("/", headers={"Accept": "text/html"})
    assert home.status_code == 200 and "remote-" in home.text


def test_same_policy_over_the_remote_engine(remote: Server) -> None:
    refused = remote.get(
        "/sparql", params={"query": "SELECT * WHERE { SERVICE <http://10.0.0.1/x> { ?s ?p ?o } }"}
    )
    assert refused.status_code == 400 and "is refused" in refused.text
    update = remote.get("/sparql", params={"query": "CLEAR ALL"})
    assert update.status_code == 403
    bad = remote.get("/sparql", params={"query": "SELECT * WHERE {"})
    assert bad.status_code == 400


def test_cli_query_over_the_remote_engine(oxigraph_url: str) -> None:
    result = CliRunner().invoke(
        cli,
        ["query", "chair", "--engine", oxigraph_url, "--param", "date=2016-01-01",
         "--format", "csv"],
    )  # fmt: skip
    assert result.exit_code == 0, result.output
    lines = result.stdout.strip().splitlines()
    assert len(lines) == 2 and ",CHN," in lines[1] + ","
    assert result.stderr.startswith("data current to ")  # read from the remote engine too


def test_wikidata_links_over_the_remote_engine(oxigraph_url: str) -> None:
    result = CliRunner().invoke(
        cli, ["wikidata", "links", "--engine", oxigraph_url, "--format", "json"]
    )
    assert result.exit_code == 0, result.output
    assert "http://www.wikidata.org/entity/Q232" in result.output
