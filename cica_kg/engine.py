"""The one query facade: every SPARQL query (from the endpoint, canned queries, pages, the
CLI) goes through `Engine.run`, which applies the limits and the SERVICE policy, answers
from the cache when it can, and runs the query where it can be stopped.

Where queries run: pyoxigraph has no timeout and cannot be interrupted from Python, so each
query runs in a child process (`QueryPool`) that opens the published build read-only; a
query past its deadline gets its process killed (SIGKILL; the CPU work really ends) and a
fresh process takes its place. A query that has used `SLOW_QUERY_SECONDS` of CPU has its
process's CPU priority lowered once it has burnt that much CPU, so short queries keep their
latency while a long one runs; after its job the priority is restored, or, where the system
does not allow that (no CAP_SYS_NICE), the process is retired and replaced."""

from __future__ import annotations

import dataclasses
import functools
import hashlib
import json
import logging
import multiprocessing
import os
import queue
import signal
import threading
import time
from collections import OrderedDict
from dataclasses import dataclass, field
from multiprocessing.connection import Connection
from pathlib import Path
from typing import Any

import pyoxigraph as ox

from . import __version__, canned, errors, formats, results
from .build import CURRENT, BuildInfo, current_build
from .namespaces import PREFIXES
from .settings import Settings
from .sparql_text import QueryInfo, inspect_query, redirect_services, substitute, with_prefixes

log = logging.getLogger(__name__)

SLOW_QUERY_SECONDS = 0.25
MAX_NESTING = 200  # deeper nesting overflows the query parser's stack (seen at ~3,000)
WIKIDATA_SPARQL = "https://query.wikidata.org/sparql"
REMOTE_GRAPHS = "SELECT ?g (COUNT(*) AS ?n) WHERE { GRAPH ?g { ?s ?p ?o } } GROUP BY ?g"
REMOTE_TOTAL = "SELECT (COUNT(*) AS ?n) WHERE { ?s ?p ?o }"
STATE_CODES = """
PREFIX cica: <https://w3id.org/cica-kg/ontology#>
SELECT ?code WHERE { ?state a cica:State ; cica:iso3166Alpha3 ?code }
"""
TRUNCATED_HEADER = "CICA-KG-Result-Truncated"


@dataclass(frozen=True)
class Job:
    """A query to run, with everything the child process needs."""

    query: str
    format_name: str
    default_graphs: tuple[str, ...] = ()
    named_graphs: tuple[str, ...] = ()
    substitutions: tuple[tuple[str, Any], ...] = ()  # (variable name, pyoxigraph term)
    union_default_graph: bool = True
    max_rows: int = 10_000
    max_bytes: int = 50_000_000

    def cache_key(self) -> str:
        raw = repr(
            (
                self.query,
                self.format_name,
                self.default_graphs,
                self.named_graphs,
                tuple((k, str(v)) for k, v in self.substitutions),
                self.union_default_graph,
                self.max_rows,
            )
        )
        return hashlib.sha256(raw.encode()).hexdigest()[:24]


@dataclass(frozen=True)
class Answer:
    body: bytes
    media_type: str  # Content-Type value
    form: str  # SELECT, ASK, CONSTRUCT, DESCRIBE
    rows: int
    truncated: bool
    build_id: str = ""
    etag: str = ""
    cached: bool = False
    headers: dict[str, str] = field(default_factory=dict)


# ---------------------------------------------------------------------------------------
#   Running one query (in the child process, or in-process for the CLI)
# ---------------------------------------------------------------------------------------


def execute(store: ox.Store, job: Job) -> Answer:
    """Run a query on a store and serialize its answer; raise errors.CicaError subclasses
    for everything the query's author caused."""
    kwargs: dict[str, Any] = {}
    if job.default_graphs or job.named_graphs:
        kwargs["default_graph"] = [ox.NamedNode(g) for g in job.default_graphs] or [
            ox.DefaultGraph()
        ]
        if job.named_graphs:
            kwargs["named_graphs"] = [ox.NamedNode(g) for g in job.named_graphs]
    elif job.union_default_graph:
        kwargs["use_default_graph_as_union"] = True
    if job.substitutions:
        kwargs["substitutions"] = {ox.Variable(k): v for k, v in job.substitutions}
    try:
        result = store.query(job.query, prefixes=PREFIXES, **kwargs)
    except SyntaxError as exc:
        raise errors.QuerySyntaxError(f"query syntax error: {exc}") from None
    except RuntimeError as exc:
        raise errors.BadRequest(f"query cannot be run: {exc}") from None
    fmt = _format(job.format_name)
    try:
        if isinstance(result, ox.QueryBoolean):
            body, form, rows, truncated = results.write_boolean(bool(result), fmt), "ASK", 1, False
        elif isinstance(result, ox.QuerySolutions):
            variables = [v.value for v in result.variables]
            solutions = _take(result, job.max_rows)
            truncated = len(solutions) > job.max_rows
            solutions = solutions[: job.max_rows]
            body = results.write_solutions(variables, [tuple(s) for s in solutions], fmt)
            form, rows = "SELECT", len(solutions)
        else:
            triples = _take(result, job.max_rows)
            truncated = len(triples) > job.max_rows
            triples = triples[: job.max_rows]
            body = results.write_triples(triples, fmt, PREFIXES)
            form, rows = "CONSTRUCT", len(triples)
    except OSError as exc:  # SERVICE failures surface while iterating
        raise errors.UpstreamError(f"a federated (SERVICE) call failed: {exc}") from None
    if len(body) > job.max_bytes:
        raise errors.ResultTooLarge(
            f"the result is {len(body)} bytes, over the limit of {job.max_bytes} bytes "
            "(max_result_bytes); add a LIMIT or narrow the query"
        )
    return Answer(body, fmt.content_type, form, rows, truncated)


def _take(iterator: Any, limit: int) -> list[Any]:
    out = []
    for item in iterator:
        out.append(item)
        if len(out) > limit:
            break
    return out


def _format(name: str) -> formats.Format:
    for fmt in formats.ALL_FORMATS:
        if fmt.name == name:
            return fmt
    raise errors.BadRequest(f"unknown format {name!r}")


# ---------------------------------------------------------------------------------------
#   Query processes
# ---------------------------------------------------------------------------------------


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


class RemotePool:
    """Runs queries on a remote SPARQL 1.1 endpoint (QLever, Virtuoso, `oxigraph serve`…)
    instead of the embedded store: the same limits and SERVICE policy apply before a query
    leaves (the Engine checks), and answers are re-written here so that formats, row limits
    and errors behave as with the embedded store."""

    def __init__(self, url: str):
        import requests

        self.url = url
        self.session = requests.Session()
        self.session.headers["User-Agent"] = f"CICA-KG/{__version__}"

    def start(self) -> None:
        pass

    def close(self) -> None:
        self.session.close()

    def post(self, query: str, accept: str, timeout: float, **params: Any) -> Any:
        import requests

        try:
            response = self.session.post(
                self.url,
                data={"query": query, **params},
                headers={"Accept": accept},
                timeout=timeout,
            )
        except requests.Timeout:
            raise errors.QueryTimeout(
                f"the query engine did not answer within {timeout:g} s (query_timeout)"
            ) from None
        except requests.RequestException as exc:
            raise errors.UpstreamError(f"the query engine cannot be reached: {exc}") from None
        if response.status_code == 400:
            raise errors.BadRequest(f"the query engine refused the query: {response.text[:2000]}")
        if response.status_code != 200:
            raise errors.UpstreamError(
                f"the query engine answered HTTP {response.status_code}: {response.text[:500]}"
            )
        return response

    def run(self, store_path: str, job: Job, timeout: float) -> Answer:
        info = inspect_query(job.query)
        text = substitute(job.query, {k: str(v) for k, v in job.substitutions})
        params = {
            "default-graph-uri": list(job.default_graphs),
            "named-graph-uri": list(job.named_graphs),
        }
        fmt = _format(job.format_name)
        try:
            return self._answer(info.form, text, params, fmt, job, timeout)
        except (ValueError, KeyError, TypeError, SyntaxError) as exc:  # includes bad JSON
            raise errors.UpstreamError(
                f"the query engine sent an answer that cannot be read: {exc}"
            ) from None

    def _answer(
        self, form: str | None, text: str, params: dict[str, Any], fmt: formats.Format,
        job: Job, timeout: float,
    ) -> Answer:  # fmt: skip
        if form in ("SELECT", "ASK"):
            doc = self.post(
                with_prefixes(text, PREFIXES), "application/sparql-results+json", timeout, **params
            ).json()
            if "boolean" in doc:
                return Answer(
                    results.write_boolean(bool(doc["boolean"]), fmt),
                    fmt.content_type,
                    "ASK",
                    1,
                    False,
                )
            variables = doc["head"]["vars"]
            rows = [
                tuple(_term(b.get(v)) for v in variables)
                for b in doc["results"]["bindings"][: job.max_rows + 1]
            ]
            truncated = len(rows) > job.max_rows
            rows = rows[: job.max_rows]
            body = results.write_solutions(variables, rows, fmt)
            return Answer(body, fmt.content_type, "SELECT", len(rows), truncated)
        response = self.post(
            with_prefixes(text, PREFIXES), "application/n-triples", timeout, **params
        )
        triples = _take(ox.parse(response.content, format=ox.RdfFormat.N_TRIPLES), job.max_rows)
        truncated = len(triples) > job.max_rows
        triples = triples[: job.max_rows]
        body = results.write_triples(triples, fmt, PREFIXES)
        return Answer(body, fmt.content_type, "CONSTRUCT", len(triples), truncated)


def _term(value: dict[str, Any] | None) -> Any:
    """A pyoxigraph term from a SPARQL JSON term."""
    if value is None:
        return None
    kind = value["type"]
    if kind == "uri":
        return ox.NamedNode(value["value"])
    if kind == "bnode":
        return ox.BlankNode(value["value"])
    if "xml:lang" in value:
        return ox.Literal(value["value"], language=value["xml:lang"])
    if "datatype" in value:
        return ox.Literal(value["value"], datatype=ox.NamedNode(value["datatype"]))
    return ox.Literal(value["value"])


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
            self._retire(proc)

    def _next_idle(self, wait: float) -> _Process:
        try:
            return self._idle.get_nowait()
        except queue.Empty:
            pass
        # Grow by at most two processes at a time: a start costs ~0.3 s of CPU, and a burst
        # of starts would take the CPU from the queries waiting for them.
        with self._lock:
            grow = self._count < self.max_size and self._booting < 2
            if grow:
                self._count += 1
        if grow:
            self._spawn()
        try:
            return self._idle.get(timeout=wait)
        except queue.Empty:
            raise errors.Unavailable(
                "all query processes are busy; try again shortly", headers={"Retry-After": "5"}
            ) from None

    def _retire(self, proc: _Process) -> None:
        """Kill a process (in the background) and start its replacement."""

        def replace() -> None:
            proc.kill()
            with self._lock:
                self._count -= 1
            self.start()

        threading.Thread(target=replace, daemon=True).start()

    def run(self, store_path: str, job: Job, timeout: float) -> Answer:
        """Run a job in a pool process within `timeout` seconds. A process that dies before
        it answers (killed from outside, or crashed) is replaced and the job tried once
        more; if that one dies too, the answer is a 503."""
        deaths = 0
        while deaths < 2:
            proc = self._checkout(wait=timeout)
            try:
                proc.conn.send((store_path, job))
            except OSError:  # it was dead before it got the job: take another one
                self._retire(proc)
                continue
            try:
                reply = self._run_in(proc, store_path, job, timeout)
            except (EOFError, OSError):
                self._retire(proc)
                deaths += 1
                log.error("a query process died before answering (%d)", deaths)
                continue
            if proc.niced and not self._restore_priority(proc):
                self._retire(proc)
            else:
                self._idle.put(proc)
            if reply[0] == "ok":
                answer: Answer = reply[1]
                return answer
            if reply[0] == "error":
                raise getattr(errors, reply[1])(reply[2])
            raise RuntimeError(f"query process fault: {reply[1]}")
        raise errors.Unavailable(
            "the query process ended twice while running this query; simplify the query"
        )

    def _run_in(self, proc: _Process, store_path: str, job: Job, timeout: float) -> Any:
        """Wait for the reply to the job just sent; kill the process at the deadline."""
        deadline = time.monotonic() + timeout
        cpu_at_start = _cpu_seconds(proc.process.pid)
        while not proc.conn.poll(min(0.05, max(0.0, deadline - time.monotonic()))):
            if time.monotonic() >= deadline:
                self._retire(proc)
                raise errors.QueryTimeout(
                    f"the query was stopped after {timeout:g} s, the time limit of this "
                    "endpoint (query_timeout); add a LIMIT or narrow the query"
                )
            if (
                not proc.niced
                and _cpu_seconds(proc.process.pid) - cpu_at_start > SLOW_QUERY_SECONDS
            ):
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


# ---------------------------------------------------------------------------------------
#   The facade
# ---------------------------------------------------------------------------------------


class ResultCache:
    """Serialized answers by (build, job); small, in-process, LRU."""

    def __init__(self, entries: int):
        self.entries = entries
        self._data: OrderedDict[str, Answer] = OrderedDict()
        self._lock = threading.Lock()

    def get(self, key: str) -> Answer | None:
        with self._lock:
            answer = self._data.get(key)
            if answer is not None:
                self._data.move_to_end(key)
            return answer

    def put(self, key: str, answer: Answer) -> None:
        if self.entries <= 0:
            return
        with self._lock:
            self._data[key] = answer
            self._data.move_to_end(key)
            while len(self._data) > self.entries:
                self._data.popitem(last=False)


class Engine:
    """Limits, SERVICE policy, caching; runs queries on the published build."""

    def __init__(self, settings: Settings, pool: QueryPool | InlinePool | RemotePool | None = None):
        self.settings = settings
        if pool is None:
            pool = (
                RemotePool(settings.engine)
                if settings.engine
                else QueryPool(settings.query_workers, settings.threads)
            )
        self.pool = pool
        self._remote_checked = 0.0
        self.cache = ResultCache(settings.cache_entries)
        self._build_lock = threading.Lock()
        self._build_target: str | None = None
        self._build: BuildInfo | None = None
        self._state_codes: tuple[str, frozenset[str]] | None = None

    # -- the published build ----------------------------------------------------------

    def build(self) -> BuildInfo:
        """The current build, re-read when the `current` link changes (for a remote engine:
        its graph sizes, re-read every cache_max_age seconds)."""
        if isinstance(self.pool, RemotePool):
            return self._remote_build(self.pool)
        try:
            target = os.readlink(self.settings.store / CURRENT)
        except OSError:
            target = None
        with self._build_lock:
            if self._build is None or target != self._build_target:
                info = current_build(self.settings.store)
                if info is None:
                    raise errors.Unavailable("no published build; run `cica-kg build`")
                self._build, self._build_target = info, target
            return self._build

    def _remote_build(self, pool: RemotePool) -> BuildInfo:
        with self._build_lock:
            fresh = time.monotonic() - self._remote_checked < self.settings.cache_max_age
            if self._build is not None and fresh:
                return self._build
            accept = "application/sparql-results+json"
            timeout = self.settings.query_timeout
            rows = pool.post(REMOTE_GRAPHS, accept, timeout).json()["results"]["bindings"]
            graphs = {r["g"]["value"]: int(r["n"]["value"]) for r in rows}
            total = pool.post(REMOTE_TOTAL, accept, timeout).json()["results"]["bindings"]
            digest = hashlib.sha256(json.dumps([pool.url, graphs]).encode()).hexdigest()
            self._build = BuildInfo(
                build_id="remote-" + digest[:12],
                built_at=time.strftime("%Y-%m-%dT%H:%M:%SZ", time.gmtime()),
                path=Path(pool.url),
                triples=int(total[0]["n"]["value"]) if total else 0,
                graphs=dict(sorted(graphs.items())),
            )
            self._remote_checked = time.monotonic()
            return self._build

    # -- checks ---------------------------------------------------------------------------

    def inspect(self, query: str) -> QueryInfo:
        """Check a query against the limits and policy before anything runs."""
        limit = self.settings.max_query_length
        if len(query) > limit:
            raise errors.PayloadTooLarge(
                f"the query is {len(query)} characters long; the limit is {limit} "
                "(max_query_length)"
            )
        if not query.strip():
            raise errors.BadRequest("the query is empty")
        info = _inspect(query)
        if info.unreadable:
            raise errors.BadRequest(f"the query cannot be read: {info.unreadable}")
        if info.depth > MAX_NESTING:
            raise errors.BadRequest(
                f"the query nests brackets {info.depth} deep; the limit is {MAX_NESTING}"
            )
        if info.is_update:
            raise errors.Forbidden(
                f"SPARQL Update ({info.form}) is not allowed: this endpoint is read-only"
            )
        allowed = set(self.settings.service_allowlist)
        for call in info.services:
            if not call.resolved:
                raise errors.ServiceRefused(
                    f"SERVICE {call.target} is refused: only SERVICE calls to a fixed IRI "
                    f"on the allowlist are allowed ({', '.join(sorted(allowed)) or 'none'})"
                )
            if call.target not in allowed:
                raise errors.ServiceRefused(
                    f"SERVICE <{call.target}> is refused: not on the allowlist "
                    f"({', '.join(sorted(allowed)) or 'none'})"
                )
        return info

    def prepare(self, job: Job, info: QueryInfo) -> Job:
        """The job as it will run: the query's own FROM wins over the union default graph;
        SERVICE calls to Wikidata go to the configured endpoint."""
        if info.has_dataset_clause:
            job = _replace(job, union_default_graph=False)
        if info.services and self.settings.wikidata_endpoint != WIKIDATA_SPARQL:
            query = redirect_services(
                job.query, info, {WIKIDATA_SPARQL: self.settings.wikidata_endpoint}
            )
            job = _replace(job, query=query)
        return job

    def etag(self, job: Job, info: QueryInfo) -> str:
        """The ETag the answer will carry; empty for federated queries, whose answers
        depend on the remote side and are neither cached nor validated."""
        if info.services:
            return ""
        return f'"{self.build().build_id}-{self.prepare(job, info).cache_key()}"'

    # -- running --------------------------------------------------------------------------

    def run(self, job: Job, info: QueryInfo | None = None) -> Answer:
        """Answer a job from the cache or by running it, within the time limit."""
        info = info or self.inspect(job.query)
        job = self.prepare(job, info)
        build = self.build()
        key = f"{build.build_id}:{job.cache_key()}"
        etag = "" if info.services else f'"{build.build_id}-{job.cache_key()}"'
        cached = self.cache.get(key)
        if cached is not None:
            return _replace(cached, cached=True)
        timeout = self.settings.query_timeout
        if info.services:
            timeout = min(timeout, self.settings.service_timeout)
        answer = self.pool.run(str(build.store_path), job, timeout)
        answer = _replace(answer, build_id=build.build_id, etag=etag)
        if not info.services:  # federated answers depend on the remote side
            self.cache.put(key, answer)
        return answer

    def select(self, query: str, **bindings: Any) -> list[dict[str, dict[str, str]]]:
        """Rows of a trusted SELECT (pages, canned queries) as SPARQL JSON bindings, with
        `bindings` substituted as pyoxigraph terms."""
        job = Job(
            query=query,
            format_name="json",
            substitutions=tuple(sorted(bindings.items())),
            max_rows=self.settings.max_result_rows,
            max_bytes=self.settings.max_result_bytes,
        )
        rows: list[dict[str, dict[str, str]]] = json.loads(self.run(job).body)["results"][
            "bindings"
        ]
        return rows

    def run_canned(
        self, query: canned.CannedQuery, raw: dict[str, str], format_name: str
    ) -> Answer:
        """Run a canned query with the given parameter values (checked and typed)."""
        return self.run(self.canned_job(query, raw, format_name))

    def canned_job(self, query: canned.CannedQuery, raw: dict[str, str], format_name: str) -> Job:
        """The job of a canned query with the given parameter values (checked and typed)."""
        known = None
        if any(p.type == "state" for p in query.params):
            known = self.state_codes()
        bound = canned.bind(query, raw, known)
        return Job(
            query=query.text,
            format_name=format_name,
            substitutions=tuple(sorted(bound.items())),
            max_rows=self.settings.max_result_rows,
            max_bytes=self.settings.max_result_bytes,
        )

    def state_codes(self) -> frozenset[str]:
        """The ISO codes of the states in the current build (kept per build)."""
        build_id = self.build().build_id
        cached = self._state_codes
        if cached is None or cached[0] != build_id:
            codes = frozenset(row["code"]["value"] for row in self.select(STATE_CODES))
            cached = self._state_codes = (build_id, codes)
        return cached[1]

    def close(self) -> None:
        self.pool.close()


@functools.lru_cache(maxsize=512)
def _inspect(query: str) -> QueryInfo:
    """inspect_query, remembered for repeated texts (the canned queries, pages' queries);
    the QueryInfo returned is shared, and nothing changes it after inspect_query returns."""
    return inspect_query(query, PREFIXES)


def _replace(obj: Any, **changes: Any) -> Any:
    return dataclasses.replace(obj, **changes)
