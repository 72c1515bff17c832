"""Running one query on a store and serializing its answer: in a query process, or in this
process for the CLI."""

from __future__ import annotations

from typing import Any

import pyoxigraph as ox

from .. import errors, formats
from ..namespaces import iris
from . import results
from .job import Answer, Job
from .lexer import limited_select


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
    fmt = format_named(job.format_name)
    whole = _whole_select(store, job, fmt, prefixes, kwargs)
    if whole is not None:
        return whole
    result = _query(store, job.query, job, prefixes, kwargs)
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


def _query(
    store: ox.Store, text: str, job: Job, prefixes: dict[str, str], kwargs: dict[str, Any]
) -> Any:
    try:
        return store.query(text, prefixes=prefixes, base_iri=job.base, **kwargs)
    except SyntaxError as exc:
        raise errors.QuerySyntaxError(f"query syntax error: {exc}") from None
    except RuntimeError as exc:
        raise errors.BadRequest(f"query cannot be run: {exc}") from None


def _whole_select(
    store: ox.Store, job: Job, fmt: formats.Format, prefixes: dict[str, str], kwargs: dict[str, Any]
) -> Answer | None:
    """A SELECT answer written by pyoxigraph's own serializer, with no per-row Python: the
    query runs with a top-level LIMIT of max_rows + 1 (lexer.limited_select), and the rows
    are counted on the bytes only when there could be more than max_rows of them. None
    when the answer must be cut (the caller then cuts it row by row) or the query is not
    a SELECT the lexer can bound."""
    if fmt.kind != "results":
        return None
    if job.bounded_query is None:  # not planned by the policy: plan here
        plan = limited_select(job.query, job.max_rows + 1)
        if plan is None:
            return None
        text, cut_impossible = plan
    elif not job.bounded_query:
        return None
    else:
        text, cut_impossible = job.bounded_query, job.cut_impossible
    result = _query(store, text, job, prefixes, kwargs)
    if not isinstance(result, ox.QuerySolutions):
        return None
    try:
        body = result.serialize(format=RESULTS_FORMATS[fmt.name]) or b""
    except OSError as exc:  # SERVICE failures surface while iterating
        raise errors.UpstreamError(f"a federated (SERVICE) call failed: {exc}") from None
    rows = -1  # not counted: the answer is whole
    if not cut_impossible and len(body) >= MIN_ROW_BYTES[fmt.name] * (job.max_rows + 1):
        rows = results.count_rows(body, fmt)
        if rows > job.max_rows:
            return None
    if len(body) > job.max_bytes:
        raise errors.ResultTooLarge(
            f"the result is {len(body)} bytes, over the limit of {job.max_bytes} bytes "
            "(max_result_bytes); add a LIMIT or narrow the query"
        )
    return Answer(body, fmt.content_type, "SELECT", rows, False)


# The fewest bytes one row takes in each format's body (an empty row): a body shorter
# than this many times max_rows + 1 cannot hold more than max_rows rows.
MIN_ROW_BYTES = {"json": 3, "xml": 9, "csv": 2, "tsv": 1}
RESULTS_FORMATS = {
    "json": ox.QueryResultsFormat.JSON,
    "xml": ox.QueryResultsFormat.XML,
    "csv": ox.QueryResultsFormat.CSV,
    "tsv": ox.QueryResultsFormat.TSV,
}


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
