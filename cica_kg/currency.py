"""Data currency: the date up to which the graph's data are current (`cica:dataCurrentTo` on
the dataset, data/dataset.ttl), and the warning an answer about a later date carries, since
changes to CICA after that date may be missing from it."""

from __future__ import annotations

import datetime as dt
import threading
from collections.abc import Mapping

from .canned import CannedQuery
from .namespaces import iris
from .query import Engine
from .sparql_files import query_text

HEADER = "CICA-KG-Data-Current-To"
WARNING_HEADER = "CICA-KG-Warning"

_lock = threading.Lock()
_by_build: dict[str, dt.date | None] = {}


def data_current_to(engine: Engine) -> dt.date | None:
    """The currency date of the engine's current build (None when the graph states none),
    read once per build. Raises errors.CicaError when there is no build to ask."""
    build_id = engine.build().build_id
    with _lock:
        if build_id in _by_build:
            return _by_build[build_id]
    text = query_text(__package__ or "cica_kg", "currency.rq")
    rows = engine.select(iris(engine.settings.base_iri).rebase(text))
    value = None
    if rows:
        try:
            value = dt.date.fromisoformat(rows[0]["date"]["value"])
        except ValueError:  # not a date: state no currency rather than a wrong one
            value = None
    with _lock:
        if len(_by_build) > 16:  # builds replaced long ago
            _by_build.clear()
        _by_build[build_id] = value
    return value


def as_of(query: CannedQuery, raw: Mapping[str, str]) -> dt.date | None:
    """The day a canned query is asked about: its latest `date` parameter, defaults applied
    (today for `today`); None when it has none or an optional one is left out. A value that
    is not a date gives None here; binding the parameters reports it."""
    days = []
    for p in query.params:
        if p.type != "date":
            continue
        value = raw.get(p.name, "").strip()
        if not value:
            if p.default in ("required", "optional"):
                continue
            value = dt.date.today().isoformat() if p.default == "today" else p.default
        try:
            days.append(dt.date.fromisoformat(value))
        except ValueError:
            continue
    return max(days, default=None)


def warning(current_to: dt.date | None, day: dt.date | None) -> str | None:
    """The warning for an answer about `day`, when that is later than the data's currency."""
    if current_to is None or day is None or day <= current_to:
        return None
    return (
        f"the data are current to {current_to.isoformat()}; changes to CICA after that date "
        f"may be missing from this answer for {day.isoformat()}"
    )


def notices(engine: Engine, day: dt.date) -> list[str]:
    """What the CLI prints on stderr after an answer about `day`: the data's currency and,
    for a later day, the warning."""
    current_to = data_current_to(engine)
    if current_to is None:
        return []
    text = warning(current_to, day)
    return [f"data current to {current_to.isoformat()}"] + ([f"warning: {text}"] if text else [])
