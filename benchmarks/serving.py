"""Serving fit for the open internet (issue 13): `cica-kg serve` against `oxigraph
serve-read-only --union-default-graph` on the same build, in the same run.

    python -m benchmarks.serving --store S [--duration 10] [--parts PARTS]

PARTS: comma-separated, of paths,cpu,inprocess,idle,slow,fair (default: all).

- paths: the three paths' throughput with wrk at 16 connections (one per thread): small
  queries uncached (every request unique, by a comment) and cached (the same request
  again and again, full answers, no If-None-Match), engine-bound queries uncached and
  cached; per query the ratio to oxigraph, and per path the geometric mean of the ratios.
- inprocess: the cost of one request in the front (ASGI app called directly, no socket):
  cache hit, uncached small query, uncached engine-bound query.
- idle: 10,000 idle keep-alive connections (from 400 loopback addresses, 25 each): the
  server tree's memory before and with them open.
- slow: 1,000 connections trickling their heads from 127.0.0.2; the latency of requests
  from 127.0.0.3 at once and after 20 s.
- cpu: CPU time per request of each server's processes (web workers, query processes)
  for the uncached and cached ASK at 16 connections: where the small-query time goes.
- fair: 127.0.0.2 keeps 32 runaway queries going; 127.0.0.3 sends canned requests one
  after the other (each with a new date, so none is cached): statuses and p50/p99.

The cica-kg server runs with its defaults except: fair_share_exempt empty and
client_queries 32, client_query_seconds 0 for the paths part (wrk's 16 connections all
come from 127.0.0.1, and the fair-share table is still consulted on every request);
defaults for the other parts. Results: JSON on stdout and in --out."""

from __future__ import annotations

import argparse
import asyncio
import http.client
import json
import math
import os
import resource
import socket
import statistics
import subprocess
import tempfile
import threading
import time
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path
from typing import Any
from urllib.parse import urlencode

from cica_kg.store import current_build

from . import procs
from .load import WRK_SCRIPT

PREFIXES = (
    "PREFIX rdfs: <http://www.w3.org/2000/01/rdf-schema#>\n"
    "PREFIX owl: <http://www.w3.org/2002/07/owl#>\n"
    "PREFIX org: <http://www.w3.org/ns/org#>\n"
)
KAZ = "https://w3id.org/cica-kg/id/state/KAZ"
SMALL = {
    "ask": "ASK { ?s owl:sameAs ?w }",
    "describe-state": f"DESCRIBE <{KAZ}>",
    "sameas-list": "SELECT ?s ?w WHERE { ?s owl:sameAs ?w }",
}
ENGINE_BOUND = {
    "labels-order-limit-200": "SELECT ?s ?l WHERE { ?s rdfs:label ?l } ORDER BY ?l LIMIT 200",
    "predicate-counts": "SELECT ?p (COUNT(*) AS ?n) WHERE { ?s ?p ?o } GROUP BY ?p",
    "two-hop-join-500": "SELECT ?m ?s ?l WHERE { ?m org:member ?s . ?s rdfs:label ?l } LIMIT 500",
}
RDF_ACCEPT = "application/n-triples"
RESULTS_ACCEPT = "application/sparql-results+json"
RUNAWAY = "SELECT (COUNT(*) AS ?n) WHERE {{ ?a ?b ?c . ?d ?e ?f . ?g ?h ?i }} # {}"


def accept_for(name: str) -> str:
    return RDF_ACCEPT if name.startswith("describe") else RESULTS_ACCEPT


def wrk(base: str, lines: list[str], duration: float, clients: int = 16) -> dict[str, Any]:
    with tempfile.TemporaryDirectory() as tmp:
        reqs = Path(tmp) / "requests.txt"
        reqs.write_text("\n".join(lines) + "\n")
        cmd = [
            "wrk",
            f"-t{clients}",
            f"-c{clients}",
            f"-d{round(duration)}s",
            "--timeout=15s",
            "-s",
            str(WRK_SCRIPT),
            base,
            "--",
            str(reqs),
            "plain",
            str(clients),
        ]
        out = subprocess.run(cmd, capture_output=True, text=True, timeout=duration + 60).stdout
    doc = next(json.loads(x) for x in reversed(out.splitlines()) if x.startswith("{"))
    seconds = doc["duration_us"] / 1e6
    return {
        "rps": round(doc["ok"] / seconds, 1),
        "errors": doc["failed"] + doc["socket_errors"] + doc["timeouts"],
        "p50_ms": doc["p50_us"] / 1000,
        "p99_ms": doc["p99_us"] / 1000,
        "samples": doc["samples"][:200],
    }


def request_lines(path: str, name: str, text: str, unique: bool, n: int) -> list[str]:
    out = []
    for i in range(n if unique else 16):  # wrk.lua deals the lines out to its 16 threads
        query = PREFIXES + text + (f"\n# request {i}" if unique else "")
        out.append(f"{path}?{urlencode({'query': query})}\tAccept: {accept_for(name)}")
    return out


def geomean(xs: list[float]) -> float:
    return math.exp(statistics.fmean(math.log(x) for x in xs)) if xs else float("nan")


def part_paths(store: Path, logdir: Path, duration: float) -> dict[str, Any]:
    env = {
        "CICA_KG_FAIR_SHARE_EXEMPT": "",
        "CICA_KG_CLIENT_QUERIES": "32",
        "CICA_KG_CLIENT_QUERY_SECONDS": "0",
    }
    info = current_build(store)
    assert info is not None
    cica = procs.start_cica(store, store, store, logdir, workers=2, threads=8, env=env)
    oxi = procs.start_oxigraph(info.store_path, logdir)
    out: dict[str, Any] = {"cells": {}}
    n = round(duration * 3000)
    try:
        # Warm up: query processes started, pools grown to their size under 16 connections.
        for server in (cica, oxi):
            lines = []
            for name, text in {**SMALL, **ENGINE_BOUND}.items():
                lines += request_lines(server.query_path, name, text + " # warm", True, 500)
            wrk(server.base, lines, duration)
        for group, queries in (("small", SMALL), ("engine-bound", ENGINE_BOUND)):
            for cached in (False, True):
                path_name = f"{group} {'cached' if cached else 'uncached'}"
                ratios = []
                for name, text in queries.items():
                    cell = {}
                    for server in (cica, oxi):
                        lines = request_lines(server.query_path, name, text, not cached, n)
                        cell[server.name] = wrk(server.base, lines, duration)
                    ratio = cell["cica-kg"]["rps"] / max(cell["oxigraph"]["rps"], 0.1)
                    cell["ratio"] = round(ratio, 3)
                    ratios.append(ratio)
                    out["cells"][f"{path_name}: {name}"] = cell
                    print(path_name, name, json.dumps(cell), flush=True)
                out.setdefault("geomean", {})[path_name] = round(geomean(ratios), 3)
    finally:
        cica.stop()
        oxi.stop()
    return out


async def _call(front: Any, path: str, query: dict[str, str], accept: str) -> int:
    scope = {
        "type": "http",
        "method": "GET",
        "path": path,
        "raw_path": path.encode(),
        "query_string": urlencode(query).encode(),
        "http_version": "1.1",
        "headers": [(b"host", b"x"), (b"accept", accept.encode())],
        "client": ("127.0.0.9", 1),
        "server": ("127.0.0.1", 80),
        "scheme": "http",
        "root_path": "",
    }
    status = 0

    async def receive() -> dict[str, Any]:
        return {"type": "http.request", "body": b"", "more_body": False}

    async def send(message: dict[str, Any]) -> None:
        nonlocal status
        if message["type"] == "http.response.start":
            status = message["status"]

    await front(scope, receive, send)
    return status


def part_inprocess(store: Path, n: int) -> dict[str, Any]:
    """One request's cost in the front, called directly (no socket, no HTTP parsing)."""
    import logging

    from cica_kg.settings import Settings
    from cica_kg.web import fairshare
    from cica_kg.web.front import Front

    logging.getLogger("cica_kg.access").setLevel(logging.WARNING)
    table = fairshare.table_path(f"bench-{os.getpid()}")
    fairshare.create_table(table)
    settings = Settings.from_env(store=store, fair_share_exempt=())
    front = Front(settings, table)
    front.engine.pool.start()
    time.sleep(3)
    out: dict[str, Any] = {}
    loop = asyncio.new_event_loop()
    try:
        cases = {
            "cache hit (ask)": ("ask", False),
            "uncached small (ask)": ("ask", True),
            "uncached small (sameas-list)": ("sameas-list", True),
            "uncached engine-bound (labels-order-limit-200)": ("labels-order-limit-200", True),
        }
        for label, (name, unique) in cases.items():
            text = {**SMALL, **ENGINE_BOUND}[name]
            times = []
            for i in range(n + 5):
                query = PREFIXES + text + (f"\n# {label} {i}" if unique else "")
                t = time.perf_counter()
                status = loop.run_until_complete(
                    _call(front, "/sparql", {"query": query}, accept_for(name))
                )
                if i >= 5:
                    times.append(time.perf_counter() - t)
                assert status == 200, status
            out[label] = {
                "mean_ms": round(statistics.fmean(times) * 1000, 3),
                "p50_ms": round(statistics.median(times) * 1000, 3),
            }
    finally:
        front.engine.close()
        front.executor.shutdown()
        table.unlink(missing_ok=True)
        loop.close()
    return out


def _connect(port: int, source: str) -> socket.socket:
    s = socket.socket()
    s.bind((source, 0))
    s.connect(("127.0.0.1", port))
    return s


def part_idle(store: Path, logdir: Path, count: int = 10_000) -> dict[str, Any]:
    resource.setrlimit(resource.RLIMIT_NOFILE, (20_000, 20_000))
    cica = procs.start_cica(store, store, store, logdir, workers=2, threads=8)
    port = int(cica.base.rsplit(":", 1)[1])
    socks: list[socket.socket] = []
    try:
        time.sleep(2)
        before = procs.tree_memory(cica.proc.pid)["rss_mb"]
        started = time.monotonic()
        for i in range(count):  # 25 per address: under max_connections_per_client
            socks.append(_connect(port, f"127.0.{1 + i // 25 // 250}.{1 + (i // 25) % 250}"))
        opened = time.monotonic() - started
        time.sleep(1)
        with_idle = procs.tree_memory(cica.proc.pid)["rss_mb"]
        t = time.perf_counter()
        status, _ = _timed_get(port, "127.0.0.3", "/sparql", {"query": "ASK {}"})
        answer_ms = (time.perf_counter() - t) * 1000
    finally:
        for s in socks:
            s.close()
        cica.stop()
    return {
        "connections": count,
        "open_seconds": round(opened, 1),
        "rss_mb_before": before,
        "rss_mb_with_idle": with_idle,
        "answer_meanwhile": status,
        "answer_ms": round(answer_ms, 1),
    }


def _timed_get(port: int, source: str, path: str, params: dict[str, str]) -> tuple[int, float]:
    t = time.perf_counter()
    conn = http.client.HTTPConnection("127.0.0.1", port, timeout=30, source_address=(source, 0))
    try:
        conn.request("GET", f"{path}?{urlencode(params)}")
        r = conn.getresponse()
        r.read()
        return r.status, time.perf_counter() - t
    finally:
        conn.close()


def part_slow(store: Path, logdir: Path, count: int = 1000) -> dict[str, Any]:
    resource.setrlimit(resource.RLIMIT_NOFILE, (20_000, 20_000))
    cica = procs.start_cica(store, store, store, logdir, workers=2, threads=8)
    port = int(cica.base.rsplit(":", 1)[1])
    socks: list[socket.socket] = []
    out: dict[str, Any] = {}
    stop = threading.Event()

    def trickle() -> None:  # a header line per connection per second, and reconnect
        while not stop.is_set():
            for i, s in enumerate(socks):
                try:
                    s.sendall(b"X-Slow: 1\r\n")
                except OSError:
                    try:
                        socks[i] = _connect(port, "127.0.0.2")
                        socks[i].sendall(b"GET / HTTP/1.1\r\n")
                    except OSError:
                        pass
            stop.wait(1.0)

    try:
        for _ in range(count):
            try:
                s = _connect(port, "127.0.0.2")
                s.sendall(b"GET / HTTP/1.1\r\n")
                socks.append(s)
            except OSError:
                pass
        worker = threading.Thread(target=trickle, daemon=True)
        worker.start()
        for when in ("at once", "after 20 s"):
            if when == "after 20 s":
                time.sleep(20)
            samples = [
                _timed_get(
                    port, "127.0.0.3", "/queries/members.json", {"date": f"20{10 + i}-01-01"}
                )
                for i in range(10)
            ]
            out[when] = {
                "statuses": sorted({s for s, _ in samples}),
                "max_ms": round(max(t for _, t in samples) * 1000, 1),
            }
    finally:
        stop.set()
        for s in socks:
            s.close()
        cica.stop()
    return out


def part_fair(store: Path, logdir: Path, seconds: float = 30) -> dict[str, Any]:
    cica = procs.start_cica(store, store, store, logdir, workers=2, threads=8)
    port = int(cica.base.rsplit(":", 1)[1])
    stop = threading.Event()
    greedy: dict[int, int] = {}
    lock = threading.Lock()

    def runaway(k: int) -> None:
        i = 0
        while not stop.is_set():
            i += 1
            try:
                status, _ = _timed_get(
                    port, "127.0.0.2", "/sparql", {"query": RUNAWAY.format(f"{k}-{i}")}
                )
            except OSError:
                status = 0
            with lock:
                greedy[status] = greedy.get(status, 0) + 1
            if status == 429:
                stop.wait(0.05)

    modest: list[tuple[int, float]] = []
    try:
        with ThreadPoolExecutor(32) as pool:
            for k in range(32):
                pool.submit(runaway, k)
            time.sleep(1)
            deadline = time.monotonic() + seconds
            i = 0
            while time.monotonic() < deadline:
                i += 1
                day = f"{1999 + i % 27}-{1 + i % 12:02d}-{1 + i % 28:02d}"
                modest.append(_timed_get(port, "127.0.0.3", "/queries/members.json", {"date": day}))
            stop.set()
    finally:
        stop.set()
        cica.stop()
    times = sorted(t for _, t in modest)
    return {
        "greedy_statuses": greedy,
        "modest_requests": len(modest),
        "modest_statuses": sorted({s for s, _ in modest}),
        "modest_p50_ms": round(times[len(times) // 2] * 1000, 1),
        "modest_p99_ms": round(times[min(len(times) - 1, int(0.99 * len(times)))] * 1000, 1),
    }


def _cpu_ticks(root: int) -> dict[str, int]:
    """CPU ticks (user + system) of a server's process tree, by role."""
    out = {"web": 0, "query": 0, "other": 0}
    for pid in procs.tree(root):
        try:
            with open(f"/proc/{pid}/stat", "rb") as f:
                fields = f.read().rsplit(b")", 1)[1].split()
            ticks = int(fields[11]) + int(fields[12])
            parent = int(fields[1])
        except (OSError, ValueError, IndexError):
            continue
        cmd = procs.cmdline(pid)
        if pid == root or "resource_tracker" in cmd:
            role = "other"
        elif parent == root:
            role = "web"
        else:
            role = "query"
        if "oxigraph" in cmd:
            role = "web"
        out[role] += ticks
    return out


def part_cpu(store: Path, logdir: Path, duration: float) -> dict[str, Any]:
    """CPU per request (ms) of each server's processes at 16 connections: where the time of
    the small-query paths goes (web workers vs query processes)."""
    env = {
        "CICA_KG_FAIR_SHARE_EXEMPT": "",
        "CICA_KG_CLIENT_QUERIES": "32",
        "CICA_KG_CLIENT_QUERY_SECONDS": "0",
    }
    info = current_build(store)
    assert info is not None
    cica = procs.start_cica(store, store, store, logdir, workers=2, threads=8, env=env)
    oxi = procs.start_oxigraph(info.store_path, logdir)
    hz = os.sysconf("SC_CLK_TCK")
    out: dict[str, Any] = {}
    n = round(duration * 3000)
    try:
        for server in (cica, oxi):
            wrk(
                server.base,
                request_lines(server.query_path, "ask", SMALL["ask"] + " # w", True, n),
                duration,
            )
            for label, unique in (("uncached ask", True), ("cached ask", False)):
                lines = request_lines(server.query_path, "ask", SMALL["ask"], unique, n)
                before = _cpu_ticks(server.proc.pid)
                result = wrk(server.base, lines, duration)
                after = _cpu_ticks(server.proc.pid)
                served = result["rps"] * duration
                out[f"{server.name} {label}"] = {
                    "rps": result["rps"],
                    **{
                        f"{role}_cpu_ms_per_request": round(
                            (after[role] - before[role]) / hz * 1000 / served, 3
                        )
                        for role in ("web", "query")
                        if after[role] - before[role] > 0
                    },
                }
                print("cpu", server.name, label, json.dumps(out[f"{server.name} {label}"]))
    finally:
        cica.stop()
        oxi.stop()
    return out


def main() -> None:
    ap = argparse.ArgumentParser()
    ap.add_argument("--store", type=Path, required=True)
    ap.add_argument("--duration", type=float, default=10)
    ap.add_argument("--parts", default="paths,cpu,inprocess,idle,slow,fair")
    ap.add_argument("--out", type=Path)
    a = ap.parse_args()
    logdir = Path(tempfile.mkdtemp(prefix="cica-serving-"))
    results: dict[str, Any] = {
        "store": str(a.store),
        "duration": a.duration,
        "date": time.strftime("%Y-%m-%d %H:%M UTC", time.gmtime()),
    }
    for part in a.parts.split(","):
        if part == "paths":
            results[part] = part_paths(a.store, logdir, a.duration)
        elif part == "inprocess":
            results[part] = part_inprocess(a.store, 300)
        elif part == "idle":
            results[part] = part_idle(a.store, logdir)
        elif part == "slow":
            results[part] = part_slow(a.store, logdir)
        elif part == "cpu":
            results[part] = part_cpu(a.store, logdir, a.duration)
        elif part == "fair":
            results[part] = part_fair(a.store, logdir)
        print(part, json.dumps(results[part]), flush=True)
    if a.out:
        a.out.write_text(json.dumps(results, indent=1) + "\n")


if __name__ == "__main__":
    main()
