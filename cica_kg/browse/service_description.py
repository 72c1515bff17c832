"""The SPARQL 1.1 Service Description of the endpoint, as RDF triples."""

from __future__ import annotations

import pyoxigraph as ox

from ..formats import ALL_FORMATS
from ..store import BuildInfo

SD = "http://www.w3.org/ns/sparql-service-description#"
FORMATS_NS = "http://www.w3.org/ns/formats/"
VOID = "http://rdfs.org/ns/void#"
RDF_TYPE = ox.NamedNode("http://www.w3.org/1999/02/22-rdf-syntax-ns#type")
DCTERMS = "http://purl.org/dc/terms/"

# W3C format IRIs (https://www.w3.org/ns/formats/) of what the endpoint writes.
W3C_FORMAT = {
    "json": "SPARQL_Results_JSON",
    "xml": "SPARQL_Results_XML",
    "csv": "SPARQL_Results_CSV",
    "tsv": "SPARQL_Results_TSV",
    "ttl": "Turtle",
    "nt": "N-Triples",
    "jsonld": "JSON-LD",
    "rdfxml": "RDF_XML",
    "trig": "TriG",
    "nq": "N-Quads",
}


def describe(endpoint: str, build: BuildInfo, void_url: str | None = None) -> list[ox.Triple]:
    """The service description of `endpoint` serving `build`."""
    sd = lambda local: ox.NamedNode(SD + local)  # noqa: E731
    service = ox.NamedNode(endpoint)
    dataset = ox.NamedNode(endpoint + "#dataset")
    default_graph = ox.NamedNode(endpoint + "#default-graph")
    triples = [
        ox.Triple(service, RDF_TYPE, sd("Service")),
        ox.Triple(service, sd("endpoint"), service),
        ox.Triple(service, sd("supportedLanguage"), sd("SPARQL11Query")),
        ox.Triple(service, sd("feature"), sd("UnionDefaultGraph")),
        ox.Triple(service, sd("feature"), sd("BasicFederatedQuery")),
        ox.Triple(service, sd("defaultDataset"), dataset),
        ox.Triple(dataset, RDF_TYPE, sd("Dataset")),
        ox.Triple(dataset, sd("defaultGraph"), default_graph),
        ox.Triple(default_graph, RDF_TYPE, sd("Graph")),
        ox.Triple(default_graph, ox.NamedNode(VOID + "triples"), ox.Literal(build.triples)),
        ox.Triple(
            dataset,
            ox.NamedNode(DCTERMS + "identifier"),
            ox.Literal(build.build_id),
        ),
    ]
    if void_url:
        triples.append(ox.Triple(dataset, ox.NamedNode(VOID + "inDataset"), ox.NamedNode(void_url)))
    for fmt in ALL_FORMATS:
        name = W3C_FORMAT.get(fmt.name)
        if name:
            triples.append(ox.Triple(service, sd("resultFormat"), ox.NamedNode(FORMATS_NS + name)))
    for i, (graph, size) in enumerate(sorted(build.graphs.items())):
        named = ox.NamedNode(f"{endpoint}#named-graph-{i + 1}")
        graph_node = ox.NamedNode(f"{endpoint}#graph-{i + 1}")
        triples += [
            ox.Triple(dataset, sd("namedGraph"), named),
            ox.Triple(named, RDF_TYPE, sd("NamedGraph")),
            ox.Triple(named, sd("name"), ox.NamedNode(graph)),
            ox.Triple(named, sd("graph"), graph_node),
            ox.Triple(graph_node, RDF_TYPE, sd("Graph")),
            ox.Triple(graph_node, ox.NamedNode(VOID + "triples"), ox.Literal(size)),
        ]
    return triples
