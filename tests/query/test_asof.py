"""As-of answers say how sure and how current they are (issue 15): a row inside the year or
month that an imprecise start or end stands for is kept but uncertain; coordinations answer
as of a date; every HTTP answer carries the data's currency, and an answer about a later
day warns that later changes may be missing."""

from __future__ import annotations

import datetime as dt

import pyoxigraph as ox
import pytest
from canned_rows import Rows, ask, local, rows_of
from click.testing import CliRunner
from conftest import Server

from cica_kg.cli import cli
from cica_kg.namespaces import PREFIXES
from cica_kg.settings import Settings

HTML = {"Accept": "text/html"}


def by_code(rows: Rows, column: str = "iso3") -> dict[str, str]:
    """{ISO code: uncertain} of the rows that have a code."""
    return {r[column]: r["uncertain"] for r in rows if column in r}


# -- precision windows --------------------------------------------------------------------


def test_a_start_known_only_to_the_year_is_uncertain_within_that_year(store: ox.Store) -> None:
    members = by_code(ask(store, "members", date="2011-03-01"))
    assert members["BHR"] == "true" and members["KHM"] == "true"  # joined at some point in 2011
    assert members["KAZ"] == "false"
    next_year = by_code(ask(store, "members", date="2012-01-01"))
    assert next_year["BHR"] == "false" and next_year["KHM"] == "false"
    states = {
        r["iso3"]: (r["status"], r["uncertain"]) for r in ask(store, "states", date="2011-03-01")
    }
    assert states["BHR"] == ("full member", "true")
    assert states["KAZ"] == ("full member", "false")


def test_an_end_known_only_to_the_year_is_uncertain_within_that_year(store: ox.Store) -> None:
    # Australia's observer status ends in 2008 (year precision): on 1 March 2008 it may
    # still hold, so it is kept, uncertain; from 2009 it is gone.
    in_2008 = by_code([r for r in ask(store, "observers", date="2008-03-01") if "iso3" in r])
    assert in_2008["AUS"] == "true"
    assert "AUS" not in by_code(ask(store, "observers", date="2009-01-01"))
    states = {
        r["iso3"]: (r["status"], r["uncertain"]) for r in ask(store, "states", date="2008-03-01")
    }
    assert states["AUS"] == ("observer", "true")


WINDOWED = """
SELECT ?holder ?query ?column ?date ?precision ?side WHERE {
  VALUES (?roleType ?query ?column) {
    (cica:memberRole "members" "state")
    (cica:observerRole "observers" "observer")
    (cica:chairRole "chair" "state")
  }
  ?role org:role ?roleType ; org:member ?holder ;
      org:organization <https://w3id.org/cica-kg/id/organization/CICA> .
  { ?role schema:startDate ?date ; cica:startPrecision ?precision . BIND("start" AS ?side) }
  UNION
  { ?role schema:endDate ?date ; cica:endPrecision ?precision . BIND("end" AS ?side) }
  FILTER(?precision != cica:dayPrecision)
}
"""


def test_every_imprecise_start_and_end_is_uncertain_throughout_its_window(
    store: ox.Store,
) -> None:
    """Each year- or month-precision start or end of a membership, observer status or
    chairmanship, asked about on the first and the last day it stands for: the row is
    there, uncertain."""
    windows = rows_of(store.query(WINDOWED, prefixes=PREFIXES, use_default_graph_as_union=True))
    assert {w["side"] for w in windows} == {"start", "end"}
    for w in windows:
        first = dt.date.fromisoformat(w["date"])
        if w["precision"].endswith("#yearPrecision"):
            last = first.replace(month=12, day=31)
        else:
            last = (first.replace(day=28) + dt.timedelta(days=4)).replace(day=1)
            last -= dt.timedelta(days=1)
        for day in (first, last):
            rows = ask(store, w["query"], date=day.isoformat())
            held = [r["uncertain"] for r in rows if r[w["column"]] == w["holder"]]
            assert held and set(held) == {"true"}, (w, day)


# -- coordinations as of a date -----------------------------------------------------------


def test_coordinators_as_of_a_date(store: ox.Store) -> None:
    assert all("date" not in r for r in ask(store, "coordinators"))  # no date: every one
    # 2023: the 2022-2023 term of the ICT area (certain), report-only roles (uncertain)
    in_2023 = ask(store, "coordinators", date="2023-06-01")
    ict = {
        (r["iso3"], r["role"], r["uncertain"])
        for r in in_2023
        if r["area"].endswith("/ict-security")
    }
    assert ict == {("RUS", "coordinator", "false"), ("CHN", "co-coordinator", "false")}
    assert all(r["uncertain"] == "true" for r in in_2023 if "start" not in r)
    assert {r["iso3"] for r in in_2023 if r["area"].endswith("/tourism")} == {"TJK"}
    # nothing reported later than the day asked about
    assert all(r.get("start", r["reportedOn"]) <= "2023-06-01" for r in in_2023)
    # the SME action plan's term, 2016-2018: Russia coordinates SMEs in 2017, not in 2020
    assert {r["iso3"] for r in ask(store, "coordinators", date="2017-01-01", state="RUS")} == {
        "RUS"
    }
    assert not [
        r for r in ask(store, "coordinators", date="2020-01-01") if r["area"].endswith("/sme")
    ]
    # in 2026, the year the 2024-2025 ICT term ends (year precision): kept, uncertain
    in_2026 = ask(store, "coordinators", date="2026-06-01")
    ict_2026 = {(r["iso3"], r["uncertain"]) for r in in_2026 if r["area"].endswith("/ict-security")}
    assert ict_2026 == {("RUS", "true"), ("CHN", "true")}


def test_catalogue_as_of_a_date_keeps_areas_without_coordinators(store: ox.Store) -> None:
    rows = ask(store, "cbm-catalogue", date="2015-06-01")
    coordinated = {(r["iso3"], local(r["area"]), r["uncertain"]) for r in rows if "role" in r}
    assert ("TJK", "tourism", "true") in coordinated  # reported in 2009
    assert not {area for _, area, _ in coordinated} & {"ict-security", "sme", "agriculture"}
    assert all(r.get("start", r.get("reportedOn", "")) <= "2015-06-01" for r in rows)
    assert len({r["area"] for r in rows}) == len({r["area"] for r in ask(store, "cbm-catalogue")})


TOY = """
@prefix cica: <https://w3id.org/cica-kg/ontology#> .
@prefix org: <http://www.w3.org/ns/org#> .
@prefix rdfs: <http://www.w3.org/2000/01/rdf-schema#> .
@prefix schema: <https://schema.org/> .
@prefix xsd: <http://www.w3.org/2001/XMLSchema#> .
@prefix id: <https://w3id.org/cica-kg/id/> .
id:area rdfs:label "Area"@en .
id:X rdfs:label "X"@en ; cica:iso3166Alpha3 "XXX" .
id:Y rdfs:label "Y"@en ; cica:iso3166Alpha3 "YYY" .
id:Z rdfs:label "Z"@en ; cica:iso3166Alpha3 "ZZZ" .
id:P rdfs:label "P"@en ; cica:iso3166Alpha3 "PPP" .
id:x org:member id:X ; org:role cica:coordinatorRole ; cica:priorityArea id:area ;
    org:organization <https://w3id.org/cica-kg/id/organization/CICA> ;
    cica:reportedOn "2019-05-01"^^xsd:date ; cica:reportedPrecision cica:dayPrecision .
id:y org:member id:Y ; org:role cica:coordinatorRole ; cica:priorityArea id:area ;
    org:organization <https://w3id.org/cica-kg/id/organization/CICA> ;
    cica:reportedOn "2022-01-01"^^xsd:date ; cica:reportedPrecision cica:yearPrecision .
id:p org:member id:P ; org:role cica:coCoordinatorRole ; cica:priorityArea id:area ;
    org:organization <https://w3id.org/cica-kg/id/organization/CICA> ;
    cica:reportedOn "2018-01-01"^^xsd:date ; cica:reportedPrecision cica:yearPrecision .
id:z org:member id:Z ; org:role cica:coCoordinatorRole ; cica:priorityArea id:area ;
    org:organization <https://w3id.org/cica-kg/id/organization/CICA> ;
    schema:startDate "2020-01-01"^^xsd:date ; cica:startPrecision cica:yearPrecision ;
    schema:endDate "2022-01-01"^^xsd:date ; cica:endPrecision cica:yearPrecision .
"""


@pytest.mark.parametrize(
    "day, expected",
    [
        ("2017-12-31", set()),  # nothing reported yet
        ("2018-06-01", {("PPP", "true")}),
        ("2019-06-01", {("XXX", "true"), ("PPP", "true")}),
        # Z's term starts in 2020 (uncertain within that year) and supersedes P's report
        ("2020-06-01", {("XXX", "true"), ("ZZZ", "true")}),
        ("2021-06-01", {("XXX", "true"), ("ZZZ", "false")}),  # inside Z's term: certain
        # Y's report of 2022 supersedes X's; Z's term may have ended during 2022
        ("2022-06-01", {("YYY", "true"), ("ZZZ", "true")}),
        ("2023-06-01", {("YYY", "true")}),
    ],
)
def test_the_report_only_rule(day: str, expected: set[tuple[str, str]]) -> None:
    store = ox.Store()
    store.load(TOY.encode(), ox.RdfFormat.TURTLE)
    rows = ask(store, "coordinators", date=day)
    assert {(r["iso3"], r["uncertain"]) for r in rows} == expected


# -- currency -----------------------------------------------------------------------------


def current_to(server: Server) -> dt.date:
    answer = server.get("/sparql", params={"query": "ASK {}"})
    return dt.date.fromisoformat(answer.headers["CICA-KG-Data-Current-To"])


def test_every_answer_carries_the_data_currency(server: Server) -> None:
    day = current_to(server).isoformat()
    for path, headers in [
        ("/sparql?query=ASK%20%7B%7D", {}),
        ("/queries/members.json?date=2015-06-01", {}),
        ("/queries/chairs", HTML),
        ("/queries/nope", HTML),  # errors too
        ("/", HTML),
        ("/id/state/KAZ", HTML),
        ("/id/state/KAZ", {"Accept": "text/turtle"}),
    ]:
        r = server.get(path, headers=headers)
        assert r.headers["CICA-KG-Data-Current-To"] == day, path
        assert "CICA-KG-Data-Current-To" in r.headers["Access-Control-Expose-Headers"]
    for path in ("/", "/id/state/KAZ"):
        assert f'Data current to <time datetime="{day}">' in server.get(path, headers=HTML).text


def test_an_answer_about_a_later_day_warns(server: Server) -> None:
    current = current_to(server)
    later = (current + dt.timedelta(days=1)).isoformat()
    for path in ("/queries/members.json", "/queries/coordinators.csv", "/queries/chair"):
        r = server.get(path, params={"date": later}, headers=HTML)
        assert r.status_code == 200
        warning = r.headers["CICA-KG-Warning"]
        assert current.isoformat() in warning and later in warning
        assert "may be missing" in warning
    page = server.get("/queries/members", params={"date": later}, headers=HTML).text
    assert '<p class="warning" role="note">Warning: the data are current to' in page
    if dt.date.today() > current:  # the default day, today, is later too
        assert "CICA-KG-Warning" in server.get("/queries/members.json").headers


def test_no_warning_up_to_the_currency_date(server: Server) -> None:
    current = current_to(server).isoformat()
    for params in ({"date": "2015-06-01"}, {"date": current}, {}):
        r = server.get("/queries/coordinators.json", params=params)  # no date: not as-of
        assert r.status_code == 200 and "CICA-KG-Warning" not in r.headers
    page = server.get("/queries/members", params={"date": "2015-06-01"}, headers=HTML)
    assert "CICA-KG-Warning" not in page.headers and 'class="warning"' not in page.text
    bad = server.get("/queries/members.json", params={"date": "2999-01-01", "x": "1"})
    assert bad.status_code == 400 and "CICA-KG-Warning" not in bad.headers


def test_cli_prints_the_currency_for_as_of_queries(built_settings: Settings) -> None:
    store = ["--store", str(built_settings.store)]
    runner = CliRunner()
    early = runner.invoke(cli, ["query", "members", *store, "-p", "date=2015-06-01", "-f", "csv"])
    assert early.exit_code == 0
    lines = early.stderr.splitlines()
    assert len(lines) == 1 and lines[0].startswith("data current to ")
    current = dt.date.fromisoformat(lines[0].removeprefix("data current to "))
    assert early.stdout.startswith("state,")  # stdout holds the answer only
    later = (current + dt.timedelta(days=1)).isoformat()
    warned = runner.invoke(cli, ["query", "chair", *store, "-p", f"date={later}"])
    assert warned.stderr.splitlines() == [
        f"data current to {current.isoformat()}",
        f"warning: the data are current to {current.isoformat()}; changes to CICA after that "
        f"date may be missing from this answer for {later}",
    ]
    not_as_of = runner.invoke(cli, ["query", "chairs", *store])
    assert not_as_of.exit_code == 0 and not_as_of.stderr == ""
