"""Single measured tasks, each run in its own child process so that its wall time and peak
memory are its own. Each prints one JSON line (with peak_rss_mb) as its last line.

    python -m benchmarks.tasks phases    --data-dir D --ontology-dir O --store S [--profile F]
    python -m benchmarks.tasks bulk-load --data-dir D --ontology-dir O --out S
    python -m benchmarks.tasks export    --store S --out DIR
    python -m benchmarks.tasks dump      --store S --out FILE
"""

from __future__ import annotations

import argparse
import cProfile
import io
import json
import os
import pstats
import resource
import shutil
import time
from pathlib import Path

import pyoxigraph as ox


def load_inputs(settings):  # type: ignore[no-untyped-def]
    """(files, dataset, catalogue, build id) as the library's build reads them."""
    from cica_kg import build as building
    from cica_kg import canned, loading

    files, snapshot = building.snapshot_inputs(settings)
    dataset = loading.load_dataset(files, snapshot)
    catalogue = canned.load_catalogue(settings.queries_dir, snapshot)
    return files, dataset, catalogue, loading.inputs_digest(snapshot)


def peak_mb() -> float:
    return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024


def phases(a: argparse.Namespace) -> dict[str, object]:
    """The steps of `cica-kg build`, timed one by one (same library calls, same order)."""
    from cica_kg import build as building
    from cica_kg import validation
    from cica_kg.canned import examples_rdf
    from cica_kg.namespaces import graph_iri
    from cica_kg.settings import Settings

    settings = Settings.from_env(store=a.store, data_dir=a.data_dir, ontology_dir=a.ontology_dir)
    out: dict[str, object] = {}
    t = time.perf_counter()
    files, dataset, catalogue, build_id = load_inputs(settings)
    qg = ox.NamedNode(graph_iri("queries"))
    dataset.extend(ox.Quad(x.subject, x.predicate, x.object, qg) for x in examples_rdf(catalogue))
    out["parse_s"] = time.perf_counter() - t
    out["triples"] = len(dataset)
    out["rss_after_parse_mb"] = peak_mb()

    # SHACL, split into the oxigraph -> rdflib copy and pyshacl itself
    t = time.perf_counter()
    shapes_node = ox.NamedNode(graph_iri("shapes"))
    shapes = validation.rdflib_graph(dataset.quads_for_pattern(None, None, None, shapes_node))
    data = validation.rdflib_graph(
        q for q in dataset.quads_for_pattern(None, None, None) if q.graph_name != shapes_node
    )
    out["to_rdflib_s"] = time.perf_counter() - t
    out["rss_after_rdflib_mb"] = peak_mb()
    from pyshacl import validate as shacl_validate

    prof = cProfile.Profile() if a.profile else None
    t = time.perf_counter()
    if prof:
        prof.enable()
    if a.skip_shacl:
        conforms = None
    else:
        conforms, _report, _ = shacl_validate(
            data, shacl_graph=shapes, inference="none", advanced=True, allow_warnings=False
        )
    if prof:
        prof.disable()
        buf = io.StringIO()
        stats = pstats.Stats(prof, stream=buf).sort_stats("cumulative")
        stats.print_stats(45)
        buf.write("\n---- by own time ----\n")
        stats.sort_stats("tottime").print_stats(30)
        Path(a.profile).write_text(buf.getvalue())
    out["pyshacl_s"] = time.perf_counter() - t
    out["shacl_conforms"] = conforms
    out["rss_after_pyshacl_mb"] = peak_mb()
    del data, shapes

    checks: dict[str, float] = {}
    skipped: list[str] = []
    problems = 0
    for path in validation.check_files(settings.queries_dir / "checks"):
        if path.name in (a.skip_checks or []):
            skipped.append(path.name)
            continue
        t = time.perf_counter()
        problems += sum(1 for _ in validation._run_check(dataset, path))
        checks[path.name] = round(time.perf_counter() - t, 3)
    out["checks_s"] = sum(checks.values())
    out["checks"] = checks
    out["checks_skipped"] = skipped
    out["check_problems"] = problems

    tmp = Path(a.store) / "phases-tmp"
    shutil.rmtree(tmp, ignore_errors=True)
    Path(a.store).mkdir(parents=True, exist_ok=True)
    t = time.perf_counter()
    building._write_build(tmp, build_id, files, dataset)
    out["write_store_s"] = time.perf_counter() - t
    if a.publish:
        # Publish this build as `cica-kg build` would (same layout, same switch), for sizes
        # where the full validation is not run: the store is then unvalidated by SHACL.
        builds = Path(a.store) / building.BUILDS
        builds.mkdir(exist_ok=True)
        stamp = time.strftime("%Y%m%dT%H%M%SZ", time.gmtime())
        final = builds / f"{build_id}-{stamp}"
        os.rename(tmp, final)
        building._switch(Path(a.store), final)
        out["published"] = str(final)
    shutil.rmtree(tmp, ignore_errors=True)
    out["total_s"] = sum(
        float(out[k]) for k in ("parse_s", "to_rdflib_s", "pyshacl_s", "checks_s", "write_store_s")
    )
    return out


def bulk_load(a: argparse.Namespace) -> dict[str, object]:
    """Raw pyoxigraph: bulk_load every file into its named graph of an on-disk store."""
    from cica_kg.loading import input_files

    shutil.rmtree(a.out, ignore_errors=True)
    t = time.perf_counter()
    store = ox.Store(str(a.out))
    for f in input_files(a.ontology_dir, a.data_dir):
        store.bulk_load(
            path=str(f.path), format=ox.RdfFormat.TURTLE, to_graph=ox.NamedNode(f.graph)
        )
    store.flush()
    seconds = time.perf_counter() - t
    n = len(store)
    del store
    return {"seconds": seconds, "triples": n}


def check(a: argparse.Namespace) -> dict[str, object]:
    """One violation query over the loaded dataset (the harness kills it at its limit)."""
    from cica_kg import validation
    from cica_kg.settings import Settings

    settings = Settings.from_env(data_dir=a.data_dir, ontology_dir=a.ontology_dir)
    _files, dataset, _cat, _id = load_inputs(settings)
    t = time.perf_counter()
    rows = sum(1 for _ in validation._run_check(dataset, Path(a.check)))
    return {"check": str(a.check), "seconds": time.perf_counter() - t, "rows": rows}


def bulk_publish(a: argparse.Namespace) -> dict[str, object]:
    """Raw bulk_load straight into a published-build layout (builds/<id>/oxigraph,
    build.json, `current`), with no validation: for sizes where the library's build does not
    fit the time or memory at hand, so that serving can still be measured."""
    from cica_kg import build as building
    from cica_kg.loading import input_files
    from cica_kg.settings import Settings

    settings = Settings.from_env(store=a.store, data_dir=a.data_dir, ontology_dir=a.ontology_dir)
    files = input_files(settings.ontology_dir, settings.data_dir)
    build_id = building.pending_build_id(settings)
    shutil.rmtree(a.store, ignore_errors=True)
    builds = Path(a.store) / building.BUILDS
    stamp = time.strftime("%Y%m%dT%H%M%SZ", time.gmtime())
    final = builds / f"{build_id}-{stamp}"
    final.mkdir(parents=True)
    t = time.perf_counter()
    store = ox.Store(str(final / building.STORE_DIR))
    for f in files:
        store.bulk_load(
            path=str(f.path), format=ox.RdfFormat.TURTLE, to_graph=ox.NamedNode(f.graph)
        )
    store.flush()
    seconds = time.perf_counter() - t
    graphs = building.graph_sizes(store)
    n = len(store)
    del store
    info = {
        "build_id": build_id,
        "built_at": time.strftime("%Y-%m-%dT%H:%M:%SZ", time.gmtime()),
        "triples": n,
        "graphs": graphs,
        "inputs": [f.path.name for f in files],
        "note": "benchmarks bulk-publish: raw bulk_load, not validated",
    }
    (final / building.INFO_FILE).write_text(json.dumps(info, indent=2) + "\n")
    building._switch(Path(a.store), final)
    return {"seconds": seconds, "triples": n, "published": str(final)}


def export(a: argparse.Namespace) -> dict[str, object]:
    from cica_kg.export import export as run_export

    shutil.rmtree(a.out, ignore_errors=True)
    Path(a.out).mkdir(parents=True)
    t = time.perf_counter()
    result = run_export(Path(a.store), Path(a.out))
    return {
        "seconds": time.perf_counter() - t,
        "files": len(result.files),
        "bytes": sum(p.stat().st_size for p in Path(a.out).iterdir() if p.is_file()),
    }


def dump(a: argparse.Namespace) -> dict[str, object]:
    """Raw pyoxigraph: Store.dump of the published store as N-Quads."""
    from cica_kg.published import open_current

    store = open_current(Path(a.store)).store
    t = time.perf_counter()
    store.dump(output=str(a.out), format=ox.RdfFormat.N_QUADS)
    return {"seconds": time.perf_counter() - t, "bytes": Path(a.out).stat().st_size}


def main() -> None:
    ap = argparse.ArgumentParser()
    ap.add_argument(
        "task", choices=["phases", "bulk-load", "bulk-publish", "check", "export", "dump"]
    )
    ap.add_argument("--data-dir", type=Path)
    ap.add_argument("--ontology-dir", type=Path)
    ap.add_argument("--store", type=Path)
    ap.add_argument("--out", type=Path)
    ap.add_argument("--profile", type=Path)
    ap.add_argument("--skip-shacl", action="store_true")
    ap.add_argument("--publish", action="store_true")
    ap.add_argument("--skip-checks", nargs="*")
    ap.add_argument("--check", type=Path)
    a = ap.parse_args()
    fn = {
        "phases": phases,
        "bulk-load": bulk_load,
        "bulk-publish": bulk_publish,
        "check": check,
        "export": export,
        "dump": dump,
    }[a.task]
    out = fn(a)
    out["peak_rss_mb"] = round(peak_mb(), 1)
    print(json.dumps({k: (round(v, 3) if isinstance(v, float) else v) for k, v in out.items()}))


if __name__ == "__main__":
    main()
