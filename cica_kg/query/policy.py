"""What may run, decided from the query's text before anything runs: the length limit,
no updates, the SERVICE allowlist, the nesting limit; and the job as it will run (its own
FROM, SERVICE calls to Wikidata sent to the configured endpoint). Pure functions of the
settings and the text."""

from __future__ import annotations

import dataclasses
import functools

from .. import errors
from ..namespaces import iris
from ..settings import Settings
from .job import Job
from .lexer import QueryInfo, inspect_query, limited_select, redirect_services

MAX_NESTING = 200  # deeper nesting overflows the query parser's stack (seen at ~3,000)
WIKIDATA_SPARQL = "https://query.wikidata.org/sparql"


def check(settings: Settings, query: str) -> QueryInfo:
    """Check a query against the limits and policy before anything runs."""
    limit = settings.max_query_length
    if len(query) > limit:
        raise errors.PayloadTooLarge(
            f"the query is {len(query)} characters long; the limit is {limit} (max_query_length)"
        )
    if not query.strip():
        raise errors.BadRequest("the query is empty")
    info = _inspect(query, settings.base_iri)
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
    allowed = set(settings.service_allowlist)
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


def prepare(settings: Settings, job: Job, info: QueryInfo) -> Job:
    """The job as it will run: under the settings' base (its pre-declared prefixes); the
    query's own FROM wins over the union default graph; SERVICE calls to Wikidata go to the
    configured endpoint."""
    if job.base != settings.base_iri:
        job = dataclasses.replace(job, base=settings.base_iri)
    if info.has_dataset_clause:
        job = dataclasses.replace(job, union_default_graph=False)
    if info.services and settings.wikidata_endpoint != WIKIDATA_SPARQL:
        query = redirect_services(job.query, info, {WIKIDATA_SPARQL: settings.wikidata_endpoint})
        job = dataclasses.replace(job, query=query, bounded_query="")
    if job.bounded_query is None:
        plan = (
            None
            if info.limit_site is None
            else limited_select(job.query, job.max_rows + 1, info.limit_site)
        )
        bounded, cut_impossible = plan or ("", False)
        job = dataclasses.replace(job, bounded_query=bounded, cut_impossible=cut_impossible)
    return job


@functools.lru_cache(maxsize=512)
def _inspect(query: str, base: str) -> QueryInfo:
    """inspect_query, remembered for repeated texts (the canned queries, pages' queries);
    the QueryInfo returned is shared, and nothing changes it after inspect_query returns."""
    return inspect_query(query, iris(base).prefixes, base)
