"""`cica-kg stats`: triples per named graph and instances per class, of the published build
or of a remote engine (the `engine` setting), counted the same way on both."""

from __future__ import annotations

from .query import Engine
from .settings import Settings
from .sparql_files import query_text
from .store import BuildInfo, Stats, open_current
from .store import stats as store_stats


def stats(settings: Settings) -> tuple[BuildInfo, Stats]:
    """The build (or the remote engine as one) and its counts."""
    if not settings.engine:
        published = open_current(settings.store)
        return published.info, store_stats(published.store)
    engine = Engine(settings)
    try:
        info = engine.build()  # the project's graphs and their sizes
        rows = engine.select(query_text(__package__ or "cica_kg", "class-counts.rq"))
    finally:
        engine.close()
    classes = [(r["class"]["value"], int(r["n"]["value"])) for r in rows]
    return info, Stats(triples=info.triples, graphs=info.graphs, classes=classes)
