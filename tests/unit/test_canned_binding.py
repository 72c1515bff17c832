"""Canned-query headers and parameter binding (cica_kg/canned.py) without a store: every
value becomes a typed RDF term or a 400-class error from cica_kg/errors.py that names the
parameter; nothing a user types reaches the query text."""

from __future__ import annotations

import datetime as dt
from pathlib import Path

import pyoxigraph as ox
import pytest

from cica_kg import canned, errors, resources
from cica_kg.namespaces import BASE, iris

XSD = "http://www.w3.org/2001/XMLSchema#"
TEXT = """# title: Everything typed
# description: One parameter of each type,
#   over two lines.
# param: date | date | today | 2016-01-01 | A day
# param: year | year | optional | 2010 | A year
# param: state | state | optional | KAZ | A state
# param: iri | iri | optional | https://example.org/x | An IRI
# param: text | string | optional | Astana | Some text
# param: must | string | required | x | Needed
# tags: test, types
SELECT ?date ?year ?state ?iri ?text ?must WHERE {}
"""


@pytest.fixture(scope="module")
def query() -> canned.CannedQuery:
    return canned.parse(Path("typed.rq"), text=TEXT)


def test_header(query: canned.CannedQuery) -> None:
    assert (query.name, query.title, query.form) == ("typed", "Everything typed", "SELECT")
    assert query.description == "One parameter of each type, over two lines."
    assert [(p.name, p.type, p.default) for p in query.params] == [
        ("date", "date", "today"), ("year", "year", "optional"), ("state", "state", "optional"),
        ("iri", "iri", "optional"), ("text", "string", "optional"), ("must", "string", "required"),
    ]  # fmt: skip
    assert query.tags == ("test", "types")
    assert query.iri == iris(BASE).query + "typed"


def test_defaults_and_optional(query: canned.CannedQuery) -> None:
    bound = canned.bind(query, {"must": "m"})
    assert bound == {
        "date": ox.Literal(dt.date.today().isoformat(), datatype=ox.NamedNode(XSD + "date")),
        "must": ox.Literal("m"),
    }


@pytest.mark.parametrize(
    "name, value, term",
    [
        ("date", " 2016-01-01 ", ox.Literal("2016-01-01", datatype=ox.NamedNode(XSD + "date"))),
        ("year", "2010", ox.Literal("2010", datatype=ox.NamedNode(XSD + "integer"))),
        ("year", "-44", ox.Literal("-44", datatype=ox.NamedNode(XSD + "integer"))),
        ("year", "0099", ox.Literal("99", datatype=ox.NamedNode(XSD + "integer"))),
        ("state", "kaz", ox.NamedNode(iris(BASE).id + "state/KAZ")),
        ("iri", "https://example.org/x?y=1#z", ox.NamedNode("https://example.org/x?y=1#z")),
        ("iri", "urn:isbn:0451450523", ox.NamedNode("urn:isbn:0451450523")),
        # A string is a literal, whatever it says: no quote or brace reaches the query.
        ("text", 'x" } ; DROP ALL #', ox.Literal('x" } ; DROP ALL #')),
        ("text", "Астана", ox.Literal("Астана")),
    ],
)
def test_values_become_typed_terms(
    query: canned.CannedQuery, name: str, value: str, term: ox.NamedNode | ox.Literal
) -> None:
    assert canned.bind(query, {"must": "m", name: value})[name] == term


@pytest.mark.parametrize(
    "raw, message",
    [
        ({"date": "2016-13-01"},
         "parameter 'date' must be a date YYYY-MM-DD (e.g. 2016-01-01); got '2016-13-01'"),
        ({"date": "yesterday"}, "parameter 'date' must be a date YYYY-MM-DD"),
        ({"year": "20166"}, "parameter 'year' must be a year YYYY (e.g. 2010); got '20166'"),
        ({"year": "1e3"}, "parameter 'year' must be a year YYYY"),
        ({"state": "KZ"}, "parameter 'state' must be the ISO 3166-1 alpha-3 code"),
        ({"state": "K4Z"}, "parameter 'state' must be the ISO 3166-1 alpha-3 code"),
        ({"iri": "not an iri"},
         "parameter 'iri' must be an absolute IRI (e.g. https://example.org/x); got 'not an iri'"),
        ({"iri": "relative/path"}, "parameter 'iri' must be an absolute IRI"),
        ({"iri": "<http://example.org/>"}, "parameter 'iri' must be an absolute IRI"),
        ({"iri": "http://x/> } SERVICE <http://evil/> {"}, "parameter 'iri' must be"),
        ({"iri": "http://x/\\u003e"}, "parameter 'iri' must be an absolute IRI"),
        ({"iri": 'http://x/"'}, "parameter 'iri' must be an absolute IRI"),
        ({"must": "  "}, "parameter 'must' is required: give text (e.g. x)"),
        ({"must": "m", "nope": "1"},
         "unknown parameter 'nope' for query 'typed'; parameters: date, year, state"),
    ],
)  # fmt: skip
def test_bad_values_are_400s_naming_the_parameter(
    query: canned.CannedQuery, raw: dict[str, str], message: str
) -> None:
    raw = {"must": "m", **raw} if "must" not in raw else raw
    with pytest.raises(errors.BadRequest) as caught:
        canned.bind(query, raw)
    assert caught.value.message.startswith(message)
    assert caught.value.status == 400 and caught.value.title == "Bad Request"


def test_states_are_checked_against_the_graph(query: canned.CannedQuery) -> None:
    assert canned.bind(query, {"must": "m", "state": "chn"}, {"CHN", "KAZ"})["state"] == (
        ox.NamedNode(iris(BASE).id + "state/CHN")
    )
    with pytest.raises(errors.BadRequest, match="parameter 'state'.*got 'USA'"):
        canned.bind(query, {"must": "m", "state": "USA"}, {"CHN", "KAZ"})


def test_states_follow_the_query_base(query: canned.CannedQuery) -> None:
    other = query.at("https://example.org/kg/")
    assert canned.bind(other, {"must": "m", "state": "KAZ"})["state"] == ox.NamedNode(
        "https://example.org/kg/id/state/KAZ"
    )


@pytest.mark.parametrize(
    "text, message",
    [
        ("# description: d\nSELECT * {}", "needs exactly one '# title:' line"),
        ("# title: t\nSELECT * {}", "needs exactly one '# description:' line"),
        ("# title: t\n# description: d\n# param: x | number | 1 | 1 | h\nASK {}", "param must be"),
        ("# title: t\n# description: d\n# param: x | date | today\nASK {}", "param must be"),
        ("# title: t\n# description: d\nINSERT DATA { <a:a> <a:b> <a:c> }", "not a SPARQL query"),
    ],
)
def test_malformed_headers_are_catalogue_errors(text: str, message: str) -> None:
    with pytest.raises(errors.CatalogueError) as caught:
        canned.parse(Path("bad.rq"), text=text)
    assert message in caught.value.message and caught.value.status == 500


def test_shipped_catalogue_parses_with_known_types_and_working_examples() -> None:
    catalogue = canned.load_catalogue(resources.queries_dir())
    assert {"chair", "members", "observers", "state-year"} <= set(catalogue)
    for q in catalogue.values():
        assert q.form in ("SELECT", "ASK", "CONSTRUCT", "DESCRIBE"), q.name
        # Each parameter's documented example binds (states unchecked: no store here).
        canned.bind(q, {p.name: p.example for p in q.params})
