"""Hostile input (issue 8): random and malformed requests get a clear 4xx with a message,
never a 500, a stack trace, a hang or a request leaving the machine; the server answers
normally right after each."""

from __future__ import annotations

import json
import socket
import time
from collections.abc import Iterator

import pytest
import requests
from conftest import Server, start_server, stop_server
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from standin import Recorded, Reply, StandIn

from cica_kg.settings import Settings

ACCEPTED = {200, 304, 400, 403, 404, 405, 406, 413, 415}
HEALTH = "SELECT ?l WHERE { <https://w3id.org/cica-kg/id/state/KAZ> rdfs:label ?l }"
FUZZ = settings(
    max_examples=60, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture]
)


def assert_clean(r: requests.Response) -> None:
    assert r.status_code in ACCEPTED, (r.status_code, r.text[:500])
    assert "Traceback" not in r.text and 'File "' not in r.text
    if r.status_code >= 400:
        assert len(r.text.strip()) > 10  # a message, not an empty error


def assert_healthy(server: Server) -> None:
    r = server.get("/sparql", params={"query": HEALTH})
    assert r.status_code == 200
    assert r.json()["results"]["bindings"][0]["l"]["value"] == "Kazakhstan"


sparqlish = st.lists(
    st.sampled_from(
        ["SELECT", "ASK", "CONSTRUCT", "WHERE", "{", "}", "(", ")", "?s", "?p", "?o", ".", ";",
         "FILTER", "OPTIONAL", "UNION", "SERVICE", "<http://127.0.0.1/x>", "\"lit\"", "'",
         "PREFIX", "x:", "<", ">", "*", "LIMIT", "1", "#", "\\u0053", "GRAPH", "VALUES",
         "INSERT", "DATA", "LOAD", "BIND", "AS", "COUNT", "GROUP BY", "ORDER BY", "^^", "@en"]
    ),
    max_size=40,
).map(" ".join)  # fmt: skip


@FUZZ
@given(query=st.one_of(st.text(max_size=300), sparqlish))
def test_random_queries_get_clean_answers(server: Server, query: str) -> None:
    assert_clean(server.get("/sparql", params={"query": query}))


# Header values a client can send: visible ASCII and inner spaces (no CR/LF).
header_value = st.text(
    alphabet=st.characters(min_codepoint=32, max_codepoint=126), max_size=80
).map(str.strip)
media_ranges = st.lists(
    st.sampled_from(
        ["*/*", "text/*", "text/csv", "application/sparql-results+json", "image/png", ";q=0",
         ";q=0.5", ";q=abc", "text/turtle;q=2", ",", "application/x-www-form-urlencoded",
         "application/sparql-query", "multipart/form-data; boundary=x", "charset=utf-8"]
    ),
    max_size=6,
).map("".join)  # fmt: skip


@FUZZ
@given(
    accept=st.one_of(header_value, media_ranges), content_type=st.one_of(header_value, media_ranges)
)
def test_random_headers_get_clean_answers(server: Server, accept: str, content_type: str) -> None:
    headers = {"Accept": accept}
    assert_clean(server.get("/sparql", params={"query": HEALTH}, headers=headers))
    headers["Content-Type"] = content_type
    assert_clean(server.post("/sparql", data=HEALTH.encode(), headers=headers))


@FUZZ
@given(
    name=st.sampled_from(["members", "observers", "chair", "coordinators", "state-profile"]),
    key=st.sampled_from(["date", "state", "x", ""]),
    value=st.text(max_size=40),
)
def test_random_canned_parameters(server: Server, name: str, key: str, value: str) -> None:
    r = server.get(f"/queries/{name}.json", params={key: value} if key else {})
    assert_clean(r)
    if r.status_code == 400:
        assert "parameter" in r.json()["error"]["message"]


@pytest.mark.parametrize(
    "query, status, message",
    [
        ("SELECT * WHERE " + "{" * 5000 + "}" * 5000, 400, "nests brackets"),
        ("ASK { ?s ?p " + "(" * 3000 + "1" + ")" * 3000 + " }", 400, "nests brackets"),
        ("SELECT * WHERE { ?s ?p ?o } #" + "x" * 30000, 413, "max_query_length"),
        ("SELECT * WHERE { FILTER(" + "+".join(["1"] * 6000) + ") }", 200, ""),
        ("", 400, "empty"),
    ],
)
def test_deep_and_enormous_queries(server: Server, query: str, status: int, message: str) -> None:
    r = server.post("/sparql", data={"query": query})
    assert r.status_code == status, r.text[:300]
    assert message in r.text
    assert_healthy(server)


def test_invalid_utf8(server: Server) -> None:
    direct = server.post(
        "/sparql", data=b"SELECT * WHERE { ?s ?p \xff\xfe }",
        headers={"Content-Type": "application/sparql-query"},
    )  # fmt: skip
    assert direct.status_code == 400 and "UTF-8" in direct.text
    raw = requests.get(server.url + "/sparql?query=ASK%20%7B%7D%FF", timeout=10)
    assert_clean(raw)
    assert_healthy(server)


@pytest.mark.parametrize(
    "path",
    [
        "/id/../../etc/passwd",
        "/id/%2e%2e/%2e%2e/etc/passwd",
        "/id/state/..%2f..%2fbuild.json",
        "/dumps/../build.json",
        "/dumps/%2e%2e%2fbuild.json",
        "/dumps/..%2F..%2Fetc%2Fpasswd",
        "/static/..%2f..%2fsettings.py",
        "/queries/..%2f..%2fetc%2fpasswd",
    ],
)
def test_path_traversal_finds_nothing(server: Server, path: str) -> None:
    # requests would normalise the path; send it as written
    with socket.create_connection(("127.0.0.1", int(server.url.rsplit(":", 1)[1])), 10) as s:
        s.sendall(f"GET {path} HTTP/1.1\r\nHost: x\r\nConnection: close\r\n\r\n".encode())
        reply = b""
        while chunk := s.recv(65536):
            reply += chunk
    status = int(reply.split(b" ", 2)[1])
    assert status in (400, 404), reply[:200]
    assert b"root:" not in reply and b"build_id" not in reply and b"import " not in reply


def test_oversize_body(server: Server) -> None:
    r = server.post(
        "/sparql", data=b"x" * 2_000_000, headers={"Content-Type": "application/sparql-query"}
    )
    assert r.status_code == 413 and "max_request_bytes" in r.text
    assert_healthy(server)


@pytest.mark.parametrize(
    "update",
    [
        "INSERT DATA { <http://e/a> <http://e/b> <http://e/c> }",
        "DELETE DATA { <http://e/a> <http://e/b> <http://e/c> }",
        "DELETE WHERE { ?s ?p ?o }",
        "INSERT { ?s ?p ?o } WHERE { ?s ?p ?o }",
        "WITH <http://e/g> DELETE { ?s ?p ?o } WHERE { ?s ?p ?o }",
        "LOAD <http://127.0.0.1:9/x>",
        "CLEAR DEFAULT",
        "DROP ALL",
        "CREATE SILENT GRAPH <http://e/g>",
        "ADD DEFAULT TO <http://e/g>",
        "MOVE DEFAULT TO <http://e/g>",
        "COPY DEFAULT TO <http://e/g>",
        "PREFIX e: <http://e/> INSERT DATA { e:a e:b e:c }",
        "# a comment first\nINSERT DATA { <http://e/a> <http://e/b> <http://e/c> }",
    ],
)
def test_every_update_form_is_refused(server: Server, update: str) -> None:
    for response in (
        server.get("/sparql", params={"update": update}),
        server.post("/sparql", data={"update": update}),
        server.post("/sparql", data=update, headers={"Content-Type": "application/sparql-update"}),
        server.get("/sparql", params={"query": update}),
        server.post("/sparql", data=update, headers={"Content-Type": "application/sparql-query"}),
    ):
        assert response.status_code == 403, (update, response.status_code, response.text[:200])
        assert "read-only" in response.text
    assert_healthy(server)


def redirecting(rec: Recorded) -> Reply:
    if rec.path == "/redirect":
        return Reply(status=302, headers={"Location": "http://127.0.0.1:9/elsewhere"})
    body = {
        "head": {"vars": ["x"]},
        "results": {"bindings": [{"x": {"type": "literal", "value": "1"}}]},
    }
    return Reply(body=json.dumps(body).encode())


@pytest.fixture(scope="module")
def guarded(built_settings: Settings) -> Iterator[tuple[Server, StandIn]]:
    with StandIn(redirecting) as standin:
        env = {"CICA_KG_SERVICE_ALLOWLIST": f"{standin.url}/redirect"}
        server = start_server(built_settings, env=env, workers=1, threads=4)
        yield server, standin
        stop_server(server)


@pytest.mark.parametrize(
    "target",
    [
        "<http://127.0.0.1:{port}/sparql>",
        "<http://localhost:{port}/sparql>",
        "<http://[::1]:{port}/sparql>",
        "<http://0.0.0.0:{port}/sparql>",
        "<http://2130706433:{port}/sparql>",
        "<http://10.1.2.3/sparql>",
        "<http://192.168.0.1/sparql>",
        "<http://172.16.0.1/sparql>",
        "<http://169.254.169.254/latest/meta-data/>",
        "<file:///etc/passwd>",
        "<https://example.org/sparql>",
        "?service",
        "<http://127.0.0.1:{port}/redirect/../sparql>",
        "<HTTP://127.0.0.1:{port}/redirect>",
    ],
)
def test_service_targets_are_refused_before_anything_leaves(
    guarded: tuple[Server, StandIn], target: str
) -> None:
    server, standin = guarded
    seen = len(standin.requests)
    target = target.format(port=standin.port)
    for query in (
        f"SELECT * WHERE {{ SERVICE {target} {{ ?s ?p ?o }} }}",
        f"SELECT * WHERE {{ OPTIONAL {{ SERVICE SILENT {target} {{ ?s ?p ?o }} }} }}",
        f"PREFIX s: <{target.strip('<>')}> ASK {{ SERVICE s: {{ ?s ?p ?o }} }}"
        if target.startswith("<")
        else f"SELECT * WHERE {{ BIND(<http://x> AS {target}) SERVICE {target} {{ ?s ?p ?o }} }}",
    ):
        r = server.get("/sparql", params={"query": query})
        assert r.status_code == 400 and "is refused" in r.text, (query, r.text[:200])
    assert len(standin.requests) == seen
    assert_healthy(server)


def test_allowlisted_service_that_redirects_is_not_followed(
    guarded: tuple[Server, StandIn],
) -> None:
    server, standin = guarded
    r = server.get(
        "/sparql",
        params={"query": f"SELECT * WHERE {{ SERVICE <{standin.url}/redirect> {{ ?x ?y ?z }} }}"},
    )
    assert r.status_code == 502
    assert "SERVICE" in r.text
    assert [q.path for q in standin.requests][-1:] == ["/redirect"]
    assert_healthy(server)


# -- lexer disguises (found in review): each must be caught before anything leaves -------
DISGUISES = [
    'SELECT * WHERE {{ BIND("\\u0022" AS ?a) SERVICE <{url}/sparql> {{ ?s ?p ?z }} '
    'BIND("\\u0022" AS ?b) }}',
    "SELECT * WHERE {{ BIND('\\u0027' AS ?a) SERVICE <{url}/sparql> {{ ?s ?p ?z }} "
    "BIND('\\u0027' AS ?b) }}",
    "PREFIX : <{url}/> SELECT * WHERE {{ SERVICE:sparql {{ ?s ?p ?z }} }}",
    "PREFIX : <{url}/> SELECT * WHERE {{ service:sparql {{ ?s ?p ?z }} }}",
    "SELECT * WHERE {{ BIND(rdf:a\u00b7\\' AS ?x) SERVICE <{url}/sparql> {{ ?s ?p ?z }} "
    "BIND('' AS ?q) }}",
    "SELECT * WHERE {{ BIND(rdf:a\u00b7\\# AS ?x) SERVICE <{url}/sparql> {{ ?s ?p ?z }} }}",
    "SELECT * WHERE {{ SERVICE <http\\u003a//127.0.0.1:{port}/sparql> {{ ?s ?p ?z }} }}",
    "BASE <{url}/> SELECT * WHERE {{ SERVICE <sparql> {{ ?s ?p ?z }} }}",
    "SELECT * WHERE {{ {{ SELECT * WHERE {{ SERVICE <{url}/sparql> {{ ?s ?p ?z }} }} }} }}",
]


@pytest.mark.parametrize("template", DISGUISES)
def test_disguised_service_calls_are_caught(guarded: tuple[Server, StandIn], template: str) -> None:
    server, standin = guarded
    seen = len(standin.requests)
    query = template.format(url=standin.url, port=standin.port)
    r = server.get("/sparql", params={"query": query})
    assert r.status_code == 400, r.text[:300]
    assert "is refused" in r.text or "cannot be read" in r.text
    assert len(standin.requests) == seen
    assert_healthy(server)


def test_keywords_written_against_prefixed_names_are_read_as_keywords(server: Server) -> None:
    r = server.get("/sparql", params={"query": "PREFIX:<http://x/> SELECT (1 AS ?one) {}"})
    assert r.status_code == 200 and r.json()["results"]["bindings"][0]["one"]["value"] == "1"
    update = server.get("/sparql", params={"query": "PREFIX:<http://x/> INSERT DATA { :a :b :c }"})
    assert update.status_code == 403
    count = (
        "PREFIX : <https://w3id.org/cica-kg/graph/> SELECT (COUNT(*) AS ?n) {} ".replace("{}", "")
        + "FROM{g} {{ ?s ?p ?o }}"
    )
    spaced = server.get("/sparql", params={"query": count.format(g=" :states")})
    tight = server.get("/sparql", params={"query": count.format(g=":states")})
    assert tight.json() == spaced.json()
    n = int(tight.json()["results"]["bindings"][0]["n"]["value"])
    assert 200 < n < 400  # the states graph only, not the whole union
    etag = tight.headers["ETag"]
    again = server.get("/sparql", params={"query": count.format(g=":states")},
                       headers={"If-None-Match": etag})  # fmt: skip
    assert again.status_code == 304


@pytest.mark.parametrize(
    "path, params, status",
    [
        ("/sparql", {"query": "ASK {}", "default-graph-uri": "not an iri"}, 400),
        ("/sparql", {"query": "ASK {}", "named-graph-uri": "relative"}, 400),
        ("/id/state/a%20b", {}, 404),
        ("/id/state/%3E", {}, 404),
        ("/queries/members", {"name": "x"}, 400),
        ("/queries/members", {"_external": "1", "suffix": "x"}, 400),
    ],
)
def test_odd_parameters_get_4xx(server: Server, path: str, params: dict, status: int) -> None:
    r = server.get(path, params=params, headers={"Accept": "text/html"})
    assert r.status_code == status, r.text[:300]
    assert "Traceback" not in r.text
    assert_healthy(server)


def test_service_description_negotiates_among_graph_formats(server: Server) -> None:
    r = server.get("/sparql", headers={"Accept": "application/n-quads, text/turtle;q=0.5"})
    assert r.status_code == 200 and r.headers["Content-Type"].startswith("text/turtle")


def test_dead_idle_query_processes_are_replaced(server: Server) -> None:
    import os
    import signal
    from pathlib import Path

    def children(pid: int) -> list[int]:
        return [int(c) for c in Path(f"/proc/{pid}/task/{pid}/children").read_text().split()]

    workers = children(server.process.pid)
    query_processes = [c for w in workers for c in children(w)]
    assert query_processes
    for pid in query_processes:
        os.kill(pid, signal.SIGKILL)
    time.sleep(0.5)  # killed while idle, some time before the next requests
    for i in range(12):  # every worker, every thread: none may answer 500
        r = server.get("/sparql", params={"query": f"ASK {{ ?s ?p {i} }}"})
        assert r.status_code == 200, r.text[:200]
