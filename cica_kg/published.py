"""Open the published build read-only, and notice when a new build replaces it."""

from __future__ import annotations

import os
import threading
from dataclasses import dataclass
from pathlib import Path

import pyoxigraph as ox

from .build import CURRENT, BuildInfo, current_build


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


class PublishedStore:
    """The current build, reopened when `<store>/current` points elsewhere (a new build).

    Checking costs one readlink per call; a reader keeps using the handle it got, which
    stays valid because old builds are only pruned some builds later."""

    def __init__(self, root: Path):
        self.root = root
        self._lock = threading.Lock()
        self._target: str | None = None
        self._published: Published | None = None

    def get(self) -> Published:
        try:
            target = os.readlink(self.root / CURRENT)
        except OSError:
            target = None
        with self._lock:
            if self._published is None or target != self._target:
                self._published = open_current(self.root)
                self._target = target
            return self._published
