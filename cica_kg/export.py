"""RDF dumps of the published build, with a VoID + DCAT description and checksums.

`export(store, out_dir)` writes, for the current build:

    cica-kg.ttl     Turtle: every triple of the union of the named graphs, once
    cica-kg.nt      N-Triples: the same triples, one sorted line each
    cica-kg.nq      N-Quads: every quad, named graphs kept
    cica-kg.trig    TriG: every quad, named graphs kept
    cica-kg.jsonld  JSON-LD: the union graph
    cica-kg.rdf     RDF/XML: the union graph
    *.gz            each of these gzip-compressed (mtime 0, no file name in the header)
    void.ttl        VoID + DCAT description: statistics, partitions, linkset, distributions
    SHA256SUMS      `sha256sum` format, covering every file above

Output is deterministic: the same build gives byte-identical files. Statements are sorted
(N-Triples by line; N-Quads by graph, then by line) and the other formats are serialized
from those sorted files with the fixed prefixes of `namespaces.PREFIXES`. Blank nodes (the
SHACL shapes have some) are relabelled by RDFC-1.0 canonicalization. void.ttl carries the
build date, never the export time.

Memory stays flat in the size of the store: quads are streamed from the store into an
external merge sort (sorted chunks in temporary files, merged with heapq.merge), and the
other formats are written by pyoxigraph from a streaming parse of the sorted files. Only
the quads that contain blank nodes are held in memory (for canonicalization).

Files are written to a staging directory beside the output and moved into place with
os.replace, SHA256SUMS last; an export holds a lock on the output directory."""

from __future__ import annotations

import contextlib
import gzip
import hashlib
import heapq
import os
import shutil
import tempfile
import time
from collections.abc import Iterable, Iterator
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import pyoxigraph as ox

from . import formats
from .build import BuildInfo
from .fsutil import directory_lock, fsync_dir
from .namespaces import BASE, CICA, ID, PREFIXES, WD
from .published import Published, open_current
from .service_description import W3C_FORMAT

DUMP_STEM = "cica-kg"
VOID_FILE = "void.ttl"
SUMS_FILE = "SHA256SUMS"
GZIP_SUFFIX = ".gz"
GZIP_MEDIA_TYPE = "application/gzip"
CHUNK_LINES = 200_000

DATASET_IRI = BASE + "dataset"
LICENSE = "https://creativecommons.org/licenses/by/4.0/"
IANA_MEDIA_TYPES = "https://www.iana.org/assignments/media-types/"
W3C_FORMATS = "http://www.w3.org/ns/formats/"
WIKIDATA_SPARQL = "https://query.wikidata.org/sparql"

SPDX = "http://spdx.org/rdf/terms#"
SD = "http://www.w3.org/ns/sparql-service-description#"
VOID_PREFIXES = {**PREFIXES, "sd": SD, "spdx": SPDX}


def _format(name: str) -> formats.Format:
    return next(f for f in formats.GRAPH_FORMATS + formats.DATASET_FORMATS if f.name == name)


# The dumps, in the order of SHA256SUMS and of the /dumps/ listing.
DUMP_FORMATS: tuple[formats.Format, ...] = tuple(
    _format(name) for name in ("ttl", "nt", "nq", "trig", "jsonld", "rdfxml")
)

TITLES = {
    "ttl": "Turtle",
    "nt": "N-Triples",
    "nq": "N-Quads (named graphs kept)",
    "trig": "TriG (named graphs kept)",
    "jsonld": "JSON-LD",
    "rdfxml": "RDF/XML",
}


def dump_name(fmt: formats.Format) -> str:
    return f"{DUMP_STEM}.{fmt.extension}"


def file_names() -> list[str]:
    """Every file SHA256SUMS lists, in its order."""
    names = []
    for fmt in DUMP_FORMATS:
        names += [dump_name(fmt), dump_name(fmt) + GZIP_SUFFIX]
    return names + [VOID_FILE]


def file_format(name: str) -> tuple[formats.Format | None, bool]:
    """(the RDF format of a file we write, whether it is gzip-compressed) by its name."""
    compressed = name.endswith(GZIP_SUFFIX)
    base = name[: -len(GZIP_SUFFIX)] if compressed else name
    if base == VOID_FILE:
        return _format("ttl"), compressed
    for fmt in DUMP_FORMATS:
        if base == dump_name(fmt):
            return fmt, compressed
    return None, compressed


def read_checksums(out_dir: Path) -> dict[str, str]:
    """{file name: SHA-256 hex} from out_dir/SHA256SUMS, in file order; {} if missing."""
    try:
        text = (out_dir / SUMS_FILE).read_text(encoding="utf-8")
    except (FileNotFoundError, NotADirectoryError):
        return {}
    sums: dict[str, str] = {}
    for line in text.splitlines():
        digest, sep, name = line.partition("  ")
        name = name.lstrip("*")  # sha256sum's binary-mode marker
        if sep and len(digest) == 64 and name not in ("", ".", "..") and "/" not in name:
            sums[name] = digest
    return sums


def sha256_file(path: Path) -> str:
    digest = hashlib.sha256()
    with open(path, "rb") as fh:
        for block in iter(lambda: fh.read(1 << 20), b""):
            digest.update(block)
    return digest.hexdigest()


# ---------------------------------------------------------------------------------------
#   Results
# ---------------------------------------------------------------------------------------


@dataclass(frozen=True)
class DumpFile:
    name: str
    size: int
    sha256: str


@dataclass(frozen=True)
class VoidStats:
    """The VoID statistics, each computed by one SPARQL query on the store."""

    triples: int  # distinct triples of the union graph (= lines of cica-kg.nt)
    quads: int  # quads in the store (= lines of cica-kg.nq)
    distinct_subjects: int
    distinct_objects: int
    classes: int  # distinct IRI classes (objects of rdf:type)
    properties: int  # distinct predicates
    class_partitions: list[tuple[str, int]]  # (class IRI, distinct instances)
    property_partitions: list[tuple[str, int]]  # (property IRI, distinct triples)
    graphs: list[tuple[str, int]]  # (named graph IRI, triples)
    wikidata_links: int  # distinct owl:sameAs triples to a Wikidata entity
    sources: list[str] = field(default_factory=list)  # every cica:Source


@dataclass(frozen=True)
class ExportResult:
    out_dir: Path
    build_id: str
    built_at: str
    files: list[DumpFile]
    stats: VoidStats
    seconds: float


# ---------------------------------------------------------------------------------------
#   Statistics (SPARQL on the store, over the union of all graphs)
# ---------------------------------------------------------------------------------------

STATS_QUERIES = {
    "triples": "SELECT (COUNT(*) AS ?n) WHERE { SELECT DISTINCT ?s ?p ?o WHERE { ?s ?p ?o } }",
    "quads": "SELECT (COUNT(*) AS ?n) WHERE { GRAPH ?g { ?s ?p ?o } }",
    "distinct_subjects": "SELECT (COUNT(DISTINCT ?s) AS ?n) WHERE { ?s ?p ?o }",
    "distinct_objects": "SELECT (COUNT(DISTINCT ?o) AS ?n) WHERE { ?s ?p ?o }",
    "classes": "SELECT (COUNT(DISTINCT ?c) AS ?n) WHERE { ?s a ?c FILTER(isIRI(?c)) }",
    "properties": "SELECT (COUNT(DISTINCT ?p) AS ?n) WHERE { ?s ?p ?o }",
    "wikidata_links": f"""
        SELECT (COUNT(*) AS ?n) WHERE {{
          SELECT DISTINCT ?s ?o WHERE {{
            ?s <{PREFIXES["owl"]}sameAs> ?o
            FILTER(isIRI(?o) && STRSTARTS(STR(?o), "{WD}"))
          }}
        }}""",
}
CLASS_PARTITIONS = """
SELECT ?c (COUNT(DISTINCT ?s) AS ?n) WHERE { ?s a ?c FILTER(isIRI(?c)) }
GROUP BY ?c ORDER BY STR(?c)"""
PROPERTY_PARTITIONS = """
SELECT ?p (COUNT(*) AS ?n) WHERE { SELECT DISTINCT ?s ?p ?o WHERE { ?s ?p ?o } }
GROUP BY ?p ORDER BY STR(?p)"""
GRAPHS = """
SELECT ?g (COUNT(*) AS ?n) WHERE { GRAPH ?g { ?s ?p ?o } FILTER(isIRI(?g)) }
GROUP BY ?g ORDER BY STR(?g)"""
SOURCES = f"""
SELECT DISTINCT ?src WHERE {{ ?src a <{CICA}Source> FILTER(isIRI(?src)) }} ORDER BY STR(?src)"""


def _rows(store: ox.Store, query: str) -> list[ox.QuerySolution]:
    result = store.query(query, use_default_graph_as_union=True)
    assert isinstance(result, ox.QuerySolutions)
    return list(result)


def _count(store: ox.Store, query: str) -> int:
    (row,) = _rows(store, query)
    return int(row["n"].value)


def _pairs(store: ox.Store, query: str, var: str) -> list[tuple[str, int]]:
    return [(row[var].value, int(row["n"].value)) for row in _rows(store, query)]


def compute_stats(store: ox.Store) -> VoidStats:
    counts = {key: _count(store, query) for key, query in STATS_QUERIES.items()}
    return VoidStats(
        **counts,
        class_partitions=_pairs(store, CLASS_PARTITIONS, "c"),
        property_partitions=_pairs(store, PROPERTY_PARTITIONS, "p"),
        graphs=_pairs(store, GRAPHS, "g"),
        sources=[row["src"].value for row in _rows(store, SOURCES)],
    )


# ---------------------------------------------------------------------------------------
#   Sorting quads in bounded memory
# ---------------------------------------------------------------------------------------


class _ExternalSorter:
    """Sorted, deduplicated lines: sorted chunks of `chunk_lines` in temporary files, then
    one k-way merge. Lines must end with a newline and contain no other."""

    def __init__(self, workdir: Path, chunk_lines: int):
        self.workdir = workdir
        self.chunk_lines = max(chunk_lines, 1)
        self.buffer: list[str] = []
        self.chunks: list[Path] = []

    def add(self, line: str) -> None:
        self.buffer.append(line)
        if len(self.buffer) >= self.chunk_lines:
            self._spill()

    def _spill(self) -> None:
        if not self.buffer:
            return
        fd, name = tempfile.mkstemp(dir=self.workdir, prefix="chunk-", suffix=".txt")
        with open(fd, "w", encoding="utf-8", newline="\n") as out:
            previous = None
            for line in sorted(self.buffer):
                if line != previous:
                    out.write(line)
                previous = line
        self.chunks.append(Path(name))
        self.buffer = []

    def merged(self) -> Iterator[str]:
        """Every line added, sorted by code point (= UTF-8 byte order), duplicates dropped."""
        with contextlib.ExitStack() as stack:
            runs: list[Iterable[str]]
            if not self.chunks:  # everything fits in one chunk: no file needed
                runs = [sorted(self.buffer)]
                self.buffer = []
            else:
                self._spill()
                chunks, self.chunks = self.chunks, []
                for path in chunks:
                    stack.callback(path.unlink, missing_ok=True)
                runs = [
                    stack.enter_context(open(path, encoding="utf-8", newline="\n"))
                    for path in chunks
                ]
            previous = None
            for line in heapq.merge(*runs):
                if line != previous:
                    yield line
                previous = line


def _has_blank(term: Any) -> bool:
    if isinstance(term, ox.BlankNode):
        return True
    if isinstance(term, ox.Triple):
        return _has_blank(term.subject) or _has_blank(term.object)
    return False


def _canonical_quads(store: ox.Store) -> Iterator[ox.Quad]:
    """Every quad of the store; those with blank nodes relabelled by RDFC-1.0 (the only
    quads held in memory)."""
    with_blanks = []
    for quad in store.quads_for_pattern(None, None, None):
        if _has_blank(quad.subject) or _has_blank(quad.object) or _has_blank(quad.graph_name):
            with_blanks.append(quad)
        else:
            yield quad
    if with_blanks:
        dataset = ox.Dataset(with_blanks)
        del with_blanks
        dataset.canonicalize(ox.CanonicalizationAlgorithm.RDFC_1_0)
        yield from dataset


def _sort_store(
    store: ox.Store, workdir: Path, nq_path: Path, nt_path: Path, chunk_lines: int
) -> tuple[int, int]:
    """Write the sorted N-Quads and N-Triples files; return (quads, triples) written."""
    quads = _ExternalSorter(workdir, chunk_lines)
    triples = _ExternalSorter(workdir, chunk_lines)
    for quad in _canonical_quads(store):
        spo = f"{quad.subject} {quad.predicate} {quad.object}"
        graph = quad.graph_name
        if isinstance(graph, ox.DefaultGraph):
            quads.add(f"\t{spo} .\n")  # sort key "" (the default graph first), a tab
        else:
            quads.add(f"{graph}\t{spo} {graph} .\n")
        triples.add(f"{spo} .\n")
    n_quads = _write_lines((line.split("\t", 1)[1] for line in quads.merged()), nq_path)
    n_triples = _write_lines(triples.merged(), nt_path)
    return n_quads, n_triples


def _write_lines(lines: Iterable[str], path: Path) -> int:
    count = 0
    with open(path, "w", encoding="utf-8", newline="\n") as out:
        for line in lines:
            out.write(line)
            count += 1
    return count


# ---------------------------------------------------------------------------------------
#   Writing the dumps
# ---------------------------------------------------------------------------------------


def _serialize_from(
    source: Path, source_format: ox.RdfFormat, fmt: formats.Format, out: Path
) -> None:
    """Stream `source` (sorted N-Triples/N-Quads) into `out` in `fmt`."""
    assert fmt.rdf is not None
    parsed: Iterable[Any] = ox.parse(path=str(source), format=source_format)
    if fmt.kind == "graph":
        parsed = (quad.triple for quad in parsed)
    with open(out, "wb") as fh:
        ox.serialize(parsed, output=fh, format=fmt.rdf, prefixes=PREFIXES)


def _gzip(path: Path) -> Path:
    """path + .gz, byte-for-byte reproducible: mtime 0, no name in the header."""
    target = path.with_name(path.name + GZIP_SUFFIX)
    with open(path, "rb") as src, open(target, "wb") as raw:
        with gzip.GzipFile(filename="", mode="wb", fileobj=raw, mtime=0, compresslevel=9) as gz:
            shutil.copyfileobj(src, gz, 1 << 20)
    return target


# ---------------------------------------------------------------------------------------
#   VoID + DCAT
# ---------------------------------------------------------------------------------------


def _n(prefix: str, local: str) -> ox.NamedNode:
    return ox.NamedNode(VOID_PREFIXES[prefix] + local)


def _int(value: int, datatype: str = "integer") -> ox.Literal:
    return ox.Literal(str(value), datatype=_n("xsd", datatype))


def void_triples(
    info: BuildInfo,
    stats: VoidStats,
    files: list[DumpFile],
    base_url: str,
    sparql_endpoint: str,
) -> list[ox.Triple]:
    """The VoID + DCAT description of the dataset and its dumps (sorted, no blank nodes)."""
    a = _n("rdf", "type")
    ds = ox.NamedNode(DATASET_IRI)
    local = lambda name: ox.NamedNode(f"{DATASET_IRI}#{name}")  # noqa: E731
    en = lambda text: ox.Literal(text, language="en")  # noqa: E731
    t: list[ox.Triple] = [
        ox.Triple(ds, a, _n("void", "Dataset")),
        ox.Triple(ds, a, _n("dcat", "Dataset")),
        ox.Triple(ds, _n("dcterms", "title"), en("CICA-KG")),
        ox.Triple(
            ds,
            _n("dcterms", "description"),
            en(
                "The Conference on Interaction and Confidence Building Measures in Asia (CICA)"
                " as a sourced, time-aware knowledge graph."
            ),
        ),
        ox.Triple(ds, _n("dcterms", "license"), ox.NamedNode(LICENSE)),
        ox.Triple(ds, _n("dcterms", "hasVersion"), ox.Literal(info.build_id)),
        ox.Triple(ds, _n("owl", "versionInfo"), ox.Literal(info.build_id)),
        ox.Triple(
            ds,
            _n("dcterms", "modified"),
            ox.Literal(info.built_at[:10], datatype=_n("xsd", "date")),
        ),
        ox.Triple(ds, _n("void", "sparqlEndpoint"), ox.NamedNode(sparql_endpoint)),
        ox.Triple(ds, _n("void", "uriSpace"), ox.Literal(ID)),
        ox.Triple(ds, _n("void", "vocabulary"), ox.NamedNode(CICA)),
        ox.Triple(ds, _n("void", "triples"), _int(stats.triples)),
        ox.Triple(ds, _n("void", "distinctSubjects"), _int(stats.distinct_subjects)),
        ox.Triple(ds, _n("void", "distinctObjects"), _int(stats.distinct_objects)),
        ox.Triple(ds, _n("void", "classes"), _int(stats.classes)),
        ox.Triple(ds, _n("void", "properties"), _int(stats.properties)),
    ]
    t += [ox.Triple(ds, _n("dcterms", "source"), ox.NamedNode(src)) for src in stats.sources]

    for i, (cls, entities) in enumerate(stats.class_partitions, 1):
        part = local(f"class-{i:03d}")
        t += [
            ox.Triple(ds, _n("void", "classPartition"), part),
            ox.Triple(part, _n("void", "class"), ox.NamedNode(cls)),
            ox.Triple(part, _n("void", "entities"), _int(entities)),
        ]
    for i, (prop, triples) in enumerate(stats.property_partitions, 1):
        part = local(f"property-{i:03d}")
        t += [
            ox.Triple(ds, _n("void", "propertyPartition"), part),
            ox.Triple(part, _n("void", "property"), ox.NamedNode(prop)),
            ox.Triple(part, _n("void", "triples"), _int(triples)),
        ]
    for i, (graph, triples) in enumerate(stats.graphs, 1):
        part = local(f"graph-{i:03d}")
        t += [
            ox.Triple(ds, _n("void", "subset"), part),
            ox.Triple(part, a, _n("void", "Dataset")),
            ox.Triple(part, a, _n("sd", "NamedGraph")),
            ox.Triple(part, _n("sd", "name"), ox.NamedNode(graph)),
            ox.Triple(part, _n("void", "triples"), _int(triples)),
        ]

    wikidata, linkset = local("wikidata"), local("wikidata-links")
    t += [
        ox.Triple(wikidata, a, _n("void", "Dataset")),
        ox.Triple(wikidata, _n("dcterms", "title"), en("Wikidata")),
        ox.Triple(wikidata, _n("foaf", "homepage"), ox.NamedNode("https://www.wikidata.org/")),
        ox.Triple(wikidata, _n("void", "uriSpace"), ox.Literal(WD)),
        ox.Triple(wikidata, _n("void", "sparqlEndpoint"), ox.NamedNode(WIKIDATA_SPARQL)),
        ox.Triple(ds, _n("void", "subset"), linkset),
        ox.Triple(linkset, a, _n("void", "Linkset")),
        ox.Triple(linkset, _n("void", "linkPredicate"), _n("owl", "sameAs")),
        ox.Triple(linkset, _n("void", "subjectsTarget"), ds),
        ox.Triple(linkset, _n("void", "objectsTarget"), wikidata),
        ox.Triple(linkset, _n("void", "target"), ds),
        ox.Triple(linkset, _n("void", "target"), wikidata),
        ox.Triple(linkset, _n("void", "triples"), _int(stats.wikidata_links)),
    ]

    base = base_url if base_url.endswith("/") else base_url + "/"
    for dump in files:
        fmt, compressed = file_format(dump.name)
        if fmt is None or dump.name == VOID_FILE:
            continue
        key = fmt.name + ("-gz" if compressed else "")
        dist, checksum = local(f"dump-{key}"), local(f"dump-{key}-checksum")
        url = ox.NamedNode(base + "dumps/" + dump.name)
        title = TITLES[fmt.name] + (", gzip-compressed" if compressed else "")
        t += [
            ox.Triple(ds, _n("dcat", "distribution"), dist),
            ox.Triple(ds, _n("void", "dataDump"), url),
            ox.Triple(dist, a, _n("dcat", "Distribution")),
            ox.Triple(dist, _n("dcterms", "title"), en(f"CICA-KG dump: {title}")),
            ox.Triple(dist, _n("dcterms", "license"), ox.NamedNode(LICENSE)),
            ox.Triple(
                dist, _n("dcterms", "format"), ox.NamedNode(W3C_FORMATS + W3C_FORMAT[fmt.name])
            ),
            ox.Triple(dist, _n("dcat", "downloadURL"), url),
            ox.Triple(
                dist, _n("dcat", "mediaType"), ox.NamedNode(IANA_MEDIA_TYPES + fmt.media_type)
            ),
            ox.Triple(dist, _n("dcat", "byteSize"), _int(dump.size, "nonNegativeInteger")),
            ox.Triple(dist, _n("spdx", "checksum"), checksum),
            ox.Triple(checksum, a, _n("spdx", "Checksum")),
            ox.Triple(checksum, _n("spdx", "algorithm"), _n("spdx", "checksumAlgorithm_sha256")),
            ox.Triple(
                checksum,
                _n("spdx", "checksumValue"),
                ox.Literal(dump.sha256, datatype=_n("xsd", "hexBinary")),
            ),
        ]
        if compressed:
            t.append(
                ox.Triple(
                    dist,
                    _n("dcat", "compressFormat"),
                    ox.NamedNode(IANA_MEDIA_TYPES + GZIP_MEDIA_TYPE),
                )
            )
    # The dataset first, then its parts; sorted, so the output is the same every time.
    return sorted(
        set(t),
        key=lambda tr: (tr.subject != ds, str(tr.subject), str(tr.predicate), str(tr.object)),
    )


def write_void(triples: list[ox.Triple], path: Path) -> None:
    used = {
        prefix: iri
        for prefix, iri in VOID_PREFIXES.items()
        if prefix == "xsd" or any(str(term).startswith("<" + iri) for tr in triples for term in tr)
    }
    with open(path, "wb") as fh:
        ox.serialize(triples, output=fh, format=ox.RdfFormat.TURTLE, prefixes=used)


# ---------------------------------------------------------------------------------------
#   The export
# ---------------------------------------------------------------------------------------


def _export_lock(out_dir: Path) -> contextlib.AbstractContextManager[None]:
    return directory_lock(out_dir, ".export.lock", f"another export is writing to {out_dir}")


def export(
    store_root_or_published: Path | str | Published,
    out_dir: Path | str,
    *,
    base_url: str = BASE,
    sparql_endpoint: str | None = None,
    chunk_lines: int = CHUNK_LINES,
) -> ExportResult:
    """Write the dumps, void.ttl and SHA256SUMS of the published build into `out_dir`.

    `base_url` is the public root of the site: dumps are announced at `<base_url>dumps/<file>`
    and the SPARQL endpoint at `<base_url>sparql` (unless `sparql_endpoint` is given).
    Raises published.NoBuildError when nothing is built, RuntimeError when another export
    holds the output directory."""
    started = time.monotonic()
    if isinstance(store_root_or_published, Published):
        published = store_root_or_published
    else:
        published = open_current(Path(store_root_or_published))
    store, info = published.store, published.info
    out_dir = Path(out_dir)
    base = base_url if base_url.endswith("/") else base_url + "/"
    endpoint = sparql_endpoint or base + "sparql"

    with _export_lock(out_dir):
        for stale in out_dir.glob(".export-*"):
            if stale.is_dir():
                shutil.rmtree(stale, ignore_errors=True)
        staging = Path(tempfile.mkdtemp(prefix=".export-", dir=out_dir))
        try:
            files, stats = _write_all(store, info, staging, base, endpoint, chunk_lines)
            for dump in files:  # the data first, SHA256SUMS (the index) last
                os.replace(staging / dump.name, out_dir / dump.name)
            os.replace(staging / SUMS_FILE, out_dir / SUMS_FILE)
            fsync_dir(out_dir)
        finally:
            shutil.rmtree(staging, ignore_errors=True)
    return ExportResult(
        out_dir=out_dir,
        build_id=info.build_id,
        built_at=info.built_at,
        files=files,
        stats=stats,
        seconds=time.monotonic() - started,
    )


def _write_all(
    store: ox.Store,
    info: BuildInfo,
    staging: Path,
    base_url: str,
    endpoint: str,
    chunk_lines: int,
) -> tuple[list[DumpFile], VoidStats]:
    """Every file into `staging`; the list in SHA256SUMS order (SHA256SUMS itself not in it)."""
    stats = compute_stats(store)
    work = staging / ".sort"
    work.mkdir()
    paths = {fmt.name: staging / dump_name(fmt) for fmt in DUMP_FORMATS}
    n_quads, n_triples = _sort_store(store, work, paths["nq"], paths["nt"], chunk_lines)
    work.rmdir()
    if (n_quads, n_triples) != (stats.quads, stats.triples):  # the store changed under us?
        raise RuntimeError(
            f"the dump has {n_quads} quads and {n_triples} triples but SPARQL counts "
            f"{stats.quads} and {stats.triples}"
        )
    for fmt in DUMP_FORMATS:
        if fmt.name in ("nq", "nt"):
            continue
        if fmt.kind == "dataset":
            _serialize_from(paths["nq"], ox.RdfFormat.N_QUADS, fmt, paths[fmt.name])
        else:
            _serialize_from(paths["nt"], ox.RdfFormat.N_TRIPLES, fmt, paths[fmt.name])
    files: list[DumpFile] = []
    for fmt in DUMP_FORMATS:
        for path in (paths[fmt.name], _gzip(paths[fmt.name])):
            files.append(DumpFile(path.name, path.stat().st_size, sha256_file(path)))
    void_path = staging / VOID_FILE
    write_void(void_triples(info, stats, files, base_url, endpoint), void_path)
    files.append(DumpFile(VOID_FILE, void_path.stat().st_size, sha256_file(void_path)))
    with open(staging / SUMS_FILE, "w", encoding="utf-8", newline="\n") as sums:
        for dump in files:
            sums.write(f"{dump.sha256}  {dump.name}\n")
    for path in staging.iterdir():
        with open(path, "rb") as fh:
            os.fsync(fh.fileno())
    return files, stats
