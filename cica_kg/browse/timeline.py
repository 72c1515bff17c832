"""The membership timeline's data: each state's observer, membership and chair periods, and
the summits (web/timeline_svg.py draws them)."""

from __future__ import annotations

import datetime as dt
from collections.abc import Callable
from dataclasses import dataclass

from ..namespaces import Iris
from ..sparql_files import query_text

Rows = list[dict[str, dict[str, str]]]
Select = Callable[..., Rows]


@dataclass(frozen=True)
class Period:
    state: str
    label: str
    iso3: str
    role: str  # member, observer, chair
    start: dt.date
    end: dt.date | None
    uncertain: bool


@dataclass(frozen=True)
class Marker:
    label: str
    ordinal: int
    date: dt.date
    planned: bool


def _query(name: str, iris: Iris) -> str:
    return iris.rebase(query_text(__package__ or "cica_kg.browse", name))


def periods(select: Select, iris: Iris) -> list[Period]:
    """Every state's periods as member, observer and chair."""
    out = []
    for r in select(_query("timeline-roles.rq", iris)):
        role = r["role"]["value"].removeprefix(iris.cica).removesuffix("Role")
        out.append(
            Period(
                state=r["state"]["value"],
                label=r["label"]["value"],
                iso3=r["iso3"]["value"],
                role=role,
                start=dt.date.fromisoformat(r["start"]["value"]),
                end=dt.date.fromisoformat(r["end"]["value"]) if "end" in r else None,
                uncertain=r.get("uncertain", {}).get("value") == "true",
            )
        )
    return out


def markers(select: Select, iris: Iris) -> list[Marker]:
    """The summits, held and planned."""
    return [
        Marker(
            r["label"]["value"],
            int(r["ordinal"]["value"]),
            dt.date.fromisoformat(r["start"]["value"]),
            r["status"]["value"] == iris.cica + "planned",
        )
        for r in select(_query("timeline-summits.rq", iris))
    ]
