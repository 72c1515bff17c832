"""Markdown tables from benchmarks/results/*.json.

python -m benchmarks.report [results/10k.json results/100k.json …] > table.md"""

from __future__ import annotations

import json
import sys
from pathlib import Path

RESULTS = Path(__file__).resolve().parent / "results"
TARGETS = [
    "cica-kg/queries",
    "cica-kg/sparql",
    "oxigraph",
    "rdflib",
    "virtuoso",
    "cica-kg-virtuoso/queries",
]


def f(x: object, nd: int = 1) -> str:
    if x is None or x == "":
        return "–"
    if isinstance(x, float):
        return f"{x:.{nd}f}"
    return str(x)


def ratio(a: float | None, b: float | None) -> str:
    if not a or not b:
        return "–"
    return f"{a / b:.2f}×"


def endpoint_table(res: dict) -> list[str]:  # type: ignore[type-arg]
    ep = res.get("endpoint")
    if not isinstance(ep, dict):
        return []
    cells: dict[tuple[str, int, str], dict] = {}  # type: ignore[type-arg]
    for c in ep["cells"]:
        cells[(c["mix"], c["clients"], c["target"])] = c
    present = [t for t in TARGETS if any(k[2] == t for k in cells)]
    head = "| mix | clients | " + " | ".join(f"{t} rps (p50/p99 ms)" for t in present)
    ratios = []
    if "oxigraph" in present:
        ratios += ["/queries ÷ oxigraph", "/sparql ÷ oxigraph"]
    if "rdflib" in present:
        ratios += ["/queries ÷ rdflib", "/sparql ÷ rdflib"]
    if "virtuoso" in present:
        ratios += ["/queries ÷ virtuoso", "/queries on virtuoso ÷ virtuoso"]
    lines = [head + " | " + " | ".join(ratios) + " |"]
    lines.append("|" + "---|" * (2 + len(present) + len(ratios)))
    mixes = sorted({k[0] for k in cells}, key=["canned", "heavy", "repeated"].index)
    for mix in mixes:
        for clients in sorted({k[1] for k in cells if k[0] == mix}):
            row = [mix, str(clients)]
            rps = {}
            for t in present:
                c = cells.get((mix, clients, t))
                if c is None:
                    row.append("–")
                    continue
                rps[t] = c["throughput_rps"]
                extra = f", {c['errors']} err" if c["errors"] else ""
                nm = f", {c['not_modified']}×304" if c.get("not_modified") else ""
                row.append(
                    f"{c['throughput_rps']:.1f} ({f(c['p50_ms'])}/{f(c['p99_ms'])}){nm}{extra}"
                )
            if "oxigraph" in present:
                row += [
                    ratio(rps.get("cica-kg/queries"), rps.get("oxigraph")),
                    ratio(rps.get("cica-kg/sparql"), rps.get("oxigraph")),
                ]
            if "rdflib" in present:
                row += [
                    ratio(rps.get("cica-kg/queries"), rps.get("rdflib")),
                    ratio(rps.get("cica-kg/sparql"), rps.get("rdflib")),
                ]
            if "virtuoso" in present:
                row += [
                    ratio(rps.get("cica-kg/queries"), rps.get("virtuoso")),
                    ratio(rps.get("cica-kg-virtuoso/queries"), rps.get("virtuoso")),
                ]
            lines.append("| " + " | ".join(row) + " |")
    return lines


def _best(section: dict) -> dict:  # type: ignore[type-arg]
    """The fastest successful run of a build section (runs alternate; the machine is noisy)."""
    ok = [r for r in section.get("runs", []) if r.get("returncode") == 0]
    return min(ok, key=lambda r: r.get("wall_s", r["seconds"])) if ok else {}


def build_rows(results: list[dict]) -> list[str]:  # type: ignore[type-arg]
    lines = [
        "| size | triples | `cica-kg build` s (validator) | peak MB | `CICA_KG_SHACL=sparql` s "
        "| raw bulk_load s (process) | peak MB | store MB (raw) "
        "| bulk_load ÷ build speed (SPARQL shapes) "
        "| steps: load · shapes SPARQL · pyshacl · checks · validation (concurrent) · write s |",
        "|" + "---|" * 10,
    ]
    for r in results:
        b = r.get("build")
        if not b or "runs" not in b.get("cica_build", {}):
            continue
        cb, sp, bl = (
            _best(b["cica_build"]),
            _best(b.get("cica_build_sparql", {})),
            _best(b["bulk_load"]),
        )
        ph = b.get("phases", {})
        validator = "pyshacl" if "cica_build_sparql" in b else "sparql"
        steps = " · ".join(
            f(ph.get(k), 2) if k in ph else "–"
            for k in (
                "load_s",
                "shapes_sparql_s",
                "pyshacl_s",
                "checks_s",
                "validate_concurrent_s",
                "write_store_s",
            )
        )
        lines.append(
            f"| {r['size']} | {ph.get('triples', bl.get('triples', '–'))} | "
            f"{f(cb.get('seconds'), 2)} ({validator}) | {f(cb.get('peak_rss_mb'))} | "
            f"{f(sp.get('seconds'), 2) if sp else '= default'} | {f(bl.get('wall_s'), 2)} | "
            f"{f(bl.get('peak_rss_mb'))} | {f(b.get('store_mb'))} ({f(bl.get('store_mb'))}) | "
            f"{ratio(bl.get('wall_s'), (sp or cb).get('seconds'))} | {steps} |"
        )
    return lines


def export_rows(results: list[dict]) -> list[str]:  # type: ignore[type-arg]
    lines = [
        "| size | export (6 formats + gz + VoID, sorted) s | peak MB (largest process) "
        "| MB written "
        "| raw `Store.dump` N-Quads s | peak MB | export ÷ dump speed "
        "| raw: same 6 files + gz, unsorted s | export ÷ raw-same speed |",
        "|" + "---|" * 9,
    ]
    for r in results:
        e = r.get("export")
        if not e:
            continue
        x, d, same = e["library_export"], e["raw_dump"], e.get("raw_same_files", {})
        lines.append(
            f"| {r['size']} | {f(x.get('seconds'), 2)} | {f(x.get('peak_rss_mb_wait4'))} | "
            f"{f(x.get('bytes', 0) / 1e6)} | {f(d.get('seconds'), 2)} | "
            f"{f(d.get('peak_rss_mb'))} | {ratio(d.get('seconds'), x.get('seconds'))} | "
            f"{f(same.get('seconds'), 2)} | {ratio(same.get('seconds'), x.get('seconds'))} |"
        )
    return lines


def serve_rows(results: list[dict]) -> list[str]:  # type: ignore[type-arg]
    lines = [
        "| size | cold start: app on built store s | cold start: `cica-kg serve` CLI s | "
        "cica-kg RSS per worker MB (after load) | cica-kg tree RSS MB | oxigraph RSS MB | "
        "rdflib-endpoint RSS MB | rdflib-endpoint load s |",
        "|" + "---|" * 8,
    ]
    for r in results:
        cs = r.get("coldstart", {})
        ep = r.get("endpoint", {}) if isinstance(r.get("endpoint"), dict) else {}
        mem = ep.get("memory", {})
        ck = mem.get("cica-kg", {})
        pss = ck.get("per_worker_pss_mb")
        lines.append(
            f"| {r['size']} | {f(cs.get('cica_app_s'), 2)} | {f(cs.get('cica_cli_s'), 2)} | "
            f"{', '.join(map(str, ck.get('per_worker_rss_mb', []))) or '–'}"
            f"{' (PSS ' + ', '.join(map(str, pss)) + ')' if pss else ''} | "
            f"{f(ck.get('tree_rss_mb'))} | "
            f"{f(mem.get('oxigraph', {}).get('tree_rss_mb'))} | "
            f"{f(mem.get('rdflib', {}).get('tree_rss_mb'))} | "
            f"{f(ep.get('ready_seconds', {}).get('rdflib'))} |"
        )
    return lines


def profile_rows(results: list[dict]) -> list[str]:  # type: ignore[type-arg]
    lines = [
        "| size | "
        + " | ".join(
            [
                "Flask /queries total",
                "Flask /sparql total",
                "oxigraph query+iterate",
                "serialize JSON",
                "lexer (inspect)",
                "query-pool round trip",
                "Flask/WSGI + canned route",
            ]
        )
        + " |",
        "|" + "---|" * 8,
    ]
    for r in results:
        p = r.get("profile")
        if not p or "timings" not in p:
            continue
        t, s = p["timings"], p["split_ms_p50"]
        lines.append(
            f"| {r['size']} | {t['flask_total']['p50_ms']} | {t['flask_sparql_total']['p50_ms']} | "
            f"{s['oxigraph (query+iterate)']} | {s['serialize (write_solutions)']} | "
            f"{s['inspect (lexer)']} | {s['query-pool round trip']} | "
            f"{s['flask/wsgi + canned binding']} |"
        )
    return lines


def main() -> None:
    order = {"10k": 0, "100k": 1, "1M": 2, "10M": 3}
    paths = [Path(p) for p in sys.argv[1:]] or sorted(
        RESULTS.glob("*.json"), key=lambda p: (order.get(p.stem, 9), p.stem)
    )
    results = [json.loads(p.read_text()) for p in paths if p.name != "summary.json"]
    results = [r for r in results if isinstance(r, dict) and "target_triples" in r]  # ours only
    out = [
        "### Build",
        "",
        *build_rows(results),
        "",
        "### Export",
        "",
        *export_rows(results),
        "",
        "### Serving: cold start and memory",
        "",
        *serve_rows(results),
        "",
        "### One request, in-process (p50 ms, members.json, cache off)",
        "",
        *profile_rows(results),
        "",
    ]
    for r in results:
        lines = endpoint_table(r)
        if lines:
            out += [
                f"### Endpoint, {r['size']} ({r.get('endpoint', {}).get('triples_in_store')} "
                "triples in the store)",
                "",
                *lines,
                "",
            ]
    print("\n".join(out))


if __name__ == "__main__":
    main()
