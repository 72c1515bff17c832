"""What the harness's parts share: paths, the machine's description, the log line, a
measured task in its own process, the store's size."""

from __future__ import annotations

import json
import os
import platform
import sys
import time
from pathlib import Path

from . import procs

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
