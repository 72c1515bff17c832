"""The remote engine (`RemoteEngine`, the `engine` setting), what it tells of its store, and
its answers (SPARQL JSON, N-Triples) read back into pyoxigraph terms."""

from __future__ import annotations

import contextlib
import hashlib
import json
import time
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pyoxigraph as ox

from .. import errors, formats, metrics
from ..namespaces import BASE, iris
from ..sparql_files import query_text
from ..sparql_http import SPARQL_JSON, SparqlHttp
from ..store import BuildInfo
from . import columns, results
from .dialects import Dialect, ask_value, detect
from .execute import RESULTS_FORMATS, format_named, take
from .job import Answer, Job
from .lexer import inspect_query, substitute, with_prefixes

_GRAPHS = query_text(__package__ or "cica_kg.query", "remote-graphs.rq")
_TOTAL = query_text(__package__ or "cica_kg.query", "remote-total.rq")
NO_SHAPE = columns.Shape({})
_TIMED_OUT = "SR171: Transaction timed out"


class RemoteEngine:
    """Runs queries on a remote SPARQL 1.1 endpoint (Virtuoso, `oxigraph serve`…) instead of
    the embedded store: the same limits and SERVICE policy apply before a query leaves (the
    Engine checks), the query sees only the project's graphs (those under the base's graph
    namespace: an engine's own graphs stay out), and answers are re-written here so that
    formats, row limits, errors and terms are as with the embedded store; where the engine
    cannot give that answer (dialects.py), it is refused."""

    def __init__(self, url: str, base: str = BASE):
        self.url, self.base = url, base
        self.http = SparqlHttp(url, name="the query engine", timeout_setting="query_timeout")
        self.dialect = Dialect(name=f"the engine at {url}")
        self.graphs: tuple[str, ...] | None = None  # the project's graphs; None: not read yet

    def start(self) -> None:
        pass

    def close(self) -> None:
        self.http.close()

    def post(
        self, query: str, accept: str, timeout: float, what: str = "the query", **params: Any
    ) -> Any:
        """The engine's answer, refused when the engine says it is partial."""
        limit = self.dialect.timeout_param
        # The engine stops its own work at our time limit, not just our wait for it.
        fields = {limit: str(max(1, int(timeout * 1000)))} if limit else {}
        with _as_engine_errors(what), metrics.remote_call():
            response = self.http.post(query, accept, timeout=timeout, fields=fields, **params)
        self.dialect.check_whole(response.headers, what, timed=bool(limit))
        return response

    def build_info(self, timeout: float) -> BuildInfo:
        """The remote store as a build: the project's graphs and their sizes (all of its
        graphs when none is under the base's graph namespace), and an id that changes with
        them (a remote engine has no build id of its own). Finds the engine's dialect."""
        with _as_engine_errors("the list of graphs"), metrics.remote_call():
            response = self.http.post(_GRAPHS, SPARQL_JSON, timeout=timeout)
            self.dialect = detect(response.headers.get("Server", ""), self.url)
            self.http.name = self.dialect.name
            # A capped list of graphs would scope every query to some of them: refused.
            self.dialect.check_whole(response.headers, "the list of its graphs")
            rows = response.json()["results"]["bindings"]
            every = {r["g"]["value"]: int(r["n"]["value"]) for r in rows if r["g"]["type"] == "uri"}
            prefix = iris(self.base).graph
            ours = {g: n for g, n in every.items() if g.startswith(prefix)}
            self.graphs = tuple(sorted(ours))
            if ours:
                graphs, triples = ours, sum(ours.values())
            else:
                total = self.http.select(_TOTAL, timeout=timeout)
                graphs, triples = every, int(total[0]["n"]["value"]) if total else 0
        digest = hashlib.sha256(json.dumps([self.url, sorted(graphs.items())]).encode()).hexdigest()
        return BuildInfo(
            build_id="remote-" + digest[:12],
            built_at=time.strftime("%Y-%m-%dT%H:%M:%SZ", time.gmtime()),
            path=Path(self.url),
            triples=triples,
            graphs=dict(sorted(graphs.items())),
            base_iri=self.base,
        )

    def dataset(self, job: Job) -> dict[str, list[str]]:
        """The protocol's dataset for a job: its own graphs when it names them, else the
        project's graphs as the default graph (their union, as on the embedded store) and as
        the named graphs; nothing when the query's FROM names its own."""
        if job.default_graphs or job.named_graphs:
            return {
                "default-graph-uri": list(job.default_graphs),
                "named-graph-uri": list(job.named_graphs),
            }
        if job.union_default_graph and self.graphs:
            return {"default-graph-uri": list(self.graphs), "named-graph-uri": list(self.graphs)}
        return {}

    def run(self, store_path: str, job: Job, timeout: float) -> Answer:
        if self.graphs is None:
            self.build_info(timeout)
        info = inspect_query(job.query)
        what = job.label or "the query"
        prefixes = iris(job.base).prefixes
        shape = NO_SHAPE
        if self.dialect.booleans_as_integers:  # rdflib's parse only where it is needed
            shape = columns.shape(with_prefixes(job.query, prefixes))
        self.dialect.refuse(info.form, bool(info.services), shape, what)
        text = with_prefixes(
            substitute(job.query, {k: str(v) for k, v in job.substitutions}), prefixes
        )
        fmt = format_named(job.format_name)
        try:
            return self._answer(info.form, text, self.dataset(job), fmt, job, timeout, shape)
        except (ValueError, KeyError, TypeError, SyntaxError) as exc:  # includes bad JSON
            raise errors.UpstreamError(
                f"{self.dialect.name} sent an answer to {what} that cannot be read: {exc}"
            ) from None

    def _answer(
        self, form: str | None, text: str, params: dict[str, Any], fmt: formats.Format,
        job: Job, timeout: float, shape: columns.Shape,
    ) -> Answer:  # fmt: skip
        what = job.label or "the query"
        if form in ("SELECT", "ASK"):
            doc = self.post(text, SPARQL_JSON, timeout, what, **params).json()
            if form == "ASK":
                body = results.write_boolean(ask_value(doc), fmt)
                return Answer(body, fmt.content_type, "ASK", 1, False)
            variables = doc["head"]["vars"]
            term = self.dialect.term
            rows = [
                tuple(term(b.get(v), shape.kind(v), v, what) for v in variables)
                for b in doc["results"]["bindings"][: job.max_rows + 1]
            ]
            truncated = len(rows) > job.max_rows
            rows = rows[: job.max_rows]
            body = results.write_solutions(variables, rows, fmt)
            if not truncated and fmt.name != "json":
                # A whole answer in pyoxigraph's own serializer, as the embedded store writes
                # it (execute._whole_select: e.g. TSV's short forms of booleans and numbers).
                solutions = ox.parse_query_results(
                    results.write_solutions(variables, rows, format_named("json")),
                    format=ox.QueryResultsFormat.JSON,
                )
                assert isinstance(solutions, ox.QuerySolutions)
                body = solutions.serialize(format=RESULTS_FORMATS[fmt.name]) or b""
            return Answer(body, fmt.content_type, "SELECT", len(rows), truncated)
        response = self.post(text, "application/n-triples", timeout, what, **params)
        triples = take(ox.parse(response.content, format=ox.RdfFormat.N_TRIPLES), job.max_rows)
        truncated = len(triples) > job.max_rows
        triples = triples[: job.max_rows]
        body = results.write_triples(triples, fmt, iris(job.base).prefixes)
        return Answer(body, fmt.content_type, "CONSTRUCT", len(triples), truncated)


@contextlib.contextmanager
def _as_engine_errors(what: str) -> Iterator[None]:
    """The remote engine's failures as the embedded store's: past the time limit is a 503
    (QueryTimeout), a query its parser refuses is the client's 400."""
    try:
        yield
    except errors.RemoteTimeout as exc:
        raise errors.QueryTimeout(exc.message) from None
    except errors.RemoteError as exc:
        if exc.http_status == 400:
            raise errors.BadRequest(f"the query engine refused the query: {exc.body}") from None
        if exc.http_status == 500 and _TIMED_OUT in exc.body:  # Virtuoso's own time limit
            raise errors.QueryTimeout(
                f"{what} ran past the engine's time limit: {exc.message}"
            ) from None
        raise
