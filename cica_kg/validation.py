"""Validation: the SHACL shapes and the SPARQL checks in queries/checks/*-violation.rq,
where every returned row is a named data error.

The shapes run either in pyshacl (the reference implementation, on an rdflib copy of the
data) or compiled to SPARQL and run by Oxigraph on the store itself (`shacl_sparql`, which
the tests hold to pyshacl's answers); `auto` picks pyshacl for small datasets, where it
costs about a second, and the compiled shapes from PYSHACL_MAX_TRIPLES on, where pyshacl
needs minutes and gigabytes. The shapes and every check are independent read-only queries,
so they run concurrently, one thread per core (Oxigraph releases the GIL while querying)."""

from __future__ import annotations

import os
from collections.abc import Callable, Iterable, Mapping
from concurrent.futures import ThreadPoolExecutor
from functools import partial
from pathlib import Path

import pyoxigraph as ox
import rdflib
from pyshacl import validate as shacl_validate

from . import shacl_sparql
from .namespaces import PREFIXES, graph_iri
from .problems import Problem
from .settings import SHACL_ENGINES

SH = rdflib.Namespace(PREFIXES["sh"])
PYSHACL_MAX_TRIPLES = 200_000


class ValidationError(Exception):
    def __init__(self, problems: list[Problem]):
        self.problems = problems
        super().__init__(f"{len(problems)} validation problem(s)")


def to_rdflib(term: ox.NamedNode | ox.BlankNode | ox.Literal | ox.Triple) -> rdflib.term.Node:
    if isinstance(term, ox.NamedNode):
        return rdflib.URIRef(term.value)
    if isinstance(term, ox.BlankNode):
        return rdflib.BNode(term.value)
    if isinstance(term, ox.Literal):
        if term.language:
            return rdflib.Literal(term.value, lang=term.language)
        return rdflib.Literal(term.value, datatype=rdflib.URIRef(term.datatype.value))
    raise TypeError(f"unsupported term {term!r}")


def rdflib_graph(quads: Iterable[ox.Quad]) -> rdflib.Graph:
    graph = rdflib.Graph()
    for q in quads:
        graph.add((to_rdflib(q.subject), to_rdflib(q.predicate), to_rdflib(q.object)))
    return graph


def shape_problems(store: ox.Store, shapes_graph: str = graph_iri("shapes")) -> list[Problem]:
    """Run the SHACL shapes held in `shapes_graph` over every other graph (the ontology
    included, so that sh:class sees rdfs:subClassOf)."""
    shapes_node = ox.NamedNode(shapes_graph)
    shapes = rdflib_graph(store.quads_for_pattern(None, None, None, shapes_node))
    if not len(shapes):
        return []
    data = rdflib_graph(
        q for q in store.quads_for_pattern(None, None, None) if q.graph_name != shapes_node
    )
    conforms, report, _ = shacl_validate(
        data, shacl_graph=shapes, inference="none", advanced=True, allow_warnings=False
    )
    if conforms:
        return []
    problems = []
    for result in report.subjects(rdflib.RDF.type, SH.ValidationResult):
        focus = report.value(result, SH.focusNode)
        path = report.value(result, SH.resultPath)
        message = report.value(result, SH.resultMessage)
        shape = report.value(result, SH.sourceShape)
        problems.append(
            Problem(
                check=str(shape) if isinstance(shape, rdflib.URIRef) else "shapes.ttl",
                focus=str(focus),
                path=str(path) if isinstance(path, rdflib.URIRef) else "",
                message=str(message),
            )
        )
    return sorted(problems, key=lambda p: (p.focus, p.path, p.message))


def check_files(checks_dir: Path) -> list[Path]:
    return sorted(checks_dir.glob("*-violation.rq"))


def shacl_engine(store: ox.Store, engine: str) -> str:
    """The validator `engine` ("auto", "pyshacl" or "sparql") means for this store."""
    if engine not in SHACL_ENGINES:
        raise ValueError(f"unknown SHACL validator {engine!r}: use one of {SHACL_ENGINES}")
    if engine == "auto":
        return "pyshacl" if len(store) <= PYSHACL_MAX_TRIPLES else "sparql"
    return engine


def _run_check(store: ox.Store, path: Path, text: str | None = None) -> list[Problem]:
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


def validate(
    store: ox.Store,
    checks_dir: Path,
    shacl: str = "auto",
    snapshot: Mapping[Path, bytes] | None = None,
) -> list[Problem]:
    """All problems of a loaded dataset: the shapes' first, then each check's in file order.
    The checks' text comes from `snapshot` when given (the bytes the build id was made of)."""
    checks: list[Callable[[], list[Problem]]] = []
    for path in check_files(checks_dir):
        text = snapshot[path].decode() if snapshot and path in snapshot else None
        checks.append(partial(_run_check, store, path, text))
    with ThreadPoolExecutor(max_workers=os.cpu_count() or 2) as pool:
        if shacl_engine(store, shacl) == "pyshacl":
            shapes = [pool.submit(shape_problems, store)]
        else:  # each compiled constraint is a task of its own, for an even spread
            constraints, graphs = shacl_sparql.prepare(store, graph_iri("shapes"))
            shapes = [pool.submit(c.problems, store, graphs) for c in constraints]
        found = [pool.submit(check) for check in checks]
        shape_rows = shacl_sparql.sort_problems(p for f in shapes for p in f.result())
        return shape_rows + [problem for future in found for problem in future.result()]
