"""The SPARQL 1.1 Protocol against a real `cica-kg serve` process (issue 3)."""

from __future__ import annotations

import csv
import io
import json
import xml.etree.ElementTree as ET

import pyoxigraph as ox
import pytest
import rdflib
import requests
from conftest import TODAY, Server

MEMBERS_TODAY = f"""
PREFIX cica: <https://w3id.org/cica-kg/ontology#>
PREFIX org: <http://www.w3.org/ns/org#>
PREFIX schema: <https://schema.org/>
SELECT ?code WHERE {{
  ?m org:role cica:memberRole ; org:member ?s ; schema:startDate ?start .
  ?s cica:iso3166Alpha3 ?code .
  FILTER NOT EXISTS {{ ?m schema:endDate ?end }}
  FILTER(?start <= "{TODAY}"^^xsd:date)
}} ORDER BY ?code
"""
CHINA = "https://w3id.org/cica-kg/id/state/CHN"
CONSTRUCT_CHINA = f"CONSTRUCT {{ <{CHINA}> ?p ?o }} WHERE {{ <{CHINA}> ?p ?o }}"
SPARQL_NS = "{http://www.w3.org/2005/sparql-results#}"


def json_codes(body: bytes) -> list[str]:
    return [b["code"]["value"] for b in json.loads(body)["results"]["bindings"]]


def test_get_json_answers_the_28_members(server: Server) -> None:
    r = server.get("/sparql", params={"query": MEMBERS_TODAY})
    assert r.status_code == 200
    assert r.headers["Content-Type"].startswith("application/sparql-results+json")
    codes = json_codes(r.content)
    assert len(codes) == 28 and "KWT" in codes and "LKA" in codes


def test_post_form_and_post_direct_give_the_same_answer(server: Server) -> None:
    form = server.post("/sparql", data={"query": MEMBERS_TODAY})
    direct = server.post(
        "/sparql",
        data=MEMBERS_TODAY.encode(),
        headers={"Content-Type": "application/sparql-query"},
    )
    assert form.status_code == direct.status_code == 200
    assert json_codes(form.content) == json_codes(direct.content)
    assert len(json_codes(form.content)) == 28


@pytest.mark.parametrize(
    "accept, expected",
    [
        ("application/sparql-results+xml", "xml"),
        ("text/csv", "csv"),
        ("text/tab-separated-values", "tsv"),
        ("application/sparql-results+json", "json"),
        ("application/sparql-results+xml;q=0.5, text/csv;q=0.9", "csv"),
        ("text/*", "csv"),
        ("*/*", "json"),
        ("", "json"),
    ],
)
def test_select_in_every_format_parses_back(server: Server, accept: str, expected: str) -> None:
    r = server.get("/sparql", params={"query": MEMBERS_TODAY}, headers={"Accept": accept})
    assert r.status_code == 200
    if expected == "json":
        codes = json_codes(r.content)
    elif expected == "xml":
        root = ET.fromstring(r.content)
        codes = [e.text for e in root.iter(SPARQL_NS + "literal")]
        assert r.headers["Content-Type"].startswith("application/sparql-results+xml")
    elif expected == "csv":
        assert r.headers["Content-Type"].startswith("text/csv")
        rows = list(csv.reader(io.StringIO(r.text)))
        assert rows[0] == ["code"]
        codes = [row[0] for row in rows[1:]]
    else:
        assert r.headers["Content-Type"].startswith("text/tab-separated-values")
        lines = r.text.splitlines()
        assert lines[0] == "?code"
        codes = [json.loads(line) for line in lines[1:]]  # N-Triples literal "KWT"
    assert len(codes) == 28 and "KWT" in codes
    assert r.headers["Vary"] == "Accept"


def test_ask_in_json_xml_csv(server: Server) -> None:
    ask = f"ASK {{ <{CHINA}> a <https://w3id.org/cica-kg/ontology#State> }}"
    j = server.get("/sparql", params={"query": ask, "format": "json"})
    assert j.json() == {"head": {}, "boolean": True}
    x = server.get("/sparql", params={"query": ask, "format": "xml"})
    assert ET.fromstring(x.content).find(SPARQL_NS + "boolean").text == "true"  # type: ignore[union-attr]
    c = server.get("/sparql", params={"query": "ASK { ?s ?p 'no such literal' }", "format": "csv"})
    assert c.text.split() == ["_askResult", "false"]


@pytest.mark.parametrize(
    "accept, rdflib_format",
    [
        ("text/turtle", "turtle"),
        ("application/n-triples", "nt"),
        ("application/ld+json", "json-ld"),
        ("application/rdf+xml", "xml"),
        ("application/n-quads", "nquads"),
        ("application/trig", "trig"),
    ],
)
def test_construct_in_every_rdf_format_parses_back(
    server: Server, store: ox.Store, accept: str, rdflib_format: str
) -> None:
    r = server.get("/sparql", params={"query": CONSTRUCT_CHINA}, headers={"Accept": accept})
    assert r.status_code == 200
    assert r.headers["Content-Type"].split(";")[0] == accept
    graph = rdflib.Dataset() if rdflib_format in ("nquads", "trig") else rdflib.Graph()
    graph.parse(data=r.content, format=rdflib_format)
    triples = set(graph.triples((None, None, None)))
    expected = {q.triple for q in store.quads_for_pattern(ox.NamedNode(CHINA), None, None)}
    assert len(triples) == len(expected) > 5
    label = rdflib.Literal("China", lang="en")
    assert (rdflib.URIRef(CHINA), rdflib.RDFS.label, label) in triples


def test_format_parameter_overrides_accept(server: Server) -> None:
    r = server.get(
        "/sparql",
        params={"query": CONSTRUCT_CHINA, "format": "nt"},
        headers={"Accept": "text/turtle"},
    )
    assert r.headers["Content-Type"].startswith("application/n-triples")
    assert f"<{CHINA}>" in r.text


def test_unacceptable_type_is_406_listing_the_offers(server: Server) -> None:
    r = server.get("/sparql", params={"query": MEMBERS_TODAY}, headers={"Accept": "image/png"})
    assert r.status_code == 406
    assert "application/sparql-results+json" in r.text and "text/csv" in r.text


def test_unknown_format_parameter_is_400(server: Server) -> None:
    r = server.get("/sparql", params={"query": MEMBERS_TODAY, "format": "pdf"})
    assert r.status_code == 400
    assert "unknown format 'pdf'" in r.text


def test_default_and_named_graph_uri_set_the_dataset(server: Server) -> None:
    count_states = (
        "SELECT (COUNT(?s) AS ?n) WHERE { ?s a <https://w3id.org/cica-kg/ontology#State> }"
    )
    states_only = server.get(
        "/sparql",
        params={
            "query": count_states,
            "default-graph-uri": "https://w3id.org/cica-kg/graph/states",
        },
    )
    assert states_only.json()["results"]["bindings"][0]["n"]["value"] == "40"
    chairs_only = server.get(
        "/sparql",
        params={
            "query": count_states,
            "default-graph-uri": "https://w3id.org/cica-kg/graph/chairs",
        },
    )
    assert chairs_only.json()["results"]["bindings"][0]["n"]["value"] == "0"
    graphs = server.get(
        "/sparql",
        params=[
            ("query", "SELECT DISTINCT ?g WHERE { GRAPH ?g { ?s ?p ?o } }"),
            ("named-graph-uri", "https://w3id.org/cica-kg/graph/states"),
            ("named-graph-uri", "https://w3id.org/cica-kg/graph/chairs"),
        ],
    )
    names = {b["g"]["value"] for b in graphs.json()["results"]["bindings"]}
    assert names == {
        "https://w3id.org/cica-kg/graph/states",
        "https://w3id.org/cica-kg/graph/chairs",
    }


def test_from_clause_in_the_query_is_honoured(server: Server) -> None:
    q = (
        "SELECT (COUNT(?s) AS ?n) FROM <https://w3id.org/cica-kg/graph/chairs> "
        "WHERE { ?s a <https://w3id.org/cica-kg/ontology#State> }"
    )
    r = server.get("/sparql", params={"query": q})
    assert r.json()["results"]["bindings"][0]["n"]["value"] == "0"


def test_malformed_query_is_400_with_the_parser_position(server: Server) -> None:
    r = server.get("/sparql", params={"query": "SELECT * WHERE { ?s ?p ?o "})
    assert r.status_code == 400
    assert "query syntax error: error at 1:27" in r.text
    assert "Traceback" not in r.text


def test_protocol_misuse_is_refused_with_a_message(server: Server) -> None:
    two = server.get("/sparql", params=[("query", "ASK {}"), ("query", "ASK {}")])
    assert two.status_code == 400 and "2 `query` parameters" in two.text
    both = server.post("/sparql", data={"query": "ASK {}", "update": "CLEAR ALL"})
    assert both.status_code == 400 and "either `query` or `update`" in both.text
    wrong = server.post("/sparql", data=b"ASK {}", headers={"Content-Type": "text/plain"})
    assert wrong.status_code == 415 and "application/sparql-query" in wrong.text
    empty = server.post(
        "/sparql", data="", headers={"Content-Type": "application/x-www-form-urlencoded"}
    )
    assert empty.status_code == 400 and "no `query`" in empty.text


@pytest.mark.parametrize(
    "how, update",
    [
        ("get", "INSERT DATA { <http://e/a> <http://e/b> <http://e/c> }"),
        ("form", "DELETE WHERE { ?s ?p ?o }"),
        ("direct", "LOAD <http://example.org/data.ttl>"),
        ("query", "CLEAR ALL"),
        ("query", "PREFIX e: <http://e/> DROP GRAPH e:g"),
        ("query", "CREATE GRAPH <http://e/g>"),
    ],
)
def test_every_update_is_refused(server: Server, how: str, update: str) -> None:
    if how == "get":
        r = server.get("/sparql", params={"update": update})
    elif how == "form":
        r = server.post("/sparql", data={"update": update})
    elif how == "direct":
        r = server.post(
            "/sparql", data=update, headers={"Content-Type": "application/sparql-update"}
        )
    else:
        r = server.get("/sparql", params={"query": update})
    assert r.status_code == 403
    assert "read-only" in r.text


def test_service_description_is_rdf_with_the_named_graphs(server: Server) -> None:
    r = server.get("/sparql", headers={"Accept": "text/turtle"})
    assert r.status_code == 200 and r.headers["Content-Type"].startswith("text/turtle")
    g = rdflib.Graph().parse(data=r.text, format="turtle")
    sd = rdflib.Namespace("http://www.w3.org/ns/sparql-service-description#")
    service = rdflib.URIRef(server.url + "/sparql")
    assert (service, sd.endpoint, service) in g
    assert (service, sd.feature, sd.UnionDefaultGraph) in g
    assert (service, sd.supportedLanguage, sd.SPARQL11Query) in g
    names = {str(o) for o in g.objects(None, sd.name)}
    assert "https://w3id.org/cica-kg/graph/memberships" in names
    r = server.get("/sparql", params={"query": "SELECT DISTINCT ?g { GRAPH ?g {} }"})
    assert names == {b["g"]["value"] for b in r.json()["results"]["bindings"]}


def test_browsers_get_the_editor_without_a_query(server: Server) -> None:
    r = server.get("/sparql", headers={"Accept": "text/html,application/xhtml+xml,*/*;q=0.8"})
    assert r.status_code == 200 and r.headers["Content-Type"].startswith("text/html")
    assert "<form" in r.text


def test_cors_headers_and_preflight(server: Server) -> None:
    r = server.get("/sparql", params={"query": "ASK {}"})
    assert r.headers["Access-Control-Allow-Origin"] == "*"
    pre = requests.options(
        server.url + "/sparql",
        headers={
            "Origin": "https://yasgui.example",
            "Access-Control-Request-Method": "POST",
            "Access-Control-Request-Headers": "Content-Type",
        },
        timeout=10,
    )
    assert pre.status_code == 204
    assert "POST" in pre.headers["Access-Control-Allow-Methods"]
    assert pre.headers["Access-Control-Allow-Origin"] == "*"
    assert "Content-Type" in pre.headers["Access-Control-Allow-Headers"]


def test_etag_and_304(server: Server) -> None:
    first = server.get("/sparql", params={"query": MEMBERS_TODAY})
    etag = first.headers["ETag"]
    assert etag.startswith('"') and "max-age=" in first.headers["Cache-Control"]
    again = server.get("/sparql", params={"query": MEMBERS_TODAY}, headers={"If-None-Match": etag})
    assert again.status_code == 304 and again.content == b""
    other_format = server.get(
        "/sparql", params={"query": MEMBERS_TODAY, "format": "csv"}, headers={"If-None-Match": etag}
    )
    assert other_format.status_code == 200
