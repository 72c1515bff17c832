"""Where the shipped ontology, data and queries are: inside the installed wheel
(cica_kg/_resources/, put there by the build) or, in a source checkout, the repository root."""

from __future__ import annotations

from pathlib import Path

_PACKAGE = Path(__file__).resolve().parent


def _root() -> Path:
    bundled = _PACKAGE / "_resources"
    return bundled if (bundled / "ontology").is_dir() else _PACKAGE.parent


def ontology_dir() -> Path:
    return _root() / "ontology"


def data_dir() -> Path:
    return _root() / "data"


def queries_dir() -> Path:
    return _root() / "queries"


def static_dir() -> Path:
    return _PACKAGE / "web" / "static"
