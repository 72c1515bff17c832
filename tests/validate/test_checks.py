"""Every violation query in queries/checks/ fires on the error it names, and only there: the
shipped data plus one small Turtle addition per check, and the exact (focus, message) rows
expected. Also that each check finds nothing in the shipped data alone."""

from __future__ import annotations

import re
from pathlib import Path

import pyoxigraph as ox
import pytest

from cica_kg import resources
from cica_kg.load import input_files, load_dataset, read_inputs
from cica_kg.validate.checks import check_files, run_check

CHECKS = resources.queries_dir() / "checks"
ID = "https://w3id.org/cica-kg/id/"
PREFIXES = """
@prefix cica: <https://w3id.org/cica-kg/ontology#> .
@prefix org: <http://www.w3.org/ns/org#> .
@prefix owl: <http://www.w3.org/2002/07/owl#> .
@prefix rdfs: <http://www.w3.org/2000/01/rdf-schema#> .
@prefix schema: <https://schema.org/> .
@prefix dcterms: <http://purl.org/dc/terms/> .
@prefix skos: <http://www.w3.org/2004/02/skos/core#> .
@prefix wd: <http://www.wikidata.org/entity/> .
@prefix xsd: <http://www.w3.org/2001/XMLSchema#> .
"""

# check file -> (Turtle added to the shipped data, with `id:kind/key` short for the IRI
# <https://w3id.org/cica-kg/id/kind/key>; the exact rows expected: focus without the id/
# base (or a full IRI), and a fragment of the message)
CASES: dict[str, tuple[str, set[tuple[str, str]]]] = {
    "cow-code-violation.rq": (
        """
        id:state/XXX cica:cowStateNumber 705 .
        id:state/YYY cica:cowStateAbbreviation "KZK" .
        """,
        {
            ("state/XXX", "shares the COW code 705 with <https://w3id.org/cica-kg/id/state/KAZ>"),
            ("state/KAZ", "shares the COW code 705 with <https://w3id.org/cica-kg/id/state/XXX>"),
            ("state/YYY", "shares the COW code KZK with <https://w3id.org/cica-kg/id/state/KAZ>"),
            ("state/KAZ", "shares the COW code KZK with <https://w3id.org/cica-kg/id/state/YYY>"),
            ("state/XXX", "has the COW state number 705 but no COW abbreviation"),
            ("state/YYY", "has the COW abbreviation KZK but no COW state number"),
        },
    ),
    "dangling-reference-violation.rq": (
        "id:membership/KAZ dcterms:source id:source/nowhere .",
        {("source/nowhere", "is referenced by <https://w3id.org/cica-kg/id/membership/KAZ>")},
    ),
    "date-precision-violation.rq": (
        """
        id:test/a schema:startDate "2020-05-03"^^xsd:date ;
            cica:startPrecision cica:monthPrecision .
        id:test/b schema:endDate "2020-01-01"^^xsd:date .
        id:test/c cica:reportedPrecision cica:dayPrecision .
        id:test/d dcterms:date "2020"^^xsd:gYear ; cica:datePrecision cica:yearPrecision .
        id:test/ok schema:startDate "2020-05-01"^^xsd:date ;
            cica:startPrecision cica:monthPrecision .
        """,
        {
            ("test/a", "2020-05-03 is not the first day of its period at precision monthPrecision"),
            ("test/b", "<https://schema.org/endDate> has no precision"),
            ("test/c", "without a date <https://w3id.org/cica-kg/ontology#reportedOn>"),
            ("test/d", "2020 is not an xsd:date"),
        },
    ),
    "disagreement-violation.rq": (
        """
        id:disagreement/t a cica:Disagreement ; cica:claim id:claim/t1, id:claim/t2 .
        id:claim/t1 a cica:Claim ; cica:accepted true .
        id:claim/t2 a cica:Claim ; cica:accepted true .
        id:claim/orphan a cica:Claim .
        """,
        {
            ("disagreement/t", "accepts two claims"),
            ("claim/orphan", "is a claim of no disagreement"),
        },
    ),
    "interval-order-violation.rq": (
        """
        id:membership/t schema:startDate "2020-01-01"^^xsd:date ;
            schema:endDate "2020-01-01"^^xsd:date .
        id:summit/one-day a cica:Summit ;
            schema:startDate "2020-01-02"^^xsd:date ; schema:endDate "2020-01-02"^^xsd:date .
        id:summit/backwards a cica:Summit ;
            schema:startDate "2020-01-02"^^xsd:date ; schema:endDate "2020-01-01"^^xsd:date .
        """,
        {
            ("membership/t", "ends (2020-01-01) before it starts (2020-01-01)"),
            ("summit/backwards", "ends (2020-01-01) before it starts (2020-01-02)"),
        },
    ),
    "meeting-status-violation.rq": (
        'id:summit/future cica:eventStatus cica:held ; schema:startDate "2999-01-01"^^xsd:date .',
        {("summit/future", "is recorded as held but starts in the future (2999-01-01)")},
    ),
    "member-and-observer-violation.rq": (
        """
        id:observer/KAZ-test org:role cica:observerRole ; org:organization id:organization/CICA ;
            org:member id:state/KAZ ; schema:startDate "2010-01-01"^^xsd:date .
        id:observer/KAZ-before org:role cica:observerRole ; org:organization id:organization/CICA ;
            org:member id:state/KAZ ; schema:startDate "1990-01-01"^^xsd:date ;
            schema:endDate "1999-09-14"^^xsd:date .
        """,
        {
            (
                "observer/KAZ-test",
                "overlaps full membership <https://w3id.org/cica-kg/id/membership/KAZ>",
            )
        },
    ),
    "missing-label-violation.rq": (
        """
        id:test/unlabelled a cica:Meeting .
        id:state/KAZ rdfs:label "Qazaqstan"@en .
        """,
        {
            ("test/unlabelled", "has no English rdfs:label"),
            ("state/KAZ", "has two English labels: Kazakhstan / Qazaqstan"),
        },
    ),
    "missing-source-violation.rq": (
        'id:test/unsourced a cica:Meeting ; rdfs:label "A meeting"@en .',
        {("test/unsourced", "names no source (dcterms:source)")},
    ),
    "overlapping-role-violation.rq": (
        """
        id:membership/KAZ-again org:member id:state/KAZ ; org:organization id:organization/CICA ;
            org:role cica:memberRole ; schema:startDate "2005-01-01"^^xsd:date .
        id:partnership/KAZ-1 org:member id:state/KAZ ; org:organization id:organization/CICA ;
            org:role cica:partnerRole ; schema:startDate "1990-01-01"^^xsd:date ;
            schema:endDate "1995-01-01"^^xsd:date .
        id:partnership/KAZ-2 org:member id:state/KAZ ; org:organization id:organization/CICA ;
            org:role cica:partnerRole ; schema:startDate "1995-01-01"^^xsd:date ;
            schema:endDate "1996-01-01"^^xsd:date .
        id:chairmanship/TEST org:member id:state/KAZ ; org:organization id:organization/CICA ;
            org:role cica:chairRole ; schema:startDate "2025-06-01"^^xsd:date .
        """,
        {
            (
                "membership/KAZ",
                f"overlaps <{ID}membership/KAZ-again> (same role memberRole)",
            ),
            (
                "chairmanship/AZE-2024",
                "overlaps <https://w3id.org/cica-kg/id/chairmanship/TEST> (same role chairRole)",
            ),
        },
    ),
    "source-date-violation.rq": (
        """
        id:source/undated a cica:Source .
        id:source/dated a cica:Source ; dcterms:date "2020-01-01"^^xsd:date .
        id:source/consulted a cica:Source ; cica:consultedOn "2026-11-23"^^xsd:date .
        """,
        {("source/undated", "neither a publication date (dcterms:date) nor a consulted date")},
    ),
    "standin-title-violation.rq": (
        """
        id:source/marked a cica:Source ; cica:titleIsStandIn true .
        id:source/said a cica:Source ; skos:note "Exact page title not known; descriptive."@en .
        id:source/both a cica:Source ; cica:titleIsStandIn true ;
            skos:note "Exact page title not known."@en .
        """,
        {
            ("source/marked", "marks its title a stand-in (cica:titleIsStandIn) but no note"),
            ("source/said", "its title is not marked cica:titleIsStandIn true"),
        },
    ),
    "state-code-violation.rq": (
        """
        id:state/XXX a cica:State ; cica:iso3166Alpha3 "KAZ" ; owl:sameAs wd:Q232 .
        """,
        {
            ("state/XXX", "IRI key differs from its alpha-3 code KAZ"),
            ("state/XXX", "shares the ISO code KAZ with <https://w3id.org/cica-kg/id/state/KAZ>"),
            ("state/KAZ", "shares the ISO code KAZ with <https://w3id.org/cica-kg/id/state/XXX>"),
            ("state/XXX", "shares the Wikidata item http://www.wikidata.org/entity/Q232 with"),
            ("state/KAZ", "shares the Wikidata item http://www.wikidata.org/entity/Q232 with"),
        },
    ),
    "succession-violation.rq": (
        "id:membership/KAZ cica:succeededBy id:membership/CHN .",
        {("membership/KAZ", "but ends never while the successor starts 1999-09-14")},
    ),
    "uncertainty-note-violation.rq": (
        "id:test/unsure cica:uncertain true .",
        {("test/unsure", "is marked uncertain but has no skos:note saying why")},
    ),
    "undeclared-term-violation.rq": (
        """
        id:membership/KAZ cica:membershipRole cica:memberRole .
        id:test/typo a cica:Sumit .
        """,
        {
            ("https://w3id.org/cica-kg/ontology#membershipRole", "does not declare"),
            ("https://w3id.org/cica-kg/ontology#Sumit", "does not declare"),
        },
    ),
    "wikidata-source-violation.rq": (
        """
        id:test/linked owl:sameAs wd:Q1 .
        id:test/sourced owl:sameAs wd:Q2 ; cica:sameAsSource id:source/dddr-countries .
        id:test/elsewhere owl:sameAs <http://dbpedia.org/resource/X> .
        """,
        {("test/linked", "links to Wikidata http://www.wikidata.org/entity/Q1 without naming")},
    ),
}


@pytest.fixture(scope="module")
def shipped() -> list[ox.Quad]:
    files = input_files(resources.ontology_dir(), resources.data_dir())
    store = load_dataset(files, read_inputs(f.path for f in files))
    return list(store)


def test_every_check_has_a_case() -> None:
    assert {p.name for p in check_files(CHECKS)} == set(CASES)


@pytest.mark.parametrize("name", sorted(CASES))
def test_check_finds_nothing_in_the_shipped_data(shipped: list[ox.Quad], name: str) -> None:
    store = ox.Store()
    store.extend(shipped)
    assert run_check(store, CHECKS / name) == []


@pytest.mark.parametrize("name", sorted(CASES))
def test_check_fires_exactly_on_its_error(shipped: list[ox.Quad], name: str) -> None:
    addition, expected = CASES[name]
    store = ox.Store()
    store.extend(shipped)
    turtle = re.sub(r"\bid:([\w-]+/[\w-]+)", rf"<{ID}\1>", addition)
    store.bulk_load(
        input=(PREFIXES + turtle).encode(),
        format=ox.RdfFormat.TURTLE,
        to_graph=ox.NamedNode("https://w3id.org/cica-kg/graph/test"),
    )
    rows = run_check(store, CHECKS / name)
    found = {(p.focus.removeprefix(ID), p.message) for p in rows}
    assert len(found) == len(expected), sorted(found)
    for focus, fragment in expected:
        assert any(f == focus and fragment in m for f, m in found), (focus, fragment, found)
    assert all(p.check == name for p in rows)


def test_checks_are_read_from_the_snapshot_bytes(shipped: list[ox.Quad], tmp_path: Path) -> None:
    """The build runs the checks' text as snapshotted (the bytes its id was made of)."""
    store = ox.Store()
    store.extend(shipped)
    path = CHECKS / "uncertainty-note-violation.rq"
    text = (
        'SELECT ?focus ?message { BIND(<urn:x> AS ?focus) BIND("from the snapshot" AS ?message) }'
    )
    rows = run_check(store, path, text)
    assert [(p.focus, p.message) for p in rows] == [("urn:x", "from the snapshot")]
