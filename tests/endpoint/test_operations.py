"""Operating the server (issue 17): /healthz and /readyz, Prometheus metrics at /metrics (read
with prometheus_client's own parser after known traffic, from a real `cica-kg serve` with two
workers), the /metrics allowlist by client address, and JSON logs."""

from __future__ import annotations

import datetime as dt
import hashlib
import http.client
import json
import logging
import os
import re
import signal
import subprocess
import sys
import tempfile
import time
from collections.abc import Iterator
from pathlib import Path

import pytest
import requests
from conftest import REPO, Server, free_port, oxigraph_server, start_server, stop_server
from prometheus_client.parser import text_string_to_metric_families

from cica_kg import errors, logs, metrics
from cica_kg.query import Engine, InlinePool, RemoteEngine
from cica_kg.settings import Settings
from cica_kg.store import current_build
from cica_kg.web import app as web_app
from cica_kg.web import ops
from cica_kg.web.app import create_app

RUNAWAY = "SELECT (COUNT(*) AS ?n) WHERE { ?a ?b ?c . ?d ?e ?f . ?g ?h ?i }"
SERVICE = "SELECT * WHERE { SERVICE <http://127.0.0.1:9/sparql> { ?s ?p ?o } }"
Samples = dict[tuple[str, frozenset[tuple[str, str]]], float]

# The currency date the shipped data state (data/dataset.ttl), read here without the library.
CURRENT_TO = dt.date.fromisoformat(
    re.search(
        r'cica:dataCurrentTo\s+"(\d{4}-\d\d-\d\d)"',
        (REPO / "data" / "dataset.ttl").read_text("utf-8"),
    ).group(1)  # type: ignore[union-attr]
)


def samples(text: str) -> Samples:
    """Every sample of an exposition, by (name, labels)."""
    return {
        (s.name, frozenset(s.labels.items())): s.value
        for family in text_string_to_metric_families(text)
        for s in family.samples
    }


def value(found: Samples, name: str, **labels: str) -> float:
    return found.get((name, frozenset(labels.items())), 0.0)


def delta(before: Samples, after: Samples, name: str, **labels: str) -> float:
    return value(after, name, **labels) - value(before, name, **labels)


# -- a real server: two workers, a 1 s time limit, JSON logs ----------------------------


@pytest.fixture(scope="module")
def served(built_settings: Settings) -> Iterator[Server]:
    env = {"CICA_KG_LOG_FORMAT": "json", "CICA_KG_METRICS_ALLOW": "127.0.0.3"}
    server = start_server(built_settings, env=env, workers=2, threads=4, query_timeout=1)
    yield server
    stop_server(server)


def scrape(server: Server, via: requests.Session | None = None) -> Samples:
    response = (via or requests).get(server.url + "/metrics", timeout=30)
    assert response.status_code == 200, response.text
    assert response.headers["Content-Type"].startswith("text/plain; version=")
    return samples(response.text)


def wait_for(server: Server, name: str, wanted: float) -> Samples:
    """The metrics once `name` reads at least `wanted` (query processes start in the
    background)."""
    deadline = time.monotonic() + 30
    while True:
        found = scrape(server)
        if value(found, name) >= wanted or time.monotonic() > deadline:
            return found
        time.sleep(0.2)


def test_health_and_readiness_answer_with_the_build(served: Server) -> None:
    build = current_build(served.settings.store)
    assert build is not None
    health = served.get("/healthz")
    assert health.status_code == 200
    assert health.json() == {
        "status": "ok",
        "build_id": build.build_id,
        "data_current_to": CURRENT_TO.isoformat(),
    }
    ready = served.get("/readyz")
    assert ready.status_code == 200
    assert ready.json() == {
        "status": "ready",
        "reason": None,
        "build_id": build.build_id,
        "data_current_to": CURRENT_TO.isoformat(),
    }
    assert ready.headers["Cache-Control"] == "no-store"


def test_every_worker_counts_and_the_counts_match_the_traffic(served: Server) -> None:
    # Each of the two workers starts two query processes: 4 only if both are summed. A
    # worker asked for a query while its second process still boots starts a spare (the
    # pool grows when its last idle process is taken), so 5 happens too (seen in CI).
    before = wait_for(served, "cica_kg_query_processes_alive", 4)
    alive = value(before, "cica_kg_query_processes_alive")
    assert alive in (4, 5)
    assert value(before, "cica_kg_query_processes_busy") == 0
    assert value(before, "cica_kg_ready") == 1
    traffic = {
        ("/", "200"): [served.get("/") for _ in range(2)],
        ("/queries/<name>.json", "200"): [served.get("/queries/members.json")],
        ("/sparql", "200"): [served.get("/sparql", params={"query": "ASK {}"})],
        ("/sparql", "400"): [served.get("/sparql", params={"query": SERVICE})],
        ("/sparql", "403"): [served.post("/sparql", data={"update": "CLEAR ALL"})],
        ("unmatched", "404"): [served.get("/no/such/page")],
        ("/sparql", "503"): [served.get("/sparql", params={"query": RUNAWAY})],
    }
    for (route, status), responses in traffic.items():
        assert all(str(r.status_code) == status for r in responses), route
    # The stopped query's process is killed and replaced in the background.
    started = value(before, "cica_kg_query_processes_started_total")
    after = wait_for(served, "cica_kg_query_processes_started_total", started + 1)
    for (route, status), responses in traffic.items():
        got = delta(before, after, "cica_kg_http_requests_total", route=route, status=status)
        assert got == len(responses), (route, status)
    assert delta(before, after, "cica_kg_http_requests_total", route="/metrics", status="200") >= 1
    count = "cica_kg_http_request_duration_seconds_count"
    assert delta(before, after, count, kind="page") == 2
    assert delta(before, after, count, kind="other") == 1  # the 404
    assert delta(before, after, count, kind="canned") == 1
    assert delta(before, after, count, kind="sparql") == 4
    assert delta(before, after, "cica_kg_refused_total", reason="service") == 1
    assert delta(before, after, "cica_kg_refused_total", reason="read_only") == 1
    assert delta(before, after, "cica_kg_queries_stopped_total") == 1
    assert delta(before, after, "cica_kg_query_processes_killed_total", reason="time_limit") == 1
    # Its successor, and perhaps a spare (the pool starts one when its last idle process is
    # taken): whatever started, the live gauge adds up with what started and what went.
    started_since = delta(before, after, "cica_kg_query_processes_started_total")
    gone = sum(
        after[key] - before.get(key, 0.0)
        for key in after
        if key[0] == "cica_kg_query_processes_killed_total"
    )
    assert started_since >= 1 and gone == 1
    assert value(after, "cica_kg_query_processes_alive") == alive + started_since - gone


def test_cache_hits_and_misses_are_counted(served: Server) -> None:
    # One kept-alive connection is served by one worker, whose cache the query then meets.
    with requests.Session() as session:
        session.get(served.url + "/healthz", timeout=30)  # the worker knows the currency
        before = scrape(served, session)
        query = f"SELECT ?s WHERE {{ ?s ?p ?o }} LIMIT 3 # {time.time()}"
        bodies = [session.get(served.url + "/sparql", params={"query": query}).text for _ in "abc"]
        after = scrape(served, session)
    assert len(set(bodies)) == 1
    assert delta(before, after, "cica_kg_cache_misses_total") == 1
    assert delta(before, after, "cica_kg_cache_hits_total") == 2


def test_the_published_build_is_described_at_scrape_time(served: Server) -> None:
    build = current_build(served.settings.store)
    assert build is not None
    found = scrape(served)
    assert value(found, "cica_kg_build_info", build_id=build.build_id) == 1
    built = dt.datetime.fromisoformat(build.built_at.replace("Z", "+00:00"))
    age = (dt.datetime.now(dt.UTC) - built).total_seconds()
    assert abs(value(found, "cica_kg_build_age_seconds") - age) < 60
    assert value(found, "cica_kg_build_triples") == build.triples
    current_to = dt.datetime.combine(CURRENT_TO, dt.time(), dt.UTC).timestamp()
    assert value(found, "cica_kg_data_current_to_timestamp_seconds") == current_to


def get_from(server: Server, source: str, path: str) -> tuple[int, bytes]:
    """GET `path` over a connection from the local address `source`."""
    port = int(server.url.rsplit(":", 1)[1])
    conn = http.client.HTTPConnection("127.0.0.1", port, timeout=30, source_address=(source, 0))
    try:
        conn.request("GET", path)
        response = conn.getresponse()
        return response.status, response.read()
    finally:
        conn.close()


def test_metrics_only_for_this_host_and_the_allowed_addresses(served: Server) -> None:
    status, body = get_from(served, "127.0.0.2", "/metrics")
    assert status == 403
    assert b"CICA_KG_METRICS_ALLOW" in body and b"cica_kg_" not in body
    assert get_from(served, "127.0.0.2", "/healthz")[0] == 200  # only /metrics is kept
    status, body = get_from(served, "127.0.0.3", "/metrics")  # named in the setting
    assert status == 200
    assert value(samples(body.decode()), "cica_kg_ready") == 1


def test_allowed_addresses() -> None:
    assert ops.allowed("127.0.0.1", ())
    assert ops.allowed("::1", ())
    assert ops.allowed("::ffff:127.0.0.1", ())
    assert not ops.allowed("127.0.0.2", ())
    assert not ops.allowed("10.1.2.3", ())
    assert ops.allowed("10.1.2.3", ("10.0.0.0/8",))
    assert ops.allowed("2001:db8::5", ("2001:db8::/32",))
    assert not ops.allowed("", ("0.0.0.0/0",))
    assert not ops.allowed("not an address", ("0.0.0.0/0",))


def test_a_bad_allowed_address_stops_the_app(built_settings: Settings) -> None:
    settings = built_settings.replace(metrics_allow=("10.0.0.0/8", "nonsense"))
    with pytest.raises(errors.SettingsError, match="nonsense"):
        create_app(settings, Engine(settings, InlinePool()))


def test_json_access_and_event_logs(served: Server) -> None:
    query = f"ASK {{ ?s ?p ?o }} # {time.time()}"
    with requests.Session() as session:  # one worker: the second answer is the cached one
        answers = [session.get(served.url + "/sparql", params={"query": query}) for _ in "ab"]
        refused = session.get(served.url + "/sparql", params={"query": SERVICE})
    assert [a.status_code for a in answers] == [200, 200] and refused.status_code == 400
    time.sleep(0.5)  # the lines are written when each answer has been sent
    lines = served.log.read_text().splitlines()
    records = [json.loads(line) for line in lines]  # every line: the command's own too
    own = {r["message"].split(":")[0]: r["logger"] for r in records if r["log"] == "event"}
    assert own["read inputs"] == "cica_kg.build"  # the build's progress
    assert own["serving http"] == "cica_kg.serve"
    access = [r for r in records if r["log"] == "access"]
    fields = ["time", "log", "client", "method", "path", "status", "duration", "bytes",
              "query_hash", "cache_hit", "limit_hit"]  # fmt: skip
    assert all(list(r) == fields for r in access)
    digest = hashlib.sha256(query.encode()).hexdigest()[:16]
    mine = [r for r in access if r["query_hash"] == digest]
    assert [r["cache_hit"] for r in mine] == [False, True]
    for record, answer in zip(mine, answers, strict=True):
        assert record["client"] == "127.0.0.1" and record["method"] == "GET"
        assert record["path"] == "/sparql" and record["status"] == 200
        assert record["bytes"] == len(answer.content)
        assert 0 < record["duration"] < 30 and record["limit_hit"] is None
        assert dt.datetime.fromisoformat(record["time"].replace("Z", "+00:00"))
    refusals = [r for r in access if r["limit_hit"] == "service_allowlist"]
    assert refusals and refusals[-1]["status"] == 400 and refusals[-1]["query_hash"] is None
    stopped = [r for r in access if r["limit_hit"] == "query_timeout"]
    assert all(r["status"] == 503 for r in stopped)
    events = [r for r in records if r["log"] == "event"]
    booted = [r for r in events if r["message"].startswith("Started server process")]
    assert len(booted) == 2 and all(r["logger"] == "uvicorn.error" for r in booted)
    assert all(r["level"] == "INFO" for r in booted)


def _spawned_children(pid: int | str) -> list[str]:
    children = Path(f"/proc/{pid}/task/{pid}/children").read_text().split()
    return [c for c in children if "spawn_main" in Path(f"/proc/{c}/cmdline").read_text()]


def query_processes(server_pid: int) -> list[str]:
    """The query processes of the server's live workers (grandchildren, spawned)."""
    return [q for w in _spawned_children(server_pid) for q in _spawned_children(w)]


def test_a_dead_workers_figures(served: Server) -> None:
    """A worker killed outright: its counts stay in the totals, its live gauges (query
    processes alive, busy) go, and its successor's come."""
    before = wait_for(served, "cica_kg_query_processes_alive", 4)
    pid = served.process.pid
    children = Path(f"/proc/{pid}/task/{pid}/children").read_text().split()
    # uvicorn's workers are spawned (multiprocessing); its resource tracker is not a worker
    workers = [c for c in children if "spawn_main" in Path(f"/proc/{c}/cmdline").read_text()]
    assert len(workers) == 2
    os.kill(int(workers[0]), signal.SIGKILL)
    started = value(before, "cica_kg_query_processes_started_total")
    after = wait_for(served, "cica_kg_query_processes_started_total", started + 2)
    assert value(after, "cica_kg_query_processes_started_total") >= started + 2
    # The live gauge counts exactly the query processes of the workers alive now (the
    # killed worker's are gone from it; a pool may have started a spare meanwhile).
    live = scrape(served)
    assert value(live, "cica_kg_query_processes_alive") == len(query_processes(pid))
    assert value(after, "cica_kg_query_processes_busy") == 0
    requests_total = "cica_kg_http_requests_total"
    for (name, labels), count in before.items():
        if name == requests_total:
            assert value(after, name, **dict(labels)) >= count


def test_dead_processes_are_forgotten_without_a_child_exit_hook(tmp_path: Path) -> None:
    """Where the server has no child-exit hook (uvicorn's supervisor), the scrape drops the
    live gauges of processes that are gone. In a fresh interpreter: multiprocess mode is
    chosen when prometheus_client is imported."""
    script = (
        "import subprocess, sys\n"
        "from cica_kg import metrics\n"
        "metrics.prepare_multiprocess_dir()\n"
        "child = 'from cica_kg import metrics; metrics.enable(); metrics.query_process_started()'\n"
        "subprocess.run([sys.executable, '-c', child], check=True)\n"
        "metrics.enable()\n"
        "sys.stdout.write(metrics.exposition(None, None, None)[0].decode())\n"
    )
    env = {**os.environ, "PROMETHEUS_MULTIPROC_DIR": str(tmp_path / "mp")}
    out = subprocess.run([sys.executable, "-c", script], env=env, check=True,
                         capture_output=True, text=True).stdout  # fmt: skip
    found = samples(out)
    assert value(found, "cica_kg_query_processes_started_total") == 1
    assert value(found, "cica_kg_query_processes_alive") == 0
    assert len(list((tmp_path / "mp").glob("gauge_livesum_*.db"))) == 1  # this process's


def test_a_killed_servers_directory_is_removed_by_the_next(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setattr(tempfile, "tempdir", str(tmp_path))
    gone = subprocess.Popen([sys.executable, "-c", "pass"])
    gone.wait()
    orphan = tmp_path / f"{metrics.TEMP_PREFIX}{gone.pid}-abc"
    alive = tmp_path / f"{metrics.TEMP_PREFIX}{os.getpid()}-def"
    for path in (orphan, alive):
        path.mkdir()
        (path / "counter_1.db").write_bytes(b"")
    metrics._remove_orphans()
    assert not orphan.exists() and alive.exists()


def test_json_event_lines_carry_the_traceback() -> None:
    try:
        raise ValueError("boom")
    except ValueError:
        record = logging.LogRecord("cica_kg.web", logging.ERROR, __file__, 1, "failed %s",
                                   ("here",), sys.exc_info())  # fmt: skip
    line = json.loads(logs.JsonFormatter().format(record))
    assert line["log"] == "event" and line["level"] == "ERROR"
    assert line["logger"] == "cica_kg.web" and line["message"] == "failed here"
    assert line["exception"].rstrip().endswith("ValueError: boom")


# -- in process (Flask's client): readiness failures, the probe's cache, remote figures --


class CountingPool(InlinePool):
    """Runs queries in this process and counts them; `broken` makes every query fail."""

    def __init__(self, broken: bool = False) -> None:
        super().__init__()
        self.calls, self.broken = 0, broken

    def run(self, store_path, job, timeout):  # type: ignore[no-untyped-def]
        self.calls += 1
        if self.broken:
            raise errors.Unavailable("all query processes are busy; try again shortly")
        return super().run(store_path, job, timeout)


def test_readyz_without_a_build_says_why(tmp_path: Path) -> None:
    settings = Settings.from_env({}, store=tmp_path / "empty")
    client = create_app(settings, Engine(settings, CountingPool())).test_client()
    ready = client.get("/readyz")
    assert ready.status_code == 503
    assert ready.json["status"] == "unavailable" and ready.json["build_id"] is None
    assert ready.json["reason"].startswith("no published build")
    health = client.get("/healthz")  # alive all the same
    assert health.status_code == 200
    assert health.json == {"status": "ok", "build_id": None, "data_current_to": None}


def test_readyz_when_no_query_process_answers(built_settings: Settings) -> None:
    pool = CountingPool(broken=True)
    client = create_app(built_settings, Engine(built_settings, pool)).test_client()
    ready = client.get("/readyz")
    assert ready.status_code == 503
    assert ready.json["reason"] == (
        "a trivial query failed: all query processes are busy; try again shortly"
    )
    assert ready.json["build_id"] == current_build(built_settings.store).build_id  # type: ignore[union-attr]


def test_readiness_is_checked_at_most_once_a_second(
    built_settings: Settings, monkeypatch: pytest.MonkeyPatch
) -> None:
    pool = CountingPool()
    client = create_app(built_settings, Engine(built_settings, pool)).test_client()
    client.get("/healthz")  # the currency, once per build, before counting
    pool.calls = 0
    assert all(client.get("/readyz").status_code == 200 for _ in range(20))
    assert pool.calls == 1
    monkeypatch.setattr(ops, "PROBE_EVERY", 0.0)
    client.get("/readyz")
    assert pool.calls == 2


def test_ops_routes_are_not_in_the_navigation(built_settings: Settings) -> None:
    assert not [endpoint for endpoint, _ in web_app.NAV if endpoint.startswith("ops.")]
    client = create_app(built_settings, Engine(built_settings, InlinePool())).test_client()
    home = client.get("/").get_data(as_text=True)
    assert "/healthz" not in home and "/readyz" not in home and "/metrics" not in home


def test_remote_engine_answer_times_and_errors(
    built_settings: Settings, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """In this process the metrics live in memory; /metrics (from 127.0.0.1) shows them."""
    monkeypatch.setattr(ops, "PROBE_EVERY", 600.0)  # the second scrape reuses the first probe
    info = current_build(built_settings.store)
    assert info is not None
    with oxigraph_server(info.store_path) as url:
        settings = Settings.from_env({}, store=tmp_path / "none", engine=url)
        client = create_app(settings, Engine(settings, RemoteEngine(url))).test_client()
        before = samples(client.get("/metrics").get_data(as_text=True))
        answer = client.get("/sparql", query_string={"query": "ASK { ?s ?p ?o }"})
        assert answer.status_code == 200 and answer.json["boolean"] is True
        after = samples(client.get("/metrics").get_data(as_text=True))
    # Between the scrapes only the ASK went out: the build's graph sizes, the currency and
    # the readiness are known from the first scrape.
    assert delta(before, after, "cica_kg_remote_engine_duration_seconds_count") == 1
    assert value(before, "cica_kg_remote_engine_duration_seconds_count") >= 3
    assert delta(before, after, "cica_kg_remote_engine_errors_total", kind="unreachable") == 0
    dead = f"http://127.0.0.1:{free_port()}/sparql"
    settings = Settings.from_env({}, store=tmp_path / "none", engine=dead)
    client = create_app(settings, Engine(settings, RemoteEngine(dead))).test_client()
    ready = client.get("/readyz")
    assert ready.status_code == 503 and "cannot be reached" in ready.json["reason"]
    final = samples(client.get("/metrics").get_data(as_text=True))
    assert delta(after, final, "cica_kg_remote_engine_errors_total", kind="unreachable") >= 1
    assert delta(after, final, "cica_kg_remote_engine_duration_seconds_count") == 0
    assert value(final, "cica_kg_ready") == 0
