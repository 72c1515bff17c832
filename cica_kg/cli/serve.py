"""`cica-kg serve`: build if needed (else keep the last good build), then run the server."""

from __future__ import annotations

import logging

import click

from .. import build as building
from .. import logs
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
    # With a JSON log, the command's own lines (and the build's progress) are JSON events too.
    json_log = settings.log_format == "json"
    if json_log:
        logs.configure("json")
    log = logging.getLogger("cica_kg.serve")

    def say(message: str, level: int = logging.INFO) -> None:
        if json_log:
            log.log(level, message)
        else:
            prefix = "warning: " if level == logging.WARNING else ""
            click.echo(prefix + message, err=True)

    if settings.engine:
        say(f"queries go to the remote engine {settings.engine}")
    else:
        stream = logs.LogLines(logging.getLogger("cica_kg.build")) if json_log else None
        with Progress(stream, quiet=quiet) as progress:  # the build's stages, before serving
            result, problem = building.build_or_keep(settings, progress=progress)
        if problem is not None:
            say(f"inputs do not build ({problem}); serving the last good build", logging.WARNING)
        elif result is not None and result.changed:
            say(f"built {result.info.build_id} ({result.info.triples} triples)")
    say(f"serving http://{settings.host}:{settings.port}/sparql")
    run_server(settings)
