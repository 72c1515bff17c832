"""`cica-kg validate`, `build` and `stats`: the inputs checked, the store published, and
what it holds."""

from __future__ import annotations

import click

from .. import build as building
from .. import stats as counting
from ..progress import Progress
from ..settings import Settings
from .common import progress_option, reports_errors, store_options


@click.command()
@reports_errors()
@store_options
@progress_option
def validate(settings: Settings, progress: Progress) -> None:
    """Parse every ontology and data file, run the SHACL shapes and the violation queries."""
    checked = building.check(settings, progress=progress)
    click.echo(f"ok: {len(checked.files)} files, {len(checked.dataset)} triples, no problems")


@click.command()
@reports_errors(failed="build failed, the published store is unchanged")
@store_options
@click.option("--force", is_flag=True, help="Rebuild even if the inputs did not change.")
@progress_option
def build(settings: Settings, force: bool, progress: Progress) -> None:
    """Validate, then publish a new store beside the old one and switch atomically."""
    result = building.build(settings, force=force, progress=progress)
    info = result.info
    state = "published" if result.changed else "up to date"
    click.echo(f"{state}: build {info.build_id} ({info.built_at}), {info.triples} triples")
    click.echo(f"store: {info.path}")


@click.command()
@reports_errors()
@store_options
def stats(settings: Settings) -> None:
    """Triples per named graph and instances per class in the published store (or the
    remote engine)."""
    info, result = counting.stats(settings)
    click.echo(f"build {info.build_id} ({info.built_at})")
    click.echo(f"{result.triples} triples in {len(result.graphs)} named graphs\n")
    for graph, count in result.graphs.items():
        click.echo(f"{count:>8}  {graph}")
    click.echo("\ninstances per class:")
    for cls, count in result.classes:
        click.echo(f"{count:>8}  {cls}")
