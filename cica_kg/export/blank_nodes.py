"""Blank nodes, canonicalized (RDFC-1.0) over every graph together, so that the dumps are
the same whatever labels the store or the engine gave them. Runs in the parent process."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pyoxigraph as ox

from .sources import graph_term


def _scoped(term: Any, index: int) -> Any:
    """A remote engine's blank-node labels are scoped to one answer (one graph here)."""
    if isinstance(term, ox.BlankNode):
        return ox.BlankNode(f"g{index}x{term.value}")
    if isinstance(term, ox.Triple):
        return ox.Triple(_scoped(term.subject, index), term.predicate, _scoped(term.object, index))
    return term


def canonical_blank_lines(aside: list[tuple[str, Path]], remote: bool) -> dict[str, list[bytes]]:
    """The set-aside lines of every graph, blank nodes relabelled by RDFC-1.0 over all of
    them together: {graph key (canonical): sorted, distinct N-Triples lines}."""
    quads = []
    for index, (key, path) in enumerate(aside):
        graph = graph_term(key)
        if remote and isinstance(graph, ox.BlankNode):
            graph = _scoped(graph, index)
        for quad in ox.parse(path=str(path), format=ox.RdfFormat.N_TRIPLES):
            subject, obj = quad.subject, quad.object
            if remote:
                subject, obj = _scoped(subject, index), _scoped(obj, index)
            quads.append(ox.Quad(subject, quad.predicate, obj, graph))
    dataset = ox.Dataset(quads)
    del quads
    dataset.canonicalize(ox.CanonicalizationAlgorithm.RDFC_1_0)
    by_graph: dict[str, set[bytes]] = {}
    for quad in dataset:
        key = "" if isinstance(quad.graph_name, ox.DefaultGraph) else str(quad.graph_name)
        line = f"{quad.subject} {quad.predicate} {quad.object} .\n".encode()
        by_graph.setdefault(key, set()).add(line)
    return {key: sorted(lines) for key, lines in by_graph.items()}
