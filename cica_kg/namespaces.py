"""IRIs shared by the library: namespaces, graph names, resource keys."""

from __future__ import annotations

BASE = "https://w3id.org/cica-kg/"
ONTOLOGY = BASE + "ontology"
CICA = ONTOLOGY + "#"
ID = BASE + "id/"
GRAPH = BASE + "graph/"
WD = "http://www.wikidata.org/entity/"

PREFIXES: dict[str, str] = {
    "cica": CICA,
    "dc": "http://purl.org/dc/elements/1.1/",
    "dcat": "http://www.w3.org/ns/dcat#",
    "dcterms": "http://purl.org/dc/terms/",
    "foaf": "http://xmlns.com/foaf/0.1/",
    "org": "http://www.w3.org/ns/org#",
    "owl": "http://www.w3.org/2002/07/owl#",
    "prov": "http://www.w3.org/ns/prov#",
    "rdf": "http://www.w3.org/1999/02/22-rdf-syntax-ns#",
    "rdfs": "http://www.w3.org/2000/01/rdf-schema#",
    "schema": "https://schema.org/",
    "sh": "http://www.w3.org/ns/shacl#",
    "skos": "http://www.w3.org/2004/02/skos/core#",
    "void": "http://rdfs.org/ns/void#",
    "wd": WD,
    "wdt": "http://www.wikidata.org/prop/direct/",
    "xsd": "http://www.w3.org/2001/XMLSchema#",
}


def graph_iri(file_stem: str) -> str:
    """The named graph that holds the triples of one input file."""
    return GRAPH + file_stem


class Iris:
    """The graph's IRIs under one base (the `base_iri` setting). Everything the project ships
    (.ttl, .rq) is written under the canonical BASE; `rebase` maps such a text to this base, so
    one setting moves every IRI the code builds or queries."""

    def __init__(self, base: str = BASE):
        self.base = base
        self.ontology = base + "ontology"
        self.cica = self.ontology + "#"
        self.id = base + "id/"
        self.graph = base + "graph/"
        self.dataset = base + "dataset"
        self.organization = self.id + "organization/CICA"
        self.prefixes: dict[str, str] = {**PREFIXES, "cica": self.cica}

    def graph_iri(self, file_stem: str) -> str:
        return self.graph + file_stem

    def rebase(self, text: str) -> str:
        """`text` (SPARQL or Turtle written under the canonical BASE) under this base."""
        return text if self.base == BASE else text.replace(BASE, self.base)


_IRIS: dict[str, Iris] = {}


def iris(base: str = BASE) -> Iris:
    """The (shared, immutable) Iris for `base`, e.g. `iris(settings.base_iri)`."""
    if base not in _IRIS:
        _IRIS[base] = Iris(base)
    return _IRIS[base]
