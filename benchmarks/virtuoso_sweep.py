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

import pyoxigraph as ox
import requests

from cica_kg.namespaces import PREFIXES, iris
from cica_kg.query.lexer import substitute, with_prefixes

from . import virtuoso_peer
from .harness import REPO, store_triples_states

SLOW = 0.5


def sweep(url: str, text: str, codes: list[str], graphs: list[str] | None) -> dict[str, object]:
    session = requests.Session()

    def one(code: str) -> float:
        state = f"<{iris().id}state/{code}>"
        data: dict[str, object] = {
            "query": with_prefixes(substitute(text, {"state": state}), PREFIXES)
        }
        if graphs is not None:
            data.update(
                {"default-graph-uri": graphs, "named-graph-uri": graphs, "timeout": "10000"}
            )
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
    graph_ns = iris().graph
    graphs = sorted(
        g.value for g in ox.Store.read_only(str(oxigraph)).named_graphs()
        if isinstance(g, ox.NamedNode) and g.value.startswith(graph_ns)
    )  # fmt: skip
    out: dict[str, object] = {}
    with contextlib.ExitStack() as stack:
        peer, timings = virtuoso_peer.start(oxigraph, stack, None)
        out["virtuoso"] = timings
        for path in queries:
            text = path.read_text(encoding="utf-8")
            for mode, dataset in (("dataset", graphs), ("no dataset", None)):
                result = sweep(peer.base + "/sparql", text, codes, dataset)
                out[f"{path.name} {mode}"] = result
                print(path.name, mode, json.dumps(result), flush=True)
    print(json.dumps(out, indent=1))


if __name__ == "__main__":
    main()
