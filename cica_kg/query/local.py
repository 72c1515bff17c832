"""Where queries run on the embedded store. pyoxigraph has no timeout and cannot be
interrupted from Python, so each query runs in a child process (`QueryPool`) that opens the
published build read-only; a query past its deadline gets its process killed (SIGKILL; the
CPU work really ends) and a fresh process takes its place. A query that has used
`SLOW_QUERY_SECONDS` of CPU has its process's CPU priority lowered once it has burnt that
much CPU, so short queries keep their latency while a long one runs; after its job the
priority is restored, or, where the system does not allow that (no CAP_SYS_NICE), the
process is retired and replaced. `InlinePool` runs queries in this process instead."""

from __future__ import annotations

import logging
import multiprocessing
import os
import queue
import signal
import threading
import time
from multiprocessing.connection import Connection
from typing import Any

import pyoxigraph as ox

from .. import errors, metrics
from .execute import execute
from .job import Answer, Job

log = logging.getLogger(__name__)

SLOW_QUERY_SECONDS = 0.25
_NOT_SENT, _DIED = ("not sent",), ("died",)  # what _run_on answers for a dead process


def _exit_with_parent() -> None:
    """End this process when its parent is gone, even mid-query (pyoxigraph releases the
    GIL while it works, so this thread runs). PR_SET_PDEATHSIG would be simpler, but it
    fires when the *thread* that started the child ends, and pool threads come and go."""
    parent = os.getppid()

    def watch() -> None:
        while True:
            time.sleep(1.0)
            if os.getppid() != parent:
                os._exit(1)

    threading.Thread(target=watch, daemon=True).start()


def _child_main(conn: Connection) -> None:
    _exit_with_parent()
    signal.signal(signal.SIGINT, signal.SIG_IGN)  # the parent decides when we stop
    signal.signal(signal.SIGTERM, signal.SIG_DFL)
    stores: dict[str, ox.Store] = {}
    conn.send(("ready",))
    while True:
        try:
            store_path, job = conn.recv()
        except (EOFError, OSError):
            return
        try:
            if store_path not in stores:
                stores.clear()  # a new build: let the old handle go
                stores[store_path] = ox.Store.read_only(store_path)
            conn.send(("ok", execute(stores[store_path], job)))
        except errors.CicaError as exc:
            conn.send(("error", type(exc).__name__, exc.message))
        except BaseException as exc:  # reported to the parent, which logs it as a fault
            conn.send(("fault", f"{type(exc).__name__}: {exc}"))


class _Process:
    def __init__(self, ctx: Any):
        self.conn, child_conn = ctx.Pipe()
        self.process = ctx.Process(target=_child_main, args=(child_conn,), daemon=True)
        self.process.start()
        child_conn.close()
        self.niced = False
        self.priority = 0  # before _lower_priority, to restore after the job

    def kill(self) -> None:
        if self.process.is_alive():
            self.process.kill()
        self.process.join(timeout=5)
        self.conn.close()


class InlinePool:
    """Runs queries in this process, with no time limit: for the CLI on the user's own
    machine, where the user can press Ctrl-C."""

    def __init__(self) -> None:
        self._stores: dict[str, ox.Store] = {}

    def start(self) -> None:
        pass

    def run(self, store_path: str, job: Job, timeout: float) -> Answer:
        if store_path not in self._stores:
            self._stores.clear()
            self._stores[store_path] = ox.Store.read_only(store_path)
        return execute(self._stores[store_path], job)

    def close(self) -> None:
        self._stores.clear()


def _cpu_seconds(pid: int | None) -> float:
    """CPU time a process has used (Linux /proc; 0 elsewhere). Priority is lowered by the
    CPU a query burns, not by its wall time, which contention alone can stretch."""
    try:
        with open(f"/proc/{pid}/stat", "rb") as f:
            fields = f.read().rsplit(b")", 1)[1].split()
        return (int(fields[11]) + int(fields[12])) / _CLOCK_TICKS
    except (OSError, IndexError, ValueError):
        return 0.0


_CLOCK_TICKS = os.sysconf("SC_CLK_TCK") if hasattr(os, "sysconf") else 100


class QueryPool:
    """Child processes that run queries with a hard deadline.

    `size` processes are started up front; when all are busy another is started in the
    background, up to `max_size` (the number of request threads, so no request waits long
    for a process). A process joins the idle queue only once it has imported everything and
    said it is ready, so the time limit measures the query, not the process start."""

    def __init__(self, size: int, max_size: int):
        self.size, self.max_size = max(1, size), max(1, size, max_size)
        self._ctx = multiprocessing.get_context("spawn")
        self._idle: queue.LifoQueue[_Process] = queue.LifoQueue()
        self._count = 0
        self._booting = 0  # processes started but not ready yet
        self._lock = threading.Lock()

    def start(self) -> None:
        """Bring the pool up to `size` processes (in the background)."""
        with self._lock:
            missing = max(0, self.size - self._count)
            self._count += missing
        for _ in range(missing):
            self._spawn()

    def _spawn(self) -> None:
        with self._lock:
            self._booting += 1

        def boot() -> None:
            proc = _Process(self._ctx)
            try:
                ready = proc.conn.poll(60) and proc.conn.recv() == ("ready",)
            except (EOFError, OSError):
                ready = False
            with self._lock:
                self._booting -= 1
                if not ready:
                    self._count -= 1
            if ready:
                metrics.query_process_started()
                self._idle.put(proc)
                return
            log.error("a query process failed to start")
            proc.kill()

        threading.Thread(target=boot, daemon=True).start()

    def _checkout(self, wait: float) -> _Process:
        """A live idle process (dead ones found idle are replaced on the way)."""
        deadline = time.monotonic() + wait
        while True:
            proc = self._next_idle(max(0.0, deadline - time.monotonic()))
            if proc.process.is_alive():
                return proc
            self._retire(proc, "died")

    def _next_idle(self, wait: float) -> _Process:
        try:
            proc = self._idle.get_nowait()
        except queue.Empty:
            proc = None
        if proc is not None:
            if self._idle.empty():  # the last idle one: start a spare before it is needed
                self._grow()
            return proc
        self._grow()
        try:
            return self._idle.get(timeout=wait)
        except queue.Empty:
            raise errors.Unavailable(
                "all query processes are busy; try again shortly", headers={"Retry-After": "5"}
            ) from None

    def _grow(self) -> None:
        """One more process, up to max_size. At most two start at a time: a start costs
        ~0.3 s of CPU, and a burst of starts would take the CPU from the queries waiting for
        them. Starting one while the last idle process is taken (not only once a query
        waits) keeps a query from waiting for a start while slow queries hold the others."""
        with self._lock:
            grow = self._count < self.max_size and self._booting < 2
            if grow:
                self._count += 1
        if grow:
            self._spawn()

    def _retire(self, proc: _Process, reason: str) -> None:
        """Kill a process (in the background) and start its replacement at once, one for
        one (a pool that shrank to `size` after each killed runaway query would make the
        next query wait for a start); `reason` is what the metrics count it under
        (time_limit, died, priority)."""

        def replace() -> None:
            proc.kill()
            metrics.query_process_gone(killed=reason)
            self._spawn()  # the count is unchanged: the new process takes the old one's place

        threading.Thread(target=replace, daemon=True).start()

    def run(self, store_path: str, job: Job, timeout: float) -> Answer:
        """Run a job in a pool process within `timeout` seconds. A process that dies before
        it answers (killed from outside, or crashed) is replaced and the job tried once
        more; if that one dies too, the answer is a 503."""
        deaths = 0
        while deaths < 2:
            proc = self._checkout(wait=timeout)
            metrics.query_process_busy(True)
            try:
                reply = self._run_on(proc, store_path, job, timeout)
            finally:
                metrics.query_process_busy(False)
            if reply is _NOT_SENT:  # it was dead before it got the job: take another one
                continue
            if reply is _DIED:
                deaths += 1
                log.error("a query process died before answering (%d)", deaths)
                continue
            if reply[0] == "ok":
                answer: Answer = reply[1]
                return answer
            if reply[0] == "error":
                raise getattr(errors, reply[1])(reply[2])
            raise RuntimeError(f"query process fault: {reply[1]}")
        raise errors.Unavailable(
            "the query process ended twice while running this query; simplify the query"
        )

    def _run_on(self, proc: _Process, store_path: str, job: Job, timeout: float) -> Any:
        """The reply of a checked-out process to the job, the process given back (or
        retired); _NOT_SENT or _DIED when it was dead before it got the job or died
        before answering."""
        try:
            proc.conn.send((store_path, job))
        except OSError:
            self._retire(proc, "died")
            return _NOT_SENT
        try:
            reply = self._run_in(proc, store_path, job, timeout)
        except (EOFError, OSError):
            self._retire(proc, "died")
            return _DIED
        if proc.niced and not self._restore_priority(proc):
            self._retire(proc, "priority")
        else:
            self._idle.put(proc)
        return reply

    def _run_in(self, proc: _Process, store_path: str, job: Job, timeout: float) -> Any:
        """Wait for the reply to the job just sent; kill the process at the deadline."""
        deadline = time.monotonic() + timeout
        # CPU is counted from the end of the first wait, so that the many queries answered
        # within it cost no read of /proc (a query is niced after 0.25 s of CPU past that).
        cpu_at_start: float | None = None
        while not proc.conn.poll(min(0.05, max(0.0, deadline - time.monotonic()))):
            if time.monotonic() >= deadline:
                self._retire(proc, "time_limit")
                raise errors.QueryTimeout(
                    f"the query was stopped after {timeout:g} s, the time limit of this "
                    "endpoint (query_timeout); add a LIMIT or narrow the query"
                )
            if proc.niced:
                continue
            used = _cpu_seconds(proc.process.pid)
            if cpu_at_start is None:
                cpu_at_start = used
            elif used - cpu_at_start > SLOW_QUERY_SECONDS:
                self._lower_priority(proc)
        return proc.conn.recv()

    @staticmethod
    def _lower_priority(proc: _Process) -> None:
        try:
            proc.priority = os.getpriority(os.PRIO_PROCESS, proc.process.pid or 0)
            os.setpriority(os.PRIO_PROCESS, proc.process.pid or 0, 19)
            proc.niced = True
        except OSError:
            pass

    @staticmethod
    def _restore_priority(proc: _Process) -> bool:
        """Undo _lower_priority, where the system allows it (raising a priority needs
        CAP_SYS_NICE or RLIMIT_NICE); where it does not, the caller retires the process."""
        try:
            os.setpriority(os.PRIO_PROCESS, proc.process.pid or 0, proc.priority)
        except OSError:
            return False
        proc.niced = False
        return True

    def close(self) -> None:
        while True:
            try:
                self._idle.get_nowait().kill()
            except queue.Empty:
                return
            metrics.query_process_gone(killed=None)
