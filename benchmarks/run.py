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
import datetime as dt
import json
import shlex
import shutil
import signal
import subprocess
import sys
import traceback
from pathlib import Path

from cica_kg.progress import Progress

from . import procs
from .endpoint_bench import bench_coldstart, bench_endpoint
from .generate import generate
from .harness import ONTOLOGY, PY, REPO, log, machine, task
from .load import wrk_available
from .turtle import parse_size, size_label


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
    # The sizes measured earlier into the same directory stay listed (each file names its
    # own command and date); this run's command and date head the summary.
    earlier = a.out / "summary.json"
    if earlier.exists():
        sizes = json.loads(earlier.read_text()).get("sizes", {})
        summary["sizes"] = {**sizes, **summary["sizes"]}  # type: ignore[dict-item]
    earlier.write_text(json.dumps(summary, indent=1) + "\n")
    return status


if __name__ == "__main__":
    raise SystemExit(main())
