"""What every `cica-kg` command shares: the store options turned into Settings, and the one
way failures are printed (`reports_errors`)."""

from __future__ import annotations

import functools
import sys
from collections.abc import Callable
from pathlib import Path
from typing import Any

import click

from ..errors import CicaError, ValidationError
from ..progress import Progress
from ..settings import Settings

PathOption = click.Path(path_type=Path)


def store_options(func: Callable[..., Any]) -> Callable[..., Any]:
    """--store, --data-dir, --ontology-dir, --queries-dir, turned into a Settings object
    (a CICA_KG_* variable that cannot be read raises errors.SettingsError)."""

    @click.option("--store", type=PathOption, help="Store directory [env CICA_KG_STORE].")
    @click.option("--data-dir", type=PathOption, help="Data directory [env CICA_KG_DATA_DIR].")
    @click.option(
        "--ontology-dir", type=PathOption, help="Ontology directory [env CICA_KG_ONTOLOGY_DIR]."
    )
    @click.option(
        "--queries-dir", type=PathOption, help="Queries directory [env CICA_KG_QUERIES_DIR]."
    )
    @click.option(
        "--engine",
        metavar="URL",
        help="Query this remote SPARQL 1.1 endpoint, not the embedded store [env CICA_KG_ENGINE].",
    )
    @functools.wraps(func)
    def wrapper(store, data_dir, ontology_dir, queries_dir, engine, **kwargs):  # type: ignore[no-untyped-def]
        settings = Settings.from_env(
            store=store,
            data_dir=data_dir,
            ontology_dir=ontology_dir,
            queries_dir=queries_dir,
            engine=engine,
        )
        return func(settings, **kwargs)

    return wrapper


def progress_option(func: Callable[..., Any]) -> Callable[..., Any]:
    """--quiet, and the command's Progress on stderr passed as `progress`: redrawn in place
    on a terminal, one line per stage elsewhere. Closed when the command ends, so that a
    live line is cleared before reports_errors prints an error."""

    @click.option("--quiet", is_flag=True, help="No progress on stderr (errors still are).")
    @functools.wraps(func)
    def wrapper(*args: Any, quiet: bool, **kwargs: Any) -> Any:
        with Progress(quiet=quiet) as progress:
            return func(*args, progress=progress, **kwargs)

    return wrapper


def reports_errors(
    failed: str = "", exit_code: int | None = None
) -> Callable[[Callable[..., Any]], Callable[..., Any]]:
    """The one error wrapper of the commands: a CicaError (or an OSError) is printed as
    `error: …` on stderr, and the command exits with the error's exit code.

    `failed` names the operation, printed before the errors that broke it under way (I/O,
    a busy lock, an unreachable engine: `error: export failed: …`); errors about what it was
    given (a file that does not parse, no build) are printed as they are. `exit_code`
    replaces the errors' own, for commands whose answer already uses 1. Put it above
    @store_options, so that settings that cannot be read are reported too."""

    def decorate(func: Callable[..., Any]) -> Callable[..., Any]:
        @functools.wraps(func)
        def wrapper(*args: Any, **kwargs: Any) -> Any:
            try:
                return func(*args, **kwargs)
            except (CicaError, OSError) as exc:
                for line in _report(exc, failed):
                    click.echo(line, err=True)
                sys.exit(exit_code or getattr(exc, "exit_code", 1))

        return wrapper

    return decorate


def _report(exc: CicaError | OSError, failed: str) -> list[str]:
    if isinstance(exc, ValidationError):  # every problem, then what it means
        lines = [f"error: {problem}" for problem in exc.problems]
        return [*lines, f"{len(exc.problems)} problem(s); nothing was published"]
    midway = isinstance(exc, OSError) or exc.midway
    return [f"error: {failed}: {exc}" if failed and midway else f"error: {exc}"]
