"""The SHACL shapes run by pyshacl, the reference implementation, on an rdflib copy of the
data: about a second for the shipped data, but minutes and gigabytes at a million triples
(see shacl_compile for the other way)."""

from __future__ import annotations

from collections.abc import Iterable

import pyoxigraph as ox
import rdflib
from pyshacl import validate as shacl_validate

from ..namespaces import VOCABULARIES, graph_iri
from .problem import Problem

SH = rdflib.Namespace(VOCABULARIES["sh"])


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
