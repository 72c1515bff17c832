"""`cica-kg export`: write the RDF dumps, the state-year panel, void.ttl and SHA256SUMS of the
published build."""

from __future__ import annotations

from pathlib import Path

import click

from .. import export as exporting
from ..export import ExportResult
from ..export.files import SUMS_FILE
from ..namespaces import BASE
from ..progress import Progress
from ..settings import Settings
from .common import PathOption, progress_option, reports_errors, store_options


@click.command("export")
@reports_errors(failed="export failed")
@store_options
@click.option(
    "--out",
    type=PathOption,
    help="Directory to write into [env CICA_KG_DUMPS_DIR, default <store>/dumps, "
    "which `cica-kg serve` publishes at /dumps/].",
)
@click.option(
    "--base-url",
    help="Public root URL of the site: void.ttl announces the dumps at <URL>dumps/<file> and "
    "the endpoint at <URL>sparql [env CICA_KG_PUBLIC_URL, default the base IRI "
    f"{BASE}].",
)
@click.option(
    "--jobs",
    type=click.IntRange(min=1),
    help=f"Worker processes [default: the CPUs available, at most {exporting.MAX_JOBS}; "
    "1: everything in this process].",
)
@click.option(
    "--timeout",
    type=click.FloatRange(min=0, min_open=True),
    default=exporting.REMOTE_TIMEOUT,
    show_default=True,
    help="With --engine: seconds the engine may take to start answering, or pause within "
    "an answer (each graph is one CONSTRUCT answer, however long it takes in all).",
)
@progress_option
def export(
    settings: Settings,
    out: Path | None,
    base_url: str | None,
    jobs: int | None,
    timeout: float,
    progress: Progress,
) -> None:
    """Write the graph as Turtle, N-Triples, N-Quads, TriG, JSON-LD and RDF/XML (each also
    gzipped), the state-year panel as CSV (cica-kg-state-year.csv: the canned query
    state-year), a VoID + DCAT description (void.ttl) and SHA256SUMS. Output is sorted and
    byte-identical for the same build. With --engine, the graphs are read from that SPARQL
    1.1 endpoint instead of the store (its named graphs, or its default graph when it has
    none), and the panel is its answer to state-year."""
    result = exporting.export(
        settings.store,
        out or settings.dumps_path,
        base_url=base_url or settings.public_url or settings.base_iri,
        jobs=jobs,
        engine=settings.engine or None,
        base_iri=settings.base_iri if settings.engine else None,  # a build records its own
        timeout=timeout,
        progress=progress,
    )
    for note in result.notes:
        click.echo(f"note: {note}", err=True)
    click.echo(summary(result))


def summary(result: ExportResult) -> str:
    """What was exported from where, how big and how long, then the files written."""
    stats = result.stats
    origin = (
        f"{result.source} as {result.build_id}"
        if result.built_at is None
        else f"build {result.build_id} ({result.built_at})"
    )
    lines = [
        f"exported {origin}: {stats.triples} triples, {stats.quads} quads, "
        f"in {result.seconds:.1f} s"
    ]
    lines += [f"{dump.size:>12}  {dump.name}" for dump in result.files]
    lines.append(f"into {result.out_dir} (checksums in {SUMS_FILE})")
    return "\n".join(lines)
