"""Internal SPARQL lives in .rq files beside the code that runs it; this reads each once."""

from __future__ import annotations

from functools import cache
from importlib import resources


@cache
def query_text(package: str, name: str) -> str:
    """The text of `name` (an .rq file) in the package `package`, read once per process."""
    return resources.files(package).joinpath(name).read_text(encoding="utf-8")
