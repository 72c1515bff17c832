"""The Virtuoso test helper (tests/virtuoso.py) works: a server starts on loopback ports, the
bulk loader takes N-Quads into their named graphs, SPARQL answers over HTTP, a broken file
fails the load, and the server and its directory are gone afterwards (issue 14)."""

from __future__ import annotations

import os
from pathlib import Path

import pytest
import requests
from conftest import require_virtuoso
from virtuoso import Virtuoso, VirtuosoError, running

G1, G2 = "urn:x-smoke:graph/one", "urn:x-smoke:graph/two"
EX = "urn:x-smoke:id/"
XSD = "http://www.w3.org/2001/XMLSchema#"
TINY = f"""\
<{EX}a> <http://www.w3.org/2000/01/rdf-schema#label> "Alpha"@en <{G1}> .
<{EX}a> <{EX}since> "1999-09-14"^^<{XSD}date> <{G1}> .
<{EX}b> <http://www.w3.org/2000/01/rdf-schema#label> "Beta"@en <{G2}> .
<{EX}b> <{EX}count> "42"^^<{XSD}integer> <{G2}> .
"""
ROWS = f"""
SELECT ?g ?s ?label WHERE {{
  GRAPH ?g {{ ?s <http://www.w3.org/2000/01/rdf-schema#label> ?label }}
  FILTER(STRSTARTS(STR(?s), "{EX}"))
}} ORDER BY ?s
"""


def select(server: Virtuoso, query: str, **params: object) -> list[dict[str, dict[str, str]]]:
    r = requests.post(
        server.sparql_url,
        data={"query": query, **params},
        headers={"Accept": "application/sparql-results+json"},
        timeout=60,
    )
    assert r.status_code == 200, r.text[:500]
    bindings: list[dict[str, dict[str, str]]] = r.json()["results"]["bindings"]
    return bindings


def test_loads_nquads_into_their_graphs_and_answers_select(
    virtuoso: Virtuoso, tmp_path: Path
) -> None:
    dump = tmp_path / "tiny.nq"
    dump.write_text(TINY)
    virtuoso.load(dump)
    rows = select(virtuoso, ROWS)
    assert [(r["g"]["value"], r["s"]["value"], r["label"]["value"]) for r in rows] == [
        (G1, EX + "a", "Alpha"),
        (G2, EX + "b", "Beta"),
    ]
    assert rows[0]["label"].get("xml:lang") == "en"
    # Typed literals keep their datatype and lexical form.
    typed = select(virtuoso, f"SELECT ?o WHERE {{ <{EX}b> <{EX}count> ?o }}")
    assert (typed[0]["o"]["value"], typed[0]["o"]["datatype"]) == ("42", XSD + "integer")
    # With the project's graphs as the protocol dataset, only they make the default graph;
    # without one, Virtuoso's own graphs (virtrdf and others) are in it too.
    count = "SELECT (COUNT(*) AS ?n) WHERE { ?s ?p ?o }"
    assert select(virtuoso, count, **{"default-graph-uri": [G1, G2]})[0]["n"]["value"] == "4"
    assert int(select(virtuoso, count)[0]["n"]["value"]) > 4
    # Why the remote engine lists the project's graphs although Virtuoso plans such a list
    # badly (docs/canned-queries.md): its pragmas that exclude the other graphs instead give
    # the right default graph, but then GRAPH <g> finds nothing (Virtuoso 7.2.5).
    graphs = "SELECT DISTINCT ?g WHERE { GRAPH ?g { ?s ?p ?o } }"
    others = sorted({r["g"]["value"] for r in select(virtuoso, graphs)} - {G1, G2})
    assert others  # virtrdf and the like
    pragmas = "".join(f"DEFINE input:default-graph-exclude <{g}>\n" for g in others)
    assert select(virtuoso, pragmas + count)[0]["n"]["value"] == "4"
    in_g1 = f"SELECT ?s WHERE {{ GRAPH <{G1}> {{ ?s ?p ?o }} }}"
    assert len(select(virtuoso, in_g1)) == 2
    assert select(virtuoso, pragmas + in_g1) == []
    assert set(virtuoso.timings) >= {"start", "load"}


def test_a_broken_file_fails_the_load_and_the_server_is_cleaned_up(tmp_path: Path) -> None:
    require_virtuoso()
    broken = tmp_path / "broken.nq"
    broken.write_text('<urn:x-smoke:s> <urn:x-smoke:p> "unterminated <urn:x-smoke:g> .\n')
    with running() as server:
        directory, pid = server.directory, server.process.pid
        with pytest.raises(VirtuosoError, match="broken.nq"):
            server.load(broken)
        assert select(server, "SELECT ?o WHERE { <urn:x-smoke:s> ?p ?o }") == []
    assert not directory.exists()
    assert server.process.returncode is not None and not os.path.exists(f"/proc/{pid}/cmdline")
