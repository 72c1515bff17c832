"""The `cica-kg` command: a thin shell over the library. Each command parses its options,
calls one library function and prints the outcome; failures are printed by one wrapper
(common.reports_errors). One module per group of commands: build (validate, build, stats),
serve, query (queries, query), export, virtuoso (load-virtuoso), wikidata."""

from __future__ import annotations

import click

from . import build, export, query, serve, virtuoso, wikidata


@click.group(context_settings={"help_option_names": ["-h", "--help"]})
@click.version_option(package_name="cica-kg")
def cli() -> None:
    """CICA-KG: the CICA knowledge graph (build, validate, query, serve, export)."""


for _command in (
    build.validate,
    build.build,
    build.stats,
    serve.serve,
    query.list_queries,
    query.query_command,
    export.export,
    virtuoso.load_virtuoso,
    wikidata.wikidata,
):
    cli.add_command(_command)


def main() -> None:
    cli(prog_name="cica-kg")
