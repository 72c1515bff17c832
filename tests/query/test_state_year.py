"""The state-year panel (issue 16): COW codes in the graph, the `state-year` canned query in
the COW IGO layout, its year-end rule and -9, the same answer on every interface and over a
remote engine, and the README's pandas example joining it with a table in COW's layout
(tests/fixtures/state_year_format3.csv: its organisation columns are made up)."""

from __future__ import annotations

import csv
import io
import json
import re
import shutil
from collections import Counter
from pathlib import Path
from typing import Any

import pyoxigraph as ox
import pytest
from click.testing import CliRunner
from conftest import FIXTURES, REPO, Server, oxigraph_server, select

from cica_kg import build as building
from cica_kg import canned, resources
from cica_kg.cli import cli
from cica_kg.query import Engine, InlinePool
from cica_kg.settings import Settings

CATALOGUE = canned.load_catalogue(resources.queries_dir())
QUERY = CATALOGUE["state-year"]
COLUMNS = ["ccode", "year", "state", "cica", "iso3", "label", "uncertain", "first", "last"]
Rows = list[dict[str, str]]


@pytest.fixture(scope="module")
def engine(built_settings: Settings) -> Engine:
    return Engine(built_settings, pool=InlinePool())


def run(engine: Engine, name: str = "state-year", **params: str) -> Rows:
    doc = json.loads(canned.run(engine, CATALOGUE[name], params, "json").body)
    return [{k: v["value"] for k, v in b.items()} for b in doc["results"]["bindings"]]


@pytest.fixture(scope="module")
def panel(engine: Engine) -> Rows:
    return run(engine)


def cell(rows: Rows, iso3: str, year: int) -> tuple[str, str]:
    row = next(r for r in rows if r["iso3"] == iso3 and r["year"] == str(year))
    return row["cica"], row["uncertain"]


def cli_csv(*args: str) -> str:
    result = CliRunner().invoke(cli, ["query", "state-year", "--format", "csv", *args])
    assert result.exit_code == 0, result.output
    return result.stdout  # the answer alone: notices and stray logs go to stderr


# -- COW codes in the graph ---------------------------------------------------------------

COW_CODES = """
PREFIX cica: <https://w3id.org/cica-kg/ontology#>
PREFIX skos: <http://www.w3.org/2004/02/skos/core#>
SELECT ?iso3 ?number ?abbreviation ?note WHERE {
  ?state a cica:State ; cica:iso3166Alpha3 ?iso3 .
  OPTIONAL { ?state cica:cowStateNumber ?number }
  OPTIONAL { ?state cica:cowStateAbbreviation ?abbreviation }
  OPTIONAL { ?state skos:note ?note }
}
"""


def test_cow_codes_match_the_reference_list(store: ox.Store) -> None:
    with open(FIXTURES / "cow-state-codes.csv", encoding="utf-8") as f:
        reference = {r["iso3"]: (r["cow_ccode"], r["cow_abb"]) for r in csv.DictReader(f)}
    rows = select(store, COW_CODES)
    coded = {r["iso3"]: (r["number"], r["abbreviation"]) for r in rows if r["number"]}
    assert coded == reference and len(coded) == 39
    (palestine,) = [r for r in rows if r["iso3"] == "PSE"]
    assert palestine["number"] is None and palestine["abbreviation"] is None
    assert "not in the Correlates of War state system" in palestine["note"]


def test_cow_numbers_are_integers_from_the_cow_list(store: ox.Store) -> None:
    rows = store.query(
        """
        PREFIX cica: <https://w3id.org/cica-kg/ontology#>
        PREFIX dcterms: <http://purl.org/dc/terms/>
        SELECT ?n ?source WHERE { ?s cica:cowStateNumber ?n ; dcterms:source ?source }
        """,
        use_default_graph_as_union=True,
    )
    numbers = [(r["n"], r["source"].value) for r in rows]
    assert {n.datatype.value for n, _ in numbers} == {"http://www.w3.org/2001/XMLSchema#integer"}
    assert Counter(s for _, s in numbers)["https://w3id.org/cica-kg/id/source/cow-state-list"] == 39


# -- the panel ----------------------------------------------------------------------------


def test_columns_are_in_the_cow_order(engine: Engine) -> None:
    doc = json.loads(canned.run(engine, QUERY, {}, "json").body)
    assert doc["head"]["vars"] == COLUMNS


def test_one_row_per_state_and_year_from_founding_to_currency(store: ox.Store, panel: Rows) -> None:
    (current,) = select(
        store,
        "SELECT ?d { <https://w3id.org/cica-kg/dataset> "
        "<https://w3id.org/cica-kg/ontology#dataCurrentTo> ?d }",
    )
    years = range(1999, int(current["d"][:4]) + 1)
    assert Counter((r["iso3"], r["year"]) for r in panel) == {
        (iso3, str(y)): 1 for iso3 in {r["iso3"] for r in panel} for y in years
    }
    assert len({r["iso3"] for r in panel}) == 40
    kaz = next(r for r in panel if r["iso3"] == "KAZ")
    assert (kaz["ccode"], kaz["state"], kaz["label"]) == ("705", "kzk", "Kazakhstan")
    pse = next(r for r in panel if r["iso3"] == "PSE")
    assert "ccode" not in pse and pse["state"] == "pse"
    assert panel[-1]["iso3"] == "PSE"  # states without a COW number come last


def test_full_members_each_year_equal_member_count_by_year(engine: Engine, panel: Rows) -> None:
    counts = {r["year"]: r for r in run(engine, "member-count-by-year")}
    members = Counter(r["year"] for r in panel if r["cica"] == "1")
    observers = Counter(r["year"] for r in panel if r["cica"] == "3")
    for year in {r["year"] for r in panel}:
        assert members[year] == int(counts[year]["members"]), year
        assert observers[year] == int(counts[year]["observerStates"]), year


def test_observers_are_coded_3(panel: Rows) -> None:
    last = max(int(r["year"]) for r in panel)
    assert all(cell(panel, "USA", y) == ("3", "false") for y in range(1999, last + 1))
    assert [cell(panel, "KOR", y)[0] for y in (2005, 2006)] == ["3", "1"]
    assert cell(panel, "SAU", 2022)[0] == "0" and cell(panel, "SAU", 2023)[0] == "3"
    assert {r["iso3"] for r in panel if r["year"] == str(last) and r["cica"] == "3"} == {
        "BLR", "IDN", "JPN", "LAO", "MYS", "PHL", "SAU", "TKM", "UKR", "USA"
    }  # fmt: skip


def test_the_status_is_that_on_31_december(panel: Rows) -> None:
    assert [cell(panel, "KWT", y)[0] for y in (2021, 2022)] == ["0", "1"]  # 13 October 2022
    assert [cell(panel, "LKA", y)[0] for y in (2017, 2018)] == ["3", "1"]  # 15 August 2018
    # Australia's end is known to the year (2008): observer to 2007, none from 2008.
    assert [cell(panel, "AUS", y) for y in (2007, 2008)] == [("3", "true"), ("0", "false")]


def test_minus_nine_only_before_a_first_attested_role(panel: Rows) -> None:
    unknown = {(r["iso3"], int(r["year"])) for r in panel if r["cica"] == "-9"}
    early = {(c, y) for c in ("AFG", "LBN", "MYS", "THA", "UKR", "VNM") for y in (1999, 2000)}
    assert unknown == early | {("PHL", y) for y in range(1999, 2014)} | {
        ("BLR", y) for y in range(1999, 2016)
    } | {("LAO", y) for y in range(1999, 2018)}
    assert all(r["uncertain"] == "true" for r in panel if r["cica"] == "-9")
    # Bangladesh's uncertain membership (2014) follows a certain observer status (2010).
    assert [cell(panel, "BGD", y) for y in (2009, 2010, 2014)] == [
        ("0", "false"), ("3", "false"), ("1", "true")
    ]  # fmt: skip


def test_first_and_last_narrow_the_years(engine: Engine, panel: Rows) -> None:
    rows = run(engine, first="2010", last="2014")
    assert {r["year"] for r in rows} == {str(y) for y in range(2010, 2015)}
    assert {(r["first"], r["last"]) for r in rows} == {("2010", "2014")}
    strip = [{k: v for k, v in r.items() if k not in ("first", "last")} for r in rows]
    assert strip == [r for r in panel if 2010 <= int(r["year"]) <= 2014]
    # The panel runs to the year of the data's currency (2026-02-13).
    assert {r["year"] for r in run(engine, first="2024")} == {"2024", "2025", "2026"}


def test_csv_json_routes_and_cli_agree(
    server: Server, built_settings: Settings, panel: Rows
) -> None:
    as_json = server.get("/queries/state-year.json", params={"first": "2013"}).json()
    as_csv = server.get("/queries/state-year.csv", params={"first": "2013"})
    assert as_csv.headers["Content-Type"].startswith("text/csv")
    from_cli = cli_csv("--store", str(built_settings.store), "-p", "first=2013")
    assert from_cli.replace("\r\n", "\n") == as_csv.text.replace("\r\n", "\n")
    csv_rows = list(csv.DictReader(io.StringIO(as_csv.text)))
    json_rows = [
        {v: b.get(v, {}).get("value", "") for v in COLUMNS} for b in as_json["results"]["bindings"]
    ]
    assert csv_rows == json_rows
    assert len(csv_rows) == len([r for r in panel if int(r["year"]) >= 2013])


def test_same_panel_over_a_remote_engine(built_settings: Settings) -> None:
    info = building.current_build(built_settings.store)
    assert info is not None
    local = cli_csv("--store", str(built_settings.store), "-p", "last=2014")
    with oxigraph_server(info.store_path) as url:
        remote = cli_csv("--engine", url, "-p", "last=2014")
    assert remote == local and len(local.splitlines()) == 1 + 40 * 16


# -- the README's pandas example ----------------------------------------------------------


def readme_example() -> str:
    readme = (REPO / "README.md").read_text(encoding="utf-8")
    section = readme.split("## For researchers", 1)[1].split("\n## ", 1)[0]
    match = re.search(r"```python\n(.*?)```", section, re.S)
    assert match, "the For researchers section has no python example"
    return match.group(1)


@pytest.fixture()
def workdir(tmp_path: Path, built_settings: Settings, monkeypatch: pytest.MonkeyPatch) -> Path:
    (tmp_path / "cica-kg-state-year.csv").write_text(
        cli_csv("--store", str(built_settings.store)), encoding="utf-8"
    )
    shutil.copy(FIXTURES / "state_year_format3.csv", tmp_path / "state_year_format3.csv")
    monkeypatch.chdir(tmp_path)
    return tmp_path


def test_readme_pandas_example_joins_a_cow_layout_table(workdir: Path) -> None:
    try:
        import pandas  # noqa: F401
    except ImportError:
        pytest.fail("pandas is a test dependency (pyproject [test]): it runs the README example")
    namespace: dict[str, Any] = {}
    exec(readme_example(), namespace)
    joined = namespace["panel"]
    got = {
        (int(r.ccode), int(r.year)): (int(r.cica), bool(r.uncertain), int(r.igo_a))
        for r in joined.itertuples()
    }
    assert len(got) == 30
    assert got[(2, 1998)] == (-1, False, 1)  # before CICA: -1
    assert [got[(2, y)][0] for y in (1999, 2000, 2007, 2008, 2014)] == [3] * 5  # USA observer
    assert [got[(705, y)][0] for y in (1999, 2014)] == [1, 1]  # Kazakhstan, a founder
    assert [got[(20, y)][0] for y in (1999, 2014)] == [0, 0]  # Canada, not in the graph
    assert [got[(820, y)][:2] for y in (1999, 2000, 2007)] == [(-9, True), (-9, True), (3, True)]
    assert [got[(900, y)][:2] for y in (2007, 2008)] == [(3, True), (0, False)]  # Australia
    assert list(joined.columns) == [
        "ccode", "year", "state", "igo_a", "igo_b", "cica", "uncertain"
    ]  # fmt: skip
