"""The comparison of our data with Wikidata's answers: the linked items (type, ISO codes,
English label), candidate items for our unlinked resources, and the P463 "member of"
statements to CICA's item against our memberships and observer statuses."""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

from ..namespaces import WD
from .model import (
    Addition,
    Candidate,
    CicaItem,
    Finding,
    OurRole,
    PartialDate,
    Resource,
    Row,
    WikidataRole,
    span,
)

# The classes wdqs-items.rq tests an item against, named in the findings
STATE_CLASSES = ("Q6256", "Q3624078")  # country, sovereign state
ORGANIZATION_CLASS = "Q43229"  # organization
SETTLEMENT_CLASS = "Q486972"  # human settlement


# ---------------------------------------------------------------------------------------
#   Reading Wikidata's SPARQL JSON rows
# ---------------------------------------------------------------------------------------


def _value(row: Row, name: str) -> str:
    return row.get(name, {}).get("value", "")


def _qid(iri: str) -> str:
    return iri.removeprefix(WD)


def _split(text: str) -> set[str]:
    return {part for part in text.split("|") if part}


def _true(row: Row, name: str) -> bool:
    return _value(row, name).lower() in ("true", "1")


# ---------------------------------------------------------------------------------------
#   Comparison: items
# ---------------------------------------------------------------------------------------


def compare_items(linked: Sequence[Resource], rows: Sequence[Row]) -> list[Finding]:
    by_qid = {_qid(_value(row, "item")): row for row in rows}
    findings: list[Finding] = []
    for resource in linked:
        assert resource.qid is not None
        row = by_qid.get(resource.qid, {})
        redirect = _value(row, "redirect")
        if redirect:
            findings.append(
                Finding(
                    "difference",
                    resource.key,
                    resource.qid,
                    "item",
                    resource.qid,
                    f"redirect to {_qid(redirect)}",
                    "the item was merged; link to the target instead",
                )
            )
            continue
        findings.append(_type_finding(resource, row))
        if resource.kind == "state":
            findings.append(_code_finding(resource, row, "iso2", "P297 ISO alpha-2"))
            findings.append(_code_finding(resource, row, "iso3", "P298 ISO alpha-3"))
        findings.append(
            label_finding(resource, _value(row, "label"), _split(_value(row, "aliases")))
        )
    return findings


def _type_finding(resource: Resource, row: Row) -> Finding:
    assert resource.qid is not None
    subject, qid = resource.key, resource.qid
    if resource.kind == "state":
        check = f"P31 state ({'/'.join(STATE_CLASSES)})"
        if _true(row, "isState"):
            return Finding("agree", subject, qid, check, "state", "yes")
        if _value(row, "iso2") or _value(row, "iso3"):
            return Finding(
                "info", subject, qid, check, "state", "no", "not so typed, but has ISO codes"
            )
        return Finding("difference", subject, qid, check, "state", "no", "not a state?")
    if resource.kind == "organization":
        check = f"P31/P279* organization ({ORGANIZATION_CLASS})"
        if _true(row, "isOrganization"):
            return Finding("agree", subject, qid, check, "organisation", "yes")
        return Finding("info", subject, qid, check, "organisation", "no", "could not confirm")
    check = f"P31/P279* settlement ({SETTLEMENT_CLASS})"
    if _true(row, "isSettlement"):
        return Finding("agree", subject, qid, check, "city", "yes")
    return Finding("info", subject, qid, check, "city", "no", "could not confirm")


def _code_finding(resource: Resource, row: Row, name: str, check: str) -> Finding:
    assert resource.qid is not None
    ours = getattr(resource, name) or ""
    theirs = _split(_value(row, name))
    shown = ", ".join(sorted(theirs))
    if not theirs:
        return Finding("missing", resource.key, resource.qid, check, ours, "", "no value")
    if ours in theirs:
        note = "Wikidata has other values too" if len(theirs) > 1 else ""
        return Finding("agree", resource.key, resource.qid, check, ours, shown, note)
    return Finding("difference", resource.key, resource.qid, check, ours, shown)


def label_finding(resource: Resource, label: str, aliases: set[str]) -> Finding:
    """English label: informational only (agree, or info with the nature of the difference)."""
    assert resource.qid is not None
    check = "label (en)"
    if label == resource.label:
        return Finding("agree", resource.key, resource.qid, check, resource.label, label)
    if not label:
        note = "no English label on Wikidata"
    elif label in resource.alt_labels:
        note = "Wikidata's label is one of our altLabels"
    elif resource.label in aliases:
        note = "our label is one of Wikidata's aliases"
    else:
        note = "labels differ"
    return Finding("info", resource.key, resource.qid, check, resource.label, label, note)


# ---------------------------------------------------------------------------------------
#   Comparison: candidates for unlinked resources
# ---------------------------------------------------------------------------------------


def candidate_names(resource: Resource) -> list[str]:
    """English label and altLabels, without the bare acronym (too ambiguous to search)."""
    names = [resource.label, *resource.alt_labels]
    return [n for n in names if n != resource.acronym]


def match_candidates(
    unlinked: Sequence[Resource], rows: Sequence[Row]
) -> dict[str, list[Candidate]]:
    by_name: dict[str, list[Candidate]] = {}
    for row in rows:
        name = _value(row, "name")
        candidate = Candidate(
            qid=_qid(_value(row, "item")),
            label=_value(row, "itemLabel"),
            description=_value(row, "itemDescription"),
            matched=name,
            via=_value(row, "via") or "label",
        )
        by_name.setdefault(name, []).append(candidate)
    result: dict[str, list[Candidate]] = {}
    for resource in unlinked:
        seen: dict[str, Candidate] = {}
        for name in candidate_names(resource):
            for candidate in by_name.get(name, []):
                if candidate.qid not in seen or candidate.via == "label":
                    seen.setdefault(candidate.qid, candidate)
        ranked = sorted(seen.values(), key=lambda c: (c.via != "label", int(c.qid[1:])))
        result[resource.key] = ranked
    return result


# ---------------------------------------------------------------------------------------
#   Comparison: memberships in CICA
# ---------------------------------------------------------------------------------------


def parse_memberships(
    rows: Sequence[Row], known: str | None, found_by: str
) -> tuple[CicaItem | None, list[WikidataRole]]:
    """CICA's item (the known one, else the labelled item with most P463 statements) and
    the statements that point at it."""
    labels: dict[str, str] = {}
    statements: dict[str, dict[str, dict[str, Any]]] = {}
    for row in rows:
        cica = _qid(_value(row, "cica"))
        labels.setdefault(cica, _value(row, "cicaLabel"))
        statements.setdefault(cica, {})
        if "statement" not in row:
            continue
        entry = statements[cica].setdefault(
            _value(row, "statement"),
            {
                "member": _qid(_value(row, "member")),
                "label": _value(row, "memberLabel"),
                "roles": set(),
                "start": _wd_date(row, "start"),
                "end": _wd_date(row, "end"),
            },
        )
        if "role" in row:
            entry["roles"].add(_qid(_value(row, "role")))
    if not statements:
        return None, []
    cica = known or min(statements, key=lambda q: (-len(statements[q]), int(q[1:])))
    item = CicaItem(
        qid=cica,
        label=labels.get(cica, ""),
        found_by=found_by,
        others=tuple(sorted(q for q in statements if q != cica)),
    )
    roles = [
        WikidataRole(
            statement=iri,
            member_qid=e["member"],
            member_label=e["label"],
            roles=tuple(sorted(e["roles"])),
            start=e["start"],
            end=e["end"],
        )
        for iri, e in sorted(statements.get(cica, {}).items())
    ]
    return item, roles


def _wd_date(row: Row, name: str) -> PartialDate | None:
    if name not in row:
        return None
    precision = int(_value(row, name + "Precision") or 11)
    return PartialDate.parse(_value(row, name), precision)


def compare_memberships(
    resources: Sequence[Resource],
    ours: Sequence[OurRole],
    theirs: Sequence[WikidataRole],
    observer_qid: str | None,
) -> tuple[list[Finding], list[Addition]]:
    """Our records against Wikidata's statements, member by member."""
    by_iri = {r.iri: r for r in resources}
    by_member: dict[str, list[WikidataRole]] = {}
    for statement in theirs:
        by_member.setdefault(statement.member_qid, []).append(statement)
    findings: list[Finding] = []
    additions: list[Addition] = []
    order = {r.iri: i for i, r in enumerate(resources)}
    records = sorted(
        ours, key=lambda r: (order.get(r.member, 0), r.role != "member", r.start or _NO_DATE)
    )
    unmatched = {s.statement: s for s in theirs}
    for record in records:
        member = by_iri.get(record.member)
        if member is None or member.qid is None:
            key = member.key if member else record.member
            findings.append(
                Finding(
                    "info",
                    record.key,
                    "",
                    _statement_check(record.role),
                    _describe(record),
                    "",
                    f"not compared: {key} unlinked",
                )
            )
            continue
        existing = by_member.get(member.qid, [])
        match = _match(record, [s for s in existing if s.statement in unmatched], observer_qid)
        if match is None:
            findings.append(
                Finding(
                    "missing",
                    record.key,
                    member.qid,
                    _statement_check(record.role),
                    _describe(record),
                    "",
                    "no such statement on Wikidata",
                )
            )
            additions.append(_addition(record, member, None, None, True, len(existing)))
            continue
        del unmatched[match.statement]
        lenient = observer_qid is None and record.role == "observer"
        found, addition = _compare_dates(record, member, match, len(existing), lenient)
        findings += found
        if addition is not None:
            additions.append(addition)
    by_qid = {r.qid: r for r in resources if r.qid}
    for statement in unmatched.values():
        ours_member = by_qid.get(statement.member_qid)
        findings.append(
            Finding(
                "difference",
                ours_member.key if ours_member else statement.member_label or "(not ours)",
                statement.member_qid,
                "P463 CICA",
                "",
                statement.describe(),
                "on Wikidata, not in our data",
            )
        )
    return findings, additions


_NO_DATE = PartialDate(0, 0, 0, 9)


def _statement_check(role: str) -> str:
    return f"P463 CICA {role}"


def _describe(record: OurRole) -> str:
    return span(record.start, record.end) or "no dates"


def _match(
    record: OurRole, statements: Sequence[WikidataRole], observer_qid: str | None
) -> WikidataRole | None:
    same_kind = [s for s in statements if s.kind(observer_qid) == record.role]
    for statement in same_kind:
        if record.start and statement.start and record.start.agrees(statement.start):
            return statement
    return same_kind[0] if same_kind else None


def _compare_dates(
    record: OurRole, member: Resource, statement: WikidataRole, existing: int, lenient: bool
) -> tuple[list[Finding], Addition | None]:
    assert member.qid is not None
    note = "any P2868 role taken as observer" if lenient else ""
    findings = [
        Finding(
            "agree",
            record.key,
            member.qid,
            _statement_check(record.role),
            _describe(record),
            statement.describe(),
            note,
        )
    ]
    lacking: dict[str, PartialDate] = {}
    for name, check in (("start", "P580 start time"), ("end", "P582 end time")):
        mine: PartialDate | None = getattr(record, name)
        theirs: PartialDate | None = getattr(statement, name)
        if mine is None and theirs is None:
            continue
        if mine is None:
            findings.append(
                Finding("difference", record.key, member.qid, check, "", str(theirs), "not ours")
            )
        elif theirs is None:
            findings.append(
                Finding("missing", record.key, member.qid, check, str(mine), "", "no qualifier")
            )
            lacking[name] = mine
        elif mine.agrees(theirs):
            findings.append(Finding("agree", record.key, member.qid, check, str(mine), str(theirs)))
        else:
            findings.append(
                Finding("difference", record.key, member.qid, check, str(mine), str(theirs))
            )
    if not lacking:
        return findings, None
    addition = _addition(record, member, lacking.get("start"), lacking.get("end"), False, existing)
    return findings, addition


def _addition(
    record: OurRole,
    member: Resource,
    start: PartialDate | None,
    end: PartialDate | None,
    new_statement: bool,
    existing: int,
) -> Addition:
    assert member.qid is not None
    return Addition(
        subject=record.key,
        member_qid=member.qid,
        member_label=member.label,
        role=record.role,
        start=record.start if new_statement else start,
        end=record.end if new_statement else end,
        url=record.url,
        new_statement=new_statement,
        existing=existing,
    )
