"""Serving fit for the open internet (issue 13), against a real `cica-kg serve` on loopback:
slow clients (trickled heads, slow bodies, too many connections), fair share between client
addresses, X-Forwarded-For from trusted proxies only, and relative IRIs. Clients are told
apart by binding distinct loopback source addresses (all of 127.0.0.0/8 is loopback).
These tests assert who is served and who is refused, with which limit; the throughput and
latency goals are measured in benchmarks/ (see benchmarks/README.md), not here."""

from __future__ import annotations

import http.client
import json
import os
import resource
import signal
import socket
import subprocess
import threading
import time
from collections import Counter
from collections.abc import Iterator
from concurrent.futures import ThreadPoolExecutor
from urllib.parse import urlencode

import pyoxigraph as ox
import pytest
from conftest import Server, start_server, stop_server

from cica_kg.namespaces import BASE
from cica_kg.query import Job
from cica_kg.settings import Settings

RUNAWAY = "SELECT (COUNT(*) AS ?n) WHERE {{ ?a ?b ?c . ?d ?e ?f . ?g ?h ?i }} # {}"
KAZ_LABEL = "SELECT ?l WHERE { <https://w3id.org/cica-kg/id/state/KAZ> rdfs:label ?l }"
LIMITS = {
    "CICA_KG_QUERY_TIMEOUT": "2",
    "CICA_KG_HEADER_TIMEOUT": "3",
    "CICA_KG_BODY_TIMEOUT": "2",
    "CICA_KG_CLIENT_QUERIES": "4",
    "CICA_KG_CLIENT_QUERY_SECONDS": "7.5",  # 4 runaways stopped at 2 s use 8
    "CICA_KG_TRUSTED_PROXIES": "127.0.0.5",
}


@pytest.fixture(scope="module")
def guarded(built_settings: Settings) -> Iterator[Server]:
    # 1,000 client sockets here and as many in the server (which inherits this limit).
    soft, hard = resource.getrlimit(resource.RLIMIT_NOFILE)
    if soft < 4096 <= hard or hard == resource.RLIM_INFINITY:
        resource.setrlimit(resource.RLIMIT_NOFILE, (4096, hard))
    server = start_server(built_settings, env=LIMITS, workers=2, threads=8)
    yield server
    stop_server(server)


def port_of(server: Server) -> int:
    return int(server.url.rsplit(":", 1)[1])


def ask(
    server: Server,
    source: str,
    path: str,
    params: dict[str, str] | None = None,
    headers: dict[str, str] | None = None,
) -> tuple[int, dict[str, str], bytes]:
    """GET from the loopback address `source`: status, headers, body."""
    conn = http.client.HTTPConnection(
        "127.0.0.1", port_of(server), timeout=30, source_address=(source, 0)
    )
    try:
        url = path + ("?" + urlencode(params) if params else "")
        conn.request("GET", url, headers=headers or {})
        r = conn.getresponse()
        return r.status, {k.lower(): v for k, v in r.getheaders()}, r.read()
    finally:
        conn.close()


def members_count(body: bytes) -> int:
    return len(json.loads(body)["results"]["bindings"])


def raw(server: Server, source: str) -> socket.socket:
    sock = socket.socket()
    sock.bind((source, 0))
    sock.settimeout(10)
    sock.connect(("127.0.0.1", port_of(server)))
    return sock


def read_reply(sock: socket.socket) -> bytes:
    reply = b""
    try:
        while chunk := sock.recv(65536):
            reply += chunk
    except (ConnectionResetError, TimeoutError):
        pass
    return reply


# -- slow clients ---------------------------------------------------------------------------


def test_trickled_heads_do_not_keep_others_out(guarded: Server) -> None:
    """1,000 connections from 127.0.0.2 that send their heads a line at a time: most are
    refused at once (connections per client), the rest cut at header_timeout; 127.0.0.3
    is answered throughout."""
    socks, refused = [], 0
    try:
        for _ in range(1000):
            try:
                s = raw(guarded, "127.0.0.2")
                s.sendall(b"GET /sparql?query=ASK%7B%7D HTTP/1.1\r\nHost: x\r\n")
                socks.append(s)
            except OSError:
                refused += 1
        status, _, body = ask(guarded, "127.0.0.3", "/sparql", {"query": KAZ_LABEL})
        assert status == 200 and b"Kazakhstan" in body
        for s in socks[:20]:  # keep trickling on the first ones
            try:
                s.sendall(b"X-Slow: 1\r\n")
            except OSError:
                pass
        time.sleep(3.5)  # past header_timeout
        status, _, body = ask(guarded, "127.0.0.3", "/queries/members.json", {"date": "2015-06-01"})
        assert status == 200 and members_count(body) == 26
        replies = Counter()
        for s in socks:
            s.settimeout(2)
            head = read_reply(s).split(b"\r\n", 1)[0]
            replies[head.split(b" ")[1] if head else b"closed"] += 1
    finally:
        for s in socks:
            s.close()
    # Two workers, 32 connections each at most: the rest were told 429 at once; the kept
    # ones were cut with 408 when their head was not complete in time.
    assert replies[b"408"] <= 64 and replies[b"408"] >= 1
    assert replies[b"429"] + refused >= 1000 - 64
    assert set(replies) <= {b"408", b"429", b"closed"}


def test_slow_body_gets_408_and_large_bodies_413(guarded: Server) -> None:
    s = raw(guarded, "127.0.0.4")
    s.sendall(
        b"POST /sparql HTTP/1.1\r\nHost: x\r\nContent-Type: application/sparql-query\r\n"
        b"Content-Length: 100\r\n\r\nASK {"
    )
    reply = read_reply(s)
    s.close()
    assert reply.startswith(b"HTTP/1.1 408 ") and b"body_timeout" in reply
    # Declared far over max_request_bytes: refused before reading.
    s = raw(guarded, "127.0.0.4")
    s.sendall(
        b"POST /sparql HTTP/1.1\r\nHost: x\r\nContent-Type: application/sparql-query\r\n"
        b"Content-Length: 900000000\r\n\r\n"
    )
    reply = read_reply(s)
    s.close()
    assert reply.startswith(b"HTTP/1.1 413 ") and b"max_request_bytes" in reply
    # Chunked, no length, over the cap: read to the end, then refused.
    s = raw(guarded, "127.0.0.4")
    chunk = b"x" * 100_000
    s.sendall(
        b"POST /sparql HTTP/1.1\r\nHost: x\r\nContent-Type: application/sparql-query\r\n"
        b"Transfer-Encoding: chunked\r\n\r\n"
        + (b"%x\r\n" % len(chunk) + chunk + b"\r\n") * 11
        + b"0\r\n\r\n"
    )
    reply = read_reply(s)
    s.close()
    assert reply.startswith(b"HTTP/1.1 413 ") and b"max_request_bytes" in reply


def test_connections_per_client_are_capped(guarded: Server) -> None:
    socks = [raw(guarded, "127.0.0.6") for _ in range(100)]
    try:
        time.sleep(0.5)
        refused = []
        for s in socks:  # well before header_timeout: the kept ones have nothing to read
            s.setblocking(False)
            try:
                refused.append(s.recv(4096))
            except BlockingIOError:
                continue
        # Two workers with 32 each keep at most 64; every other one is told why.
        assert len(refused) >= 36
        assert all(r.startswith(b"HTTP/1.1 429 ") for r in refused)
        assert all(b"max_connections_per_client" in r and b"retry-after: 1" in r for r in refused)
        status, _, _ = ask(guarded, "127.0.0.7", "/sparql", {"query": "ASK {}"})
        assert status == 200
    finally:
        for s in socks:
            s.close()
    # A trusted proxy carries many clients: its connections are not capped.
    socks = [raw(guarded, "127.0.0.5") for _ in range(70)]
    try:
        time.sleep(0.5)
        for s in socks:
            s.setblocking(False)
            with pytest.raises(BlockingIOError):
                s.recv(4096)
    finally:
        for s in socks:
            s.close()


# -- fair share -----------------------------------------------------------------------------


def test_fair_share_between_a_greedy_and_a_modest_client(guarded: Server) -> None:
    """127.0.0.2 sends 32 runaway queries at once; at most client_queries (4) run, the rest
    get 429 naming the limit, and 127.0.0.3 gets every canned answer meanwhile. Then
    127.0.0.2 has used its seconds per minute: 429 naming that limit, with Retry-After."""
    stop = threading.Event()
    modest: list[tuple[int, int]] = []

    def canned() -> None:
        year = 1999
        while not stop.is_set() and len(modest) < 8:  # well within its own budget
            year = 2000 + (year + 1) % 25  # a new date each time: no cache answers it
            status, _, body = ask(
                guarded, "127.0.0.3", "/queries/members.json", {"date": f"{year}-06-01"}
            )
            modest.append((status, members_count(body) if status == 200 else -1))
            stop.wait(0.25)

    watcher = threading.Thread(target=canned)
    watcher.start()
    try:
        with ThreadPoolExecutor(32) as pool:
            greedy = list(
                pool.map(
                    lambda i: ask(
                        guarded,
                        "127.0.0.2",
                        "/sparql",
                        {"query": RUNAWAY.format(i)},
                        {"Accept": "application/json"},
                    ),
                    range(32),
                )
            )
        after = ask(guarded, "127.0.0.2", "/sparql", {"query": RUNAWAY.format("after")})
    finally:
        stop.set()
        watcher.join()
    statuses = Counter(status for status, _, _ in greedy)
    assert 1 <= statuses[503] <= 4 and statuses[503] + statuses[429] == 32, statuses
    for status, headers, body in greedy:
        if status == 429:
            assert headers["cica-kg-limit"] == "client_queries"
            assert int(headers["retry-after"]) >= 1
            assert "client_queries" in json.loads(body)["error"]["message"]
    status, headers, body = after
    assert status == 429 and headers["cica-kg-limit"] == "client_query_seconds"
    assert int(headers["retry-after"]) > 1 and b"client_query_seconds" in body
    assert modest and all(status == 200 and rows > 0 for status, rows in modest), modest
    # Other clients are still served.
    assert ask(guarded, "127.0.0.3", "/sparql", {"query": "ASK {}"})[0] == 200


def test_x_forwarded_for_only_from_trusted_proxies(guarded: Server) -> None:
    forged = {"X-Forwarded-For": "198.51.100.7"}
    assert ask(guarded, "127.0.0.5", "/sparql", {"query": "ASK { ?s ?p 1 }"}, forged)[0] == 200
    assert ask(guarded, "127.0.0.8", "/sparql", {"query": "ASK { ?s ?p 2 }"}, forged)[0] == 200
    time.sleep(0.5)
    lines = guarded.log.read_text(errors="replace").splitlines()
    access = [line for line in lines if "cica_kg.access" in line and '"GET /sparql"' in line]
    assert any("198.51.100.7 " in line.split("cica_kg.access: ", 1)[1] for line in access)
    assert any(line.split("cica_kg.access: ", 1)[1].startswith("127.0.0.8 ") for line in access)
    assert not any(line.split("cica_kg.access: ", 1)[1].startswith("127.0.0.5 ") for line in access)


# -- relative IRIs ----------------------------------------------------------------------------


def test_query_content_type_construct(server: Server) -> None:
    """The W3C protocol test of that name: relative IRIs resolve against the base."""
    r = server.post(
        "/sparql",
        data=b"CONSTRUCT { <s> <p> 1 } WHERE {}",
        headers={"Content-Type": "application/sparql-query", "Accept": "application/n-triples"},
    )
    assert r.status_code == 200, r.text
    triples = list(ox.parse(r.content, format=ox.RdfFormat.N_TRIPLES))
    assert [str(t) for t in triples] == [
        f'<{BASE}s> <{BASE}p> "1"^^<http://www.w3.org/2001/XMLSchema#integer>'
    ]


def test_the_query_own_base_wins_and_relative_service_is_judged_resolved(server: Server) -> None:
    r = server.get("/sparql", params={"query": "BASE <http://e/> SELECT ?x { BIND(<s> AS ?x) }"})
    assert r.json()["results"]["bindings"][0]["x"]["value"] == "http://e/s"
    r = server.get("/sparql", params={"query": "SELECT * { SERVICE <sparql> { ?s ?p ?o } }"})
    assert r.status_code == 400 and f"<{BASE}sparql> is refused" in r.text


def test_the_base_is_part_of_the_cache_key() -> None:
    one = Job(query="ASK { <s> ?p ?o }", format_name="json", base="http://a/")
    assert one.cache_key() != Job(query=one.query, format_name="json", base="http://b/").cache_key()


# -- what gunicorn gave: replacement of dead workers, graceful drain -------------------------


def workers_of(server: Server) -> list[int]:
    """The web worker processes (uvicorn's supervisor's children that run the app)."""
    pids = [
        int(c)
        for c in open(f"/proc/{server.process.pid}/task/{server.process.pid}/children")
        .read()
        .split()
    ]
    return [p for p in pids if "resource_tracker" not in open(f"/proc/{p}/cmdline").read()]


def test_a_dead_worker_is_replaced(guarded: Server) -> None:
    before = workers_of(guarded)
    assert len(before) == 2
    os.kill(before[0], signal.SIGKILL)
    deadline = time.monotonic() + 60  # the supervisor checks every 0.5 s; a start is slow here
    while time.monotonic() < deadline:
        now = workers_of(guarded)
        if len(now) == 2 and before[0] not in now:
            break
        time.sleep(0.2)
    assert len(now) == 2 and before[0] not in now
    for i in range(6):  # both workers answer (the new one has started its query processes)
        query = f'ASK {{ ?s ?p "no such value {i}" }}'
        status, _, body = ask(guarded, "127.0.0.9", "/sparql", {"query": query})
        assert status == 200 and json.loads(body)["boolean"] is False


def test_sigterm_lets_requests_in_flight_finish(built_settings: Settings) -> None:
    server = start_server(built_settings, env={"CICA_KG_QUERY_TIMEOUT": "2"}, workers=1, threads=4)
    try:
        with ThreadPoolExecutor(1) as pool:
            slow = pool.submit(ask, server, "127.0.0.9", "/sparql", {"query": RUNAWAY.format(1)})
            time.sleep(0.7)  # the query is running
            server.process.send_signal(signal.SIGTERM)
            status, _, body = slow.result()
        assert status == 503 and b"time limit" in body  # a whole answer, not a reset
        server.process.wait(timeout=30)
    finally:
        log = stop_server(server)
    assert "Received SIGTERM" in log


def test_front_cache_answers_repeats_as_the_app_did(guarded: Server) -> None:
    params = {"query": KAZ_LABEL + " # front cache"}
    first = ask(guarded, "127.0.0.10", "/sparql", params)
    again = ask(guarded, "127.0.0.10", "/sparql", params)
    assert first[0] == again[0] == 200 and first[2] == again[2]
    assert b"Kazakhstan" in again[2]
    drop = {"date"}
    assert {k: v for k, v in first[1].items() if k not in drop} == {
        k: v for k, v in again[1].items() if k not in drop
    }
    etag = first[1]["etag"]
    status, headers, body = ask(guarded, "127.0.0.10", "/sparql", params, {"If-None-Match": etag})
    assert status == 304 and body == b"" and headers["etag"] == etag
    # Another format is another answer.
    status, headers, body = ask(guarded, "127.0.0.10", "/sparql", params, {"Accept": "text/csv"})
    assert status == 200 and headers["content-type"].startswith("text/csv")
    assert body.decode().splitlines()[0] == "l"


def test_tables_of_killed_servers_are_swept() -> None:
    from cica_kg.web import fairshare

    dead = subprocess.Popen(["true"])
    dead.wait()
    stale = fairshare.table_path(f"{dead.pid}-test")
    live = fairshare.table_path(f"{os.getpid()}-test")
    for path in (stale, live):
        fairshare.create_table(path)
    try:
        fairshare.sweep_stale()
        assert not stale.exists() and live.exists()
    finally:
        stale.unlink(missing_ok=True)
        live.unlink(missing_ok=True)


def test_front_cache_entries_end_with_their_build_and_max_age(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    """An answer can depend on the day (a `date` that defaults to today), so the front
    keeps it no longer than it lets clients keep it."""
    from cica_kg.web import front

    cache = front.FrontCache(entries=10)
    now = [1000.0]
    monkeypatch.setattr(front.time, "monotonic", lambda: now[0])
    cache.put(("k",), "build-1", 300, b'"e"', [(b"etag", b'"e"')], b"answer")
    assert cache.get(("k",), "build-1") == (b'"e"', [(b"etag", b'"e"')], b"answer")
    assert cache.get(("k",), "build-2") is None
    now[0] += 301
    assert cache.get(("k",), "build-1") is None
