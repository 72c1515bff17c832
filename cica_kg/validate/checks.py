"""The SPARQL checks, queries/checks/*-violation.rq: every row a check returns is a named data
error, with the node in error as ?focus and the error as ?message."""

from __future__ import annotations

from pathlib import Path

import pyoxigraph as ox

from .problem import Problem


def check_files(checks_dir: Path) -> list[Path]:
    return sorted(checks_dir.glob("*-violation.rq"))


def run_check(store: ox.Store, path: Path, text: str | None = None) -> list[Problem]:
    """The rows of the check `path` (its `text` when given, else the file's) as problems."""
    query = path.read_text(encoding="utf-8") if text is None else text
    result = store.query(query, use_default_graph_as_union=True)
    assert isinstance(result, ox.QuerySolutions), f"{path.name} must be a SELECT query"
    return [
        Problem(
            check=path.name,
            focus=row["focus"].value if row["focus"] is not None else "",
            message=row["message"].value if row["message"] is not None else "(no message)",
        )
        for row in result
    ]
