"""QuickStatements v1 commands for the memberships, observer statuses and dates that
Wikidata lacks, with notes for those that must be added by hand."""

from __future__ import annotations

from .model import Addition, Report


def quickstatements(report: Report, observer_qid: str | None = None) -> tuple[list[str], int]:
    """QuickStatements v1 lines for what Wikidata lacks, and the exit code (2 when CICA's
    item is unknown). Lines starting with # are notes for the reader, not commands."""
    if report.cica is None:
        return [
            "# CICA's Wikidata item is unknown (no item has its English label or alias); "
            "give --cica-qid Q… to write QuickStatements"
        ], 2
    cica = report.cica.qid
    lines = [f"# QuickStatements v1: P463 (member of) {cica} statements that Wikidata lacks"]
    if not report.additions:
        return lines + ["# nothing to add: Wikidata has every membership and date we have"], 0
    new_items: set[str] = set()
    for addition in report.additions:
        command = qs_command(addition, cica, observer_qid)
        reason = _blocked(addition, observer_qid, new_items)
        if reason:
            lines.append(f"# not emitted ({reason}): {command}")
            continue
        if addition.new_statement:
            new_items.add(addition.member_qid)
        lines.append(command)
    return lines, 0


def qs_command(addition: Addition, cica: str, observer_qid: str | None) -> str:
    parts = [addition.member_qid, "P463", cica]
    if addition.new_statement and addition.role == "observer":
        parts += ["P2868", observer_qid or "<observer>"]
    if addition.start:
        parts += ["P580", addition.start.quickstatements()]
    if addition.end:
        parts += ["P582", addition.end.quickstatements()]
    if addition.url:
        parts += ["S854", '"' + addition.url.replace('"', "%22") + '"']
    return "\t".join(parts)


def _blocked(
    addition: Addition,
    observer_qid: str | None,
    new_items: set[str],
) -> str:
    """Why a command must be added by hand instead ("" if it can go to QuickStatements).
    QuickStatements v1 adds qualifiers to an existing statement with the same value instead
    of creating a second one, so an item gets at most one new P463 statement to CICA."""
    qid = addition.member_qid
    if addition.new_statement and addition.role == "observer" and observer_qid is None:
        return 'no verified QID for the role "observer" as P2868 value; give --observer-qid'
    if addition.new_statement and qid in new_items:
        return (
            f"{qid} gets a P463 statement to CICA above; QuickStatements v1 would merge "
            "into it: add by hand"
        )
    if addition.new_statement and addition.existing:
        return (
            f"{qid} already has a P463 statement to CICA; QuickStatements v1 would merge "
            "into it: add by hand"
        )
    if not addition.new_statement and addition.existing != 1:
        return f"{qid} has several P463 statements to CICA: add the qualifiers by hand"
    return ""
