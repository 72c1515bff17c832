"""RDF dumps, VoID + DCAT description, checksums (`cica-kg export`) and /dumps/, /void."""

from __future__ import annotations

import csv
import gzip
import hashlib
import http.client
import io
import json
import os
import shutil
import subprocess
import sys
import zlib
from collections.abc import Iterator
from pathlib import Path
from urllib.parse import urlparse

import pyoxigraph as ox
import pytest
import rdflib
from click.testing import CliRunner
from conftest import free_port, oxigraph_server, select
from standin import Recorded, Reply, StandIn

from cica_kg import build as building
from cica_kg.cli import cli
from cica_kg.cli.export import export as export_command
from cica_kg.errors import RemoteError
from cica_kg.export import export
from cica_kg.export.files import (
    DUMP_FORMATS,
    PANEL_FILE,
    PANEL_TITLE,
    SUMS_FILE,
    VOID_FILE,
    dump_name,
    file_format,
    file_names,
    read_checksums,
)
from cica_kg.query import Engine, InlinePool
from cica_kg.settings import Settings
from cica_kg.store import current_build, open_current

VOID = "http://rdfs.org/ns/void#"
DCTERMS = "http://purl.org/dc/terms/"
RDF_TYPE = "http://www.w3.org/1999/02/22-rdf-syntax-ns#type"
RDFS_SEE_ALSO = "http://www.w3.org/2000/01/rdf-schema#seeAlso"
DCAT = "http://www.w3.org/ns/dcat#"
SPDX = "http://spdx.org/rdf/terms#"
OWL_SAME_AS = "http://www.w3.org/2002/07/owl#sameAs"
DATASET = "https://w3id.org/cica-kg/dataset"
BASE_URL = "https://cica.example.org/"

RDFLIB_FORMATS = {
    "ttl": "turtle",
    "nt": "nt",
    "nq": "nquads",
    "trig": "trig",
    "jsonld": "json-ld",
    "rdfxml": "xml",
}


# ---------------------------------------------------------------------------------------
#   Fixtures and helpers
# ---------------------------------------------------------------------------------------


@pytest.fixture(scope="module")
def exported(built_settings: Settings, tmp_path_factory: pytest.TempPathFactory) -> Path:
    """The export every test reads: two worker processes (others run with one)."""
    out = tmp_path_factory.mktemp("dumps")
    export(built_settings.store, out, base_url=BASE_URL, jobs=2)
    return out


@pytest.fixture(scope="module")
def remote_exported(
    built_settings: Settings, tmp_path_factory: pytest.TempPathFactory
) -> Iterator[tuple[Path, str]]:
    """`cica-kg export --engine URL` against `oxigraph serve-read-only` on the same build:
    (the output directory, the CLI's answer on stdout)."""
    info = current_build(built_settings.store)
    assert info is not None
    out = tmp_path_factory.mktemp("remote-dumps")
    with oxigraph_server(info.store_path) as url:
        args = ["--engine", url, "--out", str(out), "--base-url", BASE_URL, "--jobs", "2"]
        result = CliRunner().invoke(export_command, args)
    assert result.exit_code == 0, result.output
    yield out, result.stdout


@pytest.fixture(scope="module")
def store_quads(built_settings: Settings) -> list[ox.Quad]:
    return list(open_current(built_settings.store).store.quads_for_pattern(None, None, None))


def canonical(quads: list[ox.Quad]) -> set[str]:
    """The quads with blank nodes relabelled by RDFC-1.0, as N-Quads lines: two datasets are
    isomorphic iff these sets are equal (the shapes graph has blank nodes)."""
    dataset = ox.Dataset(quads)
    dataset.canonicalize(ox.CanonicalizationAlgorithm.RDFC_1_0)
    return {str(q) for q in dataset}


def union(quads: list[ox.Quad]) -> list[ox.Quad]:
    """The triples of all graphs, once each, in the default graph."""
    return [ox.Quad(t.subject, t.predicate, t.object) for t in {q.triple for q in quads}]


def from_rdflib(term: rdflib.term.Node) -> ox.NamedNode | ox.BlankNode | ox.Literal:
    if isinstance(term, rdflib.URIRef):
        return ox.NamedNode(str(term))
    if isinstance(term, rdflib.BNode):
        return ox.BlankNode(str(term))
    assert isinstance(term, rdflib.Literal), term
    if term.language:
        return ox.Literal(str(term), language=term.language)
    if term.datatype:
        return ox.Literal(str(term), datatype=ox.NamedNode(str(term.datatype)))
    return ox.Literal(str(term))


def rdflib_quads(path: Path, fmt_name: str) -> list[ox.Quad]:
    fmt = RDFLIB_FORMATS[fmt_name]
    if fmt_name in ("nq", "trig"):
        dataset = rdflib.Dataset()
        dataset.parse(path, format=fmt)
        quads = []
        for s, p, o, g in dataset.quads((None, None, None, None)):
            graph = g.identifier if isinstance(g, rdflib.Graph) else g
            named = graph is not None and graph != rdflib.graph.DATASET_DEFAULT_GRAPH_ID
            quads.append(
                ox.Quad(
                    from_rdflib(s),
                    from_rdflib(p),
                    from_rdflib(o),
                    from_rdflib(graph) if named else ox.DefaultGraph(),
                )
            )
        return quads
    graph = rdflib.Graph()
    graph.parse(path, format=fmt)
    return [ox.Quad(from_rdflib(s), from_rdflib(p), from_rdflib(o)) for s, p, o in graph]


def void_store(path: Path) -> ox.Store:
    store = ox.Store()
    store.load(path=str(path), format=ox.RdfFormat.TURTLE)
    return store


def value(store: ox.Store, query: str) -> str:
    rows = list(store.query(query))
    assert len(rows) == 1, (query, rows)
    return rows[0][0].value


def void_number(store: ox.Store, prop: str, subject: str = DATASET) -> int:
    return int(value(store, f"SELECT ?n {{ <{subject}> <{VOID}{prop}> ?n }}"))


def sparql_count(built_settings: Settings, query: str) -> int:
    (row,) = select(open_current(built_settings.store).store, query)
    return int(row["n"])


# ---------------------------------------------------------------------------------------
#   The dumps
# ---------------------------------------------------------------------------------------


def test_export_writes_every_file(exported: Path) -> None:
    expected = {f"cica-kg.{ext}" for ext in ("ttl", "nt", "nq", "trig", "jsonld", "rdf")}
    expected |= {name + ".gz" for name in expected} | {PANEL_FILE, VOID_FILE, SUMS_FILE}
    present = {p.name for p in exported.iterdir() if not p.name.startswith(".")}
    assert present == expected
    assert set(file_names()) == expected - {SUMS_FILE}


@pytest.mark.parametrize("fmt", DUMP_FORMATS, ids=lambda f: f.name)
def test_dump_parses_back_to_the_store_content(
    fmt, exported: Path, store_quads: list[ox.Quad]
) -> None:
    path = exported / dump_name(fmt)
    expected = canonical(store_quads if fmt.kind == "dataset" else union(store_quads))
    parsed = list(ox.parse(path=str(path), format=fmt.rdf))
    assert len(parsed) == len(expected)  # no statement twice
    assert canonical(parsed) == expected
    assert canonical(rdflib_quads(path, fmt.name)) == expected


def test_triple_dumps_hold_the_union_once_and_quad_dumps_keep_graphs(
    exported: Path, store_quads: list[ox.Quad]
) -> None:
    nt = (exported / "cica-kg.nt").read_text(encoding="utf-8").splitlines()
    nq = (exported / "cica-kg.nq").read_text(encoding="utf-8").splitlines()
    assert len(nt) == len({q.triple for q in store_quads}) < len(store_quads)
    assert len(nq) == len(store_quads)
    assert nt == sorted(set(nt))  # sorted, no duplicates
    graphs = {q.graph_name.value for q in store_quads}
    assert {q.graph_name.value for q in ox.parse(path=str(exported / "cica-kg.trig"))} == graphs


def test_blank_nodes_are_relabelled_canonically(exported: Path) -> None:
    nt = (exported / "cica-kg.nt").read_text(encoding="utf-8")
    labels = {term for line in nt.splitlines() for term in line.split() if term.startswith("_:")}
    assert labels and all(label.startswith("_:c14n") for label in labels)


def test_gzip_files_decompress_to_the_same_bytes_and_are_reproducible(exported: Path) -> None:
    for fmt in DUMP_FORMATS:
        name = dump_name(fmt)
        packed = (exported / (name + ".gz")).read_bytes()
        assert gzip.decompress(packed) == (exported / name).read_bytes()
        assert packed[4:8] == b"\0\0\0\0"  # mtime 0
        assert not packed[3] & 0x08  # no FNAME field


def test_gzip_is_level_6(exported: Path) -> None:
    """Level 6 (gzip's default): the deflate stream is zlib's at level 6, and the header
    says so (XFL 0; level 9 would write 2)."""
    plain = (exported / "cica-kg.nq").read_bytes()
    packed = (exported / "cica-kg.nq.gz").read_bytes()
    deflate = zlib.compressobj(6, zlib.DEFLATED, -15)
    assert packed[10:-8] == deflate.compress(plain) + deflate.flush()
    assert packed[8] == 0


def test_sha256sums_verify(exported: Path) -> None:
    lines = (exported / SUMS_FILE).read_text(encoding="utf-8").splitlines()
    names = []
    for line in lines:
        digest, name = line.split("  ")
        assert hashlib.sha256((exported / name).read_bytes()).hexdigest() == digest
        names.append(name)
    assert names == file_names()
    if shutil.which("sha256sum"):
        check = subprocess.run(
            ["sha256sum", "--check", "--strict", SUMS_FILE],
            cwd=exported,
            capture_output=True,
            text=True,
        )
        assert check.returncode == 0, check.stdout + check.stderr


def test_two_exports_are_byte_identical(
    exported: Path, built_settings: Settings, tmp_path: Path
) -> None:
    """Another process, and a tiny sort chunk (an external merge of many files, and the
    distinct objects counted through spilled runs) with no worker process."""
    other, chunked = tmp_path / "other", tmp_path / "chunked"
    code = (
        "import sys; from cica_kg.export import export; "
        "export(sys.argv[1], sys.argv[2], base_url=sys.argv[3])"
    )
    subprocess.run(
        [sys.executable, "-c", code, str(built_settings.store), str(other), BASE_URL], check=True
    )
    export(built_settings.store, chunked, base_url=BASE_URL, chunk_lines=97, jobs=1)
    for name in [*file_names(), SUMS_FILE]:
        first = (exported / name).read_bytes()
        assert (other / name).read_bytes() == first, name
        assert (chunked / name).read_bytes() == first, name


def test_a_rebuild_of_the_same_data_gives_the_same_dumps(
    exported: Path, data_copy: Settings, tmp_path: Path
) -> None:
    """A new build parses the input again: new random blank node ids, same dumps."""
    building.build(data_copy)
    out = tmp_path / "rebuilt"
    export(data_copy.store, out, base_url=BASE_URL)
    for fmt in DUMP_FORMATS:
        assert (out / dump_name(fmt)).read_bytes() == (exported / dump_name(fmt)).read_bytes()


def test_export_refuses_without_a_build(tmp_path: Path) -> None:
    from cica_kg.errors import NoBuildError

    with pytest.raises(NoBuildError):
        export(tmp_path / "no-store", tmp_path / "out")
    assert not (tmp_path / "out" / SUMS_FILE).exists()


# ---------------------------------------------------------------------------------------
#   The state-year panel
# ---------------------------------------------------------------------------------------

PANEL_HEADER = b"ccode,year,state,cica,iso3,label,uncertain,first,last\r\n"


def test_panel_is_the_canned_query_as_csv(exported: Path, built_settings: Settings) -> None:
    """The same bytes as `cica-kg query state-year --format csv`: every state and year."""
    args = ["query", "state-year", "--format", "csv", "--store", str(built_settings.store)]
    result = CliRunner().invoke(cli, args)
    assert result.exit_code == 0, result.output
    panel = (exported / PANEL_FILE).read_bytes()
    assert panel == result.stdout_bytes
    assert panel.startswith(PANEL_HEADER)
    rows = list(csv.DictReader(io.StringIO(panel.decode("utf-8"))))
    years = {int(row["year"]) for row in rows}
    assert min(years) == 1999 and len(rows) == 40 * len(years)
    assert {row["first"] + row["last"] for row in rows} == {""}  # no parameter given
    kazakhstan = [row["cica"] for row in rows if row["iso3"] == "KAZ"]
    assert kazakhstan == ["1"] * len(years)  # a founder, a member every year


def test_void_describes_the_panel(exported: Path) -> None:
    # Parsed, not loaded into a store (which would read xsd:nonNegativeInteger as integer).
    void = list(ox.parse(path=str(exported / VOID_FILE), format=ox.RdfFormat.TURTLE))
    dist = f"{DATASET}#state-year-csv"
    standard = f"{DATASET}#cow-igo-state-year-format3"
    data = (exported / PANEL_FILE).read_bytes()

    def about(subject: str) -> set[tuple[str, str]]:
        return {(q.predicate.value, str(q.object)) for q in void if q.subject.value == subject}

    xsd, rdf_type = "http://www.w3.org/2001/XMLSchema#", RDF_TYPE
    described = about(dist)
    description = next(o for p, o in described if p == DCTERMS + "description")
    assert "state_year_format3" in description and "31 December" in description
    assert described - {(DCTERMS + "description", description)} == {
        (rdf_type, f"<{DCAT}Distribution>"),
        (DCTERMS + "title", f'"CICA-KG: {PANEL_TITLE}"@en'),
        (DCTERMS + "license", "<https://creativecommons.org/licenses/by/4.0/>"),
        (DCTERMS + "format", "<http://www.w3.org/ns/formats/SPARQL_Results_CSV>"),
        (DCTERMS + "conformsTo", f"<{standard}>"),
        (DCAT + "downloadURL", f"<{BASE_URL}dumps/{PANEL_FILE}>"),
        (DCAT + "mediaType", "<https://www.iana.org/assignments/media-types/text/csv>"),
        (DCAT + "byteSize", f'"{len(data)}"^^<{xsd}nonNegativeInteger>'),
        (SPDX + "checksum", f"<{dist}-checksum>"),
    }
    assert about(f"{dist}-checksum") == {
        (rdf_type, f"<{SPDX}Checksum>"),
        (SPDX + "algorithm", f"<{SPDX}checksumAlgorithm_sha256>"),
        (SPDX + "checksumValue", f'"{hashlib.sha256(data).hexdigest()}"^^<{xsd}hexBinary>'),
    }
    assert (rdf_type, f"<{DCTERMS}Standard>") in about(standard)
    assert (RDFS_SEE_ALSO, "<https://doi.org/10.1177/0022343319881175>") in about(standard)
    assert (DCAT + "distribution", f"<{dist}>") in about(DATASET)
    assert (VOID + "dataDump", f"<{BASE_URL}dumps/{PANEL_FILE}>") not in about(DATASET)  # not RDF


# ---------------------------------------------------------------------------------------
#   VoID + DCAT
# ---------------------------------------------------------------------------------------


def test_void_counts_equal_sparql(exported: Path, built_settings: Settings) -> None:
    void = void_store(exported / VOID_FILE)
    count = lambda q: sparql_count(built_settings, q)  # noqa: E731
    assert void_number(void, "triples") == count(
        "SELECT (COUNT(*) AS ?n) { SELECT DISTINCT ?s ?p ?o { GRAPH ?g { ?s ?p ?o } } }"
    )
    assert void_number(void, "triples") == len(
        (exported / "cica-kg.nt").read_text(encoding="utf-8").splitlines()
    )
    assert void_number(void, "distinctSubjects") == count(
        "SELECT (COUNT(DISTINCT ?s) AS ?n) { ?s ?p ?o }"
    )
    assert void_number(void, "distinctObjects") == count(
        "SELECT (COUNT(DISTINCT ?o) AS ?n) { ?s ?p ?o }"
    )
    assert void_number(void, "properties") == count(
        "SELECT (COUNT(DISTINCT ?p) AS ?n) { ?s ?p ?o }"
    )
    assert void_number(void, "classes") == count(
        "SELECT (COUNT(DISTINCT ?c) AS ?n) { ?s a ?c FILTER(isIRI(?c)) }"
    )


def test_void_class_partitions_equal_sparql(exported: Path, built_settings: Settings) -> None:
    void = void_store(exported / VOID_FILE)
    partitions = {
        row["c"].value: int(row["n"].value)
        for row in void.query(
            f"SELECT ?c ?n {{ <{DATASET}> <{VOID}classPartition> ?part . "
            f"?part <{VOID}class> ?c ; <{VOID}entities> ?n }}"
        )
    }
    rows = select(
        open_current(built_settings.store).store,
        "SELECT ?c (COUNT(DISTINCT ?s) AS ?n) { ?s a ?c } GROUP BY ?c",
    )
    assert partitions == {row["c"]: int(row["n"]) for row in rows}
    assert partitions["https://w3id.org/cica-kg/ontology#State"] > 0
    assert void_number(void, "classes") == len(partitions)


def test_void_property_partitions_sum_to_the_triples(exported: Path) -> None:
    void = void_store(exported / VOID_FILE)
    rows = list(
        void.query(
            f"SELECT ?p ?n {{ <{DATASET}> <{VOID}propertyPartition> ?part . "
            f"?part <{VOID}property> ?p ; <{VOID}triples> ?n }}"
        )
    )
    assert len(rows) == void_number(void, "properties")
    assert sum(int(row["n"].value) for row in rows) == void_number(void, "triples")


def test_void_wikidata_linkset(exported: Path, built_settings: Settings) -> None:
    void = void_store(exported / VOID_FILE)
    linkset = value(
        void,
        f"SELECT ?l {{ <{DATASET}> <{VOID}subset> ?l . ?l a <{VOID}Linkset> ; "
        f"<{VOID}linkPredicate> <{OWL_SAME_AS}> }}",
    )
    links = sparql_count(
        built_settings,
        f"SELECT (COUNT(*) AS ?n) {{ SELECT DISTINCT ?s ?o {{ ?s <{OWL_SAME_AS}> ?o "
        f'FILTER(STRSTARTS(STR(?o), "http://www.wikidata.org/entity/")) }} }}',
    )
    assert links > 40
    assert void_number(void, "triples", linkset) == links
    targets = {
        row["t"].value for row in void.query(f"SELECT ?t {{ <{linkset}> <{VOID}target> ?t }}")
    }
    assert DATASET in targets and len(targets) == 2


def test_void_describes_build_license_sources_and_endpoint(
    exported: Path, built_settings: Settings
) -> None:
    void = void_store(exported / VOID_FILE)
    info = open_current(built_settings.store).info
    dcterms = "http://purl.org/dc/terms/"
    assert value(void, f"SELECT ?v {{ <{DATASET}> <{dcterms}hasVersion> ?v }}") == info.build_id
    assert (
        value(void, f"SELECT ?v {{ <{DATASET}> <http://www.w3.org/2002/07/owl#versionInfo> ?v }}")
        == info.build_id
    )
    assert value(void, f"SELECT ?v {{ <{DATASET}> <{dcterms}modified> ?v }}") == info.built_at[:10]
    assert (
        value(void, f"SELECT ?v {{ <{DATASET}> <{dcterms}license> ?v }}")
        == "https://creativecommons.org/licenses/by/4.0/"
    )
    assert bool(void.query(f"ASK {{ <{DATASET}> a <{VOID}Dataset>, <{DCAT}Dataset> }}"))
    assert value(void, f"SELECT ?e {{ <{DATASET}> <{VOID}sparqlEndpoint> ?e }}") == (
        BASE_URL + "sparql"
    )
    sources = {
        row["s"].value for row in void.query(f"SELECT ?s {{ <{DATASET}> <{dcterms}source> ?s }}")
    }
    rows = select(
        open_current(built_settings.store).store,
        "SELECT DISTINCT ?s { ?s a <https://w3id.org/cica-kg/ontology#Source> }",
    )
    assert sources == {row["s"] for row in rows} and len(sources) > 50
    assert not any(isinstance(t, ox.BlankNode) for q in void for t in (q.subject, q.object))
    assert info.built_at not in (exported / VOID_FILE).read_text(encoding="utf-8")


def test_void_distributions_match_the_files(exported: Path) -> None:
    void = void_store(exported / VOID_FILE)
    rows = list(
        void.query(
            f"SELECT ?url ?type ?size ?sum ?alg {{ <{DATASET}> <{DCAT}distribution> ?d . "
            f"?d a <{DCAT}Distribution> ; <{DCAT}downloadURL> ?url ; <{DCAT}mediaType> ?type ; "
            f"<{DCAT}byteSize> ?size ; <{SPDX}checksum> ?c . "
            f"?c <{SPDX}checksumValue> ?sum ; <{SPDX}algorithm> ?alg }}"
        )
    )
    dumps = [name for name in file_names() if name != VOID_FILE]
    assert len(rows) == len(dumps)
    by_name = {row["url"].value.rsplit("/", 1)[1]: row for row in rows}
    assert set(by_name) == set(dumps)
    for name, row in by_name.items():
        data = (exported / name).read_bytes()
        assert row["url"].value == f"{BASE_URL}dumps/{name}"
        assert int(row["size"].value) == len(data)
        assert row["sum"].value == hashlib.sha256(data).hexdigest()
        assert row["alg"].value == SPDX + "checksumAlgorithm_sha256"
        fmt, _ = file_format(name)
        media_type = "text/csv" if name == PANEL_FILE else fmt and fmt.media_type
        assert row["type"].value == "https://www.iana.org/assignments/media-types/" + media_type


# ---------------------------------------------------------------------------------------
#   Over a remote SPARQL 1.1 engine
# ---------------------------------------------------------------------------------------

OWL_VERSION = "http://www.w3.org/2002/07/owl#versionInfo"
EX = "http://example.org/"


def test_remote_export_is_byte_identical(remote_exported: tuple[Path, str], exported: Path) -> None:
    """Every dump (blank nodes included) is the embedded export's, byte for byte; void.ttl
    differs only in the version (a digest of cica-kg.nq: no build id over HTTP) and the
    missing date."""
    out, output = remote_exported
    for name in file_names():
        if name != VOID_FILE:
            assert (out / name).read_bytes() == (exported / name).read_bytes(), name
    assert PANEL_FILE in file_names()  # the panel too: the engine's answer to state-year
    assert (out / PANEL_FILE).read_bytes().count(b"\n") > 1000
    version = "remote-" + hashlib.sha256((out / "cica-kg.nq").read_bytes()).hexdigest()[:16]
    assert f"as {version}:" in output and "triples" in output
    remote, local = void_store(out / VOID_FILE), void_store(exported / VOID_FILE)
    assert value(remote, f"SELECT ?v {{ <{DATASET}> <{OWL_VERSION}> ?v }}") == version
    assert value(remote, f"SELECT ?v {{ <{DATASET}> <{DCTERMS}hasVersion> ?v }}") == version
    assert not remote.query(f"ASK {{ <{DATASET}> <{DCTERMS}modified> ?d }}")
    build_lines = {DCTERMS + "hasVersion", DCTERMS + "modified", OWL_VERSION}

    def rest(store: ox.Store) -> set[str]:
        return {str(q) for q in store if q.predicate.value not in build_lines}

    assert rest(remote) == rest(local)
    remote_sums, local_sums = read_checksums(out), read_checksums(exported)
    assert list(remote_sums) == list(local_sums)
    assert {name for name in remote_sums if remote_sums[name] != local_sums[name]} == {VOID_FILE}


def test_remote_export_of_an_engine_without_named_graphs(tmp_path: Path) -> None:
    """An engine loaded with plain triples: its default graph is exported, as the default
    graph (N-Quads lines without a graph), and the user is told."""
    location = tmp_path / "plain"
    store = ox.Store(str(location))
    p, a = ox.NamedNode(EX + "p"), ox.NamedNode(EX + "a")
    rdf_type = ox.NamedNode("http://www.w3.org/1999/02/22-rdf-syntax-ns#type")
    store.extend(
        [
            ox.Quad(ox.NamedNode(EX + "b"), p, ox.Literal("two")),
            ox.Quad(a, p, ox.Literal("one", language="en")),
            ox.Quad(a, rdf_type, ox.NamedNode(EX + "C")),
            ox.Quad(ox.BlankNode("x"), p, a),
        ]
    )
    store.flush()
    del store
    out = tmp_path / "out"
    with oxigraph_server(location, union_default_graph=False) as url:
        result = export(None, out, engine=url, base_url=BASE_URL, jobs=1)
    nt = (out / "cica-kg.nt").read_text(encoding="utf-8").splitlines()
    assert nt == [
        f'<{EX}a> <{EX}p> "one"@en .',
        f"<{EX}a> <http://www.w3.org/1999/02/22-rdf-syntax-ns#type> <{EX}C> .",
        f'<{EX}b> <{EX}p> "two" .',
        f"_:c14n0 <{EX}p> <{EX}a> .",
    ]
    assert (out / "cica-kg.nq").read_text(encoding="utf-8").splitlines() == nt
    assert (out / PANEL_FILE).read_bytes() == PANEL_HEADER  # no CICA here: no row
    assert result.stats.triples == result.stats.quads == 4 and result.stats.graphs == []
    assert result.stats.class_partitions == [(EX + "C", 1)]
    assert (result.stats.distinct_subjects, result.stats.distinct_objects) == (3, 4)
    assert result.built_at is None and result.build_id.startswith("remote-")
    assert len(result.notes) == 1 and "has no named graph" in result.notes[0]


def sparql_json(variables: list[str], rows: list[dict[str, str]]) -> bytes:
    bindings = [{k: {"type": "uri" if k == "g" else "literal", "value": v} for k, v in row.items()}
                for row in rows]  # fmt: skip
    return json.dumps({"head": {"vars": variables}, "results": {"bindings": bindings}}).encode()


def stand_in_engine(
    counts: dict[str, int], answers: dict[str, bytes], media_type: str, panel: Reply | None = None
) -> StandIn:
    """An engine that lists `counts` as its named graphs, answers a graph's CONSTRUCT
    with `answers[graph]` as `media_type`, and the state-year query with `panel` (default:
    no row)."""

    def handler(request: Recorded) -> Reply:
        if "cica:dataCurrentTo" in request.query:  # the canned query state-year
            return panel or Reply(body=sparql_json(["ccode", "year"], []))
        if "GROUP BY ?g" in request.query:
            rows = [{"g": g, "n": str(n)} for g, n in counts.items()]
            return Reply(body=sparql_json(["g", "n"], rows))
        if "COUNT(*)" in request.query:
            return Reply(body=sparql_json(["n"], [{"n": "0"}]))
        for graph, body in answers.items():
            if f"GRAPH <{graph}>" in request.query:
                return Reply(body=body, content_type=media_type)
        return Reply(status=400, body=b"unexpected query", content_type="text/plain")

    return StandIn(handler)


def test_remote_export_reads_turtle_and_refuses_a_graph_cut_short(tmp_path: Path) -> None:
    """Answers in Turtle are written as the same N-Triples; a graph with fewer triples than
    the engine counts (an engine capping its answers) fails the export, writing nothing."""
    graph = EX + "g"
    turtle = b"@prefix ex: <http://example.org/> .\nex:b ex:p 2 .\nex:a ex:p ex:b , 'x' .\n"
    with stand_in_engine({graph: 3}, {graph: turtle}, "text/turtle; charset=utf-8") as engine:
        export(None, tmp_path / "ok", engine=engine.url, base_url=BASE_URL, jobs=1)
        assert any("CONSTRUCT" in r.query for r in engine.requests)
        assert all(r.headers["Accept"].startswith("application/n-triples") for r in engine.requests
                   if "CONSTRUCT" in r.query)  # fmt: skip
    assert (tmp_path / "ok" / "cica-kg.nq").read_text(encoding="utf-8").splitlines() == [
        f'<{EX}a> <{EX}p> "x" <{graph}> .',
        f"<{EX}a> <{EX}p> <{EX}b> <{graph}> .",
        f'<{EX}b> <{EX}p> "2"^^<http://www.w3.org/2001/XMLSchema#integer> <{graph}> .',
    ]
    with stand_in_engine({graph: 5}, {graph: turtle}, "text/turtle") as engine:
        with pytest.raises(RemoteError, match="sent 3 of the 5 triples.*ResultSetMaxRows"):
            export(None, tmp_path / "cut", engine=engine.url, jobs=2)
    assert not (tmp_path / "cut" / SUMS_FILE).exists()
    assert not list((tmp_path / "cut").glob("cica-kg.*"))
    assert worker_processes() == []  # stopped and reaped
    refused = Reply(status=500, body=b"out of memory", content_type="text/plain")
    with stand_in_engine({graph: 3}, {graph: turtle}, "text/turtle", refused) as engine:
        with pytest.raises(RemoteError, match=f"{PANEL_FILE}: .*HTTP 500: out of memory"):
            export(None, tmp_path / "no-panel", engine=engine.url, jobs=1)
    assert not (tmp_path / "no-panel" / SUMS_FILE).exists()  # nothing published
    assert not list((tmp_path / "no-panel").glob("cica-kg*"))


def worker_processes() -> list[int]:
    """Export worker processes that are children of this one (Linux /proc)."""
    found = []
    for entry in Path("/proc").iterdir():
        try:
            stat = (entry / "stat").read_text().rsplit(")", 1)[1].split()
            cmdline = (entry / "cmdline").read_bytes()
        except (OSError, IndexError):
            continue
        if int(stat[1]) == os.getpid() and b"cica_kg.export.jobs" in cmdline:
            found.append(int(entry.name))
    return found


def test_remote_export_failures_are_clear(tmp_path: Path) -> None:
    with stand_in_engine({}, {}, "application/n-triples") as engine:
        with pytest.raises(RemoteError, match="no named graph and an empty default"):
            export(None, tmp_path / "empty", engine=engine.url, jobs=1)
    slow = StandIn(lambda request: Reply(body=sparql_json(["n"], []), delay=3.0))
    with slow:
        with pytest.raises(RemoteError, match=r"did not answer within 0\.5 s"):
            export(None, tmp_path / "slow", engine=slow.url, jobs=1, timeout=0.5)
    broken = StandIn(lambda request: Reply(status=500, body=b"boom", content_type="text/plain"))
    with broken:
        with pytest.raises(RemoteError, match="answered HTTP 500: boom"):
            export(None, tmp_path / "broken", engine=broken.url, jobs=1)
    gone = f"http://127.0.0.1:{free_port()}/query"
    result = CliRunner().invoke(export_command, ["--engine", gone, "--out", str(tmp_path / "x")])
    assert result.exit_code == 1
    assert f"error: export failed: the engine at {gone} cannot be reached" in result.output


# ---------------------------------------------------------------------------------------
#   The CLI
# ---------------------------------------------------------------------------------------


def test_cli_export(built_settings: Settings, exported: Path, tmp_path: Path) -> None:
    out = tmp_path / "cli"
    args = ["--store", str(built_settings.store), "--out", str(out), "--base-url", BASE_URL]
    result = CliRunner().invoke(export_command, args)
    assert result.exit_code == 0, result.output
    assert "cica-kg.ttl.gz" in result.stdout and "triples" in result.stdout
    assert (out / SUMS_FILE).read_bytes() == (exported / SUMS_FILE).read_bytes()


def test_cli_export_without_a_build(tmp_path: Path) -> None:
    result = CliRunner().invoke(export_command, ["--store", str(tmp_path / "none")])
    assert result.exit_code == 1
    assert "cica-kg build" in result.output


# ---------------------------------------------------------------------------------------
#   The web: /dumps/ and /void
# ---------------------------------------------------------------------------------------


def make_client(settings: Settings):  # type: ignore[no-untyped-def]
    from cica_kg.web import create_app
    from cica_kg.web import dumps as dumps_web

    app = create_app(settings, engine=Engine(settings, pool=InlinePool()))
    if "dumps" not in app.blueprints:  # until app.py registers it
        app.register_blueprint(dumps_web.blueprint)
    app.testing = True
    return app.test_client()


@pytest.fixture(scope="module")
def client(built_settings: Settings, exported: Path):  # type: ignore[no-untyped-def]
    return make_client(built_settings.replace(dumps_dir=exported))


def test_dumps_index_json_lists_every_file(client, exported: Path) -> None:  # type: ignore[no-untyped-def]
    response = client.get("/dumps/index.json")
    assert response.status_code == 200 and response.mimetype == "application/json"
    body = response.get_json()
    sums = read_checksums(exported)
    assert [f["name"] for f in body["files"]] == file_names()
    for entry in body["files"]:
        assert entry["size"] == (exported / entry["name"]).stat().st_size
        assert entry["sha256"] == sums[entry["name"]]
        assert entry["url"].endswith("/dumps/" + entry["name"])
    assert body["build_id"] and body["modified"]
    (panel,) = [entry for entry in body["files"] if entry["name"] == PANEL_FILE]
    assert (panel["media_type"], panel["format"], panel["compressed"]) == (
        "text/csv", PANEL_TITLE, False
    )  # fmt: skip


def test_dumps_page_lists_every_file(client, exported: Path) -> None:  # type: ignore[no-untyped-def]
    response = client.get("/dumps/", headers={"Accept": "text/html"})
    assert response.status_code == 200 and response.mimetype == "text/html"
    page = response.get_data(as_text=True)
    for name, digest in read_checksums(exported).items():
        assert f'href="/dumps/{name}"' in page
        assert digest in page
        assert f'title="{(exported / name).stat().st_size} bytes"' in page
    assert 'href="/void"' in page  # in the navigation too
    assert f"<code>{PANEL_FILE}</code>: the state-year" in page
    assert 'href="/queries/state-year"' in page


@pytest.mark.parametrize(
    "path",
    [
        "/dumps/../etc/passwd",
        "/dumps/%2e%2e%2fbuild.json",
        "/dumps/..%2F..%2Fcurrent%2Fbuild.json",
        "/dumps/%2Fetc%2Fpasswd",
        "/dumps/.export.lock",
        "/dumps/missing.ttl",
    ],
)
def test_dumps_serve_only_listed_files(client, path: str) -> None:  # type: ignore[no-untyped-def]
    assert client.get(path, follow_redirects=True).status_code == 404


def test_dump_download(client, exported: Path) -> None:  # type: ignore[no-untyped-def]
    sums = read_checksums(exported)
    response = client.get("/dumps/cica-kg.ttl")
    assert response.status_code == 200
    assert response.data == (exported / "cica-kg.ttl").read_bytes()
    assert response.headers["Content-Type"] == "text/turtle; charset=utf-8"
    assert response.headers["ETag"] == f'"{sums["cica-kg.ttl"]}"'
    again = client.get("/dumps/cica-kg.ttl", headers={"If-None-Match": response.headers["ETag"]})
    assert again.status_code == 304 and not again.data
    part = client.get("/dumps/cica-kg.ttl", headers={"Range": "bytes=0-9"})
    assert part.status_code == 206 and part.data == response.data[:10]

    packed = client.get("/dumps/cica-kg.nq.gz")
    assert packed.status_code == 200
    assert packed.headers["Content-Type"] == "application/gzip"
    assert packed.headers["Content-Disposition"].startswith("attachment")
    assert packed.data == (exported / "cica-kg.nq.gz").read_bytes()
    for fmt in DUMP_FORMATS:
        response = client.get("/dumps/" + dump_name(fmt))
        assert response.headers["Content-Type"] == fmt.content_type
    panel = client.get("/dumps/" + PANEL_FILE)
    assert panel.status_code == 200 and panel.data == (exported / PANEL_FILE).read_bytes()
    assert panel.headers["Content-Type"] == "text/csv; charset=utf-8"
    assert panel.headers["ETag"] == f'"{sums[PANEL_FILE]}"'
    assert panel.headers["Content-Disposition"].startswith("inline")  # shown, not saved
    sums_file = client.get("/dumps/SHA256SUMS")
    assert sums_file.status_code == 200 and sums_file.data == (exported / SUMS_FILE).read_bytes()


def test_void_endpoint(client, exported: Path) -> None:  # type: ignore[no-untyped-def]
    response = client.get("/void")
    assert response.status_code == 200
    assert response.headers["Content-Type"] == "text/turtle; charset=utf-8"
    triples = list(ox.parse(response.data, format=ox.RdfFormat.TURTLE))
    assert any(
        q.predicate.value == VOID + "triples" and q.subject.value == DATASET for q in triples
    )
    graph = rdflib.Graph().parse(data=response.data, format="turtle")
    assert (rdflib.URIRef(DATASET), rdflib.URIRef(VOID + "triples"), None) in graph

    nt = client.get("/void", headers={"Accept": "application/n-triples"})
    assert nt.status_code == 200 and nt.mimetype == "application/n-triples"
    assert canonical(list(ox.parse(nt.data, format=ox.RdfFormat.N_TRIPLES))) == canonical(triples)
    xml = client.get("/void?format=rdfxml")
    assert xml.mimetype == "application/rdf+xml"
    assert len(list(ox.parse(xml.data, format=ox.RdfFormat.RDF_XML))) == len(triples)
    assert client.get("/void", headers={"Accept": "image/png"}).status_code == 406
    cached = client.get("/void", headers={"If-None-Match": response.headers["ETag"]})
    assert cached.status_code == 304


def test_void_and_dumps_without_an_export(built_settings: Settings, tmp_path: Path) -> None:
    client = make_client(built_settings.replace(dumps_dir=tmp_path / "empty"))
    response = client.get("/void")
    assert response.status_code == 404
    assert "no dumps exported yet; run cica-kg export" in response.get_data(as_text=True)
    listing = client.get("/dumps/index.json").get_json()
    assert listing["files"] == [] and "cica-kg export" in listing["message"]
    assert client.get("/dumps/cica-kg.ttl").status_code == 404


def test_real_server_refuses_traversal(server, exported: Path) -> None:  # type: ignore[no-untyped-def]
    """Raw requests (no client-side path normalization) to `cica-kg serve`."""
    target = server.settings.dumps_path
    if server.get("/dumps/index.json").status_code == 404:
        pytest.skip("the dumps blueprint is not registered in create_app yet")
    target.mkdir(parents=True, exist_ok=True)
    for name in [*file_names(), SUMS_FILE]:
        shutil.copyfile(exported / name, target / name)
    url = urlparse(server.url)
    for path in ("/dumps/../build.json", "/dumps/%2e%2e%2fbuild.json", "/dumps/../../current"):
        conn = http.client.HTTPConnection(url.hostname, url.port, timeout=30)
        conn.request("GET", path)
        status = conn.getresponse().status
        conn.close()
        assert status in (400, 404), path
    response = server.get("/dumps/cica-kg.nt")
    assert response.status_code == 200
    assert response.content == (exported / "cica-kg.nt").read_bytes()
    assert json.loads(server.get("/dumps/index.json").text)["files"]
