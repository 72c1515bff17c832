"""Scaling traffic past one server process (README, "Past one machine"): several `cica-kg
serve` replicas on one read-only copy of the store, behind a cache or load balancer. Both
answer alike (the same ETags, so a cache in front sees one resource), and one rebuild
switches both without a restart (issue 14)."""

from __future__ import annotations

import re
import shutil
from pathlib import Path

from conftest import FIXTURES, Server, start_server, stop_server

from cica_kg import build as building
from cica_kg.settings import Settings

COUNT_SOURCES = "SELECT (COUNT(*) AS ?n) WHERE { ?s a <https://w3id.org/cica-kg/ontology#Source> }"


def answer(server: Server) -> tuple[int, str, str]:
    """Sources counted, the answer's ETag, and the build the home page names."""
    r = server.get("/sparql", params={"query": COUNT_SOURCES})
    assert r.status_code == 200
    home = server.get("/", headers={"Accept": "text/html"}).text
    build = re.search(r"Build <code>([^<]+)</code>", home)
    assert build is not None
    return int(r.json()["results"]["bindings"][0]["n"]["value"]), r.headers["ETag"], build[1]


def test_two_replicas_on_one_store_switch_together_on_a_rebuild(data_copy: Settings) -> None:
    first = building.build(data_copy).info
    replicas = [start_server(data_copy, workers=1, threads=4) for _ in range(2)]
    try:
        before = [answer(r) for r in replicas]
        assert before[0] == before[1] and before[0][2] == first.build_id
        shutil.copy(FIXTURES / "extra-source.ttl", Path(data_copy.data_dir) / "extra.ttl")
        second = building.build(data_copy).info  # one build, published for both
        assert second.build_id != first.build_id
        after = [answer(r) for r in replicas]
        assert after[0] == after[1]
        sources, etag, build = after[0]
        assert (sources, build) == (before[0][0] + 1, second.build_id)
        assert etag != before[0][1]  # a cache in front revalidates and gets the new answer
    finally:
        for replica in replicas:
            stop_server(replica)
