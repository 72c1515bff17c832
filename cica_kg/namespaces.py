"""The one owner of the graph's IRIs: namespaces, graph names, resource keys.

Everything the project ships (.ttl, .rq) is written under the canonical BASE. The code never
spells a graph IRI itself: it asks `iris(settings.base_iri)` for them, and rebases the query
texts it loads (`Iris.rebase`), so the `base_iri` setting moves every IRI it builds or queries.
No other module writes BASE (tests/test_base_iri.py holds the package to that)."""

from __future__ import annotations

BASE = "https://w3id.org/cica-kg/"
# The project's canonical URL as a product name (the WDQS User-Agent): it names the software,
# not a graph IRI, so it stays whatever the base of a deployment's graph is.
PROJECT_URL = BASE.rstrip("/")
WD = "http://www.wikidata.org/entity/"

# The vocabularies the graph reuses: the same under every base.
VOCABULARIES: dict[str, str] = {
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


class Iris:
    """The graph's IRIs under one base (the `base_iri` setting); get one with `iris(base)`."""

    def __init__(self, base: str = BASE):
        self.base = base
        self.ontology = base + "ontology"
        self.cica = self.ontology + "#"
        self.id = base + "id/"
        self.graph = base + "graph/"
        self.dataset = base + "dataset"
        self.organization = self.id + "organization/CICA"
        self.query = base + "query/"  # the canned queries as SPARQL examples: query/<name>
        self.sparql = base + "sparql"  # the endpoint the examples target
        # The prefixes the engine pre-declares and serializers write (cica: first, as always).
        self.prefixes: dict[str, str] = {"cica": self.cica, **VOCABULARIES}

    def graph_iri(self, file_stem: str) -> str:
        """The named graph that holds the triples of one input file."""
        return self.graph + file_stem

    def rebase(self, text: str, source: str = BASE) -> str:
        """`text` (SPARQL or Turtle written under `source`, the canonical BASE unless said)
        under this base."""
        return text if self.base == source else text.replace(source, self.base)


_IRIS: dict[str, Iris] = {}


def iris(base: str = BASE) -> Iris:
    """The (shared, never changed) Iris for `base`, e.g. `iris(settings.base_iri)`."""
    if base not in _IRIS:
        _IRIS[base] = Iris(base)
    return _IRIS[base]


# The canonical base's prefixes and graph names, for code that does not know the settings
# (web/ and the CLI until they ask iris(settings.base_iri); tests of the shipped data).
PREFIXES: dict[str, str] = iris(BASE).prefixes


def graph_iri(file_stem: str) -> str:
    """The named graph of one input file under the canonical base."""
    return iris(BASE).graph_iri(file_stem)
