"""The dumps of one export, written into a staging directory.

1. Every graph is dumped and sorted by a worker, the biggest first.
2. The lines with blank nodes, canonicalized together here, join their graphs.
3-5. Two chains of jobs: N-Quads then TriG; N-Triples then the statistics and the graph
   formats. Each file is packed (gzip, SHA-256) in a thread here as soon as it is written.

Threads of this process wait on the workers (`calls`) and pack the files (`packer`). Each
file is a progress stage from when a worker takes its job to when it is written, with the
triples (or quads) it holds."""

from __future__ import annotations

import shutil
from collections.abc import Callable
from concurrent.futures import Future, ThreadPoolExecutor
from dataclasses import dataclass, field
from operator import itemgetter
from pathlib import Path
from typing import Any

from ..namespaces import BASE
from ..progress import BYTES, SILENT, Progress, Stage
from .blank_nodes import canonical_blank_lines
from .files import DUMP_FORMATS, GZIP_SUFFIX, DumpFile, dump_name
from .pack import pack_file
from .sorting import block_size
from .sources import Graph, Source
from .void import VoidStats, void_stats
from .workers import RANKS, Workers


def write_dumps(
    source: Source,
    workers: Workers,
    staging: Path,
    chunk_lines: int,
    base: str = BASE,
    progress: Progress = SILENT,
) -> tuple[list[DumpFile], VoidStats]:
    """The six dumps and their .gz into `staging` (prefixes and statistics for a graph
    under `base`); the files in SHA256SUMS order. `progress` reports the graphs dumped,
    then each file written."""
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
        progress=progress,
    )
    failed = True
    try:
        sorted_graphs = _sort_graphs(source, graphs, steps)
        streams = _with_blank_nodes(source, graphs, sorted_graphs, work, progress)
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
    progress: Progress = SILENT
    packed: dict[str, Future[tuple[DumpFile, DumpFile]]] = field(default_factory=dict)

    def run(
        self, job: dict[str, Any], rank: int, name: str, unit: str, count: Callable[[Any], int]
    ) -> Any:
        """Run `job`, which writes the file of format `name` (or does the step `name`),
        as a progress stage from when a worker takes it to its answer, which `count` turns
        into the `unit`s (triples or quads) written."""
        path = self.paths.get(name)
        begun: list[Stage] = []

        def begin() -> None:
            label, units = (path.name, [BYTES]) if path else (name, [])
            begun.append(self.progress.stage(label, *units, watch=path))
            begun[0].rate_of = unit

        try:
            answer = self.workers.call(job, rank, started=begin)
        except BaseException:
            for stage in begun:
                stage.end(stopped=True)
            raise
        done: dict[str, float] = {unit: count(answer)}
        if path is not None:
            done[BYTES] = path.stat().st_size
        begun[0].update(done)
        begun[0].end()
        return answer

    def pack(self, name: str, count: int, unit: str) -> None:
        self.packed[name] = self.packer.submit(self._pack, name, count, unit)

    def _pack(self, name: str, count: int, unit: str) -> tuple[DumpFile, DumpFile]:
        path = self.paths[name]
        total = path.stat().st_size
        with self.progress.stage(path.name + GZIP_SUFFIX, BYTES, totals={BYTES: total}) as stage:
            stage.rate_of = unit
            files = pack_file(path, on_block=stage.advance)
            # The bytes read become the bytes written, and the triples packed.
            stage.update({BYTES: files[1].size, unit: count}, totals={BYTES: None})
        return files

    def serialize(self, name: str, source_name: str, count: int, unit: str) -> None:
        job = {"op": "serialize", "source": str(self.paths[source_name]), "format": name,
               "out": str(self.paths[name]), "base": self.base}  # fmt: skip
        self.run(job, RANKS[name], name, unit, lambda _: count)  # what its source holds
        self.pack(name, count, unit)

    def quads_then_trig(self, graphs: list[tuple[str, list[str]]]) -> list[int]:
        """cica-kg.nq from each graph's runs, then TriG from it; the quads of each graph."""
        job = {
            "op": "quads",
            "graphs": graphs,
            "out": str(self.paths["nq"]),
            "block_bytes": block_size(self.chunk_lines),
        }
        counts: list[int] = self.run(job, RANKS["quads"], "nq", "quads", sum)
        self.pack("nq", sum(counts), "quads")
        self.serialize("trig", "nq", sum(counts), "quads")
        return counts

    def triples_then_formats(self, runs: list[str]) -> list[Future[Any]]:
        """cica-kg.nt from every run; then, from it, the statistics (the first future) and
        the graph formats."""
        job = {"op": "triples", "runs": runs, "out": str(self.paths["nt"]),
               "work": str(self.work), "chunk_lines": self.chunk_lines}  # fmt: skip
        triples: int = self.run(job, RANKS["triples"], "nt", "triples", int)
        self.pack("nt", triples, "triples")
        count = {"op": "count", "source": str(self.paths["nt"]), "work": str(self.work),
                 "chunk_lines": self.chunk_lines, "base": self.base}  # fmt: skip
        statistics = self.calls.submit(
            self.run, count, RANKS["count"], "statistics", "triples", itemgetter("triples")
        )
        return [statistics] + [
            self.calls.submit(self.serialize, name, "nt", triples, "triples")
            for name in ("jsonld", "rdfxml", "ttl")
        ]


def _sort_graphs(source: Source, graphs: list[Graph], steps: _Steps) -> list[dict[str, Any]]:
    """Every graph dumped and sorted by a worker, the biggest first, and checked whole:
    for each graph, its lines, sorted runs and set-aside blank-node lines (sort_graph)."""
    order = sorted(range(len(graphs)), key=lambda i: (-(graphs[i].expected or 0), i))
    expected = [g.expected for g in graphs]
    totals: dict[str, float | None] = {"graphs": len(graphs)}
    if None not in expected:  # the build (or the engine) says how many: time left is known
        totals["lines"] = sum(e or 0 for e in expected)
    with steps.progress.stage("dump graphs", "lines", "graphs", totals=totals) as stage:

        def counted(future: Future[dict[str, Any]]) -> None:
            if not future.cancelled() and future.exception() is None:
                stage.advance(future.result()["lines"], {"graphs": 1})

        sorting = {}
        for i in order:
            sorting[i] = steps.calls.submit(
                steps.workers.call,
                {
                    "op": "graph",
                    "source": source.spec,
                    "graph": graphs[i].key,
                    "prefix": str(steps.work / f"graph-{i}"),
                    "chunk_lines": steps.chunk_lines,
                },
            )
            sorting[i].add_done_callback(counted)
        done = {i: sorting[i].result() for i in order}
    for i, graph in enumerate(graphs):
        source.check(graph, done[i]["lines"])
    return [done[i] for i in range(len(graphs))]


def _with_blank_nodes(
    source: Source,
    graphs: list[Graph],
    sorted_graphs: list[dict[str, Any]],
    work: Path,
    progress: Progress = SILENT,
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
        with progress.stage("blank nodes", "lines") as stage:
            canonical = canonical_blank_lines(aside, remote=source.remote)
            stage.update({"lines": sum(len(lines) for lines in canonical.values())})
        for j, (key, lines) in enumerate(sorted(canonical.items())):
            path = work / f"canonical-{j}.nt"
            path.write_bytes(b"".join(lines))
            streams.setdefault(key, []).append(str(path))
    return streams
