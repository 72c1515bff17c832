"""The worker processes that run the jobs (pyoxigraph holds the GIL while it reads the
store or serializes, so threads would not share the work), with a priority queue: of the
jobs waiting for a free worker, the longest go first."""

from __future__ import annotations

import contextlib
import heapq
import itertools
import json
import os
import subprocess
import sys
import tempfile
import threading
from collections.abc import Callable
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path
from typing import IO, Any

from ..errors import ExportError, RemoteError, RemoteTimeout
from .jobs import run_job, worker_main

MAX_JOBS = 4  # worker processes at most: the biggest graph bounds the gain anyway
# What a worker process runs, named from the function so that it follows it if it moves:
# "from cica_kg.export.jobs import worker_main; worker_main()".
_MAIN = worker_main.__name__
WORKER_CODE = f"from {worker_main.__module__} import {_MAIN}; {_MAIN}()"
# Which waiting job a free worker takes first (graphs: 0, in the order submitted, the
# biggest first): the merges the others wait for, then the longest first (times at 1M
# triples: statistics 1.4 s, JSON-LD 1.0, RDF/XML 0.9, TriG 0.8, Turtle 0.7), so that the
# export does not end on a long job while a core idles.
RANKS = {"quads": 1, "triples": 1, "count": 2, "jsonld": 3, "rdfxml": 4, "trig": 5, "ttl": 6}
# A worker's failure, raised again in the parent by its kind (anything else: ExportError).
ERRORS: dict[str, Callable[[str], Exception]] = {
    "RemoteError": RemoteError,
    "RemoteTimeout": RemoteTimeout,
    "os": OSError,
}


class Workers:
    """`jobs` worker processes, each running one job at a time: `call` waits for a free
    one, and of the calls waiting, the lowest `rank` goes first (the longest jobs first,
    so that the export does not end on a long job with a core idle). With jobs == 1, the
    jobs run in this process instead."""

    def __init__(self, jobs: int):
        self.inline = jobs <= 1
        self.cache: dict[str, Any] = {}  # the open readers of the jobs run inline
        self.runner = ThreadPoolExecutor(max_workers=1, thread_name_prefix="export-job")
        self.turn = threading.Condition()
        self.waiting: list[tuple[int, int]] = []  # heap of (rank, arrival)
        self.arrivals = itertools.count()
        self.idle: list[subprocess.Popen[bytes]] = []
        self.procs: list[subprocess.Popen[bytes]] = []
        self.log: IO[bytes] | None = None
        if self.inline:
            return
        package_parent = str(Path(__file__).resolve().parents[2])  # the directory of cica_kg/
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

    def call(
        self, job: dict[str, Any], rank: int = 0, started: Callable[[], None] | None = None
    ) -> Any:
        """Run `job` and return its answer; `started` is called when a worker takes it."""
        if self.inline:  # one thread runs them all: fewer malloc arenas hold freed memory
            return self.runner.submit(self._run_inline, job, started).result()
        with self.turn:
            ticket = (rank, next(self.arrivals))
            heapq.heappush(self.waiting, ticket)
            self.turn.wait_for(lambda: bool(self.idle) and self.waiting[0] == ticket)
            heapq.heappop(self.waiting)
            proc = self.idle.pop()
            self.turn.notify_all()  # the next in line may take another idle worker
        try:
            if started is not None:
                started()
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
            raise ExportError(f"an export worker process ended unexpectedly{self._log_tail()}")
        reply = json.loads(line)
        if "error" in reply:
            raise ERRORS.get(reply["kind"], ExportError)(reply["error"])
        return reply["ok"]

    def _run_inline(self, job: dict[str, Any], started: Callable[[], None] | None) -> Any:
        if started is not None:
            started()
        return run_job(job, self.cache)

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


def default_jobs() -> int:
    try:
        cpus = len(os.sched_getaffinity(0))
    except (AttributeError, OSError):
        cpus = os.cpu_count() or 1
    return max(1, min(MAX_JOBS, cpus))
