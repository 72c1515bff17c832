"""The endpoint and cold-start parts of the harness: each target started on the same store,
answers cross-checked, the request mixes run in alternation, memory read from /proc."""

from __future__ import annotations

import argparse
import contextlib
import json
import os
import shlex
import time
import urllib.parse
import urllib.request
from pathlib import Path

import pyoxigraph as ox

from . import procs, virtuoso_peer
from .harness import ONTOLOGY, PY, REPO, TARGETS_ALL, log, store_triples_states
from .load import run_cell, run_cell_wrk
from .workload import ACCEPT, Workload, http_target


def fetch_rows(base: str, target: str, query_path: str, req) -> int | str:  # type: ignore[no-untyped-def]
    path, headers = http_target(target, query_path, req)
    r = urllib.request.Request(base + path, headers=headers or {"Accept": ACCEPT})
    try:
        with urllib.request.urlopen(r, timeout=120) as resp:
            doc = json.loads(resp.read())
        return len(doc["results"]["bindings"]) if "results" in doc else 1
    except Exception as exc:  # noqa: BLE001
        return f"error {type(exc).__name__}: {str(exc)[:100]}"


def cross_check(
    servers: dict[str, procs.Server],
    targets: list[str],
    wl: Workload,
    heavy_on_rdflib: bool,
    with_heavy: bool = True,
) -> dict[str, object]:
    """Row counts of the same requests on every target (they should agree)."""
    heavy = wl.heavy_all() if with_heavy else []
    heavy_labels = {r.label for r in heavy}
    reqs = wl.repeated() + heavy + [wl.canned_request("state-profile", {"state": wl.states[0]})]
    table = {}
    mismatches = []
    for req in reqs:
        key = req.label + (("?" + urllib.parse.urlencode(req.params)) if req.params else "")
        row = {}
        for t in targets:
            if t.endswith("/queries") and req.canned is None:
                continue
            if t == "rdflib" and req.label in heavy_labels and not heavy_on_rdflib:
                continue
            s = servers[t.split("/")[0]]
            row[t] = fetch_rows(s.base, t, s.query_path, req)
        table[key] = row
        if len({str(v) for v in row.values()}) > 1:
            mismatches.append(key)
    return {"rows": table, "mismatches": mismatches}


def server_memory(server: procs.Server) -> dict[str, object]:
    mem = procs.tree_memory(server.proc.pid)
    out: dict[str, object] = {
        "tree_rss_mb": mem["rss_mb"],
        "tree_hwm_sum_mb": mem["hwm_sum_mb"],
        "tree_pss_mb": mem["pss_mb"],
    }
    if server.name == "cica-kg":
        # per web worker: the worker and its query processes
        master = [p for p in procs.tree(server.proc.pid)]
        workers, pss, counts = [], [], []
        for child in procs._children(server.proc.pid):
            sub = procs.tree(child)
            workers.append(round(sum(procs.status_kb(p, "VmRSS") for p in sub) / 1024, 1))
            pss.append(round(sum(procs.pss_kb(p) for p in sub) / 1024, 1))
            counts.append(len(sub))
        out["per_worker_rss_mb"] = workers
        out["per_worker_pss_mb"] = pss
        out["per_worker_processes"] = counts
        out["processes"] = len(master)
    return out


def bench_endpoint(
    a: argparse.Namespace, n: int, data: Path, work: Path, peers: list[str]
) -> dict[str, object]:
    store = work / "store"
    logs = work / "logs"
    logs.mkdir(exist_ok=True)
    n_triples, states = store_triples_states(store)
    cica_states = [s for s in states]
    expect = str(len(states))
    out: dict[str, object] = {"cells": []}
    servers: dict[str, procs.Server] = {}
    stack = contextlib.ExitStack()
    try:
        if "cica-kg" in peers:
            log("  starting cica-kg")
            servers["cica-kg"] = procs.start_cica(
                store, data, ONTOLOGY, logs, workers=a.workers, threads=a.threads, expect=expect
            )
        if "oxigraph" in peers:
            log("  starting oxigraph serve-read-only")
            servers["oxigraph"] = procs.start_oxigraph(
                (store / "current" / "oxigraph").resolve(), logs, expect=expect
            )
        if "rdflib" in peers:
            if not procs.peers_available():
                out["rdflib"] = "skipped: no peers venv (benchmarks/setup_peers.sh)"
            elif n > a.rdflib_max:
                out["rdflib"] = f"skipped: above --rdflib-max {a.rdflib_max}"
            else:
                log("  starting rdflib-endpoint (loading the files)")
                files = sorted(ONTOLOGY.glob("*.ttl")) + sorted(data.glob("*.ttl"))
                servers["rdflib"] = procs.start_rdflib(files, logs, expect=expect)
        if "virtuoso" in peers:
            if not virtuoso_peer.available():
                out["virtuoso"] = "skipped: virtuoso-t not installed (make virtuoso)"
            else:
                log("  starting Virtuoso 7 (bulk load of the store's quads)")
                servers["virtuoso"], out["virtuoso"] = virtuoso_peer.start(
                    (store / "current" / "oxigraph").resolve(), stack, expect
                )
                log(f"    {out['virtuoso']}")
                log("  starting cica-kg --engine Virtuoso")
                servers["cica-kg-virtuoso"] = procs.start_cica(
                    store, data, ONTOLOGY, logs, workers=a.workers, threads=a.threads,
                    expect=expect, env={"CICA_KG_ENGINE": servers["virtuoso"].base + "/sparql"},
                )  # fmt: skip
        out["ready_seconds"] = {k: round(s.ready_seconds, 2) for k, s in servers.items()}
        targets = [t for t in TARGETS_ALL if t.split("/")[0] in servers]
        wl = Workload(REPO / "queries", cica_states, seed=a.seed)
        log("  cross-check of answers")
        heavy_on_rdflib = n <= a.rdflib_heavy_max
        out["cross_check"] = cross_check(
            servers, targets, wl, heavy_on_rdflib, "heavy" in a.mixes.split(",")
        )
        mixes = [m for m in a.mixes.split(",") if m]
        clients_levels = [int(c) for c in a.clients.split(",")]
        rot = 0
        for mix in mixes:
            for clients in clients_levels:
                mix_targets = [
                    t for t in targets if not (mix == "heavy" and t.endswith("/queries"))
                ]
                if mix == "heavy" and not heavy_on_rdflib:
                    mix_targets = [t for t in mix_targets if t != "rdflib"]
                for rnd in range(a.rounds):
                    order = (
                        mix_targets[rot % len(mix_targets) :]
                        + mix_targets[: rot % len(mix_targets)]
                    )
                    rot += 1
                    for t in order:
                        s = servers[t.split("/")[0]]
                        cell_wl = Workload(REPO / "queries", cica_states, seed=a.seed + rnd)
                        if mix == "canned":
                            nxt = cell_wl.next_canned
                        elif mix == "heavy":
                            nxt = cell_wl.next_heavy
                        else:
                            reqs = cell_wl.repeated()
                            it = iter(range(10**12))

                            def nxt(reqs=reqs, it=it):  # type: ignore[no-untyped-def]
                                return reqs[next(it) % len(reqs)]

                        timeout = a.request_timeout
                        res = (run_cell_wrk if a.client == "wrk" else run_cell)(
                            s.base,
                            t,
                            s.query_path,
                            nxt,
                            clients,
                            a.duration,
                            timeout,
                            conditional=(mix == "repeated"),
                        )
                        cell = {
                            "mix": mix,
                            "clients": clients,
                            "target": t,
                            "round": rnd,
                            **res.summary(),
                            "loadavg_1m": os.getloadavg()[0],
                        }
                        out["cells"].append(cell)  # type: ignore[union-attr]
                        log(
                            f"    {mix:8} c={clients:<2} {t:16} {cell['throughput_rps']:>8} rps "
                            f"p50 {cell['p50_ms']} p99 {cell['p99_ms']} ms err {cell['errors']}"
                        )
        out["memory"] = {k: server_memory(s) for k, s in servers.items()}
        if "rdflib" in servers and not heavy_on_rdflib and "heavy" in mixes:
            # One request at a time, last (the server keeps working on a query the client
            # gave up on, so this must not run before other cells).
            probes = {}
            s = servers["rdflib"]
            for req in wl.heavy_all():
                if req.label not in ("observer-to-member", "top-sources", "chairs"):
                    continue
                log(f"  rdflib single heavy query {req.label} (limit {a.rdflib_probe_timeout} s)")
                path, headers = http_target("rdflib", s.query_path, req)
                t0 = time.perf_counter()
                try:
                    r = urllib.request.Request(s.base + path, headers=headers)
                    with urllib.request.urlopen(r, timeout=a.rdflib_probe_timeout) as resp:
                        resp.read()
                    probes[req.label] = round(time.perf_counter() - t0, 2)
                except Exception:  # noqa: BLE001
                    probes[req.label] = f"> {a.rdflib_probe_timeout:g} s (gave up)"
                    break
            out["rdflib_heavy_single"] = probes
    finally:
        for s in servers.values():
            s.stop()
        stack.close()
    out["triples_in_store"] = n_triples
    return out


# ---------------------------------------------------------------------------------------
#   Cold start, profile
# ---------------------------------------------------------------------------------------


def first_answer_seconds(server_start, expect_rows: int, url_path: str, limit: float) -> float:  # type: ignore[no-untyped-def]
    """Seconds from process start to the first correct answer of url_path."""
    started = time.perf_counter()
    server = server_start()
    deadline = started + limit
    try:
        while time.perf_counter() < deadline:
            try:
                with urllib.request.urlopen(server.base + url_path, timeout=5) as resp:
                    doc = json.loads(resp.read())
                    if len(doc["results"]["bindings"]) == expect_rows:
                        return time.perf_counter() - started
            except Exception:  # noqa: BLE001
                pass
            time.sleep(0.01)
        return float("nan")
    finally:
        server.stop()


def bench_coldstart(a: argparse.Namespace, n: int, data: Path, work: Path) -> dict[str, object]:
    from cica_kg import canned
    from cica_kg.namespaces import PREFIXES
    from cica_kg.store import open_current

    store = work / "store"
    logs = work / "logs"
    logs.mkdir(exist_ok=True)
    q = canned.load_catalogue(REPO / "queries")["members"]
    bound = canned.bind(q, {"date": "2015-06-01"})
    st = open_current(store).store
    res = st.query(
        q.text,
        prefixes=PREFIXES,
        use_default_graph_as_union=True,
        substitutions={ox.Variable(k): v for k, v in bound.items()},
    )
    expect_rows = sum(1 for _ in res)  # type: ignore[union-attr]
    del st
    path = "/queries/members.json?date=2015-06-01"
    out: dict[str, object] = {"expect_rows": expect_rows, "url": path}

    class Wrapped:
        def __init__(self, proc, base):  # type: ignore[no-untyped-def]
            self.proc, self.base = proc, base

        def stop(self) -> None:
            procs.Server("x", self.base, self.proc, "", 0).stop()

    def launch(cmd: list[str], port: int, name: str):  # type: ignore[no-untyped-def]
        def start():  # type: ignore[no-untyped-def]
            p = procs._spawn(cmd, logs / f"cold-{name}-{port}.log")
            return Wrapped(p, f"http://127.0.0.1:{port}")

        return start

    port = procs.free_port()
    app_cmd = [
        PY,
        "-m",
        "benchmarks.serve_cica",
        "--store",
        str(store),
        "--port",
        str(port),
        "--workers",
        "1",
        "--threads",
        "8",
    ]
    log("  cold start: serve app on a built store")
    out["cica_app_s"] = round(
        first_answer_seconds(launch(app_cmd, port, "app"), expect_rows, path, 120), 3
    )
    # the CLI hashes the inputs, finds them published and serves (no validation)
    port = procs.free_port()
    cli_cmd = [
        str(procs.VENV_BIN / "cica-kg"),
        "serve",
        "--store",
        str(store),
        "--data-dir",
        str(data),
        "--ontology-dir",
        str(ONTOLOGY),
        "--port",
        str(port),
        "--workers",
        "1",
    ]
    log("  cold start: cica-kg serve (CLI: compares the inputs' hash with the published build)")
    out["cica_cli_s"] = round(
        first_answer_seconds(launch(cli_cmd, port, "cli"), expect_rows, path, a.build_timeout),
        3,
    )
    out["cica_cli_command"] = shlex.join(cli_cmd)
    return out
