"""Single measured tasks, each run in its own child process so that its wall time and peak
memory are its own. Each prints one JSON line (with peak_rss_mb) as its last line.

    python -m benchmarks.tasks phases    --data-dir D --ontology-dir O --store S [--pyshacl]
    python -m benchmarks.tasks bulk-load --data-dir D --ontology-dir O --out S
    python -m benchmarks.tasks export    --store S --out DIR
    python -m benchmarks.tasks dump      --store S --out FILE
    python -m benchmarks.tasks raw-same  --store S --out DIR
"""

from __future__ import annotations

import argparse
import json
import resource
import shutil
import time
from pathlib import Path

import pyoxigraph as ox


def peak_mb() -> float:
    return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024


def phases(a: argparse.Namespace) -> dict[str, object]:
    """The steps of `cica-kg build`, timed one by one with the same library calls: load into
    memory, the shapes (compiled to SPARQL; pyshacl too with --pyshacl), each check, then the
    whole validation as the build runs it (concurrently), and the on-disk store write (which
    the build overlaps with validation)."""
    from cica_kg import build as building
    from cica_kg import validate
    from cica_kg.load import load_dataset
    from cica_kg.namespaces import graph_iri
    from cica_kg.settings import Settings
    from cica_kg.store import STORE_DIR
    from cica_kg.validate.checks import check_files, run_check
    from cica_kg.validate.shacl_pyshacl import shape_problems
    from cica_kg.validate.shacl_run import shape_problems_sparql

    settings = Settings.from_env(store=a.store, data_dir=a.data_dir, ontology_dir=a.ontology_dir)
    out: dict[str, object] = {}
    t = time.perf_counter()
    inputs = building.snapshot_inputs(settings)
    dataset = load_dataset(*inputs)
    dataset.extend(building.queries_quads(settings, inputs[1]))
    out["load_s"] = time.perf_counter() - t
    out["triples"] = len(dataset)
    out["rss_after_load_mb"] = peak_mb()

    t = time.perf_counter()
    out["shapes_sparql_problems"] = len(shape_problems_sparql(dataset, graph_iri("shapes")))
    out["shapes_sparql_s"] = time.perf_counter() - t
    if a.pyshacl:
        t = time.perf_counter()
        out["pyshacl_problems"] = len(shape_problems(dataset))
        out["pyshacl_s"] = time.perf_counter() - t  # the rdflib copy included
        out["rss_after_pyshacl_mb"] = peak_mb()

    checks: dict[str, float] = {}
    problems = 0
    for path in check_files(settings.queries_dir / "checks"):
        t = time.perf_counter()
        problems += len(run_check(dataset, path))
        checks[path.name] = round(time.perf_counter() - t, 3)
    out["checks_s"] = sum(checks.values())
    out["checks"] = checks
    out["check_problems"] = problems

    t = time.perf_counter()
    out["validate_problems"] = len(
        validate.validate(dataset, settings.queries_dir / "checks", "sparql")
    )
    out["validate_concurrent_s"] = time.perf_counter() - t
    out["rss_after_validation_mb"] = peak_mb()
    del dataset

    tmp = Path(a.store) / "phases-tmp"
    shutil.rmtree(tmp, ignore_errors=True)
    tmp.mkdir(parents=True)
    t = time.perf_counter()
    building._write_store(tmp / STORE_DIR, settings, inputs)
    out["write_store_s"] = time.perf_counter() - t
    shutil.rmtree(tmp, ignore_errors=True)
    return out


def bulk_load(a: argparse.Namespace) -> dict[str, object]:
    """Raw pyoxigraph: bulk_load every file into its named graph of an on-disk store."""
    from cica_kg.load import input_files

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
    from cica_kg.store import open_current

    store = open_current(Path(a.store)).store
    t = time.perf_counter()
    store.dump(output=str(a.out), format=ox.RdfFormat.N_QUADS)
    return {"seconds": time.perf_counter() - t, "bytes": Path(a.out).stat().st_size}


def raw_same(a: argparse.Namespace) -> dict[str, object]:
    """Raw pyoxigraph writing the export's six files with none of its guarantees: one
    Store.dump (N-Quads), the other formats serialized from a streaming parse of it, each
    file gzipped (level 6) and hashed; no sorting, deduplication, canonical blank nodes or
    statistics; one process, one thread."""
    import gzip
    import hashlib

    from cica_kg.namespaces import PREFIXES
    from cica_kg.store import open_current

    store = open_current(Path(a.store)).store
    out = Path(a.out)
    shutil.rmtree(out, ignore_errors=True)
    out.mkdir(parents=True)
    t = time.perf_counter()
    nq = out / "raw.nq"
    store.dump(output=str(nq), format=ox.RdfFormat.N_QUADS)
    targets = {
        "trig": ox.RdfFormat.TRIG,
        "ttl": ox.RdfFormat.TURTLE,
        "nt": ox.RdfFormat.N_TRIPLES,
        "jsonld": ox.RdfFormat.JSON_LD,
        "rdf": ox.RdfFormat.RDF_XML,
    }
    for ext, fmt in targets.items():
        parsed = ox.parse(path=str(nq), format=ox.RdfFormat.N_QUADS, lenient=True)
        items = parsed if fmt.supports_datasets else (q.triple for q in parsed)
        ox.serialize(items, output=str(out / f"raw.{ext}"), format=fmt, prefixes=PREFIXES)
    for path in sorted(out.iterdir()):
        digest = hashlib.sha256()
        with open(path, "rb") as src, open(f"{path}.gz", "wb") as raw:
            with gzip.GzipFile(filename="", mode="wb", fileobj=raw, mtime=0, compresslevel=6) as gz:
                while block := src.read(1 << 20):
                    digest.update(block)
                    gz.write(block)
    seconds = time.perf_counter() - t
    size = sum(p.stat().st_size for p in out.iterdir())
    shutil.rmtree(out, ignore_errors=True)
    return {"seconds": seconds, "bytes": size}


def main() -> None:
    ap = argparse.ArgumentParser()
    ap.add_argument("task", choices=["phases", "bulk-load", "export", "dump", "raw-same"])
    ap.add_argument("--data-dir", type=Path)
    ap.add_argument("--ontology-dir", type=Path)
    ap.add_argument("--store", type=Path)
    ap.add_argument("--out", type=Path)
    ap.add_argument("--pyshacl", action="store_true")
    a = ap.parse_args()
    fn = {
        "phases": phases,
        "bulk-load": bulk_load,
        "export": export,
        "dump": dump,
        "raw-same": raw_same,
    }[a.task]
    out = fn(a)
    out["peak_rss_mb"] = round(peak_mb(), 1)
    print(json.dumps({k: (round(v, 3) if isinstance(v, float) else v) for k, v in out.items()}))


if __name__ == "__main__":
    main()
