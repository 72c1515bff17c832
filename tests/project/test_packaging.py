"""The wheel carries the ontology, data, queries and web assets: `pip install` it into a fresh
venv, then `cica-kg build` and `cica-kg query` work from any directory (issue 2)."""

from __future__ import annotations

import subprocess
import sys
import zipfile
from pathlib import Path

from conftest import REPO


def test_wheel_installs_and_builds_from_another_directory(tmp_path: Path) -> None:
    wheels = tmp_path / "wheels"
    subprocess.run(
        [sys.executable, "-m", "pip", "wheel", str(REPO), "--no-deps", "--no-build-isolation",
         "-q", "-w", str(wheels)],
        check=True,
    )  # fmt: skip
    (wheel,) = wheels.glob("cica_kg-*.whl")
    names = set(zipfile.ZipFile(wheel).namelist())
    for shipped in (
        "cica_kg/_resources/ontology/cica.ttl",
        "cica_kg/_resources/ontology/shapes.ttl",
        "cica_kg/_resources/data/memberships.ttl",
        "cica_kg/_resources/queries/members.rq",
        "cica_kg/_resources/queries/checks/dangling-reference-violation.rq",
        "cica_kg/web/static/yasgui/yasgui.min.js",
        "cica_kg/web/templates/base.html",
    ):
        assert shipped in names, shipped
    venv = tmp_path / "venv"
    subprocess.run([sys.executable, "-m", "venv", str(venv)], check=True)
    pip = [str(venv / "bin" / "python"), "-m", "pip", "install", "-q", str(wheel)]
    subprocess.run(pip, check=True)
    elsewhere = tmp_path / "elsewhere"
    elsewhere.mkdir()
    cica = str(venv / "bin" / "cica-kg")
    store = ["--store", str(tmp_path / "store")]
    built = subprocess.run([cica, "build", *store], cwd=elsewhere, capture_output=True, text=True)
    assert built.returncode == 0, built.stderr
    assert built.stdout.startswith("published: build ")
    chair = subprocess.run(
        [cica, "query", "chair", *store, "-p", "date=2016-01-01", "-f", "csv"],
        cwd=elsewhere, capture_output=True, text=True,
    )  # fmt: skip
    assert chair.returncode == 0, chair.stderr
    assert chair.stdout.splitlines()[1].split(",")[2] == "CHN"
