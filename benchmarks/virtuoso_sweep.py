"""Every state's profile on a freshly loaded Virtuoso, one request at a time, with the dataset
cica-kg sends (the project's graphs as default-graph-uri and named-graph-uri, and Virtuoso's
`timeout`) and without: how a canned query's form and the dataset meet Virtuoso's planner.

    python -m benchmarks.virtuoso_sweep --store S [--query queries/state-profile.rq ...]

S is a built store (e.g. /tmp/b10m/10M/store from benchmarks.run). Per query file and mode:
the p50, p99 and slowest seconds, and the states slower than 0.5 s (asked again, to tell a
plan from noise). The state parameter is substituted as cica-kg substitutes it."""

from __future__ import annotations

import argparse
import contextlib
import json
import statistics
import time
from pathlib import Path
from typing import Any

import requests

from cica_kg.namespaces import PREFIXES, iris
from cica_kg.query import Job, RemoteEngine
from cica_kg.query.lexer import substitute, with_prefixes
from cica_kg.settings import Settings

from . import virtuoso_peer
from .harness import REPO, store_triples_states

SLOW = 0.5


def sweep(url: str, text: str, codes: list[str], dataset: dict[str, Any]) -> dict[str, object]:
    session = requests.Session()

    def one(code: str) -> float:
        state = f"<{iris().id}state/{code}>"
        data = {"query": with_prefixes(substitute(text, {"state": state}), PREFIXES), **dataset}
        started = time.perf_counter()
        r = session.post(
            url, data=data, headers={"Accept": "application/sparql-results+json"}, timeout=120
        )
        r.raise_for_status()
        return time.perf_counter() - started

    times = {code: one(code) for code in codes}
    ordered = sorted(times.values())
    slow = sorted((c for c, t in times.items() if t > SLOW), key=lambda c: -times[c])
    return {
        "states": len(codes),
        "p50_s": round(statistics.median(ordered), 3),
        "p99_s": round(ordered[int(len(ordered) * 0.99)], 3),
        "max_s": round(ordered[-1], 3),
        "slow": {c: round(times[c], 2) for c in slow},
        "slow_again": {c: round(one(c), 2) for c in slow[:10]},
    }


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("--store", type=Path, required=True)
    ap.add_argument("--query", type=Path, action="append")
    a = ap.parse_args()
    queries = a.query or [REPO / "queries" / "state-profile.rq"]
    _, codes = store_triples_states(a.store)
    oxigraph = (a.store / "current" / "oxigraph").resolve()
    out: dict[str, object] = {}
    with contextlib.ExitStack() as stack:
        peer, timings = virtuoso_peer.start(oxigraph, stack, None)
        out["virtuoso"] = timings
        # The dataset and time limit exactly as the remote engine sends them.
        remote = RemoteEngine(peer.base + "/sparql")
        remote.build_info(60)
        timeout_ms = int(Settings.from_env({}).query_timeout * 1000)
        with_dataset = {
            **remote.dataset(Job(query="", format_name="json")),
            remote.dialect.timeout_param: str(timeout_ms),
        }
        for path in queries:
            text = path.read_text(encoding="utf-8")
            for mode, dataset in (("dataset", with_dataset), ("no dataset", {})):
                result = sweep(peer.base + "/sparql", text, codes, dataset)
                out[f"{path.name} {mode}"] = result
                print(path.name, mode, json.dumps(result), flush=True)
    print(json.dumps(out, indent=1))


if __name__ == "__main__":
    main()
