"""Counts of a built store: triples per named graph, instances per class."""

from __future__ import annotations

from dataclasses import dataclass

import pyoxigraph as ox

from .build import graph_sizes

CLASS_COUNTS = """
SELECT ?class (COUNT(DISTINCT ?s) AS ?n) WHERE { ?s a ?class }
GROUP BY ?class ORDER BY DESC(?n) ?class
"""


@dataclass(frozen=True)
class Stats:
    triples: int
    graphs: dict[str, int]
    classes: list[tuple[str, int]]


def compute(store: ox.Store) -> Stats:
    rows = store.query(CLASS_COUNTS, use_default_graph_as_union=True)
    assert isinstance(rows, ox.QuerySolutions)
    classes = [(row["class"].value, int(row["n"].value)) for row in rows]
    return Stats(triples=len(store), graphs=graph_sizes(store), classes=classes)
