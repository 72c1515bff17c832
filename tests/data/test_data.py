"""The shipped data answers the questions it must answer (issue 2)."""

from __future__ import annotations

import re
from pathlib import Path

import pyoxigraph as ox
import pytest
from conftest import TODAY, select

from cica_kg import resources

XSD_DATE = ox.NamedNode("http://www.w3.org/2001/XMLSchema#date")

ROLE_ON = """
PREFIX cica: <https://w3id.org/cica-kg/ontology#>
PREFIX org: <http://www.w3.org/ns/org#>
PREFIX schema: <https://schema.org/>
SELECT ?holder ?code ?role ?date WHERE {
  ?m org:role ?role ; org:organization <https://w3id.org/cica-kg/id/organization/CICA> ;
     org:member ?holder ; schema:startDate ?start .
  OPTIONAL { ?m schema:endDate ?end }
  OPTIONAL { ?holder cica:iso3166Alpha3 ?code }
  FILTER(?start <= ?date && (!BOUND(?end) || ?date < ?end))
}
"""

SEED_2015_MEMBERS = {
    "AFG", "AZE", "BHR", "BGD", "KHM", "CHN", "EGY", "IND", "IRN", "IRQ", "ISR", "JOR", "KAZ",
    "KOR", "KGZ", "MNG", "PAK", "PSE", "QAT", "RUS", "TJK", "THA", "TUR", "ARE", "UZB", "VNM",
}  # fmt: skip
OBSERVER_STATES_TODAY = {"BLR", "IDN", "JPN", "LAO", "MYS", "PHL", "SAU", "TKM", "UKR", "USA"}

# ISO 3166-1 codes of every state in the graph (reference facts, section 9).
ISO_CODES = {
    "AF": "AFG", "AZ": "AZE", "BH": "BHR", "BD": "BGD", "KH": "KHM", "CN": "CHN", "EG": "EGY",
    "IN": "IND", "IR": "IRN", "IQ": "IRQ", "IL": "ISR", "JO": "JOR", "KZ": "KAZ", "KW": "KWT",
    "KG": "KGZ", "MN": "MNG", "PK": "PAK", "PS": "PSE", "QA": "QAT", "KR": "KOR", "RU": "RUS",
    "LK": "LKA", "TJ": "TJK", "TH": "THA", "TR": "TUR", "AE": "ARE", "UZ": "UZB", "VN": "VNM",
    "BY": "BLR", "ID": "IDN", "JP": "JPN", "LA": "LAO", "MY": "MYS", "PH": "PHL", "SA": "SAU",
    "TM": "TKM", "UA": "UKR", "US": "USA", "AU": "AUS", "LB": "LBN",
}  # fmt: skip


def holders(store: ox.Store, role: str, date: str) -> set[str]:
    rows = select(
        store,
        ROLE_ON,
        role=ox.NamedNode("https://w3id.org/cica-kg/ontology#" + role),
        date=ox.Literal(date, datatype=XSD_DATE),
    )
    return {r["code"] or r["holder"] for r in rows}


def test_members_in_2015_are_the_26_of_the_2015_seed(store: ox.Store) -> None:
    assert holders(store, "memberRole", "2015-06-01") == SEED_2015_MEMBERS


def test_members_in_2019_are_27_with_sri_lanka(store: ox.Store) -> None:
    members = holders(store, "memberRole", "2019-01-01")
    assert members == SEED_2015_MEMBERS | {"LKA"}


def test_members_today_are_28_with_kuwait(store: ox.Store) -> None:
    members = holders(store, "memberRole", TODAY)
    assert members == SEED_2015_MEMBERS | {"LKA", "KWT"}
    assert len(members) == 28


def test_observer_states_today_are_the_ten(store: ox.Store) -> None:
    observers = {h for h in holders(store, "observerRole", TODAY) if len(h) == 3}
    assert observers == OBSERVER_STATES_TODAY


def test_observer_organizations_today_are_the_five(store: ox.Store) -> None:
    observers = {h for h in holders(store, "observerRole", TODAY) if h.startswith("https://")}
    assert observers == {
        f"https://w3id.org/cica-kg/id/organization/{key}"
        for key in ("UN", "OSCE", "LAS", "TURKPA", "IOM")
    }


@pytest.mark.parametrize(
    "date, chair",
    [
        ("2005-01-01", "KAZ"),
        ("2010-06-08", "TUR"),  # the handover day belongs to the new chair
        ("2016-01-01", "CHN"),
        ("2018-09-24", "TJK"),
        ("2022-01-01", "KAZ"),
        (TODAY, "AZE"),
    ],
)
def test_exactly_one_chair_on_each_date(store: ox.Store, date: str, chair: str) -> None:
    assert holders(store, "chairRole", date) == {chair}


def test_membership_grew_as_the_sources_count(store: ox.Store) -> None:
    counts = {
        year: len(holders(store, "memberRole", f"{year}-12-31"))
        for year in (1999, 2002, 2004, 2006, 2008, 2010, 2011, 2014, 2018, 2022)
    }
    assert counts == {
        1999: 15, 2002: 16, 2004: 17, 2006: 18, 2008: 20, 2010: 22, 2011: 24, 2014: 26,
        2018: 27, 2022: 28,
    }  # fmt: skip


def test_every_state_has_its_iso_codes_and_a_wikidata_item(store: ox.Store) -> None:
    rows = select(
        store,
        """
        PREFIX cica: <https://w3id.org/cica-kg/ontology#>
        PREFIX owl: <http://www.w3.org/2002/07/owl#>
        SELECT ?state ?a2 ?a3 ?item WHERE {
          ?state a cica:State .
          OPTIONAL { ?state cica:iso3166Alpha2 ?a2 }
          OPTIONAL { ?state cica:iso3166Alpha3 ?a3 }
          OPTIONAL { ?state owl:sameAs ?item }
        }""",
    )
    assert {r["a2"]: r["a3"] for r in rows} == ISO_CODES
    for r in rows:
        assert r["state"] == f"https://w3id.org/cica-kg/id/state/{r['a3']}"
        assert re.fullmatch(r"http://www\.wikidata\.org/entity/Q[1-9][0-9]*", r["item"] or "")


def test_the_seventh_summit_is_planned_and_the_six_before_were_held(store: ox.Store) -> None:
    rows = select(
        store,
        """
        PREFIX cica: <https://w3id.org/cica-kg/ontology#>
        SELECT ?n ?status WHERE { ?s a cica:Summit ; cica:ordinal ?n ; cica:eventStatus ?status }
        ORDER BY ?n""",
    )
    held = "https://w3id.org/cica-kg/ontology#held"
    planned = "https://w3id.org/cica-kg/ontology#planned"
    assert [(int(r["n"]), r["status"]) for r in rows] == [(n, held) for n in range(1, 7)] + [
        (7, planned)
    ]


def test_the_cbm_catalogue_has_five_dimensions(store: ox.Store) -> None:
    rows = select(
        store,
        """
        PREFIX cica: <https://w3id.org/cica-kg/ontology#>
        PREFIX rdfs: <http://www.w3.org/2000/01/rdf-schema#>
        SELECT ?label WHERE { ?d a cica:Dimension ; rdfs:label ?label }""",
    )
    assert len(rows) == 5


def test_the_seed_disagreements_are_kept_with_both_sources(store: ox.Store) -> None:
    rows = select(
        store,
        """
        PREFIX cica: <https://w3id.org/cica-kg/ontology#>
        PREFIX dcterms: <http://purl.org/dc/terms/>
        SELECT ?d (COUNT(DISTINCT ?source) AS ?sources) (COUNT(DISTINCT ?claim) AS ?claims)
        WHERE { ?d a cica:Disagreement ; cica:claim ?claim . ?claim dcterms:source ?source }
        GROUP BY ?d""",
    )
    found = {r["d"].rsplit("/", 1)[1]: (int(r["sources"]), int(r["claims"])) for r in rows}
    for slug in (
        "founding-date", "dimension-count", "member-count", "secretariat-seat",
        "china-chair-end", "thailand-accession",
    ):  # fmt: skip
        sources, claims = found[slug]
        assert claims >= 2 and sources >= 2, slug


def test_every_cica_term_used_is_declared() -> None:
    """Scans the files themselves, not the store, so a typo anywhere is caught."""
    ontology = ox.Store()
    ontology.load(path=str(resources.ontology_dir() / "cica.ttl"), format=ox.RdfFormat.TURTLE)
    declared = {
        q.subject.value
        for q in ontology.quads_for_pattern(
            None,
            ox.NamedNode("http://www.w3.org/2000/01/rdf-schema#isDefinedBy"),
            ox.NamedNode("https://w3id.org/cica-kg/ontology"),
        )
    }
    cica = "https://w3id.org/cica-kg/ontology#"
    files = sorted(resources.ontology_dir().glob("*.ttl")) + sorted(
        resources.data_dir().glob("*.ttl")
    )
    used: dict[str, Path] = {}
    for path in files:
        for t in ox.parse(path=str(path), format=ox.RdfFormat.TURTLE):
            for term in (t.subject, t.predicate, t.object):
                if isinstance(term, ox.NamedNode) and term.value.startswith(cica):
                    used.setdefault(term.value, path)
    undeclared = {term: path.name for term, path in used.items() if term not in declared}
    assert undeclared == {}
    assert len(used) > 50
