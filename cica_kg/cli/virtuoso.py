"""`cica-kg load-virtuoso`: the dumps loaded into a Virtuoso 7, for `serve --engine`."""

from __future__ import annotations

from pathlib import Path

import click

from .. import virtuoso
from ..settings import Settings
from .common import PathOption, reports_errors


@click.command("load-virtuoso")
@reports_errors(failed="load failed")
@click.option(
    "--dumps",
    type=PathOption,
    help="Directory holding cica-kg.nq, in the server's DirsAllowed [env CICA_KG_DUMPS_DIR, "
    "default <store>/dumps, where `cica-kg export` writes].",
)
@click.option(
    "--server",
    default="127.0.0.1:1111",
    show_default=True,
    envvar="CICA_KG_VIRTUOSO",
    help="Virtuoso's SQL (isql) address [env CICA_KG_VIRTUOSO].",
)
@click.option("--user", default="dba", show_default=True, help="Virtuoso user.")
@click.option(
    "--password",
    default="dba",
    envvar="CICA_KG_VIRTUOSO_PASSWORD",
    help="Virtuoso password [env CICA_KG_VIRTUOSO_PASSWORD, default dba].",
)
@click.option("--isql", metavar="PATH", help="Virtuoso's isql [default: isql-vt or isql-v].")
def load_virtuoso(
    dumps: Path | None, server: str, user: str, password: str, isql: str | None
) -> None:
    """Load the dumps (cica-kg.nq) into a Virtuoso 7, replacing the project's graphs there;
    then serve it with `cica-kg serve --engine http://HOST:8890/sparql`."""
    settings = Settings.from_env()
    result = virtuoso.load(
        dumps or settings.dumps_path, server, user, password, isql, settings.base_iri
    )
    click.echo(
        f"loaded {result.path} into Virtuoso at {server}: {result.triples} triples in "
        f"{result.graphs} graphs ({len(result.cleared)} graphs replaced) in "
        f"{result.seconds:.1f} s"
    )
