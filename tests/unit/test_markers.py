"""The marks `make test-fast` relies on: every test listed as slow in tests/conftest.py still
exists (a renamed test would silently become "fast"), and the markers are registered."""

from __future__ import annotations

import tomllib
from pathlib import Path

from conftest import SLOW

TESTS = Path(__file__).resolve().parent.parent


def test_every_slow_entry_names_an_existing_test() -> None:
    missing = []
    for entry in sorted(SLOW):
        file_name, test_name = entry.split("::")
        files = list(TESTS.rglob(file_name))
        if not any(f"def {test_name}(" in f.read_text("utf-8") for f in files):
            missing.append(entry)
    assert not missing


def test_markers_are_registered() -> None:
    config = tomllib.loads((TESTS.parent / "pyproject.toml").read_text("utf-8"))
    markers = config["tool"]["pytest"]["ini_options"]["markers"]
    assert {m.split(":")[0] for m in markers} >= {"slow", "server", "browser"}
