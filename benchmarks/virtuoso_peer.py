"""Virtuoso 7 as a benchmark peer: the built store's quads bulk-loaded into a throwaway
Virtuoso (the tests' helper, tests/virtuoso.py: its own virtuoso.ini in a temp dir, free
loopback ports, no row or time cap), served raw at /sparql, and through `cica-kg serve
--engine` (the product's way to use it)."""

from __future__ import annotations

import contextlib
import sys
import time
from pathlib import Path

import pyoxigraph as ox

from . import procs

REPO = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(REPO / "tests"))
import virtuoso as vt  # noqa: E402  (tests/virtuoso.py)

# Buffers of 8 KB: enough to hold the working set of 10M triples (Virtuoso's guide: about
# two thirds of the memory given to the server).
INI = {
    "NumberOfBuffers": "340000",
    "MaxDirtyBuffers": "250000",
    "ServerThreads": "20",  # SQL and HTTP threads: 16 clients at once
    "MaxClientConnections": "20",
}


def available() -> bool:
    return vt.binaries() is not None


def start(
    store_dir: Path, stack: contextlib.ExitStack, expect: str | None
) -> tuple[procs.Server, dict[str, float]]:
    """A Virtuoso loaded with the store's quads (stopped by `stack`); timings in seconds."""
    started = time.perf_counter()
    server = stack.enter_context(vt.running(ini=INI))
    dump = server.directory / "store.nq"
    t0 = time.perf_counter()
    ox.Store.read_only(str(store_dir)).dump(output=str(dump), format=ox.RdfFormat.N_QUADS)
    dumped = time.perf_counter() - t0
    server.load(dump)
    dump.unlink()
    peer = procs.Server(
        "virtuoso", f"http://127.0.0.1:{server.http_port}", server.process, "/sparql", started
    )
    procs.wait_ready(peer, expect, 600)
    timings = {
        "start_s": round(server.timings["start"], 2),
        "dump_nq_s": round(dumped, 2),
        "bulk_load_s": round(server.timings["load"], 2),
    }
    return peer, timings
