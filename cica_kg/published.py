"""Open the published build read-only."""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path

import pyoxigraph as ox

from .build import BuildInfo, current_build


class NoBuildError(Exception):
    def __init__(self, root: Path):
        super().__init__(f"no published build in {root}; run `cica-kg build` first")


@dataclass(frozen=True)
class Published:
    store: ox.Store
    info: BuildInfo


def open_current(root: Path) -> Published:
    info = current_build(root)
    if info is None:
        raise NoBuildError(root)
    return Published(ox.Store.read_only(str(info.store_path)), info)
