"""Real SPARQL clients, unchanged, against the real server (issue 3)."""

from __future__ import annotations

import rdflib
from conftest import Server
from rdflib.plugins.stores.sparqlstore import SPARQLStore
from SPARQLWrapper import JSON, TURTLE, XML, SPARQLWrapper

MEMBERS_ON_2015 = """
PREFIX cica: <https://w3id.org/cica-kg/ontology#>
PREFIX org: <http://www.w3.org/ns/org#>
PREFIX schema: <https://schema.org/>
PREFIX xsd: <http://www.w3.org/2001/XMLSchema#>
SELECT ?code WHERE {
  ?m org:role cica:memberRole ; org:member ?s ; schema:startDate ?start .
  ?s cica:iso3166Alpha3 ?code .
  OPTIONAL { ?m schema:endDate ?end }
  FILTER(?start <= "2015-06-01"^^xsd:date && (!BOUND(?end) || ?end > "2015-06-01"^^xsd:date))
} ORDER BY ?code
"""


def wrapper(server: Server) -> SPARQLWrapper:
    client = SPARQLWrapper(server.url + "/sparql")
    client.setTimeout(30)
    return client


def test_sparqlwrapper_select_json(server: Server) -> None:
    client = wrapper(server)
    client.setQuery(MEMBERS_ON_2015)
    client.setReturnFormat(JSON)
    result = client.query().convert()
    codes = [b["code"]["value"] for b in result["results"]["bindings"]]  # type: ignore[index]
    assert len(codes) == 26 and "LKA" not in codes and "KWT" not in codes and "BGD" in codes


def test_sparqlwrapper_select_xml(server: Server) -> None:
    client = wrapper(server)
    client.setQuery(MEMBERS_ON_2015)
    client.setReturnFormat(XML)
    doc = client.query().convert()
    codes = [n.firstChild.data for n in doc.getElementsByTagName("literal")]  # type: ignore[union-attr]
    assert len(codes) == 26 and codes[0] == "AFG"


def test_sparqlwrapper_ask(server: Server) -> None:
    client = wrapper(server)
    client.setQuery(
        "PREFIX cica: <https://w3id.org/cica-kg/ontology#> "
        "ASK { <https://w3id.org/cica-kg/id/membership/KWT> cica:beganAt "
        "<https://w3id.org/cica-kg/id/summit/6> }"
    )
    client.setReturnFormat(JSON)
    assert client.query().convert()["boolean"] is True  # type: ignore[index]


def test_sparqlwrapper_construct_turtle(server: Server) -> None:
    client = wrapper(server)
    client.setQuery(
        "PREFIX rdfs: <http://www.w3.org/2000/01/rdf-schema#> "
        "CONSTRUCT { ?s rdfs:label ?l } WHERE { ?s a <https://w3id.org/cica-kg/ontology#Summit> ; "
        "rdfs:label ?l }"
    )
    client.setReturnFormat(TURTLE)
    data = client.query().convert()
    graph = rdflib.Graph().parse(data=data, format="turtle")
    assert len(graph) == 7
    assert (
        rdflib.URIRef("https://w3id.org/cica-kg/id/summit/1"),
        rdflib.RDFS.label,
        rdflib.Literal("First CICA Summit", lang="en"),
    ) in graph


def test_rdflib_sparqlstore(server: Server) -> None:
    graph = rdflib.Graph(SPARQLStore(server.url + "/sparql", returnFormat="json"))
    rows = list(
        graph.query(
            """
            PREFIX cica: <https://w3id.org/cica-kg/ontology#>
            PREFIX org: <http://www.w3.org/ns/org#>
            PREFIX schema: <https://schema.org/>
            SELECT ?code WHERE {
              ?m org:role cica:chairRole ; org:member ?s ; schema:startDate ?start .
              ?s cica:iso3166Alpha3 ?code .
              OPTIONAL { ?m schema:endDate ?end }
              FILTER(?start <= "2016-01-01"^^xsd:date)
              FILTER(!BOUND(?end) || ?end > "2016-01-01"^^xsd:date)
            }"""
        )
    )
    assert [str(r[0]) for r in rows] == ["CHN"]  # type: ignore[index]
    label = graph.value(rdflib.URIRef("https://w3id.org/cica-kg/id/state/KWT"), rdflib.RDFS.label)
    assert str(label) == "Kuwait"
