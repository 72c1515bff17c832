"""Validation: the SHACL shapes and the SPARQL checks in queries/checks/*-violation.rq,
where every returned row is a named data error.

The shapes run either in pyshacl (the reference implementation, on an rdflib copy of the
data: shacl_pyshacl) or compiled to SPARQL and run by Oxigraph on the store itself
(shacl_shapes reads the shapes, shacl_compile compiles them, shacl_run runs them; the tests
hold them to pyshacl's answers); `auto` picks pyshacl for small datasets, where it costs
about a second, and the compiled shapes from PYSHACL_MAX_TRIPLES on, where pyshacl needs
minutes and gigabytes. The shapes and every check are independent read-only queries, so they
run concurrently, one thread per core (Oxigraph releases the GIL while querying)."""

from __future__ import annotations

import os
from collections.abc import Callable, Mapping
from concurrent.futures import ThreadPoolExecutor
from functools import partial
from pathlib import Path

import pyoxigraph as ox

from ..errors import SettingsError
from ..namespaces import BASE, iris
from ..progress import Stage
from ..settings import SHACL_ENGINES
from . import shacl_run
from .checks import check_files, run_check
from .problem import Problem
from .shacl_pyshacl import shape_problems

PYSHACL_MAX_TRIPLES = 200_000


def shacl_engine(store: ox.Store, engine: str) -> str:
    """The validator `engine` ("auto", "pyshacl" or "sparql") means for this store."""
    if engine not in SHACL_ENGINES:
        raise SettingsError(f"unknown SHACL validator {engine!r}: use one of {SHACL_ENGINES}")
    if engine == "auto":
        return "pyshacl" if len(store) <= PYSHACL_MAX_TRIPLES else "sparql"
    return engine


def validate(
    store: ox.Store,
    checks_dir: Path,
    shacl: str = "auto",
    snapshot: Mapping[Path, bytes] | None = None,
    *,
    base: str = BASE,
    stage: Stage | None = None,
) -> list[Problem]:
    """All problems of a loaded dataset whose IRIs are under `base`: the shapes' first, then
    each check's in file order. The checks' text comes from `snapshot` when given (the bytes
    the build id was made of), rebased from the canonical base to `base`. `stage` counts
    the shapes' tasks and the checks done."""
    ns = iris(base)
    checks: list[Callable[[], list[Problem]]] = []
    for path in check_files(checks_dir):
        if snapshot and path in snapshot:
            text = snapshot[path].decode()
        else:
            text = path.read_text(encoding="utf-8")
        checks.append(partial(run_check, store, path, ns.rebase(text)))
    shapes_graph = ns.graph_iri("shapes")
    with ThreadPoolExecutor(max_workers=os.cpu_count() or 2) as pool:
        if shacl_engine(store, shacl) == "pyshacl":
            shapes = [pool.submit(shape_problems, store, shapes_graph)]
        else:  # each compiled constraint is a task of its own, for an even spread
            constraints, graphs = shacl_run.prepare(store, shapes_graph)
            shapes = [pool.submit(shacl_run.problems, c, store, graphs) for c in constraints]
        found = [pool.submit(check) for check in checks]
        if stage is not None:
            stage.update(totals={"checks": len(shapes) + len(found)})
            for future in [*shapes, *found]:
                future.add_done_callback(lambda _: stage.advance())
        shape_rows = shacl_run.sort_problems(p for f in shapes for p in f.result())
        return shape_rows + [problem for future in found for problem in future.result()]
