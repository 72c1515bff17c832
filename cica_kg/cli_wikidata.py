"""`cica-kg wikidata …`: our links to Wikidata, their check against the Wikidata Query
Service, and QuickStatements for what Wikidata lacks. A thin shell over cica_kg.wikidata.

Exit codes of `check`: 0 everything agrees, 1 differences or missing statements, 2 the
check could not be made (Wikidata unreachable after the retries, no published build)."""

from __future__ import annotations

import sys

import click

from . import errors
from . import wikidata as wd
from .cli_common import fail, store_options
from .settings import Settings

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
@store_options
@format_option
def links(settings: Settings, fmt: str) -> None:
    """Every state, organisation and city with its Wikidata item, or "missing"."""
    try:
        resources = wd.links(settings)
    except errors.CicaError as exc:
        fail(f"error: {exc}")
    click.echo(wd.links_json(resources) if fmt == "json" else wd.links_table(resources))


@wikidata.command()
@store_options
@format_option
@cica_qid_option
@observer_qid_option
def check(settings: Settings, fmt: str, cica_qid: str | None, observer_qid: str | None) -> None:
    """Compare our links, ISO codes, labels and CICA memberships with Wikidata's.

    Exit 0 when all agree, 1 on differences or missing statements, 2 when Wikidata could
    not be reached."""
    report = _check(settings, cica_qid, observer_qid)
    click.echo(wd.report_json(report) if fmt == "json" else wd.report_table(report))
    sys.exit(report.exit_code)


@wikidata.command()
@store_options
@cica_qid_option
@observer_qid_option
def quickstatements(settings: Settings, cica_qid: str | None, observer_qid: str | None) -> None:
    """QuickStatements v1 commands adding the memberships and observer statuses (with
    their dates and a reference URL) that Wikidata lacks. Lines starting with # are notes."""
    report = _check(settings, cica_qid, observer_qid)
    lines, code = wd.quickstatements(report, observer_qid)
    click.echo("\n".join(lines))
    sys.exit(code)


def _check(settings: Settings, cica_qid: str | None, observer_qid: str | None) -> wd.Report:
    try:
        return wd.check(settings, cica_qid=cica_qid, observer_qid=observer_qid)
    except wd.WikidataError as exc:
        fail(f"error: {exc}", 2)
    except errors.CicaError as exc:
        fail(f"error: {exc}", 2)
    raise AssertionError("unreachable")
