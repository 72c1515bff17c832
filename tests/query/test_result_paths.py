"""SELECT answers written by pyoxigraph's serializers (no per-row Python) must be the same
answers, cut at max_rows exactly as before (issue 13): the bound the lexer adds, the row
counts on serialized bytes, and the fallback that cuts row by row."""

from __future__ import annotations

import csv
import io
import json

import pyoxigraph as ox
import pytest

from cica_kg import formats
from cica_kg.query import Job
from cica_kg.query.execute import execute
from cica_kg.query.lexer import limited_select
from cica_kg.query.results import count_rows

TRICKY = 'x\ny,"z<result>},{"'  # a literal that looks like row boundaries in every format


@pytest.fixture(scope="module")
def small_store() -> ox.Store:
    store = ox.Store()
    p = ox.NamedNode("http://e/p")
    store.add(ox.Quad(ox.NamedNode("http://e/a"), p, ox.Literal(TRICKY), ox.DefaultGraph()))
    for i in range(5):
        store.add(ox.Quad(ox.NamedNode(f"http://e/b{i}"), p, ox.Literal(str(i)), ox.DefaultGraph()))
    return store


@pytest.mark.parametrize(
    "query, expected",
    [
        ("SELECT * { ?s ?p ?o }", ("SELECT * { ?s ?p ?o }\nLIMIT 11\n", False)),
        ("SELECT * { ?s ?p ?o } LIMIT 5", ("SELECT * { ?s ?p ?o } LIMIT 5", True)),
        ("SELECT * { ?s ?p ?o } LIMIT 50", ("SELECT * { ?s ?p ?o } LIMIT 11", False)),
        ("SELECT * { ?s ?p ?o } # note", ("SELECT * { ?s ?p ?o } # note\nLIMIT 11\n", False)),
        ("SELECT * { ?s ?p ?o } OFFSET 2", ("SELECT * { ?s ?p ?o } OFFSET 2\nLIMIT 11\n", False)),
        (
            "SELECT * { ?s ?p ?o } VALUES ?s { <http://e/a> }",
            ("SELECT * { ?s ?p ?o } LIMIT 11\nVALUES ?s { <http://e/a> }", False),
        ),
        (  # a subquery's LIMIT is not the query's
            "SELECT * { { SELECT * { ?s ?p ?o } LIMIT 2 } }",
            ("SELECT * { { SELECT * { ?s ?p ?o } LIMIT 2 } }\nLIMIT 11\n", False),
        ),
        ("ASK { ?s ?p ?o }", None),
        ("CONSTRUCT { ?s ?p ?o } WHERE { ?s ?p ?o }", None),
        ("SELECT * { ?s ?p 'unterminated }", None),
    ],
)
def test_limited_select(query: str, expected: tuple[str, bool] | None) -> None:
    assert limited_select(query, 11) == expected


@pytest.mark.parametrize("fmt_name", ["json", "xml", "csv", "tsv"])
@pytest.mark.parametrize("max_rows, rows, truncated", [(3, 3, True), (6, 6, False), (9, 6, False)])
def test_answers_are_cut_exactly_in_every_format(
    small_store: ox.Store, fmt_name: str, max_rows: int, rows: int, truncated: bool
) -> None:
    answer = execute(
        small_store,
        Job(
            query="SELECT ?s ?o WHERE { ?s ?p ?o } ORDER BY ?s",
            format_name=fmt_name,
            max_rows=max_rows,
        ),
    )
    fmt = next(f for f in formats.ALL_FORMATS if f.name == fmt_name)
    assert count_rows(answer.body, fmt) == rows
    assert answer.truncated is truncated
    if truncated:
        assert answer.rows == max_rows
    assert _objects(answer.body, fmt_name) == [TRICKY, "0", "1", "2", "3", "4"][:rows]


def _objects(body: bytes, fmt_name: str) -> list[str]:
    if fmt_name == "json":
        return [b["o"]["value"] for b in json.loads(body)["results"]["bindings"]]
    if fmt_name == "csv":
        return [row[1] for row in list(csv.reader(io.StringIO(body.decode(), newline="")))[1:]]
    if fmt_name == "tsv":
        terms = [line.split("\t")[1] for line in body.decode().splitlines()[1:]]
        return [
            str(
                ox.parse(f"<http://e/s> <http://e/p> {t} .".encode(), format=ox.RdfFormat.N_TRIPLES)
                .__next__()
                .object.value
            )
            for t in terms
        ]
    import xml.etree.ElementTree as ET

    ns = "{http://www.w3.org/2005/sparql-results#}"
    root = ET.fromstring(body)
    return [
        b.find(f"{ns}literal").text or ""  # type: ignore[union-attr]
        for b in root.iter(f"{ns}binding")
        if b.get("name") == "o"
    ]
