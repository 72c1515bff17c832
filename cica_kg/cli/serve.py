"""`cica-kg serve`: build if needed (else keep the last good build), then run the server."""

from __future__ import annotations

import click

from .. import build as building
from ..progress import Progress
from ..settings import Settings
from .common import reports_errors, store_options


@click.command()
@reports_errors(failed="no build to serve")
@store_options
@click.option("--host", help="Listen address [env CICA_KG_HOST, default 127.0.0.1].")
@click.option("--port", type=int, help="Port [env CICA_KG_PORT, default 8000].")
@click.option("--workers", type=int, help="Web worker processes [env CICA_KG_WORKERS].")
@click.option("--threads", type=int, help="Threads per worker [env CICA_KG_THREADS].")
@click.option("--query-timeout", type=float, help="Query time limit, seconds.")
@click.option("--quiet", is_flag=True, help="No progress of the build on stderr.")
def serve(
    settings: Settings,
    host: str | None,
    port: int | None,
    workers: int | None,
    threads: int | None,
    query_timeout: float | None,
    quiet: bool,
) -> None:
    """Serve the graph over HTTP (building the store first if it is missing or stale)."""
    from ..web.server import serve as run_server  # uvicorn: only for this command

    settings = settings.replace(
        host=host, port=port, workers=workers, threads=threads, query_timeout=query_timeout
    )
    if settings.engine:
        click.echo(f"queries go to the remote engine {settings.engine}", err=True)
    else:
        with Progress(quiet=quiet) as progress:  # the build's stages, before serving
            result, problem = building.build_or_keep(settings, progress=progress)
        if problem is not None:
            warning = f"inputs do not build ({problem}); serving the last good build"
            click.echo(f"warning: {warning}", err=True)
        elif result is not None and result.changed:
            click.echo(f"built {result.info.build_id} ({result.info.triples} triples)", err=True)
    click.echo(f"serving http://{settings.host}:{settings.port}/sparql", err=True)
    run_server(settings)
