"""Keeps the benchmark harness working: runs it at the smallest size for ~2 s per cell
against cica-kg and oxigraph (rdflib-endpoint too when its separate venv exists, Virtuoso 7
raw and under `cica-kg serve --engine` when it is installed), and checks
that it produced its results file with the expected rows and that the generated data built
and validated. It asserts no timing: benchmarks are not tests."""

from __future__ import annotations

import json
from pathlib import Path

from benchmarks import procs, virtuoso_peer
from benchmarks.run import main


def test_harness_smallest_size(tmp_path: Path) -> None:
    peers = "cica-kg,oxigraph" + (",rdflib" if procs.peers_available() else "")
    if virtuoso_peer.available():
        peers += ",virtuoso"
    out = tmp_path / "results"
    status = main(
        [
            "--sizes",
            "10k",
            "--duration",
            "2",
            "--clients",
            "4",
            "--peers",
            peers,
            "--parts",
            "build,export,endpoint",
            "--work",
            str(tmp_path / "work"),
            "--out",
            str(out),
            "--request-timeout",
            "30",
            "--build-rounds",
            "1",
        ]
    )
    result = json.loads((out / "10k.json").read_text())
    assert status == 0, result.get("error")
    assert (out / "summary.json").exists()

    generated = result["generated"]
    assert abs(generated["triples"] - 10_000) < 500

    build = result["build"]
    # `cica-kg build` accepted the data, with either SHACL validator
    assert build["cica_build"]["runs"][0]["returncode"] == 0
    assert build["cica_build_sparql"]["runs"][0]["returncode"] == 0
    phases = build["phases"]
    assert phases["shapes_sparql_problems"] == phases["pyshacl_problems"] == 0
    assert phases["check_problems"] == phases["validate_problems"] == 0
    assert build["bulk_load"]["runs"][0]["triples"] > 10_000
    assert build["store_mb"] > 0

    export = result["export"]
    assert export["library_export"]["returncode"] == 0
    assert export["raw_same_files"]["returncode"] == 0
    assert export["raw_dump"]["returncode"] == 0

    endpoint = result["endpoint"]
    assert endpoint["cross_check"]["mismatches"] == []
    cells = {(c["mix"], c["clients"], c["target"]): c for c in endpoint["cells"]}
    targets = ["cica-kg/queries", "cica-kg/sparql", "oxigraph"]
    if virtuoso_peer.available():
        targets += ["virtuoso", "cica-kg-virtuoso/queries"]
        assert endpoint["virtuoso"]["bulk_load_s"] > 0
    expected = {(m, 4, t) for m in ("canned", "repeated") for t in targets}
    expected |= {("heavy", 4, t) for t in targets if not t.endswith("/queries")}
    assert expected <= set(cells)
    for key in expected:
        assert cells[key]["requests"] > 0, key
        assert cells[key]["errors"] == 0, (key, cells[key]["error_samples"])
    assert cells[("repeated", 4, "cica-kg/sparql")]["not_modified"] > 0
