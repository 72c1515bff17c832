"""Wikidata tooling: our owl:sameAs links, a client of the Wikidata Query Service (WDQS),
the comparison of our data with Wikidata's, and QuickStatements for what Wikidata lacks.

A check sends at most three batched queries to Wikidata: the linked items (one VALUES over
all of them), candidate items for our resources without a link (by English label or alias),
and the P463 "member of" statements that point at CICA's item (found by its English label
unless its QID is known). Our own graph is read through the Engine facade.

The parts: model (the values), ours (our graph), client (HTTP to WDQS), wdqs_queries (the
query templates), comparison, quickstatements. Rendering is the CLI's (cli/wikidata.py)."""

from __future__ import annotations

import contextlib
import dataclasses
import functools
from collections.abc import Callable, Iterator, Sequence

from ..errors import BadRequest
from ..progress import SILENT, Progress, Stage
from ..settings import Settings
from .client import WikidataClient
from .comparison import (
    candidate_names,
    compare_items,
    compare_memberships,
    match_candidates,
    parse_memberships,
)
from .model import CICA_KEY, CICA_LABELS, QID, Addition, Finding, OurRole, Report, Resource
from .ours import load_resources, load_roles, with_engine
from .wdqs_queries import candidates_query, items_query, membership_query

__all__ = [
    "QID",
    "OurRole",
    "Report",
    "Resource",
    "WikidataClient",
    "check",
    "compare",
    "links",
]


def links(settings: Settings) -> list[Resource]:
    """Every state, organisation and city with its Wikidata link (or none)."""
    engine = with_engine(settings)
    try:
        return load_resources(engine)
    finally:
        engine.close()


def check(
    settings: Settings,
    *,
    cica_qid: str | None = None,
    observer_qid: str | None = None,
    client: WikidataClient | None = None,
    progress: Progress = SILENT,
) -> Report:
    """Compare our links, codes, labels and CICA memberships with Wikidata's. `progress`
    reports reading our graph, then the queries and requests sent to Wikidata."""
    for given in (cica_qid, observer_qid):
        if given is not None and not QID.match(given):
            raise BadRequest(f"{given!r} is not a Wikidata item ID (Q followed by digits)")
    with progress.stage("read our graph", "resources", "roles") as stage:
        engine = with_engine(settings)
        try:
            resources, roles = load_resources(engine), load_roles(engine)
        finally:
            engine.close()
        stage.update({"resources": len(resources), "roles": len(roles)})
    ask = functools.partial(
        compare, resources, roles, cica_qid=cica_qid, observer_qid=observer_qid, progress=progress
    )
    if client is not None:
        return ask(client)
    client = WikidataClient.from_settings(settings)
    try:
        return ask(client)
    finally:
        client.session.close()


def compare(
    resources: Sequence[Resource],
    roles: Sequence[OurRole],
    client: WikidataClient,
    *,
    cica_qid: str | None = None,
    observer_qid: str | None = None,
    progress: Progress = SILENT,
) -> Report:
    """Our resources and roles against Wikidata's answers, asked through `client`."""
    linked = [r for r in resources if r.qid]
    unlinked = [r for r in resources if not r.qid]
    names = [n for r in unlinked for n in candidate_names(r)]
    findings: list[Finding] = []
    queries = 1 + bool(linked) + bool(names)
    with (
        progress.stage("ask Wikidata", "queries", "requests", totals={"queries": queries}) as stage,
        _reported(client, stage) as answered,
    ):
        if linked:
            qids = sorted({r.qid for r in linked if r.qid}, key=_qnum)
            findings += compare_items(linked, client.select(items_query(qids)))
            answered(1)
        candidate_rows = client.select(candidates_query(names)) if names else []
        answered(bool(names))
        candidates = match_candidates(unlinked, candidate_rows)
        link = next((r.qid for r in resources if r.key == CICA_KEY and r.qid), None)
        known = cica_qid or link
        found_by = "option" if cica_qid else "link" if link else "label"
        rows = client.select(membership_query(known))
        answered(1)
    cica, statements = parse_memberships(rows, known, found_by)
    additions: list[Addition] = []
    if cica is None:
        findings.append(
            Finding(
                "missing",
                CICA_KEY,
                known or "",
                "CICA's item",
                CICA_LABELS[1],
                "",
                "no Wikidata item found"
                + (" with that QID" if known else " with that English label or alias")
                + "; memberships not compared",
            )
        )
    else:
        member_findings, additions = compare_memberships(resources, roles, statements, observer_qid)
        findings += member_findings
    return Report(client.endpoint, cica, findings, candidates, additions, client.requests_made)


@contextlib.contextmanager
def _reported(client: WikidataClient, stage: Stage) -> Iterator[Callable[[int], None]]:
    """While the block runs: the requests `client` makes counted in `stage`, and a retry's
    wait noted (Wikidata may ask for minutes: a terminal then says why nothing moves).
    Yields what to call when queries are answered."""
    retry, before = client.retry, client.requests_made

    def counted() -> None:
        stage.update({"requests": client.requests_made - before})

    def answered(queries: int) -> None:
        stage.advance(queries)
        counted()

    if retry is not None:

        def sleep(seconds: float) -> None:
            counted()
            stage.note(f"retrying in {seconds:g} s")
            retry.sleep(seconds)
            stage.note("")

        client.retry = dataclasses.replace(retry, sleep=sleep)
    try:
        yield answered
    finally:
        client.retry = retry
        counted()


def _qnum(qid: str) -> int:
    return int(qid[1:])
