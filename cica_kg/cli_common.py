"""What every `cica-kg` command shares: the store options turned into Settings, and how
failures are printed."""

from __future__ import annotations

import functools
import sys
from collections.abc import Callable
from pathlib import Path
from typing import Any

import click

from .load import LoadError
from .settings import Settings
from .validate import ValidationError

PathOption = click.Path(path_type=Path)


def store_options(func: Callable[..., Any]) -> Callable[..., Any]:
    """--store, --data-dir, --ontology-dir, --queries-dir, turned into a Settings object."""

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
        try:
            settings = Settings.from_env(
                store=store,
                data_dir=data_dir,
                ontology_dir=ontology_dir,
                queries_dir=queries_dir,
                engine=engine,
            )
        except ValueError as exc:  # a CICA_KG_* variable that cannot be read
            fail(f"error: {exc}", 2)
        return func(settings, **kwargs)

    return wrapper


def fail(message: str, code: int = 1) -> None:
    click.echo(message, err=True)
    sys.exit(code)


def report_problems(exc: LoadError | ValidationError) -> None:
    """Print a load error (file:line:column) or every validation problem, then exit 1."""
    if isinstance(exc, LoadError):
        fail(f"error: {exc}")
        return
    for problem in exc.problems:
        click.echo(f"error: {problem}", err=True)
    fail(f"{len(exc.problems)} problem(s); nothing was published")
