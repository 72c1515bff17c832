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
from ..namespaces import iris
from ..sparql_files import query_text
from ..sparql_http import SPARQL_JSON, SparqlHttp
from ..store import BuildInfo
from . import results
from .execute import format_named, take
from .job import Answer, Job
from .lexer import inspect_query, substitute, with_prefixes

_GRAPHS = query_text(__package__ or "cica_kg.query", "remote-graphs.rq")
_TOTAL = query_text(__package__ or "cica_kg.query", "remote-total.rq")


class RemoteEngine:
    """Runs queries on a remote SPARQL 1.1 endpoint (QLever, Virtuoso, `oxigraph serve`…)
    instead of the embedded store: the same limits and SERVICE policy apply before a query
    leaves (the Engine checks), and answers are re-written here so that formats, row limits
    and errors behave as with the embedded store."""

    def __init__(self, url: str):
        self.url = url
        self.http = SparqlHttp(url, name="the query engine", timeout_setting="query_timeout")

    def start(self) -> None:
        pass

    def close(self) -> None:
        self.http.close()

    def post(self, query: str, accept: str, timeout: float, **params: Any) -> Any:
        with _as_engine_errors(), metrics.remote_call():
            return self.http.post(query, accept, timeout=timeout, **params)

    def build_info(self, timeout: float) -> BuildInfo:
        """The remote store as a build: its graph sizes, and an id that changes with them
        (a remote engine has no build id of its own)."""
        with _as_engine_errors(), metrics.remote_call():
            rows = self.http.select(_GRAPHS, timeout=timeout)
            total = self.http.select(_TOTAL, timeout=timeout)
        graphs = {r["g"]["value"]: int(r["n"]["value"]) for r in rows}
        digest = hashlib.sha256(json.dumps([self.url, graphs]).encode()).hexdigest()
        return BuildInfo(
            build_id="remote-" + digest[:12],
            built_at=time.strftime("%Y-%m-%dT%H:%M:%SZ", time.gmtime()),
            path=Path(self.url),
            triples=int(total[0]["n"]["value"]) if total else 0,
            graphs=dict(sorted(graphs.items())),
        )

    def run(self, store_path: str, job: Job, timeout: float) -> Answer:
        info = inspect_query(job.query)
        text = substitute(job.query, {k: str(v) for k, v in job.substitutions})
        params = {
            "default-graph-uri": list(job.default_graphs),
            "named-graph-uri": list(job.named_graphs),
        }
        fmt = format_named(job.format_name)
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
        prefixes = iris(job.base).prefixes
        if form in ("SELECT", "ASK"):
            doc = self.post(with_prefixes(text, prefixes), SPARQL_JSON, timeout, **params).json()
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
            with_prefixes(text, prefixes), "application/n-triples", timeout, **params
        )
        triples = take(ox.parse(response.content, format=ox.RdfFormat.N_TRIPLES), job.max_rows)
        truncated = len(triples) > job.max_rows
        triples = triples[: job.max_rows]
        body = results.write_triples(triples, fmt, prefixes)
        return Answer(body, fmt.content_type, "CONSTRUCT", len(triples), truncated)


@contextlib.contextmanager
def _as_engine_errors() -> Iterator[None]:
    """The remote engine's failures as the embedded store's: past the time limit is a 503
    (QueryTimeout), a query its parser refuses is the client's 400."""
    try:
        yield
    except errors.RemoteTimeout as exc:
        raise errors.QueryTimeout(exc.message) from None
    except errors.RemoteError as exc:
        if exc.http_status == 400:
            raise errors.BadRequest(f"the query engine refused the query: {exc.body}") from None
        raise


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
