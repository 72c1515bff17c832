"""The store directory's layout and the build it currently publishes (build.py writes and
switches builds). Apart from build.py so that the query engine reads the current build
without importing the build pipeline, which imports canned, which imports the engine."""

from __future__ import annotations

import json
from dataclasses import dataclass
from pathlib import Path

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

    @property
    def store_path(self) -> Path:
        return self.path / STORE_DIR

    @classmethod
    def read(cls, build_dir: Path) -> BuildInfo:
        raw = json.loads((build_dir / INFO_FILE).read_text(encoding="utf-8"))
        return cls(raw["build_id"], raw["built_at"], build_dir, raw["triples"], raw["graphs"])


def current_build(store_root: Path) -> BuildInfo | None:
    """The published build, or None if nothing was ever built."""
    link = store_root / CURRENT
    try:
        target = link.resolve(strict=True)
        return BuildInfo.read(target)
    except (FileNotFoundError, NotADirectoryError, json.JSONDecodeError, KeyError):
        return None
