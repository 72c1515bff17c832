"""Where the graphs come from: the embedded store, or a remote SPARQL 1.1 engine.

A source (parent side) lists the graphs and checks that each arrived whole; a reader
(worker side, opened from the source's `spec`) writes one graph as N-Triples to a file.
A graph is named by its N-Triples form ("<iri>", "_:label"); "" is the default graph."""

from __future__ import annotations

import json
from dataclasses import dataclass
from pathlib import Path
from string import Template
from typing import Any

import pyoxigraph as ox

from ..errors import ExportError, RemoteError
from ..namespaces import BASE, iris
from ..sparql_files import query_text
from ..sparql_http import SparqlHttp

REMOTE_TIMEOUT = 600.0  # seconds a remote engine may take to start or continue an answer
REMOTE_ACCEPT = "application/n-triples, text/turtle;q=0.9, application/rdf+xml;q=0.5"


def _query(name: str) -> str:
    # The files end with a newline; the engine is sent the query alone.
    return query_text(__package__ or "cica_kg.export", name).strip()


@dataclass(frozen=True)
class Graph:
    key: str
    expected: int | None  # triples, when the build or the engine says


def graph_term(key: str) -> ox.NamedNode | ox.BlankNode | ox.DefaultGraph:
    if not key:
        return ox.DefaultGraph()
    if key.startswith("_:"):
        return ox.BlankNode(key[2:])
    return ox.NamedNode(key[1:-1])


class StoreSource:
    """The published build (parent side): its graphs, and the spec workers open it by."""

    remote = False

    def __init__(self, store: ox.Store, store_path: Path, build_dir: Path, sizes: dict[str, int]):
        """`sizes`: the triples of each named graph (by IRI) as the build recorded them."""
        self.store, self.build_dir, self.sizes = store, build_dir, sizes
        self.spec = {"kind": "store", "path": str(store_path)}
        self.name = str(build_dir)
        self.notes: list[str] = []

    def graphs(self) -> list[Graph]:
        keys = sorted(str(g) for g in self.store.named_graphs())
        if next(iter(self.store.quads_for_pattern(None, None, None, ox.DefaultGraph())), None):
            keys.insert(0, "")
        sizes = self.sizes
        return [Graph(key, sizes.get(key[1:-1]) if key.startswith("<") else None) for key in keys]

    def check(self, graph: Graph, lines: int) -> None:
        if graph.expected is not None and lines != graph.expected:
            raise ExportError(
                f"graph {graph.key} has {lines} triples in the store but {graph.expected} "
                f"in {self.build_dir / 'build.json'}"
            )


class EngineSource:
    """A remote SPARQL 1.1 endpoint (parent side): the project's graphs (those under the
    graph namespace of `base`) when it has any, so that an engine's own graphs (Virtuoso's
    virtrdf and others) stay out of the dumps; else its named graphs, or its default graph."""

    remote = True

    def __init__(self, url: str, timeout: float, base: str = BASE):
        self.url, self.timeout, self.base = url, timeout, base
        self.spec = {"kind": "remote", "url": url, "timeout": timeout}
        self.name = url
        self.notes: list[str] = []

    def _select(self, query: str) -> list[dict[str, Any]]:
        with _client(self.url, self.timeout) as http:
            return http.select(query)

    def graphs(self) -> list[Graph]:
        named = sorted(
            (str(ox.NamedNode(row["g"]["value"])), int(row["n"]["value"]))
            for row in self._select(_query("remote-graphs.rq"))
            if row.get("g", {}).get("type") == "uri"
        )
        prefix = "<" + iris(self.base).graph
        ours = [(key, n) for key, n in named if key.startswith(prefix)]
        if ours:
            return [Graph(key, n) for key, n in ours]
        if named:
            return [Graph(key, n) for key, n in named]
        # No named graph (an engine loaded with plain triples): its default graph is the data.
        rows = self._select(_query("remote-default-count.rq"))
        total = int(rows[0]["n"]["value"]) if rows else 0
        if not total:
            raise RemoteError(
                f"the engine at {self.url} has no named graph and an empty default graph: "
                "nothing to export"
            )
        self.notes.append(
            f"the engine at {self.url} has no named graph: its default graph was exported "
            "(as the default graph of cica-kg.nq and cica-kg.trig)"
        )
        return [Graph("", total)]

    def check(self, graph: Graph, lines: int) -> None:
        if graph.expected is not None and lines < graph.expected:
            raise RemoteError(
                f"the engine at {self.url} sent {lines} of the {graph.expected} triples of "
                f"graph {graph.key or '(default)'}: it may cap the size of answers (e.g. "
                "Virtuoso's ResultSetMaxRows); raise that limit and export again"
            )


Source = StoreSource | EngineSource


def _client(url: str, timeout: float) -> SparqlHttp:
    """`timeout` bounds the wait for the engine to start answering and every pause within
    its answer; a long answer that keeps coming (a whole graph) is not cut."""
    return SparqlHttp(
        url, name=f"the engine at {url}", timeout=timeout, timeout_setting="export timeout"
    )


class StoreReader:
    """Worker side of the embedded store: pyoxigraph writes one graph as N-Triples."""

    def __init__(self, path: str, store: ox.Store | None = None):
        self.store = store or ox.Store.read_only(path)

    def dump(self, key: str, path: Path) -> None:
        self.store.dump(output=str(path), format=ox.RdfFormat.N_TRIPLES, from_graph=graph_term(key))


class RemoteReader:
    """Worker side of a remote engine: one CONSTRUCT per graph, streamed to a file through
    pyoxigraph (so the lines are written exactly as from the embedded store)."""

    def __init__(self, url: str, timeout: float):
        self.url, self.timeout = url, timeout
        self.http = _client(url, timeout)

    def dump(self, key: str, path: Path) -> None:
        if key:  # an IRI in N-Triples form, as the engine listed it
            query = Template(_query("remote-graph.rq")).substitute(graph=key)
        else:
            query = _query("remote-default-graph.rq")
        name = f"graph {key}" if key else "the default graph"
        with self.http.post(query, REMOTE_ACCEPT, stream=True) as response:
            media = response.headers.get("Content-Type", "").split(";")[0].strip().lower()
            fmt = ox.RdfFormat.from_media_type(media) if media else ox.RdfFormat.N_TRIPLES
            if fmt is None:
                raise RemoteError(
                    f"the engine at {self.url} sent {name} as {media!r}; expected N-Triples, "
                    "Turtle or RDF/XML"
                )
            response.raw.decode_content = True  # a gzip Content-Encoding is undone
            try:
                parsed = ox.parse(input=response.raw, format=fmt)
                ox.serialize(parsed, output=str(path), format=ox.RdfFormat.N_TRIPLES)
            except Exception as exc:  # a timeout or a cut connection surfaces while parsing
                raise RemoteError(
                    f"reading {name} from the engine at {self.url} failed: {exc}"
                ) from None


Reader = StoreReader | RemoteReader


def reader_key(spec: dict[str, Any]) -> str:
    return json.dumps(spec, sort_keys=True)


def open_reader(spec: dict[str, Any], cache: dict[str, Any]) -> Reader:
    """The reader of a source's `spec`, opened once per process (kept in `cache`)."""
    key = reader_key(spec)
    if key not in cache:
        if spec["kind"] == "store":
            cache[key] = StoreReader(spec["path"])
        else:
            cache[key] = RemoteReader(spec["url"], float(spec["timeout"]))
    reader: Reader = cache[key]
    return reader
