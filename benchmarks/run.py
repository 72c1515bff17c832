"""The benchmark harness: one command.

    .venv/bin/python -m benchmarks.run --sizes 10k,100k --duration 10

For each size: generate the data (deterministic from --seed), build it (`cica-kg build`,
timed, with peak memory) in alternation with a raw pyoxigraph bulk_load of the same files,
time the build's steps one by one (load, shapes, each SPARQL check, store write), export against
a raw Store.dump, then start `cica-kg serve`'s app, `oxigraph serve-read-only
--union-default-graph` on the same store and rdflib-endpoint on the same files, and run the
three request mixes at each concurrency against each target in alternation. Cold start and a
per-request profile close each size. Results: <out>/<size>.json (and summary.json)."""

from __future__ import annotations

import argparse
import contextlib
import datetime as dt
import json
import os
import platform
import shlex
import shutil
import signal
import subprocess
import sys
import time
import traceback
import urllib.parse
import urllib.request
from pathlib import Path

import pyoxigraph as ox

from cica_kg.progress import Progress

from . import procs, virtuoso_peer
from .generate import generate, parse_size, size_label
from .load import run_cell, run_cell_wrk, wrk_available
from .workload import ACCEPT, Workload, http_target

REPO = procs.REPO
ONTOLOGY = REPO / "ontology"
PY = sys.executable
TARGETS_ALL = [
    "cica-kg/queries",
    "cica-kg/sparql",
    "oxigraph",
    "rdflib",
    "virtuoso",
    "cica-kg-virtuoso/queries",
]


def machine() -> dict[str, object]:
    cpu = ""
    try:
        for line in open("/proc/cpuinfo"):
            if line.startswith("model name"):
                cpu = line.split(":", 1)[1].strip()
                break
        mem_kb = next(int(x.split()[1]) for x in open("/proc/meminfo") if x.startswith("MemTotal"))
    except (OSError, StopIteration):
        mem_kb = 0
    import pyoxigraph

    return {
        "nproc": os.cpu_count(),
        "memory_gb": round(mem_kb / 1024 / 1024, 1),
        "cpu": cpu,
        "python": platform.python_version(),
        "pyoxigraph": pyoxigraph.__version__ if hasattr(pyoxigraph, "__version__") else "0.5.13",
        "kernel": platform.release(),
    }


def log(msg: str) -> None:
    print(f"[{time.strftime('%H:%M:%S')}] {msg}", flush=True)


def task(args: list[str], timeout: float | None = None) -> dict[str, object]:
    m = procs.measure_wait4([PY, "-m", "benchmarks.tasks", *args], timeout=timeout)
    try:
        doc = json.loads(m.stdout.strip().splitlines()[-1])
    except (IndexError, ValueError):
        doc = {"error": f"exit {m.returncode}", "stdout": m.stdout[-500:]}
    doc["wall_s"] = round(m.seconds, 3)
    doc["peak_rss_mb_wait4"] = round(m.peak_rss_mb, 1)
    doc["returncode"] = m.returncode
    return doc


def store_triples_states(store_root: Path) -> tuple[int, list[str]]:
    from cica_kg.store import open_current

    store = open_current(store_root).store
    rows = store.query(
        "SELECT ?c { ?s a <https://w3id.org/cica-kg/ontology#State> ; "
        "<https://w3id.org/cica-kg/ontology#iso3166Alpha3> ?c }",
        use_default_graph_as_union=True,
    )
    states = [r["c"].value for r in rows]  # type: ignore[union-attr]
    n = len(store)
    del store
    return n, states


# ---------------------------------------------------------------------------------------
#   Build, export
# ---------------------------------------------------------------------------------------


def bench_build(a: argparse.Namespace, n: int, data: Path, work: Path) -> dict[str, object]:
    """`cica-kg build` (validation included, default settings) and raw pyoxigraph bulk_load
    of the same files, each in its own process, alternating for --build-rounds; then the
    build's steps one by one (`tasks.py phases`). At sizes where the default validator is
    pyshacl, the build also runs with CICA_KG_SHACL=sparql."""
    from cica_kg.validate import PYSHACL_MAX_TRIPLES

    store, raw = work / "store", work / "raw-bulk"
    variants: list[tuple[str, dict[str, str]]] = [("cica_build", {})]
    if n <= PYSHACL_MAX_TRIPLES:  # first, so that the default build's store is left
        variants.insert(0, ("cica_build_sparql", {"CICA_KG_SHACL": "sparql"}))
    cmd = [
        str(procs.VENV_BIN / "cica-kg"),
        "build",
        "--store",
        str(store),
        "--data-dir",
        str(data),
        "--ontology-dir",
        str(ONTOLOGY),
    ]
    runs: dict[str, list[dict[str, object]]] = {}
    for r in range(a.build_rounds):
        for name, env in variants:
            shutil.rmtree(store, ignore_errors=True)
            log(f"  {name} ({size_label(n)}, round {r + 1})")
            m = procs.measure_wait4(cmd, timeout=a.build_timeout, env=env)
            runs.setdefault(name, []).append(
                {
                    "seconds": round(m.seconds, 3),
                    "peak_rss_mb": round(m.peak_rss_mb, 1),
                    "returncode": m.returncode,
                }
            )
        log(f"  raw bulk_load ({size_label(n)}, round {r + 1})")
        bulk = task(
            ["bulk-load", "--data-dir", str(data), "--ontology-dir", str(ONTOLOGY)]
            + ["--out", str(raw)],
            timeout=a.build_timeout,
        )
        bulk["store_mb"] = round(procs.du_mb(raw), 1)
        runs.setdefault("bulk_load", []).append(bulk)
        shutil.rmtree(raw, ignore_errors=True)
    out: dict[str, object] = {
        name: {"command": shlex.join(cmd), "env": env, "runs": runs[name]} for name, env in variants
    }
    out["bulk_load"] = {"runs": runs["bulk_load"]}
    # the default build's published store stays for the parts that follow
    out["store_mb"] = round(procs.du_mb((store / "current").resolve()), 1)
    log(f"  build steps one by one ({size_label(n)})")
    args = ["phases", "--data-dir", str(data), "--ontology-dir", str(ONTOLOGY)]
    args += ["--store", str(work / "phases")]
    if n <= a.pyshacl_max:
        args.append("--pyshacl")
    out["phases"] = task(args, timeout=a.build_timeout)
    shutil.rmtree(work / "phases", ignore_errors=True)
    return out


def bench_export(a: argparse.Namespace, n: int, work: Path) -> dict[str, object]:
    store = work / "store"
    log(f"  export ({size_label(n)})")
    exp = task(
        ["export", "--store", str(store), "--out", str(work / "export")], timeout=a.build_timeout
    )
    log(f"  raw dump ({size_label(n)})")
    dump = task(
        ["dump", "--store", str(store), "--out", str(work / "dump.nq")], timeout=a.build_timeout
    )
    log(f"  raw pyoxigraph, the same six files + gzip, unsorted ({size_label(n)})")
    same = task(
        ["raw-same", "--store", str(store), "--out", str(work / "raw-same")],
        timeout=a.build_timeout,
    )
    shutil.rmtree(work / "export", ignore_errors=True)
    (work / "dump.nq").unlink(missing_ok=True)
    return {"library_export": exp, "raw_dump": dump, "raw_same_files": same}


# ---------------------------------------------------------------------------------------
#   Endpoint
# ---------------------------------------------------------------------------------------


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


def bench_profile(a: argparse.Namespace, n: int, work: Path) -> dict[str, object]:
    log("  per-request profile")
    prof = Path(a.out) / f"profile-request-{size_label(n)}.txt"
    r = subprocess.run(
        [
            PY,
            "-m",
            "benchmarks.profile_request",
            "--store",
            str(work / "store"),
            "--n",
            str(a.profile_n),
            "--out",
            str(prof),
        ],
        capture_output=True,
        text=True,
        timeout=600,
    )
    try:
        return json.loads(r.stdout)  # type: ignore[no-any-return]
    except ValueError:
        return {"error": r.stderr[-1000:]}


# ---------------------------------------------------------------------------------------


def main(argv: list[str] | None = None) -> int:
    ap = argparse.ArgumentParser(description="CICA-KG benchmarks (see benchmarks/README.md)")
    ap.add_argument("--sizes", default="10k,100k", help="comma-separated: 10k,100k,1M,10M")
    ap.add_argument("--duration", type=float, default=10.0, help="seconds per load cell")
    ap.add_argument("--clients", default="1,4,16", help="concurrency levels")
    ap.add_argument("--mixes", default="canned,heavy,repeated")
    ap.add_argument("--peers", default="cica-kg,oxigraph,rdflib")
    ap.add_argument("--parts", default="build,export,endpoint,coldstart,profile")
    ap.add_argument("--rounds", type=int, default=1, help="alternating rounds per cell")
    ap.add_argument(
        "--client",
        choices=["auto", "wrk", "python"],
        default="auto",
        help="load client: wrk (default where installed) or Python threads",
    )
    ap.add_argument("--seed", type=int, default=1)
    ap.add_argument("--work", type=Path, default=REPO / "benchmarks" / "out")
    ap.add_argument("--out", type=Path, default=REPO / "benchmarks" / "results")
    ap.add_argument("--workers", type=int, default=2, help="cica-kg web workers")
    ap.add_argument("--threads", type=int, default=8, help="cica-kg threads per worker")
    ap.add_argument("--request-timeout", type=float, default=60.0)
    ap.add_argument(
        "--pyshacl-max", default="100k", help="largest size at which pyshacl is timed too"
    )
    ap.add_argument("--build-rounds", type=int, default=2, help="alternating build rounds")
    ap.add_argument("--rdflib-max", default="100k", help="largest size served by rdflib-endpoint")
    ap.add_argument(
        "--rdflib-heavy-max",
        default="10k",
        help="largest size at which rdflib-endpoint gets the heavy mix under load",
    )
    ap.add_argument("--rdflib-probe-timeout", type=float, default=60.0)
    ap.add_argument("--build-timeout", type=float, default=3600.0)
    ap.add_argument("--profile-n", type=int, default=200)
    ap.add_argument(
        "--merge",
        action="store_true",
        help="update an existing <size>.json: keep the parts not run now",
    )
    a = ap.parse_args(argv)
    a.pyshacl_max = parse_size(a.pyshacl_max)
    if a.client == "auto":
        a.client = "wrk" if wrk_available() else "python"
    a.rdflib_max = parse_size(a.rdflib_max)
    a.rdflib_heavy_max = parse_size(a.rdflib_heavy_max)
    signal.signal(signal.SIGTERM, lambda *_: sys.exit(143))  # so servers are stopped
    a.out.mkdir(parents=True, exist_ok=True)
    a.work.mkdir(parents=True, exist_ok=True)
    parts = set(a.parts.split(","))
    peers = a.peers.split(",")
    command = shlex.join([".venv/bin/python", "-m", "benchmarks.run", *(argv or sys.argv[1:])])
    summary: dict[str, object] = {
        "machine": machine(),
        "date": dt.datetime.now(dt.UTC).isoformat(timespec="seconds"),
        "command": command,
        "sizes": {},
    }
    status = 0
    for size in a.sizes.split(","):
        n = parse_size(size)
        label = size_label(n)
        work = a.work / label
        data = a.work / f"data-{label}"
        work.mkdir(parents=True, exist_ok=True)
        result: dict[str, object] = {}
        if a.merge and (a.out / f"{label}.json").exists():
            # keep the sections this run does not redo; note which command made which
            result = json.loads((a.out / f"{label}.json").read_text())
            result.setdefault("earlier_commands", []).append(result.get("command"))
        result.update(
            {
                "size": label,
                "target_triples": n,
                "machine": summary["machine"],
                "date": summary["date"],
                "command": command,
            }
        )
        try:
            meta_file = data / "generated.json"
            meta = json.loads(meta_file.read_text()) if meta_file.exists() else None
            if meta is None or meta.get("target_triples") != n or meta.get("seed") != a.seed:
                log(f"generate {label}")
                with Progress() as progress:  # minutes at 10M: the triples written, time left
                    meta = generate(n, data, a.seed, progress)
            result["generated"] = meta
            if "build" in parts:
                result["build"] = bench_build(a, n, data, work)
            if "export" in parts:
                result["export"] = bench_export(a, n, work)
            if "endpoint" in parts:
                result["endpoint"] = bench_endpoint(a, n, data, work, peers)
            if "coldstart" in parts:
                result["coldstart"] = bench_coldstart(a, n, data, work)
            if "profile" in parts:
                result["profile"] = bench_profile(a, n, work)
        except Exception:  # noqa: BLE001 (keep what was measured; say what failed)
            result["error"] = traceback.format_exc()
            log(result["error"])  # type: ignore[arg-type]
            status = 1
        (a.out / f"{label}.json").write_text(json.dumps(result, indent=1) + "\n")
        summary["sizes"][label] = f"{label}.json"  # type: ignore[index]
        log(f"wrote {a.out / (label + '.json')}")
    (a.out / "summary.json").write_text(json.dumps(summary, indent=1) + "\n")
    return status


if __name__ == "__main__":
    raise SystemExit(main())
