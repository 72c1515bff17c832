"""RDF dumps of the published build, with a VoID + DCAT description and checksums.

`export(store, out_dir)` writes cica-kg.{ttl,nt,nq,trig,jsonld,rdf}, each also gzipped,
the state-year panel (cica-kg-state-year.csv), void.ttl and SHA256SUMS, byte-identical for
the same build, in bounded memory. How, and why so: docs/export.md. The modules, in the
order the data flows:

    files        the dump catalogue (names, formats, titles, SHA256SUMS); the web layer's API
    sources      where the graphs come from: the embedded store or a remote SPARQL engine
    sorting      external sort and merge of N-Triples lines
    jobs         what the worker processes run; workers: the processes and their queue
    blank_nodes  RDFC-1.0 canonicalization of the lines with blank nodes
    void         the VoID statistics and the VoID + DCAT description
    pack         gzip and SHA-256
    pipeline     the steps of one export, into a staging directory
    panel        the canned query state-year as CSV

This module holds the entry point: the lock, the staging directory, void.ttl, SHA256SUMS
and the atomic move into place."""

from __future__ import annotations

import contextlib
import dataclasses
import os
import shutil
import tempfile
import time
from dataclasses import dataclass, field
from pathlib import Path

from ..fsutil import directory_lock, fsync_dir
from ..namespaces import BASE
from ..progress import BYTES, SILENT, Progress
from ..store import Published, open_current
from .files import (
    PANEL_FILE,
    SUMS_FILE,
    VOID_FILE,
    DumpFile,
    dump_name,
    format_named,
    sha256_file,
)
from .panel import write_panel
from .pipeline import write_dumps
from .sources import (
    REMOTE_TIMEOUT,
    EngineSource,
    Source,
    StoreReader,
    StoreSource,
    reader_key,
)
from .void import VoidStats, void_triples, write_void
from .workers import MAX_JOBS, Workers, default_jobs

__all__ = [
    "CHUNK_LINES",
    "MAX_JOBS",
    "REMOTE_TIMEOUT",
    "DumpFile",
    "ExportResult",
    "VoidStats",
    "export",
]

CHUNK_LINES = 200_000  # lines sorted in memory at once (~40 MB of N-Triples)


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


def _export_lock(out_dir: Path) -> contextlib.AbstractContextManager[None]:
    return directory_lock(out_dir, ".export.lock", f"another export is writing to {out_dir}")


def export(
    store_root_or_published: Path | str | Published | None,
    out_dir: Path | str,
    *,
    base_url: str | None = None,
    base_iri: str | None = None,
    sparql_endpoint: str | None = None,
    chunk_lines: int = CHUNK_LINES,
    jobs: int | None = None,
    engine: str | None = None,
    timeout: float = REMOTE_TIMEOUT,
    progress: Progress = SILENT,
) -> ExportResult:
    """Write the dumps, the state-year panel, void.ttl and SHA256SUMS of the published build
    into `out_dir`.

    `base_iri` is the base of the graph's IRIs (the dataset's IRI, the cica: prefix); by
    default the one the build was made under, or the canonical one for an engine.
    `base_url` is the public root of the site (default: `base_iri`): dumps are announced at
    `<base_url>dumps/<file>` and the SPARQL endpoint at `<base_url>sparql` (unless
    `sparql_endpoint` is given).
    `jobs` worker processes share the work (default: the CPUs available, at most
    MAX_JOBS; 1 runs everything in this process). With `engine` (a SPARQL 1.1 endpoint
    URL) the data comes from there instead of the store, each HTTP call allowed `timeout`
    seconds to start or continue its answer. `progress` reports the graphs dumped, each
    file written (its triples, size and rate) and the publication.
    Raises errors.NoBuildError when nothing is built, errors.RemoteError when the engine
    cannot be read completely, errors.Busy when another export holds the output directory,
    errors.ExportError when a worker fails."""
    started = time.monotonic()
    # The workers boot while this process opens the store and lists its graphs.
    workers = Workers(jobs or default_jobs())
    try:
        result = _export(
            store_root_or_published,
            Path(out_dir),
            workers,
            base_url=base_url,
            base_iri=base_iri,
            sparql_endpoint=sparql_endpoint,
            chunk_lines=max(chunk_lines, 1),
            engine=engine,
            timeout=timeout,
            progress=progress,
        )
    except BaseException:
        workers.close(kill=True)
        raise
    workers.close()
    return dataclasses.replace(result, seconds=time.monotonic() - started)


def _export(
    store_root_or_published: Path | str | Published | None,
    out_dir: Path,
    workers: Workers,
    *,
    base_url: str | None,
    base_iri: str | None,
    sparql_endpoint: str | None,
    chunk_lines: int,
    engine: str | None,
    timeout: float,
    progress: Progress,
) -> ExportResult:
    source: Source
    if engine:
        base_iri = base_iri or BASE
        source = EngineSource(engine, timeout, base_iri)
        build_id, built_at = None, None
    else:
        if isinstance(store_root_or_published, Published):
            published = store_root_or_published
        elif store_root_or_published is None:
            raise ValueError("export needs a store or an engine URL")
        else:
            published = open_current(Path(store_root_or_published))
        info = published.info
        source = StoreSource(published.store, info.store_path, info.path, info.graphs)
        build_id, built_at = info.build_id, info.built_at
        base_iri = base_iri or info.base_iri
        if workers.inline:  # the jobs run here: they read through the store already open
            workers.cache[reader_key(source.spec)] = StoreReader("", published.store)
    base_url = base_url or base_iri
    base = base_url if base_url.endswith("/") else base_url + "/"
    endpoint = sparql_endpoint or base + "sparql"

    with _export_lock(out_dir):
        for stale in out_dir.glob(".export-*"):
            if stale.is_dir():
                shutil.rmtree(stale, ignore_errors=True)
        staging = Path(tempfile.mkdtemp(prefix=".export-", dir=out_dir))
        try:
            files, stats = write_dumps(source, workers, staging, chunk_lines, base_iri, progress)
            if build_id is None:  # a remote engine: the version is the content's digest
                nq = next(f for f in files if f.name == dump_name(format_named("nq")))
                build_id = "remote-" + nq.sha256[:16]
            with progress.stage(PANEL_FILE, BYTES) as stage:
                files.append(write_panel(source, staging / PANEL_FILE))
                stage.update({BYTES: files[-1].size})
            void_path = staging / VOID_FILE
            with progress.stage(VOID_FILE, BYTES) as stage:
                triples = void_triples(build_id, built_at, stats, files, base, endpoint, base_iri)
                write_void(triples, void_path, base_iri)
                files.append(DumpFile(VOID_FILE, void_path.stat().st_size, sha256_file(void_path)))
                stage.update({BYTES: files[-1].size, "triples": len(triples)})
            with progress.stage("publish", "files") as stage:
                _publish(staging, out_dir, files)
                stage.update({"files": len(files) + 1})  # and SHA256SUMS
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


def _publish(staging: Path, out_dir: Path, files: list[DumpFile]) -> None:
    """SHA256SUMS written, then every file moved from `staging` into `out_dir`: the data
    first, SHA256SUMS (the index) last."""
    with open(staging / SUMS_FILE, "w", encoding="utf-8", newline="\n") as sums:
        for dump in files:
            sums.write(f"{dump.sha256}  {dump.name}\n")
    for name in (VOID_FILE, SUMS_FILE):
        with open(staging / name, "rb") as fh:
            os.fsync(fh.fileno())
    for dump in files:
        os.replace(staging / dump.name, out_dir / dump.name)
    os.replace(staging / SUMS_FILE, out_dir / SUMS_FILE)
    fsync_dir(out_dir)
