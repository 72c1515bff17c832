"""File-system helpers shared by the build and the export: an exclusive lock on a
directory, and fsync of a directory (so a rename in it survives a crash)."""

from __future__ import annotations

import contextlib
import fcntl
import os
from collections.abc import Iterator
from pathlib import Path

from .errors import Busy


@contextlib.contextmanager
def directory_lock(directory: Path, name: str, busy: str) -> Iterator[None]:
    """Hold `directory/name` locked, or raise Busy(busy) if someone else does."""
    directory.mkdir(parents=True, exist_ok=True)
    with open(directory / name, "w") as lock:
        try:
            fcntl.flock(lock, fcntl.LOCK_EX | fcntl.LOCK_NB)
        except BlockingIOError:
            raise Busy(busy) from None
        yield


def fsync_dir(path: Path) -> None:
    fd = os.open(path, os.O_RDONLY)
    try:
        os.fsync(fd)
    finally:
        os.close(fd)
