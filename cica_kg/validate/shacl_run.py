"""Running the compiled shapes (shacl_compile) on the Oxigraph store that holds the data: the
graphs validated, the choice of query plan, and the problems in pyshacl's order."""

from __future__ import annotations

from collections.abc import Iterable

import pyoxigraph as ox

from ..namespaces import graph_iri
from .problem import Problem
from .shacl_compile import CompiledConstraint, compile_shapes

Graph = ox.NamedNode | ox.BlankNode | ox.DefaultGraph


def problems(constraint: CompiledConstraint, store: ox.Store, graphs: list[Graph]) -> list[Problem]:
    """Run one constraint's query over the union of `graphs` (see data_graphs)."""
    rows = store.query(constraint.query, default_graph=graphs)
    assert isinstance(rows, ox.QuerySolutions)
    return [
        Problem(
            check=constraint.check,
            focus=_value(row["focus"]),
            path=constraint.path,
            message=constraint.message,
        )
        for row in rows
    ]


def shape_problems_sparql(
    store: ox.Store, shapes_graph: str = graph_iri("shapes"), *, many: int | None = None
) -> list[Problem]:
    """Validate every graph of `store` but `shapes_graph` (the default graph included) against
    the shapes held in `shapes_graph`: the problems shacl_pyshacl.shape_problems reports."""
    constraints, graphs = prepare(store, shapes_graph, many=many)
    return sort_problems(p for c in constraints for p in problems(c, store, graphs))


def prepare(
    store: ox.Store, shapes_graph: str = graph_iri("shapes"), *, many: int | None = None
) -> tuple[list[CompiledConstraint], list[Graph]]:
    """The compiled constraints of the shapes in `shapes_graph` and the graphs they validate;
    each constraint's query is independent of the others (validation runs them concurrently).

    A targeted shape with at least `many` focus nodes (by default one per 200 quads of the
    store) is checked with hash joins rather than lookups per focus node (see
    shacl_compile._Compiler._shape); both plans give the same problems."""
    shapes_node = ox.NamedNode(shapes_graph)
    graphs = data_graphs(store, shapes_node)
    threshold = max(1, len(store) // 200) if many is None else many

    def has_many(focus_query: str) -> bool:
        rows = store.query(f"{focus_query} LIMIT {threshold}", default_graph=graphs)
        assert isinstance(rows, ox.QuerySolutions)
        return len(list(rows)) >= threshold

    constraints = compile_shapes(store.quads_for_pattern(None, None, None, shapes_node), has_many)
    return constraints, graphs


def sort_problems(found: Iterable[Problem]) -> list[Problem]:
    """In the order shacl_pyshacl.shape_problems reports them."""
    return sorted(found, key=lambda p: (p.focus, p.path, p.message, p.check))


def data_graphs(store: ox.Store, shapes_graph: ox.NamedNode) -> list[Graph]:
    """The graphs validated as data: all but the shapes graph, whose triples are no data."""
    named = sorted((g for g in store.named_graphs() if g != shapes_graph), key=str)
    return [ox.DefaultGraph(), *named]


def _value(term: object) -> str:
    return term.value if isinstance(term, ox.NamedNode | ox.BlankNode | ox.Literal) else ""
