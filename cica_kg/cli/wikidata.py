"""`cica-kg wikidata …`: our links to Wikidata, their check against the Wikidata Query
Service, and QuickStatements for what Wikidata lacks. A thin shell over cica_kg.wikidata, which
also owns the presentation of its answers (text tables and JSON, at the end).

Exit codes of `check`: 0 everything agrees, 1 differences or missing statements, 2 the
check could not be made (Wikidata unreachable after the retries, no published build: any
error, whatever its own exit code)."""

from __future__ import annotations

import json
import sys
from collections.abc import Sequence

import click

from .. import text_table
from .. import wikidata as wd
from ..namespaces import WD
from ..progress import Progress
from ..settings import Settings
from ..wikidata import quickstatements as qs
from ..wikidata.model import STATUS_ORDER, Finding
from .common import progress_option, reports_errors, store_options

QID_HELP = "Wikidata item ID (Q…)"


def _qid(ctx: click.Context, param: click.Parameter, value: str | None) -> str | None:
    if value is not None and not wd.QID.match(value):
        raise click.BadParameter(f"{value!r} is not a {QID_HELP}")
    return value


cica_qid_option = click.option(
    "--cica-qid",
    callback=_qid,
    metavar="QID",
    help="CICA's Wikidata item (default: our owl:sameAs, else found by its English label).",
)
observer_qid_option = click.option(
    "--observer-qid",
    callback=_qid,
    metavar="QID",
    help='Item for the role "observer" (P2868 value). Without it observer statuses are '
    "matched by any P2868 role and not written as QuickStatements.",
)
format_option = click.option(
    "--format",
    "-f",
    "fmt",
    type=click.Choice(["table", "json"]),
    default="table",
    show_default=True,
)


@click.group()
def wikidata() -> None:
    """Links to Wikidata: list them, check them against Wikidata, write QuickStatements."""


@wikidata.command()
@reports_errors()
@store_options
@format_option
def links(settings: Settings, fmt: str) -> None:
    """Every state, organisation and city with its Wikidata item, or "missing"."""
    resources = wd.links(settings)
    click.echo(links_json(resources) if fmt == "json" else links_table(resources))


@wikidata.command()
@reports_errors(exit_code=2)
@store_options
@format_option
@cica_qid_option
@observer_qid_option
@progress_option
def check(
    settings: Settings,
    fmt: str,
    cica_qid: str | None,
    observer_qid: str | None,
    progress: Progress,
) -> None:
    """Compare our links, ISO codes, labels and CICA memberships with Wikidata's.

    Exit 0 when all agree, 1 on differences or missing statements, 2 when Wikidata could
    not be reached."""
    report = wd.check(settings, cica_qid=cica_qid, observer_qid=observer_qid, progress=progress)
    click.echo(report_json(report) if fmt == "json" else report_table(report))
    sys.exit(report.exit_code)


@wikidata.command()
@reports_errors(exit_code=2)
@store_options
@cica_qid_option
@observer_qid_option
@progress_option
def quickstatements(
    settings: Settings, cica_qid: str | None, observer_qid: str | None, progress: Progress
) -> None:
    """QuickStatements v1 commands adding the memberships and observer statuses (with
    their dates and a reference URL) that Wikidata lacks. Lines starting with # are notes."""
    report = wd.check(settings, cica_qid=cica_qid, observer_qid=observer_qid, progress=progress)
    lines, code = qs.quickstatements(report, observer_qid)
    click.echo("\n".join(lines))
    sys.exit(code)


# ---------------------------------------------------------------------------------------
#   Rendering: text tables and JSON
# ---------------------------------------------------------------------------------------


def links_json(resources: Sequence[wd.Resource]) -> str:
    items = [
        {
            "resource": r.iri,
            "kind": r.kind,
            "label": r.label,
            "wikidata": WD + r.qid if r.qid else None,
            "qid": r.qid,
            "status": "linked" if r.qid else "missing",
        }
        for r in resources
    ]
    linked = sum(1 for r in resources if r.qid)
    doc = {"linked": linked, "missing": len(resources) - linked, "resources": items}
    return json.dumps(doc, indent=2, ensure_ascii=False)


def links_table(resources: Sequence[wd.Resource]) -> str:
    rows = [[r.kind, r.key, r.label, r.qid or "missing"] for r in resources]
    linked = sum(1 for r in resources if r.qid)
    summary = f"{linked} linked, {len(resources) - linked} missing"
    return text_table.render(["KIND", "RESOURCE", "LABEL", "WIKIDATA"], rows) + "\n" + summary


def report_json(report: wd.Report) -> str:
    doc = {
        "endpoint": report.endpoint,
        "cica_item": None
        if report.cica is None
        else {
            "qid": report.cica.qid,
            "label": report.cica.label,
            "found_by": report.cica.found_by,
            "others": list(report.cica.others),
        },
        "summary": {status: report.count(status) for status in STATUS_ORDER},
        "exit_code": report.exit_code,
        "requests": report.requests,
        "findings": [f.__dict__ for f in _sorted(report.findings)],
        "candidates": {
            key: [c.__dict__ for c in found] for key, found in report.candidates.items()
        },
        "missing_statements": [
            {
                **a.__dict__,
                "start": str(a.start) if a.start else None,
                "end": str(a.end) if a.end else None,
            }
            for a in report.additions
        ],
    }
    return json.dumps(doc, indent=2, ensure_ascii=False)


def _sorted(findings: Sequence[Finding]) -> list[Finding]:
    return sorted(findings, key=lambda f: STATUS_ORDER.index(f.status))


def report_table(report: wd.Report) -> str:
    lines = [f"Wikidata check against {report.endpoint}"]
    if report.cica is None:
        lines.append("CICA item: not found on Wikidata (memberships not compared)")
    else:
        how = {"option": "given by --cica-qid", "link": "our owl:sameAs", "label": "English label"}
        lines.append(
            f'CICA item: {report.cica.qid} "{report.cica.label}" ({how[report.cica.found_by]})'
        )
        if report.cica.others:
            lines.append(f"  other items with CICA's label: {', '.join(report.cica.others)}")
    lines.append("")
    rows = [
        [f.status, f.subject, f.item, f.check, f.ours, f.theirs, f.note]
        for f in _sorted(report.findings)
    ]
    headers = ["STATUS", "SUBJECT", "ITEM", "CHECK", "OURS", "WIKIDATA", "NOTE"]
    lines += [text_table.render(headers, rows), ""]
    lines.append("Candidates for resources without a Wikidata link:")
    for key, found in report.candidates.items():
        if not found:
            lines.append(f"  {key}: none found")
        for c in found:
            text = f'{c.qid} "{c.label}"' + (f" ({c.description})" if c.description else "")
            lines.append(f'  {key}: {text}, {c.via} "{c.matched}"')
    lines.append("")
    counts = ", ".join(f"{report.count(s)} {s}" for s in STATUS_ORDER)
    lines.append(f"{counts}; {report.requests} request(s) to Wikidata")
    return "\n".join(lines)
