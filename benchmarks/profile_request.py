"""Where the time of one canned request goes, in-process (no HTTP, no server).

    python -m benchmarks.profile_request --store S [--n 200] [--out results/profile-….txt]

For /queries/members.json?date=… and the same query sent to /sparql, with the result cache
off (cache_entries=0) so that every request runs the query:

  flask_total     Flask test client, the real Engine with its QueryPool (child process)
  engine_pool     Engine.run / canned.run with the QueryPool, no Flask
  execute         cica_kg.query.execute.execute in this process (query + serialization)
  oxigraph_query  store.query(...) and iterating the solutions
  serialize       results.write_solutions
  inspect         Engine.inspect (the SPARQL lexer: form, SERVICE calls)

Differences: flask_total - engine_pool = Flask/WSGI routing, parameter checks, headers;
engine_pool - execute - inspect = the QueryPool round trip (pickling the Job and the
Answer through a pipe, process wake-up). A cProfile of the in-process path (InlinePool) is
appended."""

from __future__ import annotations

import argparse
import cProfile
import io
import json
import pstats
import statistics
import time
from pathlib import Path

import pyoxigraph as ox

from cica_kg import canned
from cica_kg.namespaces import PREFIXES
from cica_kg.query import Engine, InlinePool, Job, results
from cica_kg.query.execute import execute
from cica_kg.settings import Settings
from cica_kg.store import open_current
from cica_kg.web import create_app

from .workload import Workload


def ms(xs: list[float]) -> dict[str, float]:
    xs = sorted(xs)
    return {
        "p50_ms": round(xs[len(xs) // 2] * 1000, 3),
        "mean_ms": round(statistics.fmean(xs) * 1000, 3),
    }


def profile(store_root: Path, n: int) -> tuple[dict[str, object], str]:
    settings = Settings.from_env(store=store_root, cache_entries=0)
    published = open_current(store_root)
    store = published.store
    wl = Workload(settings.queries_dir, ["AAA"], seed=3)
    dates = [wl.random_date() for _ in range(n)]
    query = canned.load_catalogue(settings.queries_dir)["members"]
    out: dict[str, object] = {"n": n, "query": "members", "triples": len(store)}

    engine = Engine(settings)
    engine.pool.start()
    app = create_app(settings, engine)
    client = app.test_client()
    client.get(f"/queries/members.json?date={dates[0]}")  # warm the pool
    times: dict[str, list[float]] = {
        k: []
        for k in (
            "flask_total",
            "flask_sparql_total",
            "engine_pool",
            "execute",
            "oxigraph_query",
            "serialize",
            "inspect",
        )
    }
    rows = 0
    for d in dates:
        t = time.perf_counter()
        r = client.get(f"/queries/members.json?date={d}")
        times["flask_total"].append(time.perf_counter() - t)
        assert r.status_code == 200, r.data[:300]
        req = wl.canned_request("members", {"date": d})
        t = time.perf_counter()
        r = client.get(
            "/sparql",
            query_string={"query": req.text},
            headers={"Accept": "application/sparql-results+json"},
        )
        times["flask_sparql_total"].append(time.perf_counter() - t)
        assert r.status_code == 200, r.data[:300]
        t = time.perf_counter()
        canned.run(engine, query, {"date": d}, "json")
        times["engine_pool"].append(time.perf_counter() - t)
        bound = canned.bind(query, {"date": d})
        job = Job(query=query.text, format_name="json", substitutions=tuple(sorted(bound.items())))
        t = time.perf_counter()
        execute(store, job)
        times["execute"].append(time.perf_counter() - t)
        t = time.perf_counter()
        res = store.query(
            query.text,
            prefixes=PREFIXES,
            use_default_graph_as_union=True,
            substitutions={ox.Variable(k): v for k, v in bound.items()},
        )
        assert isinstance(res, ox.QuerySolutions)
        variables = [v.value for v in res.variables]
        sols = [tuple(s) for s in res]
        times["oxigraph_query"].append(time.perf_counter() - t)
        rows = len(sols)
        fmt = next(f for f in __import__("cica_kg.formats").formats.ALL_FORMATS if f.name == "json")
        t = time.perf_counter()
        results.write_solutions(variables, sols, fmt)
        times["serialize"].append(time.perf_counter() - t)
        t = time.perf_counter()
        engine.inspect(query.text)
        times["inspect"].append(time.perf_counter() - t)
    engine.close()
    out["rows_per_answer"] = rows
    out["timings"] = {k: ms(v) for k, v in times.items()}
    tm = out["timings"]
    out["split_ms_p50"] = {
        "oxigraph (query+iterate)": tm["oxigraph_query"]["p50_ms"],  # type: ignore[index]
        "serialize (write_solutions)": tm["serialize"]["p50_ms"],  # type: ignore[index]
        "inspect (lexer)": tm["inspect"]["p50_ms"],  # type: ignore[index]
        "query-pool round trip": round(
            tm["engine_pool"]["p50_ms"] - tm["execute"]["p50_ms"] - tm["inspect"]["p50_ms"],
            3,  # type: ignore[index]
        ),
        "flask/wsgi + canned binding": round(
            tm["flask_total"]["p50_ms"] - tm["engine_pool"]["p50_ms"],
            3,  # type: ignore[index]
        ),
    }

    # cProfile of the whole in-process path (InlinePool: no child process)
    inline = Engine(settings, pool=InlinePool())
    app2 = create_app(settings, inline)
    c2 = app2.test_client()
    c2.get(f"/queries/members.json?date={dates[0]}")
    prof = cProfile.Profile()
    prof.enable()
    for d in dates:
        c2.get(f"/queries/members.json?date={d}")
    prof.disable()
    buf = io.StringIO()
    st = pstats.Stats(prof, stream=buf)
    st.sort_stats("cumulative").print_stats(35)
    buf.write("\n---- by own time ----\n")
    st.sort_stats("tottime").print_stats(25)
    return out, buf.getvalue()


def main() -> None:
    ap = argparse.ArgumentParser()
    ap.add_argument("--store", type=Path, required=True)
    ap.add_argument("--n", type=int, default=200)
    ap.add_argument("--out", type=Path)
    a = ap.parse_args()
    summary, text = profile(a.store, a.n)
    print(json.dumps(summary, indent=1))
    if a.out:
        a.out.write_text(json.dumps(summary, indent=1) + "\n\n" + text)


if __name__ == "__main__":
    main()
