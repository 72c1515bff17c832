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
