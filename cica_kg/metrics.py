"""Prometheus metrics: every metric object, and the small functions the rest of the package
calls to count (`request`, `query_stopped`, `refused`, `rate_limited`, `cache_lookup`, the
query-process and remote-engine figures). /metrics (web/ops.py) renders them.

The server runs several worker processes, so the metrics use prometheus_client's
multiprocess mode: `prepare_multiprocess_dir` (called by the server before its workers
start) points PROMETHEUS_MULTIPROC_DIR at an empty directory where each process writes its
values, and `process_ended` (the server's child-exit hook) drops a dead worker's live gauges.
prometheus_client chooses how values are stored when it is imported and when a metric is
created, so it is imported, and the metrics created, on first use only: the query
processes (spawned children that import this module) never create files, and a server that
calls `prepare_multiprocess_dir` after something counted starts afresh. Without the
directory (the CLI, tests with Flask's client) the metrics live in this process."""

from __future__ import annotations

import contextlib
import dataclasses
import datetime as dt
import os
import shutil
import tempfile
import threading
import time
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING, Any

from . import errors

if TYPE_CHECKING:
    from .store import BuildInfo

ENV = "PROMETHEUS_MULTIPROC_DIR"
TEMP_PREFIX = "cica-kg-metrics-"  # + the server's pid: a dead server's is removed later
PREFIX = "cica_kg_"
# Request durations, seconds: from cache hits (~1 ms) to the default time limit (10 s).
DURATION_BUCKETS = (0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10, 30)


@dataclass(frozen=True)
class _Metrics:
    registry: Any  # a CollectorRegistry in one process; None in multiprocess mode
    requests: Any
    durations: Any
    stopped: Any
    refused: Any
    rate_limited: Any
    cache_hits: Any
    cache_misses: Any
    processes_alive: Any
    processes_busy: Any
    processes_started: Any
    processes_killed: Any
    remote_seconds: Any
    remote_errors: Any


def multiprocess() -> bool:
    return bool(os.environ.get(ENV))


class _Nothing:
    """Stands for every metric where nothing is counted."""

    def labels(self, *values: str) -> _Nothing:
        return self

    def inc(self, amount: float = 1) -> None:
        pass

    dec = observe = inc


_NOTHING = _Metrics(*[_Nothing()] * len(dataclasses.fields(_Metrics)))
_created: list[_Metrics] = []  # at most one: the metrics of this process
_create_lock = threading.Lock()
_enabled = False


def enable() -> None:
    """Count from now on, in this process (the web app calls this when it is created; the
    CLI never does, and so never pays prometheus_client's import, about 0.1 s)."""
    global _enabled
    _enabled = True
    _metrics()


def _metrics() -> _Metrics:
    """The metrics, created on first use; once only, even when threads race to it (two
    sets would each keep their own value of the same file's figure, and lose counts)."""
    if not _enabled:
        return _NOTHING
    if not _created:
        with _create_lock:
            if not _created:
                _created.append(_create())
    return _created[0]


def _create() -> _Metrics:
    from prometheus_client import CollectorRegistry, Counter, Gauge, Histogram

    # In multiprocess mode the values live in files and /metrics reads them all; there
    # is no registry to hold the objects.
    registry = None if multiprocess() else CollectorRegistry()
    r: dict[str, Any] = {"registry": registry}

    def gauge(name: str, doc: str) -> Any:
        # livesum: the sum over the live processes (a dead worker's processes are gone)
        return Gauge(PREFIX + name, doc, multiprocess_mode="livesum", **r)

    return _Metrics(
        registry=registry,
        requests=Counter(
            PREFIX + "http_requests",
            "HTTP requests answered, by route and status.",
            ["route", "status"],
            **r,
        ),
        durations=Histogram(
            PREFIX + "http_request_duration_seconds",
            "Time to answer an HTTP request, by kind (sparql, canned, page, dumps, ops).",
            ["kind"],
            buckets=DURATION_BUCKETS,
            **r,
        ),
        stopped=Counter(PREFIX + "queries_stopped", "Queries stopped at the time limit.", **r),
        refused=Counter(
            PREFIX + "refused",
            "Requests refused by a limit or policy, by reason "
            "(service, read_only, query_length, request_size, result_size, busy).",
            ["reason"],
            **r,
        ),
        rate_limited=Counter(
            PREFIX + "rate_limited",
            "Requests refused with 429, by the limit hit.",
            ["limit"],
            **r,
        ),
        cache_hits=Counter(PREFIX + "cache_hits", "Queries answered from the cache.", **r),
        cache_misses=Counter(PREFIX + "cache_misses", "Queries the cache could not answer.", **r),
        processes_alive=gauge("query_processes_alive", "Query processes ready or working."),
        processes_busy=gauge("query_processes_busy", "Query processes running a query."),
        processes_started=Counter(
            PREFIX + "query_processes_started", "Query processes started (ready).", **r
        ),
        processes_killed=Counter(
            PREFIX + "query_processes_killed",
            "Query processes killed, by reason (time_limit, died, priority).",
            ["reason"],
            **r,
        ),
        remote_seconds=Histogram(
            PREFIX + "remote_engine_duration_seconds",
            "Time the remote engine took to answer (answers only).",
            buckets=DURATION_BUCKETS,
            **r,
        ),
        remote_errors=Counter(
            PREFIX + "remote_engine_errors",
            "Remote engine calls that failed, by kind (timeout, unreachable, refused, "
            "server_error).",
            ["kind"],
            **r,
        ),
    )


# -- the server's side: the directory, dead workers ----------------------------------------


def prepare_multiprocess_dir() -> Path:
    """Point PROMETHEUS_MULTIPROC_DIR at an empty directory before the server's workers
    start (they inherit it). A directory the operator named is emptied of old values
    (prometheus_client asks for that between runs); otherwise a temporary one is made and
    removed when this process exits."""
    import atexit

    given = os.environ.get(ENV)
    if given:
        path = Path(given)
        path.mkdir(parents=True, exist_ok=True)
        for old in path.glob("*.db"):
            old.unlink(missing_ok=True)
    else:
        _remove_orphans()
        path = Path(tempfile.mkdtemp(prefix=f"{TEMP_PREFIX}{os.getpid()}-"))
        os.environ[ENV] = str(path)
        owner = os.getpid()

        def remove() -> None:
            # Forked workers inherit this hook: only the process that made it removes it.
            if os.getpid() == owner:
                shutil.rmtree(path, ignore_errors=True)

        atexit.register(remove)
    from prometheus_client import values

    values.ValueClass = values.get_value_class()  # in case it was imported before
    with _create_lock:
        _created.clear()
    return path


def _remove_orphans() -> None:
    """Remove the directories of servers that were killed outright (no exit hook ran)."""
    for path in Path(tempfile.gettempdir()).glob(TEMP_PREFIX + "*-*"):
        try:
            os.kill(int(path.name[len(TEMP_PREFIX) :].split("-", 1)[0]), 0)
        except ValueError:
            continue
        except ProcessLookupError:
            shutil.rmtree(path, ignore_errors=True)
        except PermissionError:  # alive, under another user
            continue


def process_ended(pid: int) -> None:
    """A worker process ended: its live gauges (query processes alive, busy) go. A server
    with a child-exit hook calls this; for one without, `exposition` finds dead workers."""
    if multiprocess():
        from prometheus_client import multiprocess as mp

        mp.mark_process_dead(pid)


def _forget_dead_processes() -> None:
    """Drop the live gauges of processes that no longer exist (a worker that died where
    the server has no child-exit hook, as uvicorn's supervisor has none)."""
    for path in Path(os.environ[ENV]).glob("gauge_live*_*.db"):
        try:
            pid = int(path.stem.rsplit("_", 1)[1])
            os.kill(pid, 0)
        except ValueError:
            continue
        except ProcessLookupError:
            process_ended(pid)
        except PermissionError:  # it exists, under another user
            continue


# -- what the rest of the package counts ---------------------------------------------------


def request(route: str, status: int, seconds: float, kind: str = "other") -> None:
    """One HTTP request answered: `route` is the URL rule (/queries/<name>), `kind` its
    group for the duration histogram (sparql, canned, page, dumps, ops, static, other)."""
    m = _metrics()
    m.requests.labels(route, str(status)).inc()
    m.durations.labels(kind).observe(seconds)


def query_stopped() -> None:
    _metrics().stopped.inc()


def refused(reason: str) -> None:
    _metrics().refused.labels(reason).inc()


def rate_limited(limit: str) -> None:
    """A 429: `limit` names the limit (its setting) that the client hit."""
    _metrics().rate_limited.labels(limit).inc()


def cache_lookup(hit: bool) -> None:
    m = _metrics()
    (m.cache_hits if hit else m.cache_misses).inc()


def query_process_started() -> None:
    m = _metrics()
    m.processes_started.inc()
    m.processes_alive.inc()


def query_process_gone(killed: str | None) -> None:
    """A ready query process ended; `killed` says why the pool killed it (None: shut down
    with the pool)."""
    m = _metrics()
    m.processes_alive.dec()
    if killed:
        m.processes_killed.labels(killed).inc()


def query_process_busy(busy: bool) -> None:
    m = _metrics()
    if busy:
        m.processes_busy.inc()
    else:
        m.processes_busy.dec()


@contextlib.contextmanager
def remote_call() -> Iterator[None]:
    """Time one call to the remote engine; count it as an error if it fails."""
    start = time.perf_counter()
    try:
        yield
    except errors.RemoteError as exc:
        _metrics().remote_errors.labels(_remote_error_kind(exc)).inc()
        raise
    _metrics().remote_seconds.observe(time.perf_counter() - start)


def _remote_error_kind(exc: errors.RemoteError) -> str:
    if isinstance(exc, errors.RemoteTimeout):
        return "timeout"
    if exc.http_status is None:
        return "unreachable"
    return "refused" if exc.http_status < 500 else "server_error"


# -- the exposition ------------------------------------------------------------------------


def exposition(
    build: BuildInfo | None, current_to: dt.date | None, ready: bool | None
) -> tuple[bytes, str]:
    """The metrics in Prometheus' text format, and its content type; the published build's
    figures (its id, age, size, data currency) and readiness are computed now, by the
    caller, since they are the same for every worker."""
    from prometheus_client import CONTENT_TYPE_LATEST, CollectorRegistry, generate_latest
    from prometheus_client.core import GaugeMetricFamily
    from prometheus_client.multiprocess import MultiProcessCollector

    sources: list[Any] = []
    if multiprocess():
        _forget_dead_processes()
        collected = CollectorRegistry()
        MultiProcessCollector(collected)
        sources.append(collected)
    else:
        sources.append(_metrics().registry)

    def now() -> Iterator[Any]:
        if ready is not None:
            yield GaugeMetricFamily(
                PREFIX + "ready", "1 when /readyz answers 200, else 0.", value=float(ready)
            )
        if build is None:
            return
        info = GaugeMetricFamily(
            PREFIX + "build_info", "The published build (value 1).", labels=["build_id"]
        )
        info.add_metric([build.build_id], 1.0)
        yield info
        built = dt.datetime.fromisoformat(build.built_at.replace("Z", "+00:00"))
        age = (dt.datetime.now(dt.UTC) - built).total_seconds()
        yield GaugeMetricFamily(
            PREFIX + "build_age_seconds", "Seconds since the published build was made.",
            value=max(0.0, age),
        )  # fmt: skip
        yield GaugeMetricFamily(
            PREFIX + "build_triples", "Triples in the published build.", value=build.triples
        )
        if current_to is not None:
            day = dt.datetime.combine(current_to, dt.time(), tzinfo=dt.UTC)
            yield GaugeMetricFamily(
                PREFIX + "data_current_to_timestamp_seconds",
                "The date the data are current to (cica:dataCurrentTo), as a Unix time.",
                value=day.timestamp(),
            )

    class _Scrape:
        def collect(self) -> Iterator[Any]:
            for source in sources:
                yield from source.collect()
            yield from now()

    return generate_latest(_Scrape()), CONTENT_TYPE_LATEST  # type: ignore[arg-type]
