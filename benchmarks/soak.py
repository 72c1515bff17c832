"""Soak and runaway test of `cica-kg serve` on 127.0.0.1 (issue 8). Bounded in time.

Phases: warm-up; idle latency of the canned-query mix (20 clients); the same mix while
catastrophic queries run (each must be stopped at the limit); then a mixed soak (canned
queries, pages, searches, SPARQL with every format, bad requests) for --minutes. Reports
requests served, errors (unexpected statuses), p50/p99, and the RSS of the server's whole
process tree at start and end.

    .venv/bin/python -m benchmarks.soak --minutes 5
"""

from __future__ import annotations

import argparse
import json
import os
import random
import socket
import subprocess
import sys
import tempfile
import threading
import time
from pathlib import Path

import requests

CANNED = [
    ("/queries/members.json", {"date": "2015-06-01"}),
    ("/queries/chair.json", {"date": "2016-01-01"}),
    ("/queries/observers.json", {}),
    ("/queries/summits.json", {}),
    ("/queries/state-profile.json", {"state": "KAZ"}),
    ("/sparql", {"query": "SELECT ?s ?l WHERE { ?s a cica:State ; rdfs:label ?l }"}),
]
MIXED = CANNED + [
    ("/", {}),
    ("/id/state/LKA", {}),
    ("/search.json", {"q": "turkiye"}),
    ("/sparql", {"query": "CONSTRUCT { ?s ?p ?o } WHERE { ?s a cica:Summit ; ?p ?o }",
                 "format": "ttl"}),
    ("/sparql", {"query": "SELECT * WHERE { ?s ?p ", "_expect": "400"}),
    ("/sparql", {"query": "CLEAR ALL", "_expect": "403"}),
    ("/queries/members.json", {"date": "never", "_expect": "400"}),
]  # fmt: skip
RUNAWAYS = [
    "SELECT (COUNT(*) AS ?n) WHERE { ?a ?b ?c . ?d ?e ?f . ?g ?h ?i }",
    "SELECT (COUNT(*) AS ?n) WHERE { ?a ?b ?c . ?d ?e ?f . "
    "FILTER(REGEX(CONCAT(STR(?c), STR(?f)), '(a+)+$')) }",
    "SELECT (COUNT(*) AS ?n) WHERE { ?a (<http://x>|!<http://y>)* ?b . ?b (!<http://z>)* ?c }",
]


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


def tree_rss_mb(pid: int) -> float:
    pids, todo = [], [pid]
    while todo:
        p = todo.pop()
        pids.append(p)
        try:
            todo += [int(c) for c in Path(f"/proc/{p}/task/{p}/children").read_text().split()]
        except OSError:
            pass
    total = 0
    for p in pids:
        try:
            for line in Path(f"/proc/{p}/status").read_text().splitlines():
                if line.startswith("VmRSS:"):
                    total += int(line.split()[1])
        except OSError:
            pass
    return total / 1024


def client(url: str, mix: list, stop: threading.Event, out: list, seed: int) -> None:
    rng = random.Random(seed)
    session = requests.Session()
    while not stop.is_set():
        path, params = rng.choice(mix)
        params = dict(params)
        expect = int(params.pop("_expect", "200"))
        start = time.monotonic()
        try:
            status = session.get(url + path, params=params, timeout=30).status_code
        except requests.RequestException:
            status = 0
        out.append((status == expect, time.monotonic() - start))


def load(url: str, mix: list, clients: int, seconds: float) -> list:
    stop, out = threading.Event(), []
    threads = [
        threading.Thread(target=client, args=(url, mix, stop, out, i)) for i in range(clients)
    ]
    for t in threads:
        t.start()
    time.sleep(seconds)
    stop.set()
    for t in threads:
        t.join()
    return out


def summary(results: list) -> dict:
    times = sorted(t for _, t in results)
    return {
        "requests": len(results),
        "errors": sum(not ok for ok, _ in results),
        "p50_ms": round(times[len(times) // 2] * 1000, 1) if times else None,
        "p99_ms": round(times[int(len(times) * 0.99)] * 1000, 1) if times else None,
    }


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--minutes", type=float, default=5.0)
    parser.add_argument("--clients", type=int, default=20)
    parser.add_argument("--out", type=Path, default=Path("benchmarks/results/soak.json"))
    args = parser.parse_args()
    minutes = min(args.minutes, 10.0)  # bounded, whatever is asked
    store = Path(tempfile.mkdtemp(prefix="cica-soak-")) / "store"
    port = free_port()
    url = f"http://127.0.0.1:{port}"
    env = {**os.environ, "CICA_KG_QUERY_TIMEOUT": "5"}
    server = subprocess.Popen(
        [sys.executable, "-m", "cica_kg", "serve", "--store", str(store), "--port", str(port)],
        env=env, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL,
    )  # fmt: skip
    try:
        for _ in range(600):
            try:
                if requests.get(url + "/sparql", params={"query": "ASK {}"}, timeout=5).ok:
                    break
            except requests.RequestException:
                time.sleep(0.1)
        load(url, MIXED, args.clients, 10)  # warm-up
        rss_start = tree_rss_mb(server.pid)
        idle = summary(load(url, CANNED, args.clients, 20))
        runaway_answers: list = []

        def runaway(q: str) -> None:
            start = time.monotonic()
            r = requests.get(url + "/sparql", params={"query": q}, timeout=60)
            runaway_answers.append((r.status_code, round(time.monotonic() - start, 2)))

        threads = [threading.Thread(target=runaway, args=(q,)) for q in RUNAWAYS]
        for t in threads:
            t.start()
        under_runaway = summary(load(url, CANNED, args.clients, 4.5))
        for t in threads:
            t.join()
        soak = summary(load(url, MIXED, args.clients, minutes * 60))
        rss_end = tree_rss_mb(server.pid)
    finally:
        server.terminate()
        server.wait(timeout=60)
    report = {
        "date": time.strftime("%Y-%m-%d %H:%M UTC", time.gmtime()),
        "machine": f"{os.cpu_count()} cores",
        "command": f"python -m benchmarks.soak --minutes {minutes:g} --clients {args.clients}",
        "idle_canned": idle,
        "canned_while_3_runaways": under_runaway,
        "runaways (status, seconds; limit 5 s)": runaway_answers,
        "p99_ratio_runaway_vs_idle": round(under_runaway["p99_ms"] / idle["p99_ms"], 2),
        "soak": soak,
        "rss_mb_start": round(rss_start, 1),
        "rss_mb_end": round(rss_end, 1),
        "rss_growth_percent": round((rss_end - rss_start) / rss_start * 100, 1),
    }
    args.out.parent.mkdir(parents=True, exist_ok=True)
    args.out.write_text(json.dumps(report, indent=2) + "\n")
    print(json.dumps(report, indent=2))


if __name__ == "__main__":
    main()
