"""What the pages show about one resource, and its RDF description for linked-data clients."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field

import pyoxigraph as ox

Rows = list[dict[str, dict[str, str]]]
Select = Callable[..., Rows]

OUTGOING = """
PREFIX rdfs: <http://www.w3.org/2000/01/rdf-schema#>
SELECT ?resource ?p ?o ?pLabel ?oLabel WHERE {
  ?resource ?p ?o .
  OPTIONAL { ?p rdfs:label ?pl . FILTER(LANGMATCHES(LANG(?pl), "en")) }
  OPTIONAL { ?o rdfs:label ?ol . FILTER(LANGMATCHES(LANG(?ol), "en")) }
  BIND(COALESCE(?pl, "") AS ?pLabel)
  BIND(COALESCE(?ol, "") AS ?oLabel)
} ORDER BY ?p ?o
"""

INCOMING = """
PREFIX rdfs: <http://www.w3.org/2000/01/rdf-schema#>
SELECT ?resource ?s ?p ?sLabel ?pLabel WHERE {
  ?s ?p ?resource .
  OPTIONAL { ?s rdfs:label ?sl . FILTER(LANGMATCHES(LANG(?sl), "en")) }
  OPTIONAL { ?p rdfs:label ?pl . FILTER(LANGMATCHES(LANG(?pl), "en")) }
  BIND(COALESCE(?sl, "") AS ?sLabel)
  BIND(COALESCE(?pl, "") AS ?pLabel)
} ORDER BY ?p ?s
"""

# The sources of the resource's own statements and of the roles it holds.
SOURCES = """
PREFIX dcterms: <http://purl.org/dc/terms/>
PREFIX org: <http://www.w3.org/ns/org#>
PREFIX rdfs: <http://www.w3.org/2000/01/rdf-schema#>
PREFIX schema: <https://schema.org/>
SELECT DISTINCT ?resource ?source ?title ?url WHERE {
  { ?resource dcterms:source ?source } UNION { ?role org:member ?resource ; dcterms:source ?source }
  ?source rdfs:label ?title .
  OPTIONAL { ?source schema:url ?url }
} ORDER BY ?title
"""

GRAPHS = "SELECT DISTINCT ?resource ?g WHERE { GRAPH ?g { ?resource ?p ?o } } ORDER BY ?g"

DESCRIPTION = """
PREFIX org: <http://www.w3.org/ns/org#>
CONSTRUCT { ?resource ?p ?o . ?role ?rp ?ro . }
WHERE {
  { ?resource ?p ?o }
  UNION
  { ?role org:member ?resource ; ?rp ?ro }
}
"""

RDF_TYPE = "http://www.w3.org/1999/02/22-rdf-syntax-ns#type"
RDFS_LABEL = "http://www.w3.org/2000/01/rdf-schema#label"
SAME_AS = "http://www.w3.org/2002/07/owl#sameAs"


@dataclass
class Value:
    term: dict[str, str]  # a SPARQL JSON term
    label: str = ""


@dataclass
class Description:
    iri: str
    label: str = ""
    types: list[Value] = field(default_factory=list)
    properties: list[tuple[str, str, list[Value]]] = field(default_factory=list)  # p, label, values
    incoming: list[tuple[str, str, list[Value]]] = field(default_factory=list)
    sources: list[dict[str, str]] = field(default_factory=list)
    wikidata: list[str] = field(default_factory=list)
    graphs: list[str] = field(default_factory=list)

    @property
    def exists(self) -> bool:
        return bool(self.properties or self.incoming)


def _group(rows: Rows, key: str, label: str, value: str, value_label: str):  # type: ignore[no-untyped-def]
    groups: dict[str, tuple[str, list[Value]]] = {}
    for r in rows:
        p = r[key]["value"]
        entry = groups.setdefault(p, (r[label]["value"], []))
        entry[1].append(Value(r[value], r[value_label]["value"]))
    return [(p, lab, vals) for p, (lab, vals) in groups.items()]


def describe(select: Select, iri: str) -> Description:
    """Everything a page about `iri` shows; `select(query, resource=term)` runs a query."""
    node = ox.NamedNode(iri)
    desc = Description(iri)
    outgoing = select(OUTGOING, resource=node)
    for p, label, values in _group(outgoing, "p", "pLabel", "o", "oLabel"):
        if p == RDF_TYPE:
            desc.types = values
        elif p == RDFS_LABEL:
            english = [v.term["value"] for v in values if v.term.get("xml:lang", "") == "en"]
            desc.label = (english or [values[0].term["value"]])[0]
        elif p == SAME_AS:
            desc.wikidata = [v.term["value"] for v in values]
            desc.properties.append((p, label, values))
        else:
            desc.properties.append((p, label, values))
    desc.incoming = _group(select(INCOMING, resource=node), "p", "pLabel", "s", "sLabel")
    desc.sources = [
        {
            "iri": r["source"]["value"],
            "title": r["title"]["value"],
            "url": r.get("url", {}).get("value", ""),
        }
        for r in select(SOURCES, resource=node)
    ]
    desc.graphs = [r["g"]["value"] for r in select(GRAPHS, resource=node)]
    return desc
