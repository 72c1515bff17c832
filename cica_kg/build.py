"""Build the published store: snapshot the inputs, load and validate them, write a new
on-disk store beside the published one, switch atomically, prune old builds. The layout of the
store directory is in `store`.

A build writes into builds/.tmp-…, fsyncs, renames it into place and replaces the
`current` link with os.replace(), which is atomic: readers see the old build or the new
one, never a half-written one. A failed or killed build leaves `current` untouched."""

from __future__ import annotations

import contextlib
import json
import os
import shutil
import time
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import pyoxigraph as ox

from . import __version__
from .canned import catalogue_files, examples_rdf, load_catalogue
from .errors import CatalogueError, CicaError, LoadError, ValidationError
from .fsutil import directory_lock, fsync_dir
from .load import InputFile, input_files, inputs_digest, load_dataset, read_inputs
from .namespaces import iris
from .progress import BYTES, SILENT, Progress
from .settings import Settings
from .store import BUILDS, CURRENT, INFO_FILE, STORE_DIR, BuildInfo, current_build, graph_sizes
from .validate import validate
from .validate.checks import check_files


@dataclass(frozen=True)
class BuildResult:
    info: BuildInfo
    changed: bool  # False when the published build was already up to date


def input_paths(settings: Settings, files: list[InputFile]) -> list[Path]:
    """Everything a build depends on: the Turtle files, the canned queries and the checks."""
    queries = catalogue_files(settings.queries_dir) + check_files(settings.queries_dir / "checks")
    return [f.path for f in files] + queries


def pending_build_id(settings: Settings) -> str:
    """The build id the current inputs would get."""
    return inputs_digest(snapshot_inputs(settings)[1], settings.base_iri)


@dataclass(frozen=True)
class Checked:
    """Inputs that loaded and validated: the files, the dataset and its build id."""

    files: list[InputFile]
    dataset: ox.Store
    build_id: str


def snapshot_inputs(
    settings: Settings, progress: Progress = SILENT
) -> tuple[list[InputFile], dict[Path, bytes]]:
    """The input files and their bytes, read once."""
    with progress.stage("read inputs", "files", BYTES) as stage:
        files = input_files(settings.ontology_dir, settings.data_dir, settings.base_iri)

        def on_read(data: bytes) -> None:
            stage.advance(1, {BYTES: len(data)})

        return files, read_inputs(input_paths(settings, files), on_read)


def check(
    settings: Settings,
    inputs: tuple[list[InputFile], dict[Path, bytes]] | None = None,
    progress: Progress = SILENT,
) -> Checked:
    """Load the inputs (read once) into memory and validate them; raise LoadError or
    ValidationError. `progress` reports the stages: read inputs, load, validate."""
    files, snapshot = inputs or snapshot_inputs(settings, progress)
    build_id = inputs_digest(snapshot, settings.base_iri)
    return Checked(files, _validated(settings, files, snapshot, progress), build_id)


def _validated(
    settings: Settings,
    files: list[InputFile],
    snapshot: dict[Path, bytes],
    progress: Progress = SILENT,
) -> ox.Store:
    """The inputs loaded into memory, once validation found nothing."""
    with progress.stage("load", BYTES, "files") as stage:
        dataset = load_dataset(files, snapshot, stage=stage)
        dataset.extend(queries_quads(settings, snapshot))
    checks = settings.queries_dir / "checks"
    # One check may take a hundred times another: no rate, no time left.
    with progress.stage("validate", "checks", "problems", estimate=False) as stage:
        problems = validate(
            dataset, checks, settings.shacl, snapshot, base=settings.base_iri, stage=stage
        )
        stage.update({"problems": len(problems)})
    if problems:
        raise ValidationError(problems)
    return dataset


def queries_quads(settings: Settings, snapshot: dict[Path, bytes]) -> list[ox.Quad]:
    """The canned queries' catalogue as RDF (under the base), in the queries graph."""
    try:
        catalogue = load_catalogue(settings.queries_dir, snapshot, base=settings.base_iri)
    except CatalogueError as exc:
        raise LoadError(settings.queries_dir, None, None, str(exc)) from None
    graph = ox.NamedNode(iris(settings.base_iri).graph_iri("queries"))
    return [ox.Quad(t.subject, t.predicate, t.object, graph) for t in examples_rdf(catalogue)]


def _build_lock(store_root: Path) -> contextlib.AbstractContextManager[None]:
    return directory_lock(store_root, ".build.lock", f"another build is running on {store_root}")


def build(settings: Settings, force: bool = False, progress: Progress = SILENT) -> BuildResult:
    """Validate the inputs and publish them as a new build (unless already published: then
    nothing is loaded or validated again, which keeps `cica-kg serve` quick to start).
    `progress` reports the stages: read inputs, load, validate, write store, publish."""
    inputs = snapshot_inputs(settings, progress)
    files, snapshot = inputs
    build_id = inputs_digest(snapshot, settings.base_iri)
    published = current_build(settings.store)
    if not force and published is not None and published.build_id == build_id:
        return BuildResult(published, changed=False)
    root = settings.store
    root.mkdir(parents=True, exist_ok=True)
    with _build_lock(root):
        published = current_build(root)
        if published is not None and published.build_id == build_id and not force:
            return BuildResult(published, changed=False)
        builds = root / BUILDS
        builds.mkdir(exist_ok=True)
        _remove_stale_temporaries(builds)
        # Unique to the nanosecond: a rebuild never reuses (and never removes) a name.
        now = time.time_ns()
        stamp = time.strftime("%Y%m%dT%H%M%S", time.gmtime(now // 10**9)) + f".{now % 10**9:09d}Z"
        tmp = builds / f".tmp-{build_id}-{stamp}-{os.getpid()}"
        try:
            tmp.mkdir()
            # The on-disk store is bulk-loaded from the same bytes while the in-memory copy is
            # validated (both release the GIL); it is published only if validation passes.
            with ThreadPoolExecutor(max_workers=1) as writer:
                written = writer.submit(_write_store, tmp / STORE_DIR, settings, inputs, progress)
                _validated(settings, files, snapshot, progress)
                graphs = written.result()
            with progress.stage("publish"):
                _write_info(tmp, build_id, files, graphs, settings.base_iri)
                final = builds / f"{build_id}-{stamp}"
                os.rename(tmp, final)
                fsync_dir(builds)
                _switch(root, final)
        except BaseException:
            shutil.rmtree(tmp, ignore_errors=True)
            raise
        _prune(builds, keep=settings.keep_builds, current=final)
        return BuildResult(BuildInfo.read(final), changed=True)


def build_or_keep(
    settings: Settings, progress: Progress = SILENT
) -> tuple[BuildResult | None, CicaError | OSError | None]:
    """For `serve`: build (if the inputs changed); when that fails but an earlier build is
    published, keep that one: (None, the failure). Raises when there is nothing to serve."""
    try:
        return build(settings, progress=progress), None
    except (CicaError, OSError) as exc:
        if current_build(settings.store) is None:
            raise
        return None, exc


def _write_store(
    path: Path,
    settings: Settings,
    inputs: tuple[list[InputFile], dict[Path, bytes]],
    progress: Progress = SILENT,
) -> dict[str, int]:
    """Bulk-load the inputs into a new on-disk store at `path`; its triples per graph."""
    files, snapshot = inputs
    with progress.stage("write store", BYTES, "files") as stage:
        store = ox.Store(str(path))
        load_dataset(files, snapshot, into=store, stage=stage)
        store.extend(queries_quads(settings, snapshot))
        stage.note("optimizing")
        store.flush()
        store.optimize()
        graphs = graph_sizes(store)
        stage.update({"triples": sum(graphs.values())})
        del store  # closes RocksDB before the directory is renamed
    return graphs


def _write_info(
    tmp: Path, build_id: str, files: list[InputFile], graphs: dict[str, int], base_iri: str
) -> None:
    """build.json, then fsync everything: the build is complete before it is renamed."""
    info: dict[str, Any] = {
        "build_id": build_id,
        "built_at": time.strftime("%Y-%m-%dT%H:%M:%SZ", time.gmtime()),
        "cica_kg_version": __version__,
        "triples": sum(graphs.values()),
        "graphs": graphs,
        "inputs": [f.path.name for f in files],
        "base_iri": base_iri,
    }
    (tmp / INFO_FILE).write_text(json.dumps(info, indent=2) + "\n", encoding="utf-8")
    for path in tmp.rglob("*"):
        if path.is_file():
            with open(path, "rb") as fh:
                os.fsync(fh.fileno())
        elif path.is_dir():
            fsync_dir(path)
    fsync_dir(tmp)


def _switch(root: Path, final: Path) -> None:
    link_tmp = root / f".{CURRENT}.tmp-{os.getpid()}"
    with contextlib.suppress(FileNotFoundError):
        link_tmp.unlink()
    os.symlink(Path(BUILDS) / final.name, link_tmp)
    os.replace(link_tmp, root / CURRENT)
    fsync_dir(root)


def _remove_stale_temporaries(builds: Path) -> None:
    """Builds killed half-way leave .tmp-* directories; we hold the lock, so none is live."""
    for path in builds.glob(".tmp-*"):
        shutil.rmtree(path, ignore_errors=True)


def _prune(builds: Path, keep: int, current: Path) -> None:
    complete = sorted(
        (p for p in builds.iterdir() if not p.name.startswith(".") and p.is_dir()),
        key=lambda p: p.name.split("-", 1)[-1],
    )
    for path in complete[: max(0, len(complete) - max(keep, 1))]:
        if path != current:
            shutil.rmtree(path, ignore_errors=True)
