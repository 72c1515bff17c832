"""Runaway queries, rebuilds under load and crash safety (issue 8). Latency figures under
load are measured by benchmarks/soak.py, not asserted here."""

from __future__ import annotations

import os
import random
import re
import shutil
import signal
import subprocess
import sys
import threading
import time
from collections import Counter
from collections.abc import Iterator
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path

import pyoxigraph as ox
import pytest
from conftest import Server, start_server, stop_server

from cica_kg import build as building
from cica_kg import resources
from cica_kg.settings import Settings
from cica_kg.store import current_build

RUNAWAYS = [
    "SELECT (COUNT(*) AS ?n) WHERE { ?a ?b ?c . ?d ?e ?f . ?g ?h ?i }",
    "SELECT (COUNT(*) AS ?n) WHERE { ?a ?b ?c . ?d ?e ?f . "
    "FILTER(REGEX(CONCAT(STR(?c), STR(?f)), '(a+)+$')) }",
    "SELECT (COUNT(*) AS ?n) WHERE { ?a (<http://x>|!<http://y>)* ?b . ?b (!<http://z>)* ?c }",
]
CANNED = [
    ("/queries/members.json", {"date": "2015-06-01"}),
    ("/queries/chair.json", {"date": "2016-01-01"}),
    ("/queries/observers.json", {}),
    (
        "/sparql",
        {"query": "SELECT ?l WHERE { <https://w3id.org/cica-kg/id/state/KAZ> rdfs:label ?l }"},
    ),
]
COUNT_SOURCES = "SELECT (COUNT(*) AS ?n) WHERE { ?s a <https://w3id.org/cica-kg/ontology#Source> }"
EXTRA = Path(__file__).resolve().parents[1] / "fixtures" / "extra-source.ttl"
EXTRA_TRIPLES = 5


def private_copy(root: Path) -> Settings:
    shutil.copytree(resources.ontology_dir(), root / "ontology")
    shutil.copytree(resources.data_dir(), root / "data")
    return Settings.from_env(
        {}, store=root / "store", ontology_dir=root / "ontology", data_dir=root / "data"
    )


@pytest.fixture(scope="module")
def rig(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Server]:
    settings = private_copy(tmp_path_factory.mktemp("rig"))
    building.build(settings)
    env = {"CICA_KG_QUERY_TIMEOUT": "2", "CICA_KG_QUERY_WORKERS": "4"}
    server = start_server(settings, env=env, workers=2, threads=16)
    yield server
    stop_server(server)


def load(server: Server, stop: threading.Event, results: list[tuple[int, float]]) -> None:
    i = 0
    while not stop.is_set():
        path, params = CANNED[i % len(CANNED)]
        i += 1
        start = time.monotonic()
        try:
            status = server.get(path, params=params).status_code
        except Exception:  # a failed request counts as a failure, whatever the reason
            status = 0
        results.append((status, time.monotonic() - start))


def test_runaway_queries_are_stopped_while_20_clients_see_no_error(rig: Server) -> None:
    stop = threading.Event()
    results: list[tuple[int, float]] = []
    clients = [threading.Thread(target=load, args=(rig, stop, results)) for _ in range(20)]
    for c in clients:
        c.start()
    time.sleep(3)  # a server already serving them (pools grown, caches warm)
    warmup_errors = [s for s, _ in results if s != 200]
    try:
        with ThreadPoolExecutor(max_workers=len(RUNAWAYS)) as pool:
            started = time.monotonic()
            futures = [pool.submit(rig.get, "/sparql", params={"query": q}) for q in RUNAWAYS]
            answers = [(f.result(), time.monotonic() - started) for f in futures]
    finally:
        stop.set()
        for c in clients:
            c.join()
    for response, elapsed in answers:
        assert response.status_code == 503, response.text[:200]
        assert "time limit" in response.text
        assert elapsed < 2 + 3.0  # stopped at the limit, plus scheduling on a loaded machine
    assert warmup_errors == []
    assert len(results) > 50
    assert [s for s, _ in results if s != 200] == []


def sources(server: Server) -> int:
    r = server.get("/sparql", params={"query": COUNT_SOURCES})
    return int(r.json()["results"]["bindings"][0]["n"]["value"])


def test_rebuild_under_load_switches_without_failures(rig: Server) -> None:
    settings = rig.settings
    before_sources, before_etag = (
        sources(rig),
        rig.get("/sparql", params={"query": COUNT_SOURCES}).headers["ETag"],
    )
    stop = threading.Event()
    results: list[tuple[int, float]] = []
    clients = [threading.Thread(target=load, args=(rig, stop, results)) for _ in range(8)]
    for c in clients:
        c.start()
    try:
        # A failing build (syntax error) during load: clients keep the old data.
        broken = settings.data_dir / "broken.ttl"
        broken.write_text("<https://w3id.org/cica-kg/id/x> <p> .\n")
        with pytest.raises(Exception, match="broken.ttl:1:"):
            building.build(settings)
        broken.unlink()
        # A failing build (SHACL violation) during load: same.
        bad = settings.data_dir / "bad.ttl"
        bad.write_text(
            "<https://w3id.org/cica-kg/id/chairmanship/XXX-2030> "
            "a <https://w3id.org/cica-kg/ontology#Membership> .\n"
        )
        with pytest.raises(Exception, match="validation problem"):
            building.build(settings)
        bad.unlink()
        assert sources(rig) == before_sources
        # A good build with one more source: the server switches without a restart.
        extra = settings.data_dir / "extra.ttl"
        extra.write_text(EXTRA.read_text())
        building.build(settings)
        deadline = time.monotonic() + 10
        while sources(rig) == before_sources and time.monotonic() < deadline:
            time.sleep(0.05)
        time.sleep(0.5)
    finally:
        stop.set()
        for c in clients:
            c.join()
        (settings.data_dir / "extra.ttl").unlink(missing_ok=True)
    assert sources(rig) == before_sources + 1
    assert rig.get("/sparql", params={"query": COUNT_SOURCES}).headers["ETag"] != before_etag
    assert len(results) > 20
    assert [s for s, _ in results if s != 200] == []


def store_content(settings: Settings) -> frozenset[str]:
    """The published quads, blank-node labels blanked (each parse of shapes.ttl picks new
    ones, so two builds of the same input differ only there)."""
    info = current_build(settings.store)
    assert info is not None
    store = ox.Store.read_only(str(info.store_path))
    quads = (
        re.sub(r"_:[0-9a-f]+", "_:", str(q)) for q in store.quads_for_pattern(None, None, None)
    )
    counted = Counter(quads)
    return frozenset(f"{q} x{n}" for q, n in counted.items())


def test_builds_killed_at_random_points_leave_the_last_good_build(tmp_path: Path) -> None:
    settings = private_copy(tmp_path)
    building.build(settings)
    old = store_content(settings)
    extra = settings.data_dir / "extra.ttl"
    env = {**os.environ, "CICA_KG_STORE": str(settings.store),
           "CICA_KG_ONTOLOGY_DIR": str(settings.ontology_dir),
           "CICA_KG_DATA_DIR": str(settings.data_dir)}  # fmt: skip
    command = [sys.executable, "-m", "cica_kg", "build"]
    extra.write_text(EXTRA.read_text())
    started = time.monotonic()
    subprocess.run(command, env=env, check=True, capture_output=True)
    duration = time.monotonic() - started
    rng = random.Random(8)
    # Kill points from "still importing" to "about done", the rest at random in between.
    delays = [0.05, duration * 0.5, duration * 0.9] + [
        rng.uniform(0.05, duration) for _ in range(5)
    ]
    outcomes = []
    for delay in delays:
        extra.unlink()
        building.build(settings)  # publish the old content again
        extra.write_text(EXTRA.read_text())
        process = subprocess.Popen(
            command, env=env, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL
        )
        time.sleep(delay)
        process.send_signal(signal.SIGKILL)
        process.wait()
        content = store_content(settings)  # opens and reads the whole published store
        assert content == old or (len(content) == len(old) + EXTRA_TRIPLES and old < content)
        outcomes.append("old" if content == old else "new")
    assert outcomes[0] == "old"  # killed before it could publish
    # After the crashes a normal build still works, publishes, and clears the leftovers.
    building.build(settings, force=True)
    assert len(store_content(settings)) == len(old) + EXTRA_TRIPLES
    assert not list((settings.store / "builds").glob(".tmp-*"))


def test_server_killed_restarts_on_the_last_good_build(tmp_path: Path) -> None:
    settings = private_copy(tmp_path)
    building.build(settings)
    server = start_server(settings, workers=1, threads=4)
    before = sources(server)
    os.kill(server.process.pid, signal.SIGKILL)
    server.process.wait()
    again = start_server(settings, workers=1, threads=4)
    try:
        assert sources(again) == before > 100
    finally:
        stop_server(again)
