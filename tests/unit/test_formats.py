"""Media types and Accept negotiation (cica_kg/formats.py) and the web's format choice
(web/responses.py), without a server."""

from __future__ import annotations

import flask
import pytest

from cica_kg import errors, formats
from cica_kg.web import responses

RESULTS = list(formats.RESULT_FORMATS)
GRAPHS = formats.offered_for("CONSTRUCT")
BROWSER = "text/html,application/xhtml+xml,application/xml;q=0.9,image/avif,*/*;q=0.8"


@pytest.mark.parametrize(
    "accept, offered, expected",
    [
        (None, RESULTS, "json"),
        ("", RESULTS, "json"),
        ("*/*", RESULTS, "json"),
        ("application/sparql-results+json", RESULTS, "json"),
        ("application/json", RESULTS, "json"),  # an alias, named exactly
        ("text/xml", RESULTS, "xml"),
        ("application/sparql-results+xml;q=0.5, text/csv", RESULTS, "csv"),
        ("text/*", RESULTS, "csv"),  # a tie between csv and tsv goes to the server's order
        ("text/*;q=0.5, text/tab-separated-values", RESULTS, "tsv"),
        ("TEXT/CSV", RESULTS, "csv"),
        ("text/csv;q=0.2, */*;q=0.1", RESULTS, "csv"),
        ("text/csv;q=abc, application/sparql-results+xml;q=0.1", RESULTS, "xml"),  # bad q is 0
        ("text/csv;q=0, */*", RESULTS, "json"),  # the specific q=0 wins over */*
        ("application/xml", RESULTS, "xml"),
        (None, GRAPHS, "ttl"),
        ("application/n-quads, text/turtle;q=0.5", GRAPHS, "nq"),
        ("text/plain", GRAPHS, "nt"),
        ("application/ld+json", GRAPHS, "jsonld"),
        ("application/rdf+xml;q=0.9, application/trig", GRAPHS, "trig"),
        ("garbage, text/turtle", GRAPHS, "ttl"),  # a part without "/" is skipped
    ],
)
def test_negotiate(accept: str | None, offered: list[formats.Format], expected: str) -> None:
    assert formats.negotiate(accept, offered).name == expected


@pytest.mark.parametrize("accept", ["image/png", "text/csv;q=0", "text/html"])
def test_nothing_acceptable_is_a_406(accept: str) -> None:
    with pytest.raises(formats.NotAcceptableError) as caught:
        formats.negotiate(accept, RESULTS)
    assert caught.value.status == 406
    assert "offered: application/sparql-results+json" in caught.value.message


@pytest.mark.parametrize(
    "value, offered, expected",
    [
        ("json", RESULTS, "json"),
        (" JSON ", RESULTS, "json"),
        ("srj", RESULTS, "json"),
        ("text/csv", RESULTS, "csv"),
        ("turtle", GRAPHS, "ttl"),
        ("n-triples", GRAPHS, "nt"),
        ("json", GRAPHS, "jsonld"),
        ("xml", GRAPHS, "rdfxml"),
        ("nquads", GRAPHS, "nq"),
    ],
)
def test_by_name(value: str, offered: list[formats.Format], expected: str) -> None:
    assert formats.by_name(value, offered).name == expected


def test_unknown_format_name_is_a_400_listing_the_choices() -> None:
    with pytest.raises(formats.UnknownFormatError) as caught:
        formats.by_name("yaml", RESULTS)
    assert caught.value.status == 400
    assert caught.value.message == "unknown format 'yaml'; use one of: json, xml, csv, tsv"


def test_content_types_say_utf8_for_text() -> None:
    types = {f.name: f.content_type for f in formats.ALL_FORMATS + (formats.HTML,)}
    assert types == {
        "json": "application/sparql-results+json; charset=utf-8",
        "xml": "application/sparql-results+xml; charset=utf-8",
        "csv": "text/csv; charset=utf-8",
        "tsv": "text/tab-separated-values; charset=utf-8",
        "ttl": "text/turtle; charset=utf-8",
        "nt": "application/n-triples; charset=utf-8",
        "jsonld": "application/ld+json; charset=utf-8",
        "rdfxml": "application/rdf+xml; charset=utf-8",
        "trig": "application/trig; charset=utf-8",
        "nq": "application/n-quads; charset=utf-8",
        "html": "text/html; charset=utf-8",
    }


def test_offered_for_each_form() -> None:
    assert [f.name for f in formats.offered_for("SELECT")] == ["json", "xml", "csv", "tsv"]
    assert formats.offered_for("ASK") == formats.offered_for("SELECT")
    names = ["ttl", "nt", "jsonld", "rdfxml", "trig", "nq"]
    assert [f.name for f in formats.offered_for("DESCRIBE")] == names
    assert [f.name for f in formats.offered_for(None)] == names


@pytest.mark.parametrize(
    "accept, expected",
    [
        (BROWSER, True),
        ("text/html", True),
        ("*/*", False),  # curl: data, not a page
        (None, False),
        ("text/turtle, text/html;q=0.9", False),
        ("text/html;q=0.5, text/turtle;q=0.5", False),  # a tie is not a preference
        ("text/*", False),
    ],
)
def test_prefers_html(accept: str | None, expected: bool) -> None:
    assert formats.prefers_html(accept, GRAPHS) is expected


def test_by_extension() -> None:
    assert formats.by_extension("srj", RESULTS) is formats.RESULT_FORMATS[0]
    assert formats.by_extension("rdf", GRAPHS) is formats.GRAPH_FORMATS[3]
    assert formats.by_extension("exe", GRAPHS) is None


# -- web/responses.choose_format: format= first, then Accept; errors in the vocabulary --


@pytest.fixture(scope="module")
def flask_app() -> flask.Flask:
    return flask.Flask(__name__)


@pytest.mark.parametrize(
    "form, param, accept, expected",
    [
        ("SELECT", None, "text/csv", "csv"),
        ("SELECT", "tsv", "text/csv", "tsv"),  # format= wins over Accept
        ("ASK", "xml", None, "xml"),
        ("CONSTRUCT", None, "application/n-triples", "nt"),
        ("CONSTRUCT", "json", None, "jsonld"),
    ],
)
def test_choose_format(
    flask_app: flask.Flask, form: str, param: str | None, accept: str | None, expected: str
) -> None:
    headers = {"Accept": accept} if accept else {}
    with flask_app.test_request_context(headers=headers):
        assert responses.choose_format(form, param).name == expected


def test_choose_format_errors(flask_app: flask.Flask) -> None:
    with flask_app.test_request_context(), pytest.raises(errors.BadRequest) as bad:
        responses.choose_format("SELECT", "yaml")
    assert bad.value.status == 400 and "unknown format 'yaml'" in bad.value.message
    with (
        flask_app.test_request_context(headers={"Accept": "image/png"}),
        pytest.raises(errors.NotAcceptable) as refused,
    ):
        responses.choose_format("SELECT", None)
    assert refused.value.status == 406


@pytest.mark.parametrize(
    "header, expected",
    [('"abc"', True), ('W/"abc"', True), ('"x", "abc"', True), ("*", True), ('"abcd"', False)],
)
def test_if_none_match(flask_app: flask.Flask, header: str, expected: bool) -> None:
    with flask_app.test_request_context(headers={"If-None-Match": header}):
        assert responses.matches('"abc"') is expected
