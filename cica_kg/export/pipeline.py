"""The dumps of one export, written into a staging directory.

1. Every graph is dumped and sorted by a worker, the biggest first.
2. The lines with blank nodes, canonicalized together here, join their graphs.
3-5. Two chains of jobs: N-Quads then TriG; N-Triples then the statistics and the graph
   formats. Each file is packed (gzip, SHA-256) in a thread here as soon as it is written.

Threads of this process wait on the workers (`calls`) and pack the files (`packer`)."""

from __future__ import annotations

import shutil
from concurrent.futures import Future, ThreadPoolExecutor
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from ..namespaces import BASE
from .blank_nodes import canonical_blank_lines
from .files import DUMP_FORMATS, DumpFile, dump_name
from .pack import pack_file
from .sorting import block_size
from .sources import Graph, Source
from .void import VoidStats, void_stats
from .workers import RANKS, Workers


def write_dumps(
    source: Source, workers: Workers, staging: Path, chunk_lines: int, base: str = BASE
) -> tuple[list[DumpFile], VoidStats]:
    """The six dumps and their .gz into `staging` (prefixes and statistics for a graph
    under `base`); the files in SHA256SUMS order."""
    work = staging / ".sort"
    work.mkdir()
    graphs = source.graphs()
    jobs = max(1, len(workers.procs))
    steps = _Steps(
        workers=workers,
        calls=ThreadPoolExecutor(max_workers=jobs + 4, thread_name_prefix="export-call"),
        packer=ThreadPoolExecutor(max_workers=max(2, jobs), thread_name_prefix="export-gzip"),
        paths={fmt.name: staging / dump_name(fmt) for fmt in DUMP_FORMATS},
        work=work,
        chunk_lines=chunk_lines,
        base=base,
    )
    failed = True
    try:
        streams = _with_blank_nodes(source, graphs, _sort_graphs(source, graphs, steps), work)
        keys = sorted(streams)  # the default graph ("") first, then by IRI
        quads = steps.calls.submit(steps.quads_then_trig, [(key, streams[key]) for key in keys])
        runs = [path for key in keys for path in streams[key]]
        later = steps.calls.submit(steps.triples_then_formats, runs).result()
        counted: dict[str, Any] = later[0].result()
        for future in later[1:]:
            future.result()
        counts = quads.result()
        workers.release()
        stats = void_stats(counted, keys, counts)
        files: list[DumpFile] = []
        for fmt in DUMP_FORMATS:
            files += steps.packed[fmt.name].result()
        failed = False
    finally:
        if failed:  # stop the jobs in flight, so that the threads waiting on them return
            workers.close(kill=True)
        steps.calls.shutdown(wait=True, cancel_futures=True)
        steps.packer.shutdown(wait=True, cancel_futures=True)
    shutil.rmtree(work, ignore_errors=True)
    return files, stats


@dataclass
class _Steps:
    """What the steps of one export share: the workers, the threads that wait on them and
    that pack the files, where each dump goes, and the packed files (futures) by format."""

    workers: Workers
    calls: ThreadPoolExecutor
    packer: ThreadPoolExecutor
    paths: dict[str, Path]
    work: Path
    chunk_lines: int
    base: str  # of the graph's IRIs: the cica: prefix, the class of the sources
    packed: dict[str, Future[tuple[DumpFile, DumpFile]]] = field(default_factory=dict)

    def pack(self, name: str) -> None:
        self.packed[name] = self.packer.submit(pack_file, self.paths[name])

    def serialize(self, name: str, source_name: str) -> None:
        job = {"op": "serialize", "source": str(self.paths[source_name]), "format": name,
               "out": str(self.paths[name]), "base": self.base}  # fmt: skip
        self.workers.call(job, RANKS[name])
        self.pack(name)

    def quads_then_trig(self, graphs: list[tuple[str, list[str]]]) -> list[int]:
        """cica-kg.nq from each graph's runs, then TriG from it; the quads of each graph."""
        job = {
            "op": "quads",
            "graphs": graphs,
            "out": str(self.paths["nq"]),
            "block_bytes": block_size(self.chunk_lines),
        }
        counts: list[int] = self.workers.call(job, RANKS["quads"])
        self.pack("nq")
        self.serialize("trig", "nq")
        return counts

    def triples_then_formats(self, runs: list[str]) -> list[Future[Any]]:
        """cica-kg.nt from every run; then, from it, the statistics (the first future) and
        the graph formats."""
        job = {"op": "triples", "runs": runs, "out": str(self.paths["nt"]),
               "work": str(self.work), "chunk_lines": self.chunk_lines}  # fmt: skip
        self.workers.call(job, RANKS["triples"])
        self.pack("nt")
        count = {"op": "count", "source": str(self.paths["nt"]), "work": str(self.work),
                 "chunk_lines": self.chunk_lines, "base": self.base}  # fmt: skip
        return [self.calls.submit(self.workers.call, count, RANKS["count"])] + [
            self.calls.submit(self.serialize, name, "nt") for name in ("jsonld", "rdfxml", "ttl")
        ]


def _sort_graphs(source: Source, graphs: list[Graph], steps: _Steps) -> list[dict[str, Any]]:
    """Every graph dumped and sorted by a worker, the biggest first, and checked whole:
    for each graph, its lines, sorted runs and set-aside blank-node lines (sort_graph)."""
    order = sorted(range(len(graphs)), key=lambda i: (-(graphs[i].expected or 0), i))
    sorting = {
        i: steps.calls.submit(
            steps.workers.call,
            {
                "op": "graph",
                "source": source.spec,
                "graph": graphs[i].key,
                "prefix": str(steps.work / f"graph-{i}"),
                "chunk_lines": steps.chunk_lines,
            },
        )
        for i in order
    }
    done = {i: sorting[i].result() for i in order}
    for i, graph in enumerate(graphs):
        source.check(graph, done[i]["lines"])
    return [done[i] for i in range(len(graphs))]


def _with_blank_nodes(
    source: Source, graphs: list[Graph], sorted_graphs: list[dict[str, Any]], work: Path
) -> dict[str, list[str]]:
    """{graph key: its sorted runs}, the lines with blank nodes of every graph canonicalized
    together and added as one more run to the graph they belong to."""
    streams: dict[str, list[str]] = {}
    for graph, done in zip(graphs, sorted_graphs, strict=True):
        if done["runs"]:
            streams.setdefault(graph.key, []).extend(done["runs"])
    aside = [
        (graph.key, Path(done["blank"]))
        for graph, done in zip(graphs, sorted_graphs, strict=True)
        if done["blank"]
    ]
    if aside:
        canonical = canonical_blank_lines(aside, remote=source.remote)
        for j, (key, lines) in enumerate(sorted(canonical.items())):
            path = work / f"canonical-{j}.nt"
            path.write_bytes(b"".join(lines))
            streams.setdefault(key, []).append(str(path))
    return streams
