"""Documentation of the ontology, generated from ontology/cica.ttl as loaded in the store."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field

Rows = list[dict[str, dict[str, str]]]

HEADER = """
PREFIX owl: <http://www.w3.org/2002/07/owl#>
PREFIX dcterms: <http://purl.org/dc/terms/>
SELECT ?title ?description ?version ?versionIRI ?license ?modified WHERE {
  GRAPH <https://w3id.org/cica-kg/graph/cica> {
    <https://w3id.org/cica-kg/ontology> dcterms:title ?title ;
        dcterms:description ?description ; owl:versionInfo ?version ; owl:versionIRI ?versionIRI .
    OPTIONAL { <https://w3id.org/cica-kg/ontology> dcterms:license ?license }
    OPTIONAL { <https://w3id.org/cica-kg/ontology> dcterms:modified ?modified }
  }
}
"""

TERMS = """
PREFIX owl: <http://www.w3.org/2002/07/owl#>
PREFIX rdfs: <http://www.w3.org/2000/01/rdf-schema#>
PREFIX skos: <http://www.w3.org/2004/02/skos/core#>
SELECT ?term ?kind ?label ?definition ?related ?relation WHERE {
  GRAPH <https://w3id.org/cica-kg/graph/cica> {
    ?term rdfs:isDefinedBy <https://w3id.org/cica-kg/ontology> ; a ?kind ; rdfs:label ?label .
    OPTIONAL { ?term skos:definition ?definition }
    OPTIONAL {
      VALUES ?relation { rdfs:subClassOf rdfs:subPropertyOf rdfs:domain rdfs:range owl:inverseOf }
      ?term ?relation ?related
    }
  }
} ORDER BY ?kind ?label
"""

KINDS = {
    "http://www.w3.org/2002/07/owl#Class": "Classes",
    "http://www.w3.org/2002/07/owl#ObjectProperty": "Object properties",
    "http://www.w3.org/2002/07/owl#DatatypeProperty": "Datatype properties",
}
RELATIONS = {
    "http://www.w3.org/2000/01/rdf-schema#subClassOf": "subclass of",
    "http://www.w3.org/2000/01/rdf-schema#subPropertyOf": "subproperty of",
    "http://www.w3.org/2000/01/rdf-schema#domain": "domain",
    "http://www.w3.org/2000/01/rdf-schema#range": "range",
    "http://www.w3.org/2002/07/owl#inverseOf": "inverse of",
}


@dataclass
class Term:
    iri: str
    label: str
    definition: str = ""
    relations: dict[str, list[str]] = field(default_factory=dict)

    @property
    def local(self) -> str:
        return self.iri.rsplit("#", 1)[-1]


@dataclass
class OntologyDoc:
    header: dict[str, str]
    sections: dict[str, list[Term]]  # section title -> terms
    reused: list[str]  # namespaces of the vocabularies it builds on


def document(select: Callable[..., Rows]) -> OntologyDoc:
    rows = select(HEADER)
    header = {k: v["value"] for k, v in rows[0].items()} if rows else {}
    sections: dict[str, dict[str, Term]] = {}
    reused: set[str] = set()
    for r in select(TERMS):
        kind = r["kind"]["value"]
        title = KINDS.get(kind, "Individuals")
        if kind not in KINDS and kind.startswith("http://www.w3.org/2002/07/owl#"):
            continue  # owl:FunctionalProperty etc. are extra types of a property
        iri = r["term"]["value"]
        term = sections.setdefault(title, {}).setdefault(
            iri,
            Term(iri, r["label"]["value"], r.get("definition", {}).get("value", "")),
        )
        if kind not in KINDS:
            term.relations.setdefault("instance of", [])
            if kind not in term.relations["instance of"]:
                term.relations["instance of"].append(kind)
        if "related" in r:
            name = RELATIONS[r["relation"]["value"]]
            value = r["related"]["value"]
            if value not in term.relations.setdefault(name, []):
                term.relations[name].append(value)
            if not value.startswith("https://w3id.org/cica-kg/"):
                reused.add(
                    value.rsplit("#", 1)[0] + "#" if "#" in value else value.rsplit("/", 1)[0] + "/"
                )
    order = ["Classes", "Object properties", "Datatype properties", "Individuals"]
    return OntologyDoc(
        header,
        {t: list(sections[t].values()) for t in order if t in sections},
        sorted(reused),
    )
