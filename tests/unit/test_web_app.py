"""The web app through Flask's test client over the session's build (the `client` fixture in
tests/conftest.py): the protocol, canned queries, pages and dumps where a real server adds
nothing. Queries run in this process; nothing listens on a port."""

from __future__ import annotations

import csv
import io
from pathlib import Path

import pytest
import rdflib
from flask import Flask, Response
from flask.testing import FlaskClient

from cica_kg.query import TRUNCATED_HEADER
from cica_kg.web import create_app
from cica_kg.web.observe import limit_hit

MEMBERS = """
PREFIX cica: <https://w3id.org/cica-kg/ontology#>
PREFIX org: <http://www.w3.org/ns/org#>
PREFIX schema: <https://schema.org/>
SELECT ?code WHERE {
  ?m org:role cica:memberRole ; org:member ?s ; schema:startDate ?start .
  ?s cica:iso3166Alpha3 ?code .
  FILTER NOT EXISTS { ?m schema:endDate ?end }
  FILTER(?start <= "2026-11-23"^^xsd:date)
} ORDER BY ?code
"""
CURRENT_TO = "SELECT ?d { ?dataset <https://w3id.org/cica-kg/ontology#dataCurrentTo> ?d }"
JSON = {"Accept": "application/json"}


def codes(body: dict) -> list[str]:
    return [b["code"]["value"] for b in body["results"]["bindings"]]


def test_select_as_json_with_cache_headers(client: FlaskClient) -> None:
    r = client.get("/sparql", query_string={"query": MEMBERS})
    assert r.status_code == 200, r.text
    assert r.headers["Content-Type"] == "application/sparql-results+json; charset=utf-8"
    found = codes(r.get_json(force=True))
    assert len(found) == 28 and found[:3] == ["AFG", "ARE", "AZE"] and "KAZ" in found
    assert r.headers["Vary"] == "Accept" and r.headers["ETag"].startswith('"')
    assert r.headers["Access-Control-Allow-Origin"] == "*"
    current = client.get("/sparql", query_string={"query": CURRENT_TO}).get_json(force=True)
    date = current["results"]["bindings"][0]["d"]["value"]
    assert r.headers["CICA-KG-Data-Current-To"] == date and len(date) == 10
    again = client.get(
        "/sparql", query_string={"query": MEMBERS}, headers={"If-None-Match": r.headers["ETag"]}
    )
    assert again.status_code == 304 and again.data == b""


def test_csv_by_accept_and_tsv_by_format(client: FlaskClient) -> None:
    r = client.get("/sparql", query_string={"query": MEMBERS}, headers={"Accept": "text/csv"})
    rows = list(csv.reader(io.StringIO(r.text, newline="")))
    assert r.headers["Content-Type"] == "text/csv; charset=utf-8"
    assert rows[0] == ["code"] and len(rows) == 29 and ["KAZ"] in rows
    tsv = client.post("/sparql", data={"query": MEMBERS, "format": "tsv"}, headers=JSON)
    assert tsv.text.splitlines()[:2] == ["?code", '"AFG"']


@pytest.mark.parametrize(
    "query, status, message",
    [
        ("PREFIX p: <http://127.0.0.1:9/> SELECT * { SERVICEp:x {} }", 400, "is refused"),
        ("SELECT * { ?s ?p trueSERVICE <http://169.254.169.254/> {} }", 400, "is refused"),
        ("SELECT * { ?s ?p ?o ", 400, "query syntax error: error at 1:21"),
        ("INSERT DATA { <a:a> <a:b> <a:c> }", 403, "read-only"),
    ],
)
def test_refusals_have_the_json_error_shape(
    client: FlaskClient, query: str, status: int, message: str
) -> None:
    r = client.get("/sparql", query_string={"query": query}, headers=JSON)
    assert r.status_code == status
    error = r.get_json()["error"]
    assert error["status"] == status and message in error["message"]
    assert set(error) == {"status", "title", "message"}


def test_canned_query_with_a_parameter(client: FlaskClient) -> None:
    r = client.get("/queries/chair.json", query_string={"date": "2016-01-01"})
    assert r.status_code == 200
    (row,) = r.get_json(force=True)["results"]["bindings"]
    assert row["iso3"]["value"] == "CHN" and row["start"]["value"] == "2014-05-21"


@pytest.mark.parametrize(
    "path, params, message",
    [
        ("/queries/chair.json", {"date": "2016-13-01"}, "parameter 'date' must be a date"),
        ("/queries/members.json", {"nope": "1"}, "unknown parameter 'nope'"),
        ("/queries/state-profile.json", {}, "parameter 'state' is required"),
        ("/queries/state-profile.json", {"state": "XYZ"}, "parameter 'state' must be the ISO"),
    ],
)
def test_bad_canned_parameters_are_400s(
    client: FlaskClient, path: str, params: dict[str, str], message: str
) -> None:
    r = client.get(path, query_string=params, headers=JSON)
    assert r.status_code == 400 and message in r.get_json()["error"]["message"]


def test_resource_as_turtle_and_as_a_page(client: FlaskClient) -> None:
    kaz = rdflib.URIRef("https://w3id.org/cica-kg/id/state/KAZ")
    ttl = client.get("/id/state/KAZ", headers={"Accept": "text/turtle"})
    assert ttl.status_code == 200 and ttl.headers["Vary"] == "Accept"
    graph = rdflib.Graph().parse(data=ttl.text, format="turtle")
    assert rdflib.Literal("Kazakhstan", lang="en") in set(graph.objects(kaz, rdflib.RDFS.label))
    page = client.get("/id/state/KAZ", headers={"Accept": "text/html"})
    assert page.status_code == 200 and "<h1>Kazakhstan</h1>" in page.text
    missing = client.get("/id/state/XYZ", headers=JSON)
    assert missing.status_code == 404


def test_dumps_before_any_export(app: Flask, tmp_path: Path) -> None:
    # Other tests export into the session store's dumps directory: this one has its own.
    settings = app.config["CICA_SETTINGS"].replace(dumps_dir=tmp_path)
    client = create_app(settings, app.config["CICA_ENGINE"]).test_client()
    body = client.get("/dumps/index.json").get_json()
    assert body["files"] == [] and body["message"] == "no dumps exported yet; run cica-kg export"
    assert client.get("/dumps/cica-kg.nq", headers=JSON).status_code == 404


def test_the_limit_that_shaped_an_answer_is_named(app: Flask) -> None:
    with app.test_request_context("/sparql"):
        cut = Response(b"", headers={TRUNCATED_HEADER.lower(): "true"})
        assert limit_hit(cut) == "max_result_rows"
        assert limit_hit(Response(b"", headers={"ETag": '"x"'})) is None
