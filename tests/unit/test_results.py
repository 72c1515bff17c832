"""The result serializers (cica_kg/query/results.py) without a server: exact bytes for the
awkward values (CR, LF, tab, quotes, commas, markup, language tags, datatypes, blank nodes,
triple terms, unbound), and every document read back by pyoxigraph's and the standard
library's parsers to the same terms."""

from __future__ import annotations

import csv
import io
import json
import xml.etree.ElementTree as ET

import pyoxigraph as ox
import pytest

from cica_kg import formats
from cica_kg.query import results

XSD = "http://www.w3.org/2001/XMLSchema#"
NASTY = 'a\tb\r\nc "q", <&> \\ é'
FMT = {f.name: f for f in formats.RESULT_FORMATS}
OX = {
    "json": ox.QueryResultsFormat.JSON,
    "xml": ox.QueryResultsFormat.XML,
    "tsv": ox.QueryResultsFormat.TSV,
}
TRIPLE = ox.Triple(ox.NamedNode("http://e/s"), ox.NamedNode("http://e/p"), ox.Literal("o\r\np"))
VARIABLES = ["v", "w"]
ROWS: list[tuple[results.Term | None, ...]] = [
    (ox.Literal(NASTY), ox.Literal("x", language="en-gb")),
    (ox.NamedNode("http://e/a?b=1&c=%3C"), ox.Literal("1", datatype=ox.NamedNode(XSD + "integer"))),
    (TRIPLE, None),
    (ox.BlankNode("b0"), ox.Literal("", datatype=ox.NamedNode(XSD + "string"))),
]


def write(name: str) -> bytes:
    return results.write_solutions(VARIABLES, ROWS, FMT[name])


@pytest.mark.parametrize("name", ["json", "xml", "tsv"])
def test_pyoxigraph_reads_back_the_same_terms(name: str) -> None:
    back = ox.parse_query_results(write(name), format=OX[name])
    assert isinstance(back, ox.QuerySolutions)
    assert [v.value for v in back.variables] == VARIABLES
    got = [tuple(row) for row in back]
    # Blank nodes keep their identity only within one document.
    assert [r for r in got if not isinstance(r[0], ox.BlankNode)] == ROWS[:3]
    assert isinstance(got[3][0], ox.BlankNode) and got[3][1] == ROWS[3][1]


def test_json_bytes() -> None:
    doc = json.loads(write("json"))
    assert doc["head"] == {"vars": ["v", "w"]}
    assert doc["results"]["bindings"] == [
        {"v": {"type": "literal", "value": NASTY},
         "w": {"type": "literal", "value": "x", "xml:lang": "en-gb"}},
        {"v": {"type": "uri", "value": "http://e/a?b=1&c=%3C"},
         "w": {"type": "literal", "value": "1", "datatype": XSD + "integer"}},
        {"v": {"type": "triple", "value": {
            "subject": {"type": "uri", "value": "http://e/s"},
            "predicate": {"type": "uri", "value": "http://e/p"},
            "object": {"type": "literal", "value": "o\r\np"}}}},
        {"v": {"type": "bnode", "value": "b0"}, "w": {"type": "literal", "value": ""}},
    ]  # fmt: skip
    assert "é".encode() in write("json")  # UTF-8, not \u escapes


def test_xml_keeps_cr_through_a_standard_parser() -> None:
    body = write("xml")
    assert b'a\tb&#13;\nc "q", &lt;&amp;&gt; \\ \xc3\xa9' in body
    ns = {"s": "http://www.w3.org/2005/sparql-results#"}
    root = ET.fromstring(body)
    literals = [e.text for e in root.iterfind(".//s:literal", ns)]
    assert literals[0] == NASTY  # a raw CR would have come back as LF
    assert literals[-2:] == ["o\r\np", None]  # the triple's object, the empty string
    lang = root.find(".//s:literal[@{http://www.w3.org/XML/1998/namespace}lang]", ns)
    assert lang is not None and lang.text == "x"
    assert root.find(".//s:literal[@datatype]", ns).get("datatype") == XSD + "integer"  # type: ignore[union-attr]
    assert [e.text for e in root.iterfind(".//s:bnode", ns)] == ["b0"]


def test_csv_bytes_and_rfc4180_reading() -> None:
    body = write("csv")
    assert body == (
        b'v,w\r\n"a\tb\r\nc ""q"", <&> \\ \xc3\xa9",x\r\n'
        b"http://e/a?b=1&c=%3C,1\r\n"
        b'"<http://e/s> <http://e/p> ""o\\r\\np""",\r\n'
        b"_:b0,\r\n"
    )
    rows = list(csv.reader(io.StringIO(body.decode(), newline="")))
    assert rows[1] == [NASTY, "x"] and rows[4] == ["_:b0", ""]


def test_tsv_bytes() -> None:
    assert write("tsv").decode().split("\n") == [
        "?v\t?w",
        '"a\\tb\\r\\nc \\"q\\", <&> \\\\ é"\t"x"@en-gb',
        f'<http://e/a?b=1&c=%3C>\t"1"^^<{XSD}integer>',
        '<<( <http://e/s> <http://e/p> "o\\r\\np" )>>\t',
        '_:b0\t""',
        "",
    ]


@pytest.mark.parametrize(
    "name, value, expected",
    [
        ("json", True, b'{"head": {}, "boolean": true}'),
        ("csv", False, b"_askResult\r\nfalse\r\n"),
        ("tsv", True, b"?_askResult\ntrue\n"),
    ],
)
def test_boolean(name: str, value: bool, expected: bytes) -> None:
    assert results.write_boolean(value, FMT[name]) == expected


@pytest.mark.parametrize("name", ["json", "xml"])
def test_boolean_reads_back(name: str) -> None:
    for value in (True, False):
        parsed = ox.parse_query_results(results.write_boolean(value, FMT[name]), format=OX[name])
        assert bool(parsed) is value


def test_no_rows_and_no_variables() -> None:
    assert results.write_solutions([], [], FMT["csv"]) == b"\r\n"
    assert json.loads(results.write_solutions(["x"], [], FMT["json"])) == {
        "head": {"vars": ["x"]},
        "results": {"bindings": []},
    }


def test_write_triples_sorted_and_prefixed() -> None:
    s, p = ox.NamedNode("http://e/s"), ox.NamedNode("http://e/p")
    triples = [ox.Triple(s, p, ox.Literal("b")), ox.Triple(s, p, ox.Literal("a\r"))]
    ttl = results.write_triples(
        triples, formats.by_name("ttl", formats.offered_for(None)), {"e": "http://e/"}
    )
    assert ttl.decode() == '@prefix e: <http://e/> .\ne:s e:p "a\\r" , "b" .\n'
    nq = results.write_triples(triples, formats.by_name("nq", formats.offered_for(None)))
    assert nq.decode() == '<http://e/s> <http://e/p> "a\\r" .\n<http://e/s> <http://e/p> "b" .\n'


def test_a_graph_format_is_not_a_result_format() -> None:
    with pytest.raises(ValueError, match="ttl is not a result format"):
        results.write_solutions(["x"], [], formats.GRAPH_FORMATS[0])
