"""The `cica-kg` command: a thin shell over the library. Each command parses its options,
calls one library function and prints the outcome."""

from __future__ import annotations

import json
from pathlib import Path

import click

from . import build as building
from . import canned, currency, errors, formats
from .cli_common import fail, report_problems, store_options
from .cli_export import export
from .cli_wikidata import wikidata
from .load import LoadError
from .namespaces import PREFIXES
from .query import Engine, InlinePool
from .settings import Settings
from .store import NoBuildError, current_build, open_current
from .store import stats as store_stats
from .validate import ValidationError


@click.group(context_settings={"help_option_names": ["-h", "--help"]})
@click.version_option(package_name="cica-kg")
def cli() -> None:
    """CICA-KG: the CICA knowledge graph (build, validate, query, serve, export)."""


@cli.command()
@store_options
def validate(settings: Settings) -> None:
    """Parse every ontology and data file, run the SHACL shapes and the violation queries."""
    try:
        checked = building.check(settings)
    except (LoadError, ValidationError) as exc:
        report_problems(exc)
    click.echo(f"ok: {len(checked.files)} files, {len(checked.dataset)} triples, no problems")


@cli.command()
@store_options
@click.option("--force", is_flag=True, help="Rebuild even if the inputs did not change.")
def build(settings: Settings, force: bool) -> None:
    """Validate, then publish a new store beside the old one and switch atomically."""
    try:
        result = building.build(settings, force=force)
    except (LoadError, ValidationError) as exc:
        report_problems(exc)
    except (OSError, RuntimeError) as exc:
        fail(f"error: build failed, the published store is unchanged: {exc}")
    info = result.info
    state = "published" if result.changed else "up to date"
    click.echo(f"{state}: build {info.build_id} ({info.built_at}), {info.triples} triples")
    click.echo(f"store: {info.path}")


@cli.command()
@store_options
def stats(settings: Settings) -> None:
    """Triples per named graph and instances per class in the published store."""
    try:
        published = open_current(settings.store)
    except NoBuildError as exc:
        fail(f"error: {exc}")
    result = store_stats(published.store)
    click.echo(f"build {published.info.build_id} ({published.info.built_at})")
    click.echo(f"{result.triples} triples in {len(result.graphs)} named graphs\n")
    for graph, count in result.graphs.items():
        click.echo(f"{count:>8}  {graph}")
    click.echo("\ninstances per class:")
    for cls, count in result.classes:
        click.echo(f"{count:>8}  {cls}")


@cli.command()
@store_options
@click.option("--host", help="Listen address [env CICA_KG_HOST, default 127.0.0.1].")
@click.option("--port", type=int, help="Port [env CICA_KG_PORT, default 8000].")
@click.option("--workers", type=int, help="Web worker processes [env CICA_KG_WORKERS].")
@click.option("--threads", type=int, help="Threads per worker [env CICA_KG_THREADS].")
@click.option("--query-timeout", type=float, help="Query time limit, seconds.")
def serve(
    settings: Settings,
    host: str | None,
    port: int | None,
    workers: int | None,
    threads: int | None,
    query_timeout: float | None,
) -> None:
    """Serve the graph over HTTP (building the store first if it is missing or stale)."""
    from .web.server import serve as run_server

    settings = settings.replace(
        host=host, port=port, workers=workers, threads=threads, query_timeout=query_timeout
    )
    if settings.engine:
        click.echo(f"queries go to the remote engine {settings.engine}", err=True)
        click.echo(f"serving http://{settings.host}:{settings.port}/sparql", err=True)
        run_server(settings)
        return
    try:
        result = building.build(settings)
    except (LoadError, ValidationError, OSError, RuntimeError) as exc:
        if current_build(settings.store) is None:
            if isinstance(exc, LoadError | ValidationError):
                report_problems(exc)
            fail(f"error: no build to serve: {exc}")
        click.echo(f"warning: inputs do not build ({exc}); serving the last good build", err=True)
    else:
        if result.changed:
            click.echo(f"built {result.info.build_id} ({result.info.triples} triples)", err=True)
    click.echo(f"serving http://{settings.host}:{settings.port}/sparql", err=True)
    run_server(settings)


@cli.command("queries")
@store_options
def list_queries(settings: Settings) -> None:
    """List the canned queries with their parameters."""
    for q in canned.load_catalogue(settings.queries_dir).values():
        params = " ".join(
            f"[{p.name}={p.example}]" if not p.required else f"{p.name}={p.example}"
            for p in q.params
        )
        click.echo(f"{q.name:<22} {q.title}" + (f"  {params}" if params else ""))


@cli.command("query")
@store_options
@click.argument("name_or_file")
@click.option(
    "--param", "-p", "params", multiple=True, metavar="NAME=VALUE", help="A parameter value."
)
@click.option(
    "--format",
    "-f",
    "fmt",
    type=click.Choice(["table", "json", "csv", "tsv", "xml", "ttl", "nt", "jsonld", "rdfxml"]),
    default="table",
    show_default=True,
)
def query_command(settings: Settings, name_or_file: str, params: tuple[str, ...], fmt: str) -> None:
    """Run a canned query by name, or a .rq file, on the published store."""
    try:
        query = _find_query(settings, name_or_file)
        raw = dict(_split_param(p) for p in params)
        engine = Engine(settings, pool=None if settings.engine else InlinePool())
        if fmt not in ["table"] + [f.name for f in formats.offered_for(query.form)]:
            kind = "SELECT/ASK results" if query.form in ("SELECT", "ASK") else "RDF"
            raise errors.BadRequest(f"--format {fmt} cannot hold {kind} of {query.name}")
        answer = canned.run(engine, query, raw, "json" if fmt == "table" else fmt)
        day = currency.as_of(query, raw)
        notices = currency.notices(engine, day) if day is not None else []
    except (errors.CicaError, canned.CatalogueError) as exc:
        fail(f"error: {exc}")
    if fmt == "table":
        click.echo(canned.table(json.loads(answer.body), PREFIXES))
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
    catalogue = canned.load_catalogue(settings.queries_dir)
    if name_or_file not in catalogue:
        raise errors.NotFound(f"no canned query {name_or_file!r}; `cica-kg queries` lists them")
    return catalogue[name_or_file]


def _split_param(raw: str) -> tuple[str, str]:
    name, sep, value = raw.partition("=")
    if not sep or not name:
        raise errors.BadRequest(f"--param {raw!r}: write NAME=VALUE")
    return name.strip(), value


cli.add_command(export)
cli.add_command(wikidata)


def main() -> None:
    cli(prog_name="cica-kg")
