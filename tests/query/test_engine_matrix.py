"""The conformance matrix (issue 14): over each remote engine the product supports —
`oxigraph serve-read-only` on the published build, and Virtuoso 7 loaded with the exported
N-Quads — every canned query, page, search, stats, the export and the Wikidata tools give
the embedded store's answer byte for byte; what an engine cannot answer the same way is
refused, never answered differently. A missing Virtuoso skips its column (fails in CI)."""

from __future__ import annotations

import json
import re
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
from click.testing import CliRunner
from conftest import oxigraph_server, require_virtuoso
from virtuoso import Virtuoso

from cica_kg import canned, errors, resources
from cica_kg.browse.describe import describe
from cica_kg.cli import cli
from cica_kg.export import export
from cica_kg.namespaces import iris
from cica_kg.query import Engine, InlinePool, Job
from cica_kg.settings import Settings
from cica_kg.store import current_build
from cica_kg.web.app import create_app
from cica_kg.wikidata import ours

CATALOGUE = canned.load_catalogue(resources.queries_dir())
# The engines are chosen by parameter (request.getfixturevalue), which the automatic
# marking in conftest.py cannot see: every test here talks to a server process.
pytestmark = pytest.mark.server

ENGINES = ["oxigraph", "virtuoso"]
FORMATS = ["csv", "json", "tsv", "xml"]
NS = iris()


@pytest.fixture(scope="module")
def dumps(built_settings: Settings, tmp_path_factory: pytest.TempPathFactory) -> Path:
    out = tmp_path_factory.mktemp("matrix-dumps")
    export(built_settings.store, out, jobs=1)
    return out


@pytest.fixture(scope="module")
def oxigraph_url(built_settings: Settings) -> Iterator[str]:
    info = current_build(built_settings.store)
    assert info is not None
    with oxigraph_server(info.store_path) as url:
        yield url


@pytest.fixture(scope="module")
def virtuoso_url(request: pytest.FixtureRequest, dumps: Path) -> str:
    require_virtuoso()
    server: Virtuoso = request.getfixturevalue("virtuoso")
    server.load(dumps / "cica-kg.nq")
    return server.sparql_url


@pytest.fixture(scope="module", params=ENGINES)
def url(request: pytest.FixtureRequest) -> str:
    return str(request.getfixturevalue(f"{request.param}_url"))


@pytest.fixture(scope="module")
def embedded(built_settings: Settings) -> Iterator[Engine]:
    engine = Engine(built_settings, pool=InlinePool())
    yield engine
    engine.close()


def remote_settings(url: str, tmp: Path) -> Settings:
    return Settings.from_env({}, store=tmp / "no-local-store", engine=url)


@pytest.fixture(scope="module")
def remote(url: str, tmp_path_factory: pytest.TempPathFactory) -> Iterator[Engine]:
    engine = Engine(remote_settings(url, tmp_path_factory.mktemp("remote")))
    yield engine
    engine.close()


def variants(query: canned.CannedQuery) -> list[dict[str, str]]:
    """The query with its defaults (a fixed day for "today") and with every example."""
    fixed = {p.name: p.example for p in query.params if p.default in ("today", "required")}
    every = {p.name: p.example for p in query.params}
    return [fixed] if every == fixed else [fixed, every]


LOCAL_QUERIES = sorted(name for name, q in CATALOGUE.items() if not q.federated)


@pytest.mark.parametrize("name", LOCAL_QUERIES)
def test_canned_query_answers_as_embedded(name: str, embedded: Engine, remote: Engine) -> None:
    query = CATALOGUE[name]
    for params in variants(query):
        for fmt in FORMATS:
            want = canned.run(embedded, query, params, fmt).body
            got = canned.run(remote, query, params, fmt).body
            assert got == want, f"{name} {params} as {fmt}"
    assert want.count(b"<result>") >= 1, f"{name}: the comparison needs rows"


def test_federated_query_is_refused_on_virtuoso(virtuoso_url: str, tmp_path: Path) -> None:
    engine = Engine(remote_settings(virtuoso_url, tmp_path))
    with pytest.raises(errors.EngineCannotAnswer) as caught:
        canned.run(engine, CATALOGUE["wikidata-enrich"], {}, "csv")
    assert caught.value.status == 501
    message = caught.value.message
    assert message.startswith("Virtuoso 07.") and virtuoso_url in message
    assert "the canned query wikidata-enrich" in message and "SERVICE" in message


def build_line(body: bytes) -> bytes:
    """The home page's line naming the build (its id and time differ by engine)."""
    return re.sub(
        rb"Build <code>[^<]*</code> of [0-9T:-]+Z:", b"Build <code>ID</code> of TIME:", body
    )


PAGES = [
    ("/", "text/html"),
    ("/ontology", "text/html"),
    ("/ontology.ttl", None),
    ("/ontology.nt", None),
    ("/id/state/KAZ", "text/html"),
    ("/id/state/KAZ.ttl", None),
    ("/id/state/TUR.jsonld", None),
    ("/id/state/AFG", "text/html"),
    ("/id/organization/CICA", "text/html"),
    ("/id/organization/CICA.nt", None),
    ("/id/summit/6", "text/html"),
    ("/id/disagreement/member-count", "text/html"),
    ("/search?q=kaz", "text/html"),
    ("/search.json?q=turkiye", None),
    ("/search.json?q=summit", None),
    ("/queries/members.csv?date=2015-06-01", None),
    ("/queries/state-year.json?first=2010&last=2011", None),
    ("/sparql?query=ASK%20%7B%20%3Fs%20a%20cica%3AState%20%7D", "application/sparql-results+json"),
    ("/sparql?query=ASK%20%7B%20%3Fs%20a%20cica%3ANothing%20%7D", "application/sparql-results+xml"),
    ("/id/state/XXX", "text/html"),  # the 404 page
]


def test_pages_answer_as_embedded(
    built_settings: Settings, embedded: Engine, remote: Engine
) -> None:
    ours_app = create_app(built_settings, engine=embedded).test_client()
    theirs = create_app(remote.settings, engine=remote).test_client()
    for path, accept in PAGES:
        headers = {"Accept": accept} if accept else {}
        want, got = ours_app.get(path, headers=headers), theirs.get(path, headers=headers)
        assert (got.status_code, got.content_type) == (want.status_code, want.content_type), path
        assert build_line(got.data) == build_line(want.data), path
        assert len(want.data) > 200 or path.startswith("/sparql"), path


def test_every_kind_of_resource_is_described_as_embedded(embedded: Engine, remote: Engine) -> None:
    """The page model of three resources of every kind (the pages render it)."""
    rows = embedded.select(
        f'SELECT DISTINCT ?s WHERE {{ ?s ?p ?o FILTER(STRSTARTS(STR(?s), "{NS.id}")) }} ORDER BY ?s'
    )
    by_kind: dict[str, list[str]] = {}
    for row in rows:
        iri = row["s"]["value"]
        by_kind.setdefault(iri.removeprefix(NS.id).split("/")[0], []).append(iri)
    assert len(by_kind) >= 15
    for iri in [i for found in by_kind.values() for i in found[:3]]:
        want, got = describe(embedded.select, iri, NS), describe(remote.select, iri, NS)
        assert got == want, iri
        assert want.exists and want.label, iri


def test_stats_counts_as_embedded(built_settings: Settings, url: str) -> None:
    local = CliRunner().invoke(cli, ["stats", "--store", str(built_settings.store)])
    there = CliRunner().invoke(
        cli, ["stats", "--store", str(built_settings.store), "--engine", url]
    )
    assert local.exit_code == 0 and there.exit_code == 0, there.output
    assert there.stdout.startswith("build remote-")
    assert there.stdout.splitlines()[1:] == local.stdout.splitlines()[1:]
    assert "instances per class:" in there.stdout


def test_wikidata_tools_read_the_same_graph(built_settings: Settings, url: str) -> None:
    for fmt in ("table", "json"):
        args = ["wikidata", "links", "--format", fmt]
        local = CliRunner().invoke(cli, [*args, "--store", str(built_settings.store)])
        there = CliRunner().invoke(cli, [*args, "--engine", url])
        assert there.exit_code == 0, there.output
        assert there.stdout == local.stdout and "linked" in local.stdout
    engine = ours.with_engine(Settings.from_env({}, store=built_settings.store, engine=url))
    mine = ours.with_engine(built_settings)
    # `check` and `quickstatements` compare these with Wikidata's answers.
    assert ours.load_resources(engine) == ours.load_resources(mine)
    assert ours.load_roles(engine) == ours.load_roles(mine)


def void_without_version(text: str) -> str:
    """void.ttl without the lines naming the build (a remote engine's version is the
    N-Quads' digest, and it has no build date)."""
    return "\n".join(
        line
        for line in text.splitlines()
        if not re.search(r"dcterms:hasVersion|owl:versionInfo|dcterms:modified", line)
    )


def test_export_from_the_engine_is_identical(dumps: Path, url: str, tmp_path: Path) -> None:
    result = CliRunner().invoke(
        cli, ["export", "--engine", url, "--out", str(tmp_path), "--jobs", "1"]
    )
    assert result.exit_code == 0, result.output
    names = sorted(p.name for p in dumps.iterdir() if not p.name.startswith("."))
    assert names == sorted(p.name for p in tmp_path.iterdir() if not p.name.startswith("."))
    for name in names:
        if name in ("void.ttl", "SHA256SUMS"):
            continue
        assert (tmp_path / name).read_bytes() == (dumps / name).read_bytes(), name
    ours_void, theirs = (dumps / "void.ttl").read_text(), (tmp_path / "void.ttl").read_text()
    assert void_without_version(theirs) == void_without_version(ours_void)
    sums = [line for line in (dumps / "SHA256SUMS").read_text().splitlines() if "void" not in line]
    assert sums == [
        line for line in (tmp_path / "SHA256SUMS").read_text().splitlines() if "void" not in line
    ]


def test_the_engine_sees_only_the_projects_graphs(remote: Engine, url: str) -> None:
    build = remote.build()
    assert build.graphs and all(g.startswith(NS.graph) for g in build.graphs)
    rows = remote.select("SELECT DISTINCT ?g WHERE { GRAPH ?g { ?s ?p ?o } } ORDER BY ?g")
    assert [r["g"]["value"] for r in rows] == sorted(build.graphs)
    count = remote.select("SELECT (COUNT(*) AS ?n) WHERE { ?s ?p ?o }")
    assert int(count[0]["n"]["value"]) == build.triples


def refused(engine: Engine, query: str, fmt: str = "json") -> Any:
    with pytest.raises(errors.CicaError) as caught:
        engine.run(Job(query=query, format_name=fmt, label="the test query"))
    return caught.value


def test_what_virtuoso_would_answer_differently_is_refused(
    virtuoso_url: str, tmp_path: Path
) -> None:
    engine = Engine(remote_settings(virtuoso_url, tmp_path))
    describe_ = refused(engine, f"DESCRIBE <{NS.id}state/KAZ>", "ttl")
    assert isinstance(describe_, errors.EngineCannotAnswer)
    assert "Virtuoso" in describe_.message and "CONSTRUCT" in describe_.message
    text = refused(engine, "SELECT (STR(1 < 2) AS ?t) WHERE {}")
    assert isinstance(text, errors.EngineCannotAnswer) and "?t" in text.message
    # A computed boolean in a SELECT column is put right (Virtuoso writes 1).
    query = "SELECT (1 < 2 AS ?b) ?c WHERE { BIND(true AS ?c) }"
    doc = json.loads(engine.run(Job(query=query, format_name="json")).body)
    cells = doc["results"]["bindings"][0]
    assert cells["b"]["value"] == "true" and cells["c"]["value"] == "true"
    assert cells["b"]["datatype"].endswith("#boolean")


def test_a_capped_virtuoso_is_refused_not_believed(dumps: Path, tmp_path: Path) -> None:
    """Past its row cap Virtuoso answers HTTP 200 with part of the rows: refused, naming
    the engine and the query."""
    require_virtuoso()
    from virtuoso import running

    with running(ini={"ResultSetMaxRows": "200"}) as server:
        server.load(dumps / "cica-kg.nq")
        engine = Engine(remote_settings(server.sparql_url, tmp_path))
        with pytest.raises(errors.PartialAnswer) as caught:
            canned.run(engine, CATALOGUE["sources"], {}, "csv")  # 857 rows
        message = caught.value.message
        assert "Virtuoso" in message and "the canned query sources" in message
        assert "ResultSetMaxRows" in message and caught.value.status == 502
        # An answer under the cap is whole, and given.
        chair = canned.run(engine, CATALOGUE["chair"], {"date": "2016-01-01"}, "csv").body
        assert chair.count(b"\n") == 2 and b"CHN" in chair
    # Capped below the number of its graphs, even the list of graphs is refused.
    with running(ini={"ResultSetMaxRows": "5"}) as server:
        server.load(dumps / "cica-kg.nq")
        engine = Engine(remote_settings(server.sparql_url, tmp_path))
        with pytest.raises(errors.PartialAnswer, match="the list of its graphs"):
            canned.run(engine, CATALOGUE["members"], {"date": "2015-06-01"}, "csv")
