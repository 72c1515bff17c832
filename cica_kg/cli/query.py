"""`cica-kg queries` and `cica-kg query`: the canned queries listed, and one run (or a .rq
file) on the published store."""

from __future__ import annotations

import json
from pathlib import Path

import click

from .. import canned, currency, errors, formats
from ..namespaces import iris
from ..query import Engine, InlinePool
from ..settings import Settings
from .common import reports_errors, store_options

FORMATS = ["table", "json", "csv", "tsv", "xml", "ttl", "nt", "jsonld", "rdfxml"]


@click.command("queries")
@reports_errors()
@store_options
def list_queries(settings: Settings) -> None:
    """List the canned queries with their parameters."""
    for q in canned.load_catalogue(settings.queries_dir, base=settings.base_iri).values():
        params = " ".join(
            f"[{p.name}={p.example}]" if not p.required else f"{p.name}={p.example}"
            for p in q.params
        )
        click.echo(f"{q.name:<22} {q.title}" + (f"  {params}" if params else ""))


@click.command("query")
@reports_errors()
@store_options
@click.argument("name_or_file")
@click.option(
    "--param", "-p", "params", multiple=True, metavar="NAME=VALUE", help="A parameter value."
)
@click.option(
    "--format", "-f", "fmt", type=click.Choice(FORMATS), default="table", show_default=True
)
def query_command(settings: Settings, name_or_file: str, params: tuple[str, ...], fmt: str) -> None:
    """Run a canned query by name, or a .rq file, on the published store."""
    query = _find_query(settings, name_or_file)
    raw = dict(_split_param(p) for p in params)
    engine = Engine(settings, pool=None if settings.engine else InlinePool())
    _check_format(query, fmt)
    answer = canned.run(engine, query, raw, "json" if fmt == "table" else fmt)
    day = currency.as_of(query, raw)
    notices = currency.notices(engine, day) if day is not None else []
    if fmt == "table":
        click.echo(canned.table(json.loads(answer.body), iris(settings.base_iri).prefixes))
    else:
        click.echo(answer.body.decode("utf-8"), nl=False)
    if answer.truncated:
        click.echo(f"warning: result cut at {answer.rows} rows (max_result_rows)", err=True)
    for line in notices:  # as-of queries: how current the data are
        click.echo(line, err=True)


def _find_query(settings: Settings, name_or_file: str) -> canned.CannedQuery:
    path = Path(name_or_file)
    if path.suffix == ".rq" and path.is_file():
        return canned.parse(path, strict=False)
    catalogue = canned.load_catalogue(settings.queries_dir, base=settings.base_iri)
    if name_or_file not in catalogue:
        raise errors.NotFound(f"no canned query {name_or_file!r}; `cica-kg queries` lists them")
    return catalogue[name_or_file]


def _split_param(raw: str) -> tuple[str, str]:
    name, sep, value = raw.partition("=")
    if not sep or not name:
        raise errors.BadRequest(f"--param {raw!r}: write NAME=VALUE")
    return name.strip(), value


def _check_format(query: canned.CannedQuery, fmt: str) -> None:
    if fmt not in ["table"] + [f.name for f in formats.offered_for(query.form)]:
        kind = "SELECT/ASK results" if query.form in ("SELECT", "ASK") else "RDF"
        raise errors.BadRequest(f"--format {fmt} cannot hold {kind} of {query.name}")
