"""The query lexer and policy without a server: SERVICE targets as Oxigraph reads them
(including the bypasses the fuzz in test_lexer_fuzz.py found), the prologue, relative IRIs,
and what the policy refuses, with which error."""

from __future__ import annotations

import pyoxigraph as ox
import pytest

from cica_kg import errors
from cica_kg.namespaces import PREFIXES
from cica_kg.query import policy
from cica_kg.query.lexer import inspect_query, redirect_services, substitute, tokens
from cica_kg.settings import Settings

E = "http://127.0.0.1:9999"
ALLOWED = "https://query.wikidata.org/sparql"


def targets(query: str, prefixes: dict[str, str] | None = None) -> list[tuple[str, bool]]:
    return [(c.target, c.resolved) for c in inspect_query(query, prefixes).services]


@pytest.mark.parametrize(
    "query, expected",
    [
        (f"SELECT * {{ SERVICE <{E}/a> {{}} }}", [(f"{E}/a", True)]),
        (f"select * {{ sErViCe <{E}/a> {{}} }}", [(f"{E}/a", True)]),
        (f"SELECT * {{ SERVICE SILENT <{E}/a> {{}} }}", [(f"{E}/a", True)]),
        (f"PREFIX p: <{E}/> SELECT * {{ SERVICE p:a {{}} }}", [(f"{E}/a", True)]),
        (f"PREFIX : <{E}/> SELECT * {{ SERVICE:sparql {{}} }}", [(f"{E}/sparql", True)]),
        # Found by the fuzz: Oxigraph reads a keyword without a word boundary.
        (f"PREFIX p: <{E}/> SELECT * {{ SERVICEp:a {{}} }}", [(f"{E}/a", True)]),
        (f"PREFIX p: <{E}/> SELECT * {{ SERVICESILENT p:a {{}} }}", [(f"{E}/a", True)]),
        (f"PREFIX p: <{E}/> SELECT * {{ SERVICESILENTp:a {{}} }}", [(f"{E}/a", True)]),
        (f"PREFIX p: <{E}/> SELECT * {{ SERVICE SILENTp:a {{}} }}", [(f"{E}/a", True)]),
        (f"PREFIXp: <{E}/> SELECT * {{ SERVICE p:a {{}} }}", [(f"{E}/a", True)]),
        (f"SELECT * {{ ?s ?p trueSERVICE <{E}/a> {{}} }}", [(f"{E}/a", True)]),
        (f"SELECT * {{ ?s ?p 1e5SERVICE <{E}/a> {{}} }}", [(f"{E}/a", True)]),
        # A prefix named PREFIX, and a term that looks like a declaration in the body.
        (
            f"PREFIX PREFIX: <{E}/z/> PREFIX : <{E}/evil/> "
            f"SELECT * {{ ?s PREFIX: <{E}/allowed/> . SERVICE :sparql {{}} }}",
            [(f"{E}/evil/sparql", True)],
        ),
        # \u escapes count inside IRIs, and only there.
        ("SELECT * { SERVICE <http\\u003a//127.0.0.1:9999/a> {} }", [(f"{E}/a", True)]),
        (f'SELECT * {{ BIND("SERVICE <{E}/no>" AS ?x) SERVICE <{E}/a> {{}} }}', [(f"{E}/a", True)]),
        (f"SELECT * {{ SERVICE <{E}/a> {{}} }} # SERVICE <{E}/no>", [(f"{E}/a", True)]),
        # Relative IRIs, resolved as pyoxigraph resolves them (the base is not normalised).
        (f"BASE <{E}/x/> SELECT * {{ SERVICE <../a> {{}} }}", [(f"{E}/a", True)]),
        (f"BASE <{E}/a/../b/> SELECT * {{ SERVICE <c> {{}} }}", [(f"{E}/a/../b/c", True)]),
        (f"BASE <{E}/x/> BASE <../z/> SELECT * {{ SERVICE<a>{{}} }}", [(f"{E}/z/a", True)]),
        (f"BASE <{E}/x/> PREFIX p: <q/> SELECT * {{ SERVICE p:a {{}} }}", [(f"{E}/x/q/a", True)]),
        ("SELECT * { SERVICE <sparql> {} }", [("<sparql>", False)]),
        ("SELECT * { SERVICE ?x {} }", [("?x", False)]),
        # Nested: the inner one is the remote's business, but both are seen.
        (
            f"SELECT * {{ SERVICE <{E}/a> {{ SERVICE <{E}/b> {{}} }} }}",
            [(f"{E}/a", True), (f"{E}/b", True)],
        ),
        ("PREFIX wd: <http://www.wikidata.org/entity/> SELECT * { ?s ?p ?o }", []),
    ],
)
def test_service_targets(query: str, expected: list[tuple[str, bool]]) -> None:
    assert targets(query) == expected


def test_predeclared_prefixes_resolve_service_targets() -> None:
    assert targets("SELECT * { SERVICE wd:x {} }", PREFIXES) == [(PREFIXES["wd"] + "x", True)]
    assert targets("SELECT * { SERVICE wd:x {} }") == [("wd:x", False)]


@pytest.mark.parametrize(
    "ref, base",
    [("../a", "http://h/x/y"), ("", "http://h/a/b?q#f"), ("#g", "http://h/a/b?q"),
     ("./c/./d/..", "http://h/a/b"), ("../../c", "http://h"), ("//h2:1/p/../q", "http://h/a/"),
     ("a", "urn:x:y"), ("?x#y", "http://h/a/"), ("g;x?y#s", "http://a/b/c/d;p?q")],
)  # fmt: skip
def test_relative_iris_resolve_as_pyoxigraph_resolves_them(ref: str, base: str) -> None:
    expected = next(
        iter(ox.parse(f"<{ref}> <urn:p> <urn:o> .", ox.RdfFormat.TURTLE, base_iri=base))
    )
    query = f"BASE <{base}> SELECT * {{ SERVICE <{ref}> {{}} }}"
    assert targets(query) == [(expected.subject.value, True)]


@pytest.mark.parametrize(
    "query, form, update, dataset",
    [
        ("SELECT * {}", "SELECT", False, False),
        ("PREFIX:<http://x/> ask {}", "ASK", False, False),
        (
            "VERSION '1.2' PREFIX p: <http://x/> CONSTRUCT WHERE { ?s ?p ?o }",
            "CONSTRUCT",
            False,
            False,
        ),
        ("PREFIX p: <http://x/> DESCRIBEp:x", "DESCRIBE", False, False),
        ("PREFIX:<http://x/> INSERT DATA { :a :b :c }", "INSERT", True, False),
        ("DELETEWHERE { ?s ?p ?o }", "DELETE", True, False),
        ("LOAD <http://x/>", "LOAD", True, False),
        ("PREFIX : <http://g/> SELECT * FROM:states { ?s ?p ?o }", "SELECT", False, True),
        ("SELECT * FROM NAMED <http://g/> { ?s ?p ?o }", "SELECT", False, True),
        ("SELECT ?from { ?s ?p ?from }", "SELECT", False, False),
    ],
)
def test_form_and_dataset_clause(query: str, form: str, update: bool, dataset: bool) -> None:
    info = inspect_query(query)
    assert (info.form, info.is_update, info.has_dataset_clause) == (form, update, dataset)


@pytest.mark.parametrize(
    "query, unreadable",
    [
        ("SELECT * { ?s ?p 'x }", 'unexpected "\'" at character 18'),
        ("SELECT * { ?s ?p \\u0027x }", "unexpected '\\\\' at character 18"),
        # Read as "less than", `<'x>` hides a string start; read as an IRI, it hides SERVICE.
        (
            f"SELECT * {{ ?s ?p ?o FILTER(?o<'x>\" ') SERVICE <{E}/a> {{}} #\"\n}}",
            "the '<' at character 30 reads both",
        ),
        (f"SELECT * {{ FILTER(?s<?o)SERVICE<{E}/a>#>\n{{}} }}", ""),
    ],
)
def test_unreadable_text(query: str, unreadable: str) -> None:
    info = inspect_query(query)
    assert info.unreadable.startswith(unreadable) if unreadable else not info.unreadable
    if not unreadable:  # `<` after an operand in a FILTER is "less than": SERVICE is seen
        assert targets(query) == [(f"{E}/a", True)]


def test_less_than_and_iris_in_lists() -> None:
    # In a triple pattern and in a collection, `<` starts an IRI (its `#` is no comment).
    query = f"SELECT * {{ ?s <{E}/p#x> (1 <{E}/#l>) . SERVICE <{E}/a> {{}} }}"
    assert targets(query) == [(f"{E}/a", True)]
    # In a projection and in ORDER BY, `<` after an operand compares.
    info = inspect_query(f"SELECT (?a<?b AS ?c) {{ SERVICE <{E}/a> {{}} }} ORDER BY (?a<?b)")
    assert not info.unreadable and [c.target for c in info.services] == [f"{E}/a"]


def test_nesting_depth() -> None:
    assert inspect_query("SELECT * { { ( [ ] ) } }").depth == 4
    assert inspect_query("SELECT * { FILTER(?a < 1) }").depth == 2


def test_numbers_are_one_token() -> None:
    assert [t.value for t in tokens("LIMIT 1000 OFFSET .5e3")] == [
        "LIMIT",
        "1000",
        "OFFSET",
        ".5e3",
    ]


def test_redirect_services_rewrites_only_resolved_mapped_targets() -> None:
    query = f"PREFIX p: <{E}/> SELECT * {{ SERVICEp:a {{}} SERVICE <{E}/b> {{}} }}"
    out = redirect_services(query, inspect_query(query), {f"{E}/a": "http://mirror/a"})
    assert (
        out == f"PREFIX p: <{E}/> SELECT * {{ SERVICE<http://mirror/a> {{}} SERVICE <{E}/b> {{}} }}"
    )


def test_substitute_keeps_projected_columns() -> None:
    query = "SELECT ?d ?x WHERE { ?x ?p ?d } ORDER BY ?d"
    out = substitute(query, {"d": '"2020"'})
    assert out == 'SELECT ("2020" AS ?d) ?x WHERE { ?x ?p "2020" } ORDER BY ("2020")'


# -- the policy: what is refused before anything runs, with which error ---------------


@pytest.fixture(scope="module")
def settings() -> Settings:
    return Settings.from_env({}, service_allowlist=(ALLOWED,), max_query_length=2000)


@pytest.mark.parametrize(
    "query, error, message",
    [
        (f"SELECT * {{ SERVICE <{E}/a> {{}} }}", errors.ServiceRefused, "not on the allowlist"),
        (f"PREFIX p: <{E}/> SELECT * {{ SERVICEp:a {{}} }}", errors.ServiceRefused, "is refused"),
        (f"SELECT * {{ ?s ?p trueSERVICE <{E}/a> {{}} }}", errors.ServiceRefused, "is refused"),
        ("SELECT * { SERVICE ?x {} }", errors.ServiceRefused, "only SERVICE calls to a fixed IRI"),
        # resolved against the base (as the engine resolves it), then judged: not allowed
        ("SELECT * { SERVICE <relative> {} }", errors.ServiceRefused, "not on the allowlist"),
        ("INSERT DATA { <a:a> <a:b> <a:c> }", errors.Forbidden, "read-only"),
        ("SELECT * { ?s ?p 'x }", errors.BadRequest, "cannot be read"),
        ("   ", errors.BadRequest, "empty"),
        ("ASK {" + "{" * 300 + "}" * 301, errors.BadRequest, "nests brackets 301 deep"),
        ("ASK {}" + " " * 2000, errors.PayloadTooLarge, "max_query_length"),
    ],
)
def test_policy_refusals(settings: Settings, query: str, error: type, message: str) -> None:
    with pytest.raises(error) as caught:
        policy.check(settings, query)
    assert message in caught.value.message
    assert 400 <= caught.value.status < 500


def test_policy_lets_allowlisted_service_through(settings: Settings) -> None:
    info = policy.check(settings, f"SELECT * {{ SERVICE SILENT <{ALLOWED}> {{}} }}")
    assert [(c.target, c.resolved) for c in info.services] == [(ALLOWED, True)]
