"""Wikidata tooling: our owl:sameAs links, a client of the Wikidata Query Service (WDQS),
the comparison of our data with Wikidata's, and QuickStatements for what Wikidata lacks.

A check sends at most three batched queries to Wikidata: the linked items (one VALUES over
all of them), candidate items for our resources without a link (by English label or alias),
and the P463 "member of" statements that point at CICA's item (found by its English label
unless its QID is known). Our own graph is read through the Engine facade.

The parts: model (the values), ours (our graph), client (HTTP to WDQS), wdqs_queries (the
query templates), comparison, quickstatements. Rendering is the CLI's (cli/wikidata.py)."""

from __future__ import annotations

from collections.abc import Sequence

from ..errors import BadRequest
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
) -> Report:
    """Compare our links, codes, labels and CICA memberships with Wikidata's."""
    for given in (cica_qid, observer_qid):
        if given is not None and not QID.match(given):
            raise BadRequest(f"{given!r} is not a Wikidata item ID (Q followed by digits)")
    engine = with_engine(settings)
    try:
        resources, roles = load_resources(engine), load_roles(engine)
    finally:
        engine.close()
    if client is not None:
        return compare(resources, roles, client, cica_qid=cica_qid, observer_qid=observer_qid)
    client = WikidataClient.from_settings(settings)
    try:
        return compare(resources, roles, client, cica_qid=cica_qid, observer_qid=observer_qid)
    finally:
        client.session.close()


def compare(
    resources: Sequence[Resource],
    roles: Sequence[OurRole],
    client: WikidataClient,
    *,
    cica_qid: str | None = None,
    observer_qid: str | None = None,
) -> Report:
    """Our resources and roles against Wikidata's answers, asked through `client`."""
    linked = [r for r in resources if r.qid]
    unlinked = [r for r in resources if not r.qid]
    findings: list[Finding] = []
    if linked:
        rows = client.select(items_query(sorted({r.qid for r in linked if r.qid}, key=_qnum)))
        findings += compare_items(linked, rows)
    names = [n for r in unlinked for n in candidate_names(r)]
    candidate_rows = client.select(candidates_query(names)) if names else []
    candidates = match_candidates(unlinked, candidate_rows)
    link = next((r.qid for r in resources if r.key == CICA_KEY and r.qid), None)
    known = cica_qid or link
    found_by = "option" if cica_qid else "link" if link else "label"
    cica, statements = parse_memberships(client.select(membership_query(known)), known, found_by)
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


def _qnum(qid: str) -> int:
    return int(qid[1:])
