"""Running one query on a store and serializing its answer: in a query process, or in this
process for the CLI."""

from __future__ import annotations

from typing import Any

import pyoxigraph as ox

from .. import errors, formats
from ..namespaces import iris
from . import results
from .job import Answer, Job


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
    prefixes = iris(job.base).prefixes
    try:
        result = store.query(job.query, prefixes=prefixes, base_iri=job.base, **kwargs)
    except SyntaxError as exc:
        raise errors.QuerySyntaxError(f"query syntax error: {exc}") from None
    except RuntimeError as exc:
        raise errors.BadRequest(f"query cannot be run: {exc}") from None
    fmt = format_named(job.format_name)
    try:
        if isinstance(result, ox.QueryBoolean):
            body, form, rows, truncated = results.write_boolean(bool(result), fmt), "ASK", 1, False
        elif isinstance(result, ox.QuerySolutions):
            variables = [v.value for v in result.variables]
            solutions = take(result, job.max_rows)
            truncated = len(solutions) > job.max_rows
            solutions = solutions[: job.max_rows]
            body = results.write_solutions(variables, [tuple(s) for s in solutions], fmt)
            form, rows = "SELECT", len(solutions)
        else:
            triples = take(result, job.max_rows)
            truncated = len(triples) > job.max_rows
            triples = triples[: job.max_rows]
            body = results.write_triples(triples, fmt, prefixes)
            form, rows = "CONSTRUCT", len(triples)
    except OSError as exc:  # SERVICE failures surface while iterating
        raise errors.UpstreamError(f"a federated (SERVICE) call failed: {exc}") from None
    if len(body) > job.max_bytes:
        raise errors.ResultTooLarge(
            f"the result is {len(body)} bytes, over the limit of {job.max_bytes} bytes "
            "(max_result_bytes); add a LIMIT or narrow the query"
        )
    return Answer(body, fmt.content_type, form, rows, truncated)


def take(iterator: Any, limit: int) -> list[Any]:
    """Up to `limit` + 1 items: one more than the limit tells that the answer was cut."""
    out = []
    for item in iterator:
        out.append(item)
        if len(out) > limit:
            break
    return out


def format_named(name: str) -> formats.Format:
    for fmt in formats.ALL_FORMATS:
        if fmt.name == name:
            return fmt
    raise errors.BadRequest(f"unknown format {name!r}")
