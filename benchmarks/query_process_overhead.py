"""What running each query in a killable child process costs: the same one-row queries
in-process and through a query process, alternating, cache off.

    .venv/bin/python -m benchmarks.query_process_overhead --store ~/.local/share/cica-kg/store
"""

from __future__ import annotations

import argparse
import statistics
import time
from pathlib import Path

from cica_kg.query import Engine, InlinePool, Job, QueryPool
from cica_kg.settings import Settings

QUERY = "SELECT ?l WHERE { <https://w3id.org/cica-kg/id/state/KAZ> rdfs:label ?l }"


def timings(engine: Engine, n: int) -> tuple[float, float]:
    engine.run(Job(QUERY, "json"))
    samples = []
    for i in range(n):
        start = time.perf_counter()
        engine.run(Job(f"{QUERY} # {i}", "json"))  # distinct text: no cache hit
        samples.append(time.perf_counter() - start)
    samples.sort()
    return statistics.median(samples) * 1000, samples[int(n * 0.99)] * 1000


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--store", type=Path, required=True)
    parser.add_argument("-n", type=int, default=300)
    args = parser.parse_args()
    settings = Settings.from_env({}, store=args.store, cache_entries=0)
    inline = Engine(settings, pool=InlinePool())
    pooled = Engine(settings, pool=QueryPool(1, 1))
    pooled.pool.start()
    time.sleep(2)
    for name, engine in [("in-process", inline), ("query process", pooled)] * 2:
        p50, p99 = timings(engine, args.n)
        print(f"{name:14} p50 {p50:.3f} ms  p99 {p99:.3f} ms")
    start = time.perf_counter()
    pool = QueryPool(1, 1)
    pool.start()
    pool.run(str(inline.build().store_path), Job("ASK {}", "json"), 30)
    print(f"new query process: first answer after {(time.perf_counter() - start) * 1000:.0f} ms")
    pooled.close()
    pool.close()


if __name__ == "__main__":
    main()
