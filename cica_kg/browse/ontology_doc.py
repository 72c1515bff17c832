"""Documentation of the ontology, generated from ontology/cica.ttl as loaded in the store."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field

from ..namespaces import Iris
from ..sparql_files import query_text

Rows = list[dict[str, dict[str, str]]]


def _query(name: str, iris: Iris) -> str:
    return iris.rebase(query_text(__package__ or "cica_kg.browse", name))


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


def document(select: Callable[..., Rows], iris: Iris) -> OntologyDoc:
    """The ontology's header and terms, read from its graph (Iris.graph_iri("cica"))."""
    rows = select(_query("ontology-header.rq", iris))
    header = {k: v["value"] for k, v in rows[0].items()} if rows else {}
    sections: dict[str, dict[str, Term]] = {}
    reused: set[str] = set()
    for r in select(_query("ontology-terms.rq", iris)):
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
            if not value.startswith(iris.base):
                reused.add(
                    value.rsplit("#", 1)[0] + "#" if "#" in value else value.rsplit("/", 1)[0] + "/"
                )
    order = ["Classes", "Object properties", "Datatype properties", "Individuals"]
    return OntologyDoc(
        header,
        {t: list(sections[t].values()) for t in order if t in sections},
        sorted(reused),
    )
