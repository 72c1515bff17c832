"""Parse the ontology and data files, each into its own named graph.

A syntax error is reported as `file:line:column: message`, the position pyoxigraph's parser
gives, so an editor can jump to it."""

from __future__ import annotations

import hashlib
from collections.abc import Callable, Iterable
from dataclasses import dataclass
from pathlib import Path

import pyoxigraph as ox

from .errors import LoadError
from .namespaces import BASE, iris
from .progress import BYTES, Stage


@dataclass(frozen=True)
class InputFile:
    path: Path
    graph: str  # the named graph IRI the file's triples go to

    @property
    def stem(self) -> str:
        return self.path.stem


def input_files(ontology_dir: Path, data_dir: Path, base: str = BASE) -> list[InputFile]:
    """The Turtle files of the ontology and data directories, in a stable order.

    File stems name the graphs (under `base`), so two files with the same stem are an error."""
    files = sorted(ontology_dir.glob("*.ttl")) + sorted(data_dir.glob("*.ttl"))
    if not files:
        raise LoadError(data_dir, None, None, "no Turtle files found")
    seen: dict[str, Path] = {}
    for path in files:
        if path.stem in seen:
            raise LoadError(path, None, None, f"file name clashes with {seen[path.stem]}")
        seen[path.stem] = path
    return [InputFile(path, iris(base).graph_iri(path.stem)) for path in files]


def read_inputs(
    paths: Iterable[Path], on_read: Callable[[bytes], None] | None = None
) -> dict[Path, bytes]:
    """Every input file's bytes, read once: the build id and the build both come from this
    snapshot, so an edit during a build cannot give old content a new id. `on_read` is
    called with each file's bytes (for progress)."""
    snapshot = {}
    for path in paths:
        try:
            snapshot[path] = path.read_bytes()
        except OSError as exc:
            raise LoadError(path, None, None, exc.strerror or str(exc)) from None
        if on_read is not None:
            on_read(snapshot[path])
    return snapshot


def inputs_digest(snapshot: dict[Path, bytes], base: str = BASE) -> str:
    """The build id: a content hash of the input files' names and bytes, and of the base of
    the graph's IRIs (the same files built under another base make another graph)."""
    digest = hashlib.sha256()
    if base != BASE:  # not hashed for the canonical base: its build ids stay as they were
        digest.update(b"base\0" + base.encode() + b"\0")
    for path, data in snapshot.items():
        digest.update(path.name.encode() + b"\0")
        digest.update(hashlib.sha256(data).digest())
    return digest.hexdigest()[:16]


def load_file(store: ox.Store, f: InputFile, data: bytes) -> None:
    """Load one Turtle file (its bytes) into its named graph of `store`, with the bulk
    loader (no transaction: a failed load leaves part of the file, so load into a store
    that is thrown away on error)."""
    try:
        store.bulk_load(input=data, format=ox.RdfFormat.TURTLE, to_graph=ox.NamedNode(f.graph))
    except SyntaxError as exc:
        message = exc.msg or str(exc)
        raise LoadError(f.path, exc.lineno, exc.offset, message) from None


def load_dataset(
    files: Iterable[InputFile],
    snapshot: dict[Path, bytes],
    into: ox.Store | None = None,
    stage: Stage | None = None,
) -> ox.Store:
    """A store (in memory unless `into` is given) with every file in its own named graph;
    `stage` counts the files and bytes loaded."""
    store = ox.Store() if into is None else into
    files = list(files)
    if stage is not None:
        total = sum(len(snapshot[f.path]) for f in files)
        stage.update(totals={BYTES: total, "files": len(files)})
    for f in files:
        load_file(store, f, snapshot[f.path])
        if stage is not None:
            stage.advance(len(snapshot[f.path]), {"files": 1})
    return store
