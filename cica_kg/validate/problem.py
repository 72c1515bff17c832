"""A named data error, as validation reports it (shapes and checks alike)."""

from __future__ import annotations

from dataclasses import dataclass


@dataclass(frozen=True)
class Problem:
    """One data error: a shape violation or a check's row."""

    check: str  # shape IRI or check file name
    focus: str  # the node in error
    message: str
    path: str = ""  # the property, for shape violations

    def __str__(self) -> str:
        path = f" path {self.path}" if self.path else ""
        return f"{self.focus}{path}: {self.message} [{self.check}]"
