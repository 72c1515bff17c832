"""The remote engine (`RemoteEngine`, the `engine` setting), what it tells of its store, and
its answers (SPARQL JSON, N-Triples) read back into pyoxigraph terms."""

from __future__ import annotations

import hashlib
import json
import time
from pathlib import Path
from typing import Any

import pyoxigraph as ox

from .. import __version__, errors, formats
from ..namespaces import iris
from ..sparql_files import query_text
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

    def build_info(self, timeout: float) -> BuildInfo:
        """The remote store as a build: its graph sizes, and an id that changes with them
        (a remote engine has no build id of its own)."""
        accept = "application/sparql-results+json"
        rows = self.post(_GRAPHS, accept, timeout).json()["results"]["bindings"]
        graphs = {r["g"]["value"]: int(r["n"]["value"]) for r in rows}
        total = self.post(_TOTAL, accept, timeout).json()["results"]["bindings"]
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
            doc = self.post(
                with_prefixes(text, prefixes), "application/sparql-results+json", timeout, **params
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
            with_prefixes(text, prefixes), "application/n-triples", timeout, **params
        )
        triples = take(ox.parse(response.content, format=ox.RdfFormat.N_TRIPLES), job.max_rows)
        truncated = len(triples) > job.max_rows
        triples = triples[: job.max_rows]
        body = results.write_triples(triples, fmt, prefixes)
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
