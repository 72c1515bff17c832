"""The published store: its layout on disk, which build is current, and opening it.

Layout of the store directory (the `store` setting):

    <store>/builds/<build-id>-<time>/oxigraph/   a complete Oxigraph (RocksDB) store
    <store>/builds/<build-id>-<time>/build.json  build id, time, inputs, counts
    <store>/current -> builds/<build-id>-<time>  the published build (a symlink)

`build` writes new builds and switches `current`; everything else reads through here."""

from __future__ import annotations

import json
from dataclasses import dataclass
from pathlib import Path

import pyoxigraph as ox

from .errors import NoBuildError
from .namespaces import BASE
from .sparql_files import query_text

CURRENT = "current"
BUILDS = "builds"
STORE_DIR = "oxigraph"
INFO_FILE = "build.json"


@dataclass(frozen=True)
class BuildInfo:
    build_id: str
    built_at: str  # ISO 8601, UTC
    path: Path  # the build directory
    triples: int
    graphs: dict[str, int]  # named graph IRI -> triples
    base_iri: str = BASE  # the base the build's IRIs are under (the base_iri setting)

    @property
    def store_path(self) -> Path:
        return self.path / STORE_DIR

    @classmethod
    def read(cls, build_dir: Path) -> BuildInfo:
        raw = json.loads((build_dir / INFO_FILE).read_text(encoding="utf-8"))
        return cls(
            raw["build_id"],
            raw["built_at"],
            build_dir,
            raw["triples"],
            raw["graphs"],
            raw.get("base_iri", BASE),  # builds made before it was recorded: the canonical
        )


def current_build(store_root: Path) -> BuildInfo | None:
    """The published build, or None if nothing was ever built."""
    link = store_root / CURRENT
    try:
        target = link.resolve(strict=True)
        return BuildInfo.read(target)
    except (FileNotFoundError, NotADirectoryError, json.JSONDecodeError, KeyError):
        return None


@dataclass(frozen=True)
class Published:
    store: ox.Store
    info: BuildInfo


def open_current(root: Path) -> Published:
    """The published build, opened read-only."""
    info = current_build(root)
    if info is None:
        raise NoBuildError(root)
    return Published(ox.Store.read_only(str(info.store_path)), info)


# -- counts of a store ----------------------------------------------------------------------


def graph_sizes(store: ox.Store) -> dict[str, int]:
    """Triples per named graph."""
    rows = store.query(query_text(__package__ or "cica_kg", "graph-sizes.rq"))
    assert isinstance(rows, ox.QuerySolutions)
    return {row["g"].value: int(row["n"].value) for row in sorted(rows, key=lambda r: r["g"].value)}


@dataclass(frozen=True)
class Stats:
    triples: int
    graphs: dict[str, int]
    classes: list[tuple[str, int]]


def stats(store: ox.Store) -> Stats:
    """Triples per named graph and instances per class."""
    query = query_text(__package__ or "cica_kg", "class-counts.rq")
    rows = store.query(query, use_default_graph_as_union=True)
    assert isinstance(rows, ox.QuerySolutions)
    classes = [(row["class"].value, int(row["n"].value)) for row in rows]
    return Stats(triples=len(store), graphs=graph_sizes(store), classes=classes)
