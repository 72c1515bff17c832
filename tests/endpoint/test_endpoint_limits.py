"""Limits, federation, caching and shutdown of the endpoint (issue 3), against a real server
with small limits over a private copy of the data."""

from __future__ import annotations

import json
import os
import shutil
import signal
import threading
import time
from collections.abc import Iterator
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path

import pytest
import requests
from conftest import Server, start_server, stop_server
from standin import Recorded, Reply, StandIn

from cica_kg import build as building
from cica_kg import resources
from cica_kg.settings import Settings

RUNAWAY = "SELECT (COUNT(*) AS ?n) WHERE { ?a ?b ?c . ?d ?e ?f . ?g ?h ?i }"
SMALL = "SELECT ?l WHERE { <https://w3id.org/cica-kg/id/state/KAZ> rdfs:label ?l }"
POPULATION = {
    "http://www.wikidata.org/entity/Q232": "20000000",
    "http://www.wikidata.org/entity/Q148": "1400000000",
}


def wikidata_like(rec: Recorded) -> Reply:
    """Answers like Wikidata's query service: populations of Kazakhstan and China."""
    bindings = [
        {
            "item": {"type": "uri", "value": item},
            "pop": {
                "type": "literal",
                "value": pop,
                "datatype": "http://www.w3.org/2001/XMLSchema#decimal",
            },
        }
        for item, pop in POPULATION.items()
    ]
    body = json.dumps({"head": {"vars": ["item", "pop"]}, "results": {"bindings": bindings}})
    return Reply(body=body.encode(), delay=1.5 if "slow" in rec.path else 0.0)


@pytest.fixture(scope="module")
def standin() -> Iterator[StandIn]:
    with StandIn(wikidata_like) as s:
        yield s


@pytest.fixture(scope="module")
def limited(tmp_path_factory: pytest.TempPathFactory, standin: StandIn) -> Iterator[Server]:
    root = tmp_path_factory.mktemp("limited")
    shutil.copytree(resources.ontology_dir(), root / "ontology")
    shutil.copytree(resources.data_dir(), root / "data")
    settings = Settings.from_env(
        {}, store=root / "store", ontology_dir=root / "ontology", data_dir=root / "data"
    )
    building.build(settings)
    env = {
        "CICA_KG_ONTOLOGY_DIR": str(root / "ontology"),
        "CICA_KG_DATA_DIR": str(root / "data"),
        "CICA_KG_QUERY_TIMEOUT": "2",
        "CICA_KG_QUERY_WORKERS": "4",
        "CICA_KG_SERVICE_TIMEOUT": "8",
        "CICA_KG_MAX_RESULT_ROWS": "50",
        "CICA_KG_MAX_QUERY_LENGTH": "5000",
        "CICA_KG_MAX_REQUEST_BYTES": "20000",
        "CICA_KG_SERVICE_ALLOWLIST": f"{standin.url}/sparql,{standin.url}/slow",
    }
    server = start_server(settings, env=env, workers=1, threads=24)
    yield server
    stop_server(server)


def descendants(pid: int) -> list[int]:
    out, todo = [], [pid]
    while todo:
        parent = todo.pop()
        for child in Path(f"/proc/{parent}/task/{parent}/children").read_text().split():
            out.append(int(child))
            todo.append(int(child))
    return out


def cpu_seconds(pids: list[int]) -> float:
    total = 0
    for pid in pids:
        try:
            fields = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()
        except FileNotFoundError:
            continue
        total += int(fields[11]) + int(fields[12])  # utime + stime, in clock ticks
    return total / os.sysconf("SC_CLK_TCK")


def test_runaway_query_is_stopped_while_others_are_served(limited: Server) -> None:
    def small() -> int:
        return limited.get("/sparql", params={"query": SMALL}).status_code

    with ThreadPoolExecutor(max_workers=12) as pool:
        start = time.monotonic()
        runaway = pool.submit(limited.get, "/sparql", params={"query": RUNAWAY})
        time.sleep(0.3)
        smalls = [pool.submit(small) for _ in range(40)]
        statuses = [f.result() for f in smalls]
        runaway_still_running = not runaway.done()
        response = runaway.result()
        elapsed = time.monotonic() - start
    assert statuses == [200] * 40
    assert runaway_still_running  # the small ones did not wait for the runaway
    assert response.status_code == 503
    assert "time limit" in response.text and "2 s" in response.text
    assert 1.9 < elapsed < 4.0
    # The work really ended: the server's processes stop burning CPU.
    time.sleep(0.5)
    pids = [limited.process.pid, *descendants(limited.process.pid)]
    before = cpu_seconds(pids)
    time.sleep(1.0)
    assert cpu_seconds(pids) - before < 0.3


def test_allowlisted_service_is_called_and_joined(limited: Server, standin: StandIn) -> None:
    query = f"""
    PREFIX cica: <https://w3id.org/cica-kg/ontology#>
    PREFIX owl: <http://www.w3.org/2002/07/owl#>
    SELECT ?code ?pop WHERE {{
      ?state cica:iso3166Alpha3 ?code ; owl:sameAs ?item .
      SERVICE <{standin.url}/sparql> {{ ?item <http://www.wikidata.org/prop/direct/P1082> ?pop }}
    }} ORDER BY ?code"""
    seen = len(standin.requests)
    r = limited.get("/sparql", params={"query": query})
    assert r.status_code == 200, r.text
    rows = [(b["code"]["value"], b["pop"]["value"]) for b in r.json()["results"]["bindings"]]
    assert rows == [("CHN", "1400000000"), ("KAZ", "20000000")]
    assert len(standin.requests) > seen
    # the answer depends on the remote side: neither cached here nor by clients
    assert "ETag" not in r.headers and r.headers["Cache-Control"] == "no-store"
    assert limited.get("/sparql", params={"query": query}).status_code == 200
    assert len(standin.requests) > seen + 1


@pytest.mark.parametrize(
    "target",
    [
        "<{url}/other>",  # same host, path not listed
        "<http://localhost:{port}/sparql>",  # same endpoint, other spelling
        "<http://10.0.0.1/sparql>",
        "<http://169.254.169.254/latest/meta-data>",
        "<file:///etc/passwd>",
        "?endpoint",
        "SILENT <http://[::1]:{port}/sparql>",
    ],
)
def test_other_service_targets_are_refused_before_any_request(
    limited: Server, standin: StandIn, target: str
) -> None:
    target = target.format(url=standin.url, port=standin.port)
    seen = len(standin.requests)
    query = (
        f"SELECT * WHERE {{ VALUES ?endpoint {{ <{standin.url}/sparql> }} "
        f"SERVICE {target} {{ ?s ?p ?o }} }}"
    )
    r = limited.get("/sparql", params={"query": query})
    assert r.status_code == 400
    assert "is refused" in r.text
    shown = target.replace("SILENT ", "").strip("<>")
    assert shown in r.text
    assert len(standin.requests) == seen


def test_federated_queries_have_their_own_time_limit(limited: Server, standin: StandIn) -> None:
    query = f"SELECT * WHERE {{ SERVICE <{standin.url}/slow> {{ ?s ?p ?o }} }}"
    r = limited.get("/sparql", params={"query": query})
    assert r.status_code == 200 and len(r.json()["results"]["bindings"]) == 2


def test_long_results_are_cut_and_say_so(limited: Server) -> None:
    r = limited.get("/sparql", params={"query": "SELECT ?s ?p ?o WHERE { ?s ?p ?o }"})
    assert r.status_code == 200
    assert len(r.json()["results"]["bindings"]) == 50
    assert r.headers["CICA-KG-Result-Truncated"] == "rows cut at 50 (max_result_rows)"
    short = limited.get("/sparql", params={"query": SMALL})
    assert "CICA-KG-Result-Truncated" not in short.headers


def test_oversize_requests_are_413(limited: Server) -> None:
    long_query = "SELECT * WHERE { ?s ?p ?o } #" + "x" * 6000
    r = limited.get("/sparql", params={"query": long_query})
    assert r.status_code == 413 and "max_query_length" in r.text
    body = "query=" + "x" * 30000
    big = limited.post(
        "/sparql", data=body, headers={"Content-Type": "application/x-www-form-urlencoded"}
    )
    assert big.status_code == 413 and "max_request_bytes" in big.text
    assert limited.get("/sparql", params={"query": SMALL}).status_code == 200


def test_rebuild_changes_etag_and_data_without_restart(limited: Server) -> None:
    query = (
        "SELECT ?note WHERE { <https://w3id.org/cica-kg/id/state/KAZ> "
        "<http://www.w3.org/2004/02/skos/core#editorialNote> ?note }"
    )
    before = limited.get("/sparql", params={"query": query})
    assert before.json()["results"]["bindings"] == []
    etag = before.headers["ETag"]
    assert (
        limited.get("/sparql", params={"query": query}, headers={"If-None-Match": etag}).status_code
        == 304
    )
    settings = limited.settings
    (settings.data_dir / "extra.ttl").write_text(
        "<https://w3id.org/cica-kg/id/state/KAZ> "
        '<http://www.w3.org/2004/02/skos/core#editorialNote> "rebuilt"@en .\n'
    )
    building.build(settings)
    after = limited.get("/sparql", params={"query": query}, headers={"If-None-Match": etag})
    assert after.status_code == 200
    assert after.headers["ETag"] != etag
    assert after.json()["results"]["bindings"][0]["note"]["value"] == "rebuilt"


def test_sigterm_drains_in_flight_requests_and_logs_access(
    built_settings: Settings, standin: StandIn
) -> None:
    env = {"CICA_KG_SERVICE_ALLOWLIST": f"{standin.url}/slow"}
    server = start_server(built_settings, env=env, workers=1, threads=4)
    query = f"SELECT * WHERE {{ SERVICE <{standin.url}/slow> {{ ?s ?p ?o }} }}"
    result: dict[str, requests.Response] = {}
    worker = threading.Thread(
        target=lambda: result.setdefault("r", server.get("/sparql", params={"query": query}))
    )
    worker.start()
    time.sleep(0.7)  # the stand-in answers after 1.5 s
    server.process.send_signal(signal.SIGTERM)
    worker.join(timeout=30)
    output = stop_server(server)
    assert result["r"].status_code == 200
    assert len(result["r"].json()["results"]["bindings"]) == 2
    assert server.process.returncode == 0
    assert '"GET /sparql" 200' in output
