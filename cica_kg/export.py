"""RDF dumps of the published build, with a VoID + DCAT description and checksums.

`export(store, out_dir)` writes, for the current build:

    cica-kg.ttl     Turtle: every triple of the union of the graphs, once
    cica-kg.nt      N-Triples: the same triples, one sorted line each
    cica-kg.nq      N-Quads: every quad, named graphs kept
    cica-kg.trig    TriG: every quad, named graphs kept
    cica-kg.jsonld  JSON-LD: the union graph
    cica-kg.rdf     RDF/XML: the union graph
    *.gz            each of these gzip-compressed at level 6 (mtime 0, no file name in the
                    header); level 9 took 3.6x the time for 5 % smaller files
    void.ttl        VoID + DCAT description: statistics, partitions, linkset, distributions
    SHA256SUMS      `sha256sum` format, covering every file above

Output is deterministic: the same build gives byte-identical files. Statements are sorted
(N-Triples by line; N-Quads by graph, then by line) and the other formats are serialized
from those sorted files with the fixed prefixes of `namespaces.PREFIXES`. Blank nodes (the
SHACL shapes have some) are relabelled by RDFC-1.0 canonicalization. void.ttl carries the
build date, never the export time.

How (one pass over the store, no SPARQL aggregate, every step streaming):

1. Each graph is written by pyoxigraph (`Store.dump`) as N-Triples to a temporary file and
   read back in chunks of `chunk_lines` lines, each chunk sorted as bytes and written as a
   sorted run. Lines with blank nodes are set aside.
2. The quads with blank nodes (and only those, held in memory) are canonicalized together
   and join their graphs as one more sorted run each.
3. cica-kg.nq is each graph's runs merged, graph after graph, each line given its graph;
   cica-kg.nt is a merge of all the runs (the union, duplicates dropped). Merges go by
   blocks of lines (bisect, then one C sort of the sorted pieces), not line by line.
4. The VoID statistics are counted on cica-kg.nt: distinct subjects from its order, the
   partitions in counters with one entry per class or property, distinct objects in a set
   spilled as sorted runs every `chunk_lines` entries. Turtle, TriG, JSON-LD and RDF/XML
   are serialized by pyoxigraph from a streaming parse of the sorted files.
5. Each file is gzipped and hashed in a thread of this process (zlib and hashlib release
   the GIL) as soon as it is written.

Memory is bounded by `chunk_lines` and the blank-node quads, not by the size of the store.
Steps 1, 3 and 4 are jobs for `jobs` worker processes (pyoxigraph holds the GIL while it
reads the store or serializes; each worker opens the build read-only), the biggest graph
first; this process orchestrates, canonicalizes and compresses.

Over a remote SPARQL 1.1 engine (`engine=URL`, `cica-kg export --engine URL`) the same
pipeline reads the graphs over HTTP: `SELECT ?g (COUNT(*) AS ?n) … GROUP BY ?g` lists the
named graphs, and one `CONSTRUCT { ?s ?p ?o } WHERE { GRAPH <g> { ?s ?p ?o } }` per graph
brings its triples (N-Triples, or Turtle/RDF/XML when the engine prefers; re-serialized
by pyoxigraph, so the lines are the same as from the embedded store). Each graph must
arrive whole: fewer triples than the engine counted (an engine that caps results, e.g.
Virtuoso's ResultSetMaxRows) fail the export. When the engine lists no named graph, its
default graph is exported as the default graph; when it has named graphs its default graph
is taken to be their union (as QLever, Virtuoso and `oxigraph --union-default-graph` serve
it) and not exported again. Blank-node labels are scoped to one SPARQL answer, so a blank
node shared by two graphs becomes two (never the case in a build: each graph comes from
one file). A remote engine has no build id or date: void.ttl then names the version
`remote-` + the first 16 hex digits of the SHA-256 of cica-kg.nq (the same content gives
the same id) and states no dcterms:modified; every other file is byte-identical to an
export of the embedded store holding the same quads.

Files are written to a staging directory beside the output and moved into place with
os.replace, SHA256SUMS last; an export holds a lock on the output directory."""

from __future__ import annotations

import contextlib
import dataclasses
import gzip
import hashlib
import heapq
import itertools
import json
import os
import re
import shutil
import signal
import subprocess
import sys
import tempfile
import threading
import time
from bisect import bisect_right
from collections import Counter
from collections.abc import Iterable, Iterator
from concurrent.futures import Future, ThreadPoolExecutor
from dataclasses import dataclass, field
from itertools import chain, compress, groupby, islice
from operator import itemgetter
from pathlib import Path
from typing import IO, TYPE_CHECKING, Any

import pyoxigraph as ox

from . import __version__, formats
from .fsutil import directory_lock, fsync_dir
from .namespaces import BASE, CICA, ID, PREFIXES, WD

if TYPE_CHECKING:  # the worker processes import this module: keep their start light
    from .published import Published

DUMP_STEM = "cica-kg"
VOID_FILE = "void.ttl"
SUMS_FILE = "SHA256SUMS"
GZIP_SUFFIX = ".gz"
GZIP_MEDIA_TYPE = "application/gzip"
GZIP_LEVEL = 6  # gzip's own default: 3.6x faster than 9 for files 5 % bigger (1M triples)
CHUNK_LINES = 200_000  # lines sorted in memory at once (~40 MB of N-Triples)
BLOCK_BYTES = 1 << 20  # read size of a sorted run during a merge
MERGE_BYTES = 32 << 20  # read buffers of one merge in all: more runs, smaller reads
MAX_MERGE = 64  # sorted runs merged at once (open files)
MAX_JOBS = 4  # worker processes at most: the biggest graph bounds the gain anyway
REMOTE_TIMEOUT = 600.0  # seconds a remote engine may take to start or continue an answer

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
    """The VoID statistics, counted on the sorted statements while they are written."""

    triples: int  # distinct triples of the union graph (= lines of cica-kg.nt)
    quads: int  # quads, default graph included (= lines of cica-kg.nq)
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
    build_id: str  # of a remote engine: "remote-" + a digest of cica-kg.nq
    built_at: str | None  # None over a remote engine (no build date known)
    files: list[DumpFile]
    stats: VoidStats
    seconds: float
    source: str = ""  # the store's build directory or the engine's URL
    notes: list[str] = field(default_factory=list)  # what a user should know (remote)


class RemoteExportError(RuntimeError):
    """The remote engine could not be read completely (unreachable, refused, timed out,
    cut a graph short, or holds nothing)."""


# ---------------------------------------------------------------------------------------
#   Sorted runs of N-Triples lines (bytes; every line ends with b" .\n")
# ---------------------------------------------------------------------------------------


def _file_blocks(path: Path, block_bytes: int = BLOCK_BYTES) -> Iterator[list[bytes]]:
    with open(path, "rb") as fh:
        while block := fh.readlines(block_bytes):
            yield block


def _merge_blocks(runs: Iterable[Iterator[list[bytes]]]) -> Iterator[list[bytes]]:
    """Sorted blocks of the lines of sorted runs (each without duplicates), every line once.

    A k-way merge by blocks rather than by line, so that the per-line work is done in C:
    each round takes, from every run, the lines up to the smallest of the runs' current
    last lines (nothing later in any run can be smaller), and sorts them together
    (Timsort merges sorted pieces in linear time)."""
    heads: list[list[Any]] = []  # [block, start, run]
    for run in runs:
        block = next((b for b in run if b), None)
        if block is not None:
            heads.append([block, 0, run])
    if len(heads) == 1:  # one run: already sorted and distinct
        block, _, run = heads[0]
        yield block
        yield from (b for b in run if b)
        return
    while heads:
        bound = min(head[0][-1] for head in heads)
        pieces = []
        for head in heads:
            block, start, run = head
            end = bisect_right(block, bound, start)
            if end > start:
                pieces.append(block if (start, end) == (0, len(block)) else block[start:end])
            if end == len(block):
                head[0], head[1] = next((b for b in run if b), None), 0
            else:
                head[1] = end
        heads = [head for head in heads if head[0] is not None]
        if len(pieces) == 1:
            yield pieces[0]
        else:
            merged = sorted(chain.from_iterable(pieces))
            yield [line for line, _ in groupby(merged)]


def _merged(paths: list[Path], work: Path, block_bytes: int, delete: bool) -> Iterator[list[bytes]]:
    """The merge of sorted run files, by groups of MAX_MERGE files (open files are
    limited); the inputs are deleted when `delete`, the intermediate files always. The
    read size shrinks as runs add up, so a merge holds at most ~MERGE_BYTES of input."""
    paths = list(paths)
    fan_in = max(1, min(len(paths), MAX_MERGE))
    block_bytes = min(block_bytes, max(1 << 16, MERGE_BYTES // fan_in))
    owned: list[Path] = list(paths) if delete else []
    while len(paths) > MAX_MERGE:
        group, paths = paths[:MAX_MERGE], paths[MAX_MERGE:]
        fd, name = tempfile.mkstemp(dir=work, prefix="merge-", suffix=".nt")
        with open(fd, "wb") as out:
            for block in _merge_blocks(_file_blocks(p, block_bytes) for p in group):
                out.writelines(block)
        for p in group:
            if p in owned:
                p.unlink()
        paths.append(Path(name))
        owned.append(Path(name))
    try:
        yield from _merge_blocks(_file_blocks(p, block_bytes) for p in paths)
    finally:
        for p in owned:
            p.unlink(missing_ok=True)


def _block_bytes(chunk_lines: int) -> int:
    # Small chunks (the tests' 97 lines) read small blocks, so merges run many rounds.
    return max(4096, min(BLOCK_BYTES, chunk_lines * 128))


class _DistinctCounter:
    """How many distinct byte strings (without newline) were added, in bounded memory: a
    set of at most `limit` of them, spilled sorted to a file (one a line) when full; the
    files are merged at the end."""

    def __init__(self, work: Path, limit: int):
        self.work, self.limit = work, max(limit, 1)
        self.seen: set[bytes] = set()
        self.runs: list[Path] = []

    def update(self, lines: Iterable[bytes]) -> None:
        self.seen.update(lines)
        if len(self.seen) >= self.limit:
            self._spill()

    def _spill(self) -> None:
        if not self.seen:
            return
        fd, name = tempfile.mkstemp(dir=self.work, prefix="distinct-", suffix=".nt")
        with open(fd, "wb") as out:
            out.writelines(item + b"\n" for item in sorted(self.seen))
        self.runs.append(Path(name))
        self.seen = set()

    def count(self) -> int:
        if not self.runs:
            return len(self.seen)
        self._spill()
        runs, self.runs = self.runs, []
        block_bytes = _block_bytes(self.limit)
        return sum(len(block) for block in _merged(runs, self.work, block_bytes, delete=True))


# ---------------------------------------------------------------------------------------
#   Where the graphs come from: the embedded store, or a remote SPARQL 1.1 engine
# ---------------------------------------------------------------------------------------

# A graph is named by its N-Triples form ("<iri>", "_:label"); "" is the default graph.
REMOTE_GRAPHS = "SELECT ?g (COUNT(*) AS ?n) WHERE { GRAPH ?g { ?s ?p ?o } } GROUP BY ?g"
REMOTE_DEFAULT = "SELECT (COUNT(*) AS ?n) WHERE { ?s ?p ?o }"
REMOTE_ACCEPT = "application/n-triples, text/turtle;q=0.9, application/rdf+xml;q=0.5"


@dataclass(frozen=True)
class _Graph:
    key: str
    expected: int | None  # triples, when the build or the engine says


def _graph_term(key: str) -> ox.NamedNode | ox.BlankNode | ox.DefaultGraph:
    if not key:
        return ox.DefaultGraph()
    if key.startswith("_:"):
        return ox.BlankNode(key[2:])
    return ox.NamedNode(key[1:-1])


class _StoreSource:
    """The published build (parent side): its graphs, and the spec workers open it by."""

    remote = False

    def __init__(self, published: Published):
        self.store = published.store
        self.info = published.info
        self.spec = {"kind": "store", "path": str(published.info.store_path)}
        self.name = str(published.info.path)
        self.notes: list[str] = []

    def graphs(self) -> list[_Graph]:
        keys = sorted(str(g) for g in self.store.named_graphs())
        if next(iter(self.store.quads_for_pattern(None, None, None, ox.DefaultGraph())), None):
            keys.insert(0, "")
        sizes = self.info.graphs
        return [_Graph(key, sizes.get(key[1:-1]) if key.startswith("<") else None) for key in keys]

    def check(self, graph: _Graph, lines: int) -> None:
        if graph.expected is not None and lines != graph.expected:
            raise RuntimeError(
                f"graph {graph.key} has {lines} triples in the store but {graph.expected} "
                f"in {self.info.path / 'build.json'}"
            )


class _EngineSource:
    """A remote SPARQL 1.1 endpoint (parent side)."""

    remote = True

    def __init__(self, url: str, timeout: float):
        self.url, self.timeout = url, timeout
        self.spec = {"kind": "remote", "url": url, "timeout": timeout}
        self.name = url
        self.notes: list[str] = []

    def _select(self, query: str) -> list[dict[str, Any]]:
        with _session() as session:
            response = _remote_post(
                session, self.url, query, "application/sparql-results+json", self.timeout
            )
            try:
                rows: list[dict[str, Any]] = response.json()["results"]["bindings"]
            except (ValueError, KeyError, TypeError) as exc:
                raise RemoteExportError(
                    f"the engine at {self.url} sent an answer that cannot be read: {exc}"
                ) from None
        return rows

    def graphs(self) -> list[_Graph]:
        named = sorted(
            (str(ox.NamedNode(row["g"]["value"])), int(row["n"]["value"]))
            for row in self._select(REMOTE_GRAPHS)
            if row.get("g", {}).get("type") == "uri"
        )
        if named:
            return [_Graph(key, n) for key, n in named]
        # No named graph (an engine loaded with plain triples): its default graph is the data.
        rows = self._select(REMOTE_DEFAULT)
        total = int(rows[0]["n"]["value"]) if rows else 0
        if not total:
            raise RemoteExportError(
                f"the engine at {self.url} has no named graph and an empty default graph: "
                "nothing to export"
            )
        self.notes.append(
            f"the engine at {self.url} has no named graph: its default graph was exported "
            "(as the default graph of cica-kg.nq and cica-kg.trig)"
        )
        return [_Graph("", total)]

    def check(self, graph: _Graph, lines: int) -> None:
        if graph.expected is not None and lines < graph.expected:
            raise RemoteExportError(
                f"the engine at {self.url} sent {lines} of the {graph.expected} triples of "
                f"graph {graph.key or '(default)'}: it may cap the size of answers (e.g. "
                "Virtuoso's ResultSetMaxRows); raise that limit and export again"
            )


def _session() -> Any:
    import requests  # only over a remote engine

    session = requests.Session()
    session.headers["User-Agent"] = f"CICA-KG/{__version__} (export)"
    return session


def _remote_post(
    session: Any, url: str, query: str, accept: str, timeout: float, stream: bool = False
) -> Any:
    """POST a query (SPARQL 1.1 Protocol). `timeout` bounds the wait for the engine to start
    answering and every pause within its answer, as for other remote calls; a long answer
    that keeps coming is not cut."""
    import requests

    try:
        response = session.post(
            url,
            data={"query": query},
            headers={"Accept": accept},
            timeout=timeout,
            stream=stream,
        )
    except requests.Timeout:
        raise RemoteExportError(
            f"the engine at {url} did not answer within {timeout:g} s (export timeout)"
        ) from None
    except requests.RequestException as exc:
        raise RemoteExportError(f"the engine at {url} cannot be reached: {exc}") from None
    if response.status_code != 200:
        text = response.text[:500]
        response.close()
        raise RemoteExportError(f"the engine at {url} answered HTTP {response.status_code}: {text}")
    return response


class _StoreReader:
    """Worker side of the embedded store: pyoxigraph writes one graph as N-Triples."""

    def __init__(self, path: str, store: ox.Store | None = None):
        self.store = store or ox.Store.read_only(path)

    def dump(self, key: str, path: Path) -> None:
        self.store.dump(
            output=str(path), format=ox.RdfFormat.N_TRIPLES, from_graph=_graph_term(key)
        )


class _RemoteReader:
    """Worker side of a remote engine: one CONSTRUCT per graph, streamed to a file through
    pyoxigraph (so the lines are written exactly as from the embedded store)."""

    def __init__(self, url: str, timeout: float):
        self.url, self.timeout = url, timeout
        self.session = _session()

    def dump(self, key: str, path: Path) -> None:
        pattern = f"GRAPH {key} {{ ?s ?p ?o }}" if key else "?s ?p ?o"
        query = f"CONSTRUCT {{ ?s ?p ?o }} WHERE {{ {pattern} }}"
        name = f"graph {key}" if key else "the default graph"
        with _remote_post(
            self.session, self.url, query, REMOTE_ACCEPT, self.timeout, stream=True
        ) as response:
            media = response.headers.get("Content-Type", "").split(";")[0].strip().lower()
            fmt = ox.RdfFormat.from_media_type(media) if media else ox.RdfFormat.N_TRIPLES
            if fmt is None:
                raise RemoteExportError(
                    f"the engine at {self.url} sent {name} as {media!r}; expected N-Triples, "
                    "Turtle or RDF/XML"
                )
            response.raw.decode_content = True  # a gzip Content-Encoding is undone
            try:
                parsed = ox.parse(input=response.raw, format=fmt)
                ox.serialize(parsed, output=str(path), format=ox.RdfFormat.N_TRIPLES)
            except Exception as exc:  # a timeout or a cut connection surfaces while parsing
                raise RemoteExportError(
                    f"reading {name} from the engine at {self.url} failed: {exc}"
                ) from None


def _reader_key(spec: dict[str, Any]) -> str:
    return json.dumps(spec, sort_keys=True)


def _reader(spec: dict[str, Any], cache: dict[str, Any]) -> _StoreReader | _RemoteReader:
    key = _reader_key(spec)
    if key not in cache:
        if spec["kind"] == "store":
            cache[key] = _StoreReader(spec["path"])
        else:
            cache[key] = _RemoteReader(spec["url"], float(spec["timeout"]))
    reader: _StoreReader | _RemoteReader = cache[key]
    return reader


# ---------------------------------------------------------------------------------------
#   The jobs (run by the worker processes, or in this process when jobs == 1)
# ---------------------------------------------------------------------------------------


def _sort_graph(
    reader: _StoreReader | _RemoteReader, key: str, prefix: str, chunk_lines: int
) -> dict[str, Any]:
    """Dump one graph, set its lines with blank nodes aside (they are canonicalized with
    all the others), and sort the rest in chunks of `chunk_lines` into `<prefix>.<n>`
    files: the graph's sorted runs, merged by whoever reads them (no extra pass here)."""
    raw, blank = Path(prefix + ".raw"), Path(prefix + ".blank")
    reader.dump(key, raw)
    runs: list[str] = []
    lines = blanks = 0
    all_blank = key.startswith("_:")  # a graph named by a blank node: every quad has one
    any_blank = all_blank or _contains(raw, b"_:")  # most graphs have none: no line test
    unique = isinstance(reader, _StoreReader)  # a store holds each quad once
    with open(raw, "rb") as fh, open(blank, "wb") as aside:
        while chunk := list(islice(fh, chunk_lines)):
            lines += len(chunk)
            # b"_:" also matches inside a literal: such a line takes the (correct) slow path.
            if all_blank:
                marked = chunk
            elif any_blank:
                marked = [line for line in chunk if b"_:" in line]
            else:
                marked = []
            if marked:
                aside.writelines(marked)
                blanks += len(marked)
                if len(marked) == len(chunk):
                    continue
                chunk = [line for line in chunk if b"_:" not in line]
            chunk.sort()
            runs.append(f"{prefix}.{len(runs)}.nt")
            with open(runs[-1], "wb") as out:
                out.writelines(chunk if unique else (line for line, _ in groupby(chunk)))
    raw.unlink()
    if not blanks:
        blank.unlink()
    return {"lines": lines, "runs": runs, "blank": str(blank) if blanks else None}


def _contains(path: Path, needle: bytes) -> bool:
    """Whether a file contains `needle` (read by blocks: no memory held)."""
    edge = len(needle) - 1
    previous = b""
    with open(path, "rb") as fh:
        while block := fh.read(BLOCK_BYTES):
            if needle in block or needle in previous[len(previous) - edge :] + block[:edge]:
                return True
            previous = block
    return False


def _write_quads(graphs: list[tuple[str, list[str]]], out: str, block_bytes: int) -> list[int]:
    """cica-kg.nq: each graph's sorted runs merged, in graph order, each line given its
    graph; the number of quads of each graph."""
    counts = []
    with open(out, "wb") as fh:
        for key, paths in graphs:
            tail = b" " + key.encode() + b" .\n"
            count = 0
            runs = [Path(p) for p in paths]
            for block in _merged(runs, runs[0].parent, block_bytes, delete=False):
                text = b"".join(block)
                # b" .\n" ends every line and only there (N-Triples escapes newlines in
                # literals), so one C replace gives each line its graph.
                fh.write(text.replace(b" .\n", tail) if key else text)
                count += len(block)
            counts.append(count)
    return counts


def _serialize(source: str, fmt_name: str, out: str) -> None:
    """Stream a sorted N-Triples/N-Quads file into another format. `lenient` skips IRI
    validation (2x faster parsing): the input is our own output of validated terms. Quads
    of the default graph go to the graph formats as they are (no per-quad Python)."""
    fmt = _format(fmt_name)
    assert fmt.rdf is not None
    source_format = ox.RdfFormat.N_QUADS if source.endswith(".nq") else ox.RdfFormat.N_TRIPLES
    parsed = ox.parse(path=source, format=source_format, lenient=True)
    ox.serialize(parsed, output=out, format=fmt.rdf, prefixes=PREFIXES)


def _run_job(job: dict[str, Any], cache: dict[str, Any]) -> Any:
    op = job["op"]
    if op == "graph":
        reader = _reader(job["source"], cache)
        return _sort_graph(reader, job["graph"], job["prefix"], job["chunk_lines"])
    cache.clear()  # the graphs are read: let the store's caches go before the next steps
    if op == "quads":
        return _write_quads(job["graphs"], job["out"], job["block_bytes"])
    if op == "triples":
        return _write_triples(job["runs"], job["out"], job["work"], job["chunk_lines"])
    if op == "count":
        return _count_triples(job["source"], job["work"], job["chunk_lines"])
    if op == "serialize":
        _serialize(job["source"], job["format"], job["out"])
        return None
    raise ValueError(f"unknown export job {op!r}")


def _worker_main() -> None:
    """A worker process: one JSON job a line on stdin, one JSON reply a line on stdout,
    until stdin closes."""
    signal.signal(signal.SIGINT, signal.SIG_IGN)  # Ctrl-C reaches the parent, which stops us
    cache: dict[str, Any] = {}
    for line in sys.stdin:
        reply: dict[str, Any]
        try:
            reply = {"ok": _run_job(json.loads(line), cache)}
        except RemoteExportError as exc:
            reply = {"error": str(exc), "kind": "remote"}
        except OSError as exc:
            reply = {"error": str(exc), "kind": "os"}
        except Exception as exc:
            reply = {"error": f"{type(exc).__name__}: {exc}", "kind": "other"}
        sys.stdout.write(json.dumps(reply) + "\n")
        sys.stdout.flush()


WORKER_CODE = "from cica_kg.export import _worker_main; _worker_main()"
# Which waiting job a free worker takes first (graphs: 0, in the order submitted, the
# biggest first): the merges the others wait for, then the longest first (times at 1M
# triples: statistics 1.4 s, JSON-LD 1.0, RDF/XML 0.9, TriG 0.8, Turtle 0.7), so that the
# export does not end on a long job while a core idles.
RANKS = {"quads": 1, "triples": 1, "count": 2, "jsonld": 3, "rdfxml": 4, "trig": 5, "ttl": 6}
ERRORS = {"remote": RemoteExportError, "os": OSError}


class _Workers:
    """`jobs` worker processes, each running one job at a time: `call` waits for a free
    one, and of the calls waiting, the lowest `rank` goes first (the longest jobs first,
    so that the export does not end on a long job with a core idle). With jobs == 1, the
    jobs run in this process instead."""

    def __init__(self, jobs: int):
        self.inline = jobs <= 1
        self.cache: dict[str, Any] = {}
        self.runner = ThreadPoolExecutor(max_workers=1, thread_name_prefix="export-job")
        self.turn = threading.Condition()
        self.waiting: list[tuple[int, int]] = []  # heap of (rank, arrival)
        self.arrivals = itertools.count()
        self.idle: list[subprocess.Popen[bytes]] = []
        self.procs: list[subprocess.Popen[bytes]] = []
        self.log: IO[bytes] | None = None
        if self.inline:
            return
        package_parent = str(Path(__file__).resolve().parent.parent)
        path = os.pathsep.join(filter(None, [package_parent, os.environ.get("PYTHONPATH")]))
        self.log = tempfile.TemporaryFile()  # the workers' stderr, quoted if one dies
        for _ in range(jobs):
            proc = subprocess.Popen(
                [sys.executable, "-c", WORKER_CODE],
                stdin=subprocess.PIPE,
                stdout=subprocess.PIPE,
                stderr=self.log,
                env={**os.environ, "PYTHONPATH": path},
            )
            self.procs.append(proc)
            self.idle.append(proc)

    def call(self, job: dict[str, Any], rank: int = 0) -> Any:
        if self.inline:  # one thread runs them all: fewer malloc arenas hold freed memory
            return self.runner.submit(_run_job, job, self.cache).result()
        with self.turn:
            ticket = (rank, next(self.arrivals))
            heapq.heappush(self.waiting, ticket)
            self.turn.wait_for(lambda: bool(self.idle) and self.waiting[0] == ticket)
            heapq.heappop(self.waiting)
            proc = self.idle.pop()
            self.turn.notify_all()  # the next in line may take another idle worker
        try:
            assert proc.stdin is not None and proc.stdout is not None
            proc.stdin.write(json.dumps(job).encode() + b"\n")
            proc.stdin.flush()
            line = proc.stdout.readline()
        except OSError:
            line = b""
        finally:
            with self.turn:  # a dead one too: its next caller fails at once, never waits
                self.idle.append(proc)
                self.turn.notify_all()
        if not line:
            raise RuntimeError(f"an export worker process ended unexpectedly{self._log_tail()}")
        reply = json.loads(line)
        if "error" in reply:
            raise ERRORS.get(reply["kind"], RuntimeError)(reply["error"])
        return reply["ok"]

    def _log_tail(self) -> str:
        if self.log is None:
            return ""
        with contextlib.suppress(OSError, ValueError):
            self.log.seek(max(0, self.log.seek(0, os.SEEK_END) - 2000))
            tail = self.log.read().decode("utf-8", "replace").strip()
            if tail:
                return ": " + tail
        return ""

    def release(self) -> None:
        """No more jobs: the workers exit (freeing their memory) while this process
        finishes; `close` reaps them."""
        for proc in self.procs:
            with contextlib.suppress(OSError):
                assert proc.stdin is not None
                proc.stdin.close()

    def close(self, kill: bool = False) -> None:
        """Stop the workers (at once when `kill`: the jobs in flight fail) and reap them."""
        for proc in self.procs:
            if kill:
                proc.kill()
        self.release()
        for proc in self.procs:
            try:
                proc.wait(timeout=30)
            except subprocess.TimeoutExpired:
                proc.kill()
                proc.wait()
            if proc.stdout is not None:
                proc.stdout.close()
        if self.log is not None:
            self.log.close()
        self.runner.shutdown(wait=True, cancel_futures=True)
        self.cache.clear()


def _default_jobs() -> int:
    try:
        cpus = len(os.sched_getaffinity(0))
    except (AttributeError, OSError):
        cpus = os.cpu_count() or 1
    return max(1, min(MAX_JOBS, cpus))


# ---------------------------------------------------------------------------------------
#   Blank nodes (in this process), statistics (a job), compression (threads here)
# ---------------------------------------------------------------------------------------


def _scoped(term: Any, index: int) -> Any:
    """A remote engine's blank-node labels are scoped to one answer (one graph here)."""
    if isinstance(term, ox.BlankNode):
        return ox.BlankNode(f"g{index}x{term.value}")
    if isinstance(term, ox.Triple):
        return ox.Triple(_scoped(term.subject, index), term.predicate, _scoped(term.object, index))
    return term


def _canonical_blank_lines(aside: list[tuple[str, Path]], remote: bool) -> dict[str, list[bytes]]:
    """The set-aside lines of every graph, blank nodes relabelled by RDFC-1.0 over all of
    them together: {graph key (canonical): sorted, distinct N-Triples lines}."""
    quads = []
    for index, (key, path) in enumerate(aside):
        graph = _graph_term(key)
        if remote and isinstance(graph, ox.BlankNode):
            graph = _scoped(graph, index)
        for quad in ox.parse(path=str(path), format=ox.RdfFormat.N_TRIPLES):
            subject, obj = quad.subject, quad.object
            if remote:
                subject, obj = _scoped(subject, index), _scoped(obj, index)
            quads.append(ox.Quad(subject, quad.predicate, obj, graph))
    dataset = ox.Dataset(quads)
    del quads
    dataset.canonicalize(ox.CanonicalizationAlgorithm.RDFC_1_0)
    by_graph: dict[str, set[bytes]] = {}
    for quad in dataset:
        key = "" if isinstance(quad.graph_name, ox.DefaultGraph) else str(quad.graph_name)
        line = f"{quad.subject} {quad.predicate} {quad.object} .\n".encode()
        by_graph.setdefault(key, set()).add(line)
    return {key: sorted(lines) for key, lines in by_graph.items()}


VOID_COUNTS = ("triples", "distinct_subjects", "distinct_objects", "classes", "properties",
               "wikidata_links")  # fmt: skip
RDF_TYPE = f"<{PREFIXES['rdf']}type>".encode()
OWL_SAME_AS = f"<{PREFIXES['owl']}sameAs>".encode()
WIKIDATA_OBJECT = f"<{WD}".encode()
SOURCE_OBJECT = f"<{CICA}Source> .".encode()
WIKIDATA_LINK = b" " + OWL_SAME_AS + b" " + WIKIDATA_OBJECT
TRIPLE_PARTS = re.compile(rb"(\S+) (\S+) (.*)\n")  # subject, predicate, b"<o> ."


def _count_triples(path: str, work: str, chunk_lines: int) -> dict[str, Any]:
    """The VoID statistics of the union graph, counted on cica-kg.nt (sorted, distinct):
    distinct subjects from the sorted order, distinct objects by a _DistinctCounter, the
    rest in counters with one entry per class or property."""
    triples = subjects = wikidata_links = 0
    last_subject = b""
    predicates: Counter[bytes] = Counter()
    classes: Counter[bytes] = Counter()
    sources: list[bytes] = []
    objects = _DistinctCounter(Path(work), chunk_lines)
    tail = b""
    with open(path, "rb") as fh:
        while data := fh.read(_block_bytes(chunk_lines)):
            cut = data.rfind(b"\n") + 1  # whole lines now, the rest with the next read
            if not cut:
                tail += data
                continue
            text, tail = tail + data[:cut], data[cut:]
            # One regex pass in C over the block (1.5x faster than bytes.split per line):
            # subjects and predicates of N-Triples hold no space, the rest is b"<o> .".
            parts: list[Any] = TRIPLE_PARTS.findall(text)
            if len(parts) != text.count(b"\n"):  # never for N-Triples written by pyoxigraph
                parts = [line.split(b" ", 2) for line in text.splitlines()]
            triples += len(parts)
            runs = [s for s, _ in groupby(map(itemgetter(0), parts))]  # sorted: one run each
            subjects += len(runs) - (runs[0] == last_subject)
            last_subject = runs[-1]
            predicates.update(map(itemgetter(1), parts))
            objects.update(map(itemgetter(2), parts))
            typed = list(compress(parts, map(RDF_TYPE.__eq__, map(itemgetter(1), parts))))
            classes.update(o for _, _, o in typed if o[:1] == b"<")
            sources += [s for s, _, o in typed if o == SOURCE_OBJECT and s[:1] == b"<"]
            if WIKIDATA_LINK in text:  # rare: skip the per-line test in most blocks
                wikidata_links += sum(
                    1 for _, p, o in parts if p == OWL_SAME_AS and o.startswith(WIKIDATA_OBJECT)
                )
    if tail:
        raise ValueError(f"{path} does not end with a newline")
    iri = lambda term: term.split(b" ", 1)[0][1:-1].decode()  # noqa: E731  b"<x> ." -> x
    return {
        "triples": triples,
        "distinct_subjects": subjects,
        "distinct_objects": objects.count(),
        "classes": len(classes),
        "properties": len(predicates),
        # sorted as SPARQL's ORDER BY STR(?x) sorted them
        "class_partitions": sorted((iri(c), n) for c, n in classes.items()),
        "property_partitions": sorted((iri(p), n) for p, n in predicates.items()),
        "wikidata_links": wikidata_links,
        "sources": sorted(iri(s) for s in sources),
    }


def _write_triples(runs: list[str], out: str, work: str, chunk_lines: int) -> int:
    """cica-kg.nt: the union of every graph's sorted runs, each triple once."""
    paths = [Path(p) for p in runs]
    count = 0
    with open(out, "wb") as fh:
        for block in _merged(paths, Path(work), _block_bytes(chunk_lines), delete=False):
            fh.write(b"".join(block))
            count += len(block)
    return count


class _Hashing:
    """A binary file wrapper that hashes and counts what is written through it."""

    def __init__(self, raw: IO[bytes]):
        self.raw, self.sha, self.size = raw, hashlib.sha256(), 0

    def write(self, data: bytes) -> int:
        self.sha.update(data)
        self.size += len(data)
        return self.raw.write(data)

    def flush(self) -> None:
        self.raw.flush()


def _pack(path: Path) -> tuple[DumpFile, DumpFile]:
    """path + .gz, byte-for-byte reproducible (mtime 0, no name in the header), both
    hashed in the same read, both synced to disk. Runs in a thread: zlib and hashlib
    release the GIL on large buffers."""
    target = path.with_name(path.name + GZIP_SUFFIX)
    digest, size = hashlib.sha256(), 0
    with open(path, "rb") as src, open(target, "wb") as raw:
        packed = _Hashing(raw)
        with gzip.GzipFile(
            filename="", mode="wb", fileobj=packed, mtime=0, compresslevel=GZIP_LEVEL
        ) as gz:
            while block := src.read(1 << 20):
                digest.update(block)
                size += len(block)
                gz.write(block)
        raw.flush()
        os.fsync(raw.fileno())
        os.fsync(src.fileno())
    return (
        DumpFile(path.name, size, digest.hexdigest()),
        DumpFile(target.name, packed.size, packed.sha.hexdigest()),
    )


# ---------------------------------------------------------------------------------------
#   VoID + DCAT
# ---------------------------------------------------------------------------------------


def _n(prefix: str, local: str) -> ox.NamedNode:
    return ox.NamedNode(VOID_PREFIXES[prefix] + local)


def _int(value: int, datatype: str = "integer") -> ox.Literal:
    return ox.Literal(str(value), datatype=_n("xsd", datatype))


def void_triples(
    build_id: str,
    built_at: str | None,
    stats: VoidStats,
    files: list[DumpFile],
    base_url: str,
    sparql_endpoint: str,
) -> list[ox.Triple]:
    """The VoID + DCAT description of the dataset and its dumps (sorted, no blank nodes).
    `built_at` None (a remote engine's data: no build date known) states no date."""
    from .service_description import W3C_FORMAT  # (imports the build module: not at start)

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
        ox.Triple(ds, _n("dcterms", "hasVersion"), ox.Literal(build_id)),
        ox.Triple(ds, _n("owl", "versionInfo"), ox.Literal(build_id)),
        ox.Triple(ds, _n("void", "sparqlEndpoint"), ox.NamedNode(sparql_endpoint)),
        ox.Triple(ds, _n("void", "uriSpace"), ox.Literal(ID)),
        ox.Triple(ds, _n("void", "vocabulary"), ox.NamedNode(CICA)),
        ox.Triple(ds, _n("void", "triples"), _int(stats.triples)),
        ox.Triple(ds, _n("void", "distinctSubjects"), _int(stats.distinct_subjects)),
        ox.Triple(ds, _n("void", "distinctObjects"), _int(stats.distinct_objects)),
        ox.Triple(ds, _n("void", "classes"), _int(stats.classes)),
        ox.Triple(ds, _n("void", "properties"), _int(stats.properties)),
    ]
    if built_at:
        date = ox.Literal(built_at[:10], datatype=_n("xsd", "date"))
        t.append(ox.Triple(ds, _n("dcterms", "modified"), date))
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
    # The namespaces of the IRIs used (up to their last / or #): a few dozen, whatever the
    # number of triples. Every prefix IRI ends with / or #, so an IRI starts with a prefix
    # exactly when its namespace does.
    spaces = {
        term.value[: max(term.value.rfind("/"), term.value.rfind("#")) + 1]
        for tr in triples
        for term in tr
        if isinstance(term, ox.NamedNode)
    }
    used = {
        prefix: iri
        for prefix, iri in VOID_PREFIXES.items()
        if prefix == "xsd" or any(space.startswith(iri) for space in spaces)
    }
    with open(path, "wb") as fh:
        ox.serialize(triples, output=fh, format=ox.RdfFormat.TURTLE, prefixes=used)


# ---------------------------------------------------------------------------------------
#   The export
# ---------------------------------------------------------------------------------------


def _export_lock(out_dir: Path) -> contextlib.AbstractContextManager[None]:
    return directory_lock(out_dir, ".export.lock", f"another export is writing to {out_dir}")


def export(
    store_root_or_published: Path | str | Published | None,
    out_dir: Path | str,
    *,
    base_url: str = BASE,
    sparql_endpoint: str | None = None,
    chunk_lines: int = CHUNK_LINES,
    jobs: int | None = None,
    engine: str | None = None,
    timeout: float = REMOTE_TIMEOUT,
) -> ExportResult:
    """Write the dumps, void.ttl and SHA256SUMS of the published build into `out_dir`.

    `base_url` is the public root of the site: dumps are announced at `<base_url>dumps/<file>`
    and the SPARQL endpoint at `<base_url>sparql` (unless `sparql_endpoint` is given).
    `jobs` worker processes share the work (default: the CPUs available, at most
    MAX_JOBS; 1 runs everything in this process). With `engine` (a SPARQL 1.1 endpoint
    URL) the data comes from there instead of the store, each HTTP call allowed `timeout`
    seconds to start or continue its answer.
    Raises published.NoBuildError when nothing is built, RemoteExportError when the engine
    cannot be read completely, RuntimeError when another export holds the output directory."""
    started = time.monotonic()
    # The workers boot while this process opens the store and lists its graphs.
    workers = _Workers(jobs or _default_jobs())
    try:
        result = _export(
            store_root_or_published,
            Path(out_dir),
            workers,
            base_url=base_url,
            sparql_endpoint=sparql_endpoint,
            chunk_lines=max(chunk_lines, 1),
            engine=engine,
            timeout=timeout,
        )
    except BaseException:
        workers.close(kill=True)
        raise
    workers.close()
    return dataclasses.replace(result, seconds=time.monotonic() - started)


def _export(
    store_root_or_published: Path | str | Published | None,
    out_dir: Path,
    workers: _Workers,
    *,
    base_url: str,
    sparql_endpoint: str | None,
    chunk_lines: int,
    engine: str | None,
    timeout: float,
) -> ExportResult:
    source: _StoreSource | _EngineSource
    if engine:
        source = _EngineSource(engine, timeout)
        build_id, built_at = None, None
    else:
        from .published import Published, open_current

        if isinstance(store_root_or_published, Published):
            published = store_root_or_published
        elif store_root_or_published is None:
            raise ValueError("export needs a store or an engine URL")
        else:
            published = open_current(Path(store_root_or_published))
        source = _StoreSource(published)
        build_id, built_at = published.info.build_id, published.info.built_at
        if workers.inline:  # the jobs run here: they read through the store already open
            workers.cache[_reader_key(source.spec)] = _StoreReader("", published.store)
    base = base_url if base_url.endswith("/") else base_url + "/"
    endpoint = sparql_endpoint or base + "sparql"

    with _export_lock(out_dir):
        for stale in out_dir.glob(".export-*"):
            if stale.is_dir():
                shutil.rmtree(stale, ignore_errors=True)
        staging = Path(tempfile.mkdtemp(prefix=".export-", dir=out_dir))
        try:
            files, stats = _write_dumps(source, workers, staging, chunk_lines)
            if build_id is None:  # a remote engine: the version is the content's digest
                nq = next(f for f in files if f.name == dump_name(_format("nq")))
                build_id = "remote-" + nq.sha256[:16]
            void_path = staging / VOID_FILE
            write_void(void_triples(build_id, built_at, stats, files, base, endpoint), void_path)
            files.append(DumpFile(VOID_FILE, void_path.stat().st_size, sha256_file(void_path)))
            with open(staging / SUMS_FILE, "w", encoding="utf-8", newline="\n") as sums:
                for dump in files:
                    sums.write(f"{dump.sha256}  {dump.name}\n")
            for name in (VOID_FILE, SUMS_FILE):
                with open(staging / name, "rb") as fh:
                    os.fsync(fh.fileno())
            for dump in files:  # the data first, SHA256SUMS (the index) last
                os.replace(staging / dump.name, out_dir / dump.name)
            os.replace(staging / SUMS_FILE, out_dir / SUMS_FILE)
            fsync_dir(out_dir)
        finally:
            shutil.rmtree(staging, ignore_errors=True)
    return ExportResult(
        out_dir=out_dir,
        build_id=build_id,
        built_at=built_at,
        files=files,
        stats=stats,
        seconds=0.0,
        source=source.name,
        notes=source.notes,
    )


def _write_dumps(
    source: _StoreSource | _EngineSource, workers: _Workers, staging: Path, chunk_lines: int
) -> tuple[list[DumpFile], VoidStats]:
    """The six dumps and their .gz into `staging`; the files in SHA256SUMS order."""
    work = staging / ".sort"
    work.mkdir()
    paths = {fmt.name: staging / dump_name(fmt) for fmt in DUMP_FORMATS}
    graphs = source.graphs()
    jobs = max(1, len(workers.procs))
    calls = ThreadPoolExecutor(max_workers=jobs + 4, thread_name_prefix="export-call")
    packer = ThreadPoolExecutor(max_workers=max(2, jobs), thread_name_prefix="export-gzip")
    packed: dict[str, Future[tuple[DumpFile, DumpFile]]] = {}
    failed = True
    try:
        # 1. Every graph dumped and sorted by a worker, the biggest first.
        order = sorted(range(len(graphs)), key=lambda i: (-(graphs[i].expected or 0), i))
        sorting = {
            i: calls.submit(
                workers.call,
                {
                    "op": "graph",
                    "source": source.spec,
                    "graph": graphs[i].key,
                    "prefix": str(work / f"graph-{i}"),
                    "chunk_lines": chunk_lines,
                },
            )
            for i in order
        }
        sorted_graphs = {i: sorting[i].result() for i in order}
        for i, graph in enumerate(graphs):
            source.check(graph, sorted_graphs[i]["lines"])

        # 2. The lines with blank nodes, canonicalized together, join their graphs.
        streams: dict[str, list[str]] = {}
        for i, graph in enumerate(graphs):
            if sorted_graphs[i]["runs"]:
                streams.setdefault(graph.key, []).extend(sorted_graphs[i]["runs"])
        aside = [
            (graph.key, Path(sorted_graphs[i]["blank"]))
            for i, graph in enumerate(graphs)
            if sorted_graphs[i]["blank"]
        ]
        if aside:
            canonical = _canonical_blank_lines(aside, remote=source.remote)
            for j, (key, lines) in enumerate(sorted(canonical.items())):
                path = work / f"canonical-{j}.nt"
                path.write_bytes(b"".join(lines))
                streams.setdefault(key, []).append(str(path))
        keys = sorted(streams)  # the default graph ("") first, then by IRI

        # 3-5. Two chains of jobs: N-Quads then TriG; N-Triples then the statistics and the
        # graph formats. Each file is packed as soon as it is written.
        def pack(name: str) -> None:
            packed[name] = packer.submit(_pack, paths[name])

        def quads_then_trig() -> list[int]:
            job = {
                "op": "quads",
                "graphs": [(key, streams[key]) for key in keys],
                "out": str(paths["nq"]),
                "block_bytes": _block_bytes(chunk_lines),
            }
            counts: list[int] = workers.call(job, RANKS["quads"])
            pack("nq")
            serialize("trig", "nq")
            return counts

        def serialize(name: str, source_name: str) -> None:
            job = {"op": "serialize", "source": str(paths[source_name]), "format": name,
                   "out": str(paths[name])}  # fmt: skip
            workers.call(job, RANKS[name])
            pack(name)

        def triples_then_formats() -> list[Future[Any]]:
            runs = [p for key in keys for p in streams[key]]
            job = {"op": "triples", "runs": runs, "out": str(paths["nt"]), "work": str(work),
                   "chunk_lines": chunk_lines}  # fmt: skip
            workers.call(job, RANKS["triples"])
            pack("nt")
            # The statistics and the graph formats from the sorted N-Triples.
            count = {"op": "count", "source": str(paths["nt"]), "work": str(work),
                     "chunk_lines": chunk_lines}  # fmt: skip
            return [calls.submit(workers.call, count, RANKS["count"])] + [
                calls.submit(serialize, name, "nt") for name in ("jsonld", "rdfxml", "ttl")
            ]

        quads = calls.submit(quads_then_trig)
        later = calls.submit(triples_then_formats).result()
        counted: dict[str, Any] = later[0].result()
        for future in later[1:]:
            future.result()
        counts = quads.result()
        workers.release()
        stats = VoidStats(
            **{key: counted[key] for key in VOID_COUNTS},
            quads=sum(counts),
            class_partitions=[(c, n) for c, n in counted["class_partitions"]],
            property_partitions=[(p, n) for p, n in counted["property_partitions"]],
            graphs=[(key[1:-1], n) for key, n in zip(keys, counts, strict=True) if key[:1] == "<"],
            sources=counted["sources"],
        )
        files: list[DumpFile] = []
        for fmt in DUMP_FORMATS:
            files += packed[fmt.name].result()
        failed = False
    finally:
        if failed:  # stop the jobs in flight, so that the threads waiting on them return
            workers.close(kill=True)
        calls.shutdown(wait=True, cancel_futures=True)
        packer.shutdown(wait=True, cancel_futures=True)
    shutil.rmtree(work, ignore_errors=True)
    return files, stats
