"""`cica-kg wikidata …` against a local stand-in of the Wikidata Query Service.

The stand-in answers with the fixtures in tests/fixtures/wikidata/, written in the JSON
shape WDQS returns (application/sparql-results+json) with the QIDs of data/wikidata.ttl.
CICA's own QID is unknown, so the fixtures use stand-in items for CICA and for the
"observer" role: Q4115189 and Q13406268 (Wikidata's sandbox items), never real values."""

from __future__ import annotations

import copy
import json
import time
from collections.abc import Callable, Iterator
from typing import Any

import pytest
from click.testing import CliRunner, Result
from conftest import free_port
from standin import Recorded, Reply, StandIn
from wdqs import Docs, Wdqs, kind_of, load_docs

from cica_kg.cli.wikidata import wikidata
from cica_kg.errors import RemoteError
from cica_kg.namespaces import WD
from cica_kg.settings import Settings
from cica_kg.sparql_http import retry_after
from cica_kg.wikidata import client as wdqs_client
from cica_kg.wikidata.client import WikidataClient
from cica_kg.wikidata.comparison import ORGANIZATION_CLASS, SETTLEMENT_CLASS, STATE_CLASSES
from cica_kg.wikidata.model import CICA_LABELS, PartialDate
from cica_kg.wikidata.ours import reference_url
from cica_kg.wikidata.wdqs_queries import (
    VALUES_MARK,
    candidates_query,
    items_query,
    membership_query,
)

CICA = "Q4115189"  # stand-in for CICA's item (the Wikidata Sandbox), see the module doc
OBSERVER = "Q13406268"  # stand-in for the "observer" role item


@pytest.fixture()
def docs() -> Docs:
    return load_docs()


@pytest.fixture()
def fast_backoff(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(wdqs_client, "BACKOFF_BASE", 0.01)


@pytest.fixture()
def serve() -> Iterator[Callable[[Callable[[Recorded], Reply]], StandIn]]:
    started: list[StandIn] = []

    def start(handler: Callable[[Recorded], Reply]) -> StandIn:
        standin = StandIn(handler).__enter__()
        started.append(standin)
        return standin

    yield start
    for standin in started:
        standin.__exit__(None, None, None)


def invoke(
    settings: Settings, url: str, command: str, *args: str, env: dict[str, str] | None = None
) -> Result:
    return CliRunner().invoke(
        wikidata,
        [command, "--store", str(settings.store), *args],
        env={"CICA_KG_WIKIDATA_ENDPOINT": url, **(env or {})},
    )


def drop_members(doc: dict[str, Any], *qids: str) -> dict[str, Any]:
    doc = copy.deepcopy(doc)
    doc["results"]["bindings"] = [
        b for b in doc["results"]["bindings"] if b["member"]["value"].rsplit("/", 1)[1] not in qids
    ]
    return doc


def binding_of(doc: dict[str, Any], var: str, qid: str) -> dict[str, Any]:
    return next(b for b in doc["results"]["bindings"] if b[var]["value"] == WD + qid)


# ---------------------------------------------------------------------------------------
#   links
# ---------------------------------------------------------------------------------------


def test_links_lists_linked_and_missing(built_settings: Settings) -> None:
    result = invoke(built_settings, "http://127.0.0.1:9/unused", "links")
    assert result.exit_code == 0, result.output
    lines = result.stdout.splitlines()
    assert any(
        line.split()[:2] == ["state", "state/AFG"] and line.endswith("Q889") for line in lines
    )
    assert any(
        line.startswith("city") and "city/new-york" in line and "Q60" in line for line in lines
    )
    for key in ("organization/CICA", "organization/IOM", "organization/TURKPA"):
        assert any(key + " " in line and line.endswith("missing") for line in lines), key
    assert lines[-1] == "52 linked, 13 missing"


def test_links_json(built_settings: Settings) -> None:
    result = invoke(built_settings, "http://127.0.0.1:9/unused", "links", "--format", "json")
    assert result.exit_code == 0, result.output
    doc = json.loads(result.stdout)
    by_key = {r["resource"].rsplit("/id/", 1)[1]: r for r in doc["resources"]}
    assert by_key["state/KAZ"]["wikidata"] == "http://www.wikidata.org/entity/Q232"
    assert by_key["organization/OSCE"]["qid"] == "Q81299"
    assert by_key["organization/CICA"] == {
        **by_key["organization/CICA"],
        "wikidata": None,
        "status": "missing",
    }
    assert (doc["linked"], doc["missing"]) == (52, 13)


# ---------------------------------------------------------------------------------------
#   check
# ---------------------------------------------------------------------------------------


def test_check_all_agree_in_three_batched_requests(
    built_settings: Settings, serve: Any, docs: Docs
) -> None:
    standin = serve(Wdqs(docs))
    result = invoke(built_settings, standin.url + "/sparql", "check")
    assert result.exit_code == 0, result.output
    assert f'CICA item: {CICA} "Conference on Interaction and Confidence Building' in result.stdout
    assert result.stdout.rstrip().endswith(
        "0 difference, 0 missing, 9 info, 284 agree; 3 request(s) to Wikidata"
    )
    assert sorted(kind_of(r.query) for r in standin.requests) == [
        "candidates",
        "items",
        "memberships",
    ]
    items = next(r.query for r in standin.requests if kind_of(r.query) == "items")
    for qid in ("Q889", "Q219060", "Q81299", "Q60"):
        assert f"wd:{qid} " in items
    for rec in standin.requests:
        assert rec.method == "POST" and rec.path == "/sparql"
        assert rec.headers["Content-Type"] == "application/x-www-form-urlencoded"
        assert rec.headers["Accept"] == "application/sparql-results+json"
        agent = rec.headers["User-Agent"]
        assert agent.startswith("CICA-KG/") and "https://w3id.org/cica-kg" in agent
        assert "python-requests/" in agent


def test_membership_query_finds_cica_by_label(
    built_settings: Settings, serve: Any, docs: Docs
) -> None:
    bodies: list[str] = []

    def handler(rec: Recorded) -> Reply:
        bodies.append(rec.query)
        return Wdqs(docs)(rec)

    standin = serve(handler)
    invoke(built_settings, standin.url + "/sparql", "check")
    membership = next(q for q in bodies if kind_of(q) == "memberships")
    assert '"Conference on Interaction and Confidence-Building Measures in Asia"@en' in membership
    assert "pqv:P580" in membership and "pq:P2868" in membership


def test_check_reports_a_difference(built_settings: Settings, serve: Any, docs: Docs) -> None:
    binding_of(docs["items"], "item", "Q889")["iso3"]["value"] = "XXX"
    standin = serve(Wdqs(docs))
    result = invoke(built_settings, standin.url + "/sparql", "check")
    assert result.exit_code == 1, result.output
    rows = [line.split() for line in result.stdout.splitlines()]
    assert ["difference", "state/AFG", "Q889", "P298", "ISO", "alpha-3", "AFG", "XXX"] in rows
    assert "1 difference, 0 missing" in result.stdout


def test_check_json(built_settings: Settings, serve: Any, docs: Docs) -> None:
    binding_of(docs["items"], "item", "Q232")["isState"]["value"] = "false"
    binding_of(docs["items"], "item", "Q232")["iso2"]["value"] = ""
    binding_of(docs["items"], "item", "Q232")["iso3"]["value"] = ""
    standin = serve(Wdqs(docs))
    result = invoke(built_settings, standin.url + "/sparql", "check", "--format", "json")
    assert result.exit_code == 1, result.output
    doc = json.loads(result.stdout)
    assert doc["cica_item"] == {
        "qid": CICA,
        "label": CICA_LABELS[1],
        "found_by": "label",
        "others": [],
    }
    assert doc["summary"]["difference"] == 1 and doc["summary"]["missing"] == 2
    kaz = [f for f in doc["findings"] if f["subject"] == "state/KAZ" and f["status"] != "agree"]
    assert {(f["status"], f["check"]) for f in kaz} == {
        ("difference", "P31 state (Q6256/Q3624078)"),
        ("missing", "P297 ISO alpha-2"),
        ("missing", "P298 ISO alpha-3"),
    }
    assert doc["candidates"]["organization/CICA"][0]["qid"] == CICA
    assert doc["candidates"]["organization/IOM"] == []
    assert doc["requests"] == 3


def test_check_without_cica_item(built_settings: Settings, serve: Any, docs: Docs) -> None:
    docs["memberships"]["results"]["bindings"] = []
    standin = serve(Wdqs(docs))
    result = invoke(built_settings, standin.url + "/sparql", "check")
    assert result.exit_code == 1, result.output
    assert "CICA item: not found on Wikidata (memberships not compared)" in result.stdout
    result = invoke(built_settings, standin.url + "/sparql", "quickstatements")
    assert result.exit_code == 2
    assert result.stdout.startswith("# CICA's Wikidata item is unknown")


def test_cica_qid_option_skips_the_label_lookup(
    built_settings: Settings, serve: Any, docs: Docs
) -> None:
    standin = serve(Wdqs(docs))
    result = invoke(built_settings, standin.url + "/sparql", "check", "--cica-qid", CICA)
    assert result.exit_code == 0, result.output
    membership = next(r.query for r in standin.requests if kind_of(r.query) == "memberships")
    assert f"VALUES ?cica {{ wd:{CICA} }}" in membership and "?cicaName" not in membership
    assert "(given by --cica-qid)" in result.stdout
    bad = invoke(built_settings, standin.url + "/sparql", "check", "--cica-qid", "CICA")
    assert bad.exit_code == 2 and "is not a Wikidata item ID" in bad.output


def test_redirected_item_is_a_difference(built_settings: Settings, serve: Any, docs: Docs) -> None:
    binding_of(docs["items"], "item", "Q60")["redirect"] = {"type": "uri", "value": WD + "Q1384"}
    standin = serve(Wdqs(docs))
    result = invoke(built_settings, standin.url + "/sparql", "check")
    assert result.exit_code == 1
    rows = [line.split() for line in result.stdout.splitlines()]
    assert ["difference", "city/new-york", "Q60", "item", "Q60", "redirect", "to", "Q1384"] in [
        r[:8] for r in rows
    ]


def test_extra_statement_on_wikidata_is_a_difference(
    built_settings: Settings, serve: Any, docs: Docs
) -> None:
    extra = copy.deepcopy(binding_of(docs["memberships"], "member", "Q30"))
    extra["member"]["value"] = WD + "Q183"
    extra["memberLabel"]["value"] = "Germany"
    extra["statement"]["value"] = "http://www.wikidata.org/entity/statement/Q183-0"
    docs["memberships"]["results"]["bindings"].append(extra)
    standin = serve(Wdqs(docs))
    result = invoke(built_settings, standin.url + "/sparql", "check")
    assert result.exit_code == 1
    rows = [line.split() for line in result.stdout.splitlines()]
    assert any(r[:4] == ["difference", "Germany", "Q183", "P463"] for r in rows)


# ---------------------------------------------------------------------------------------
#   quickstatements
# ---------------------------------------------------------------------------------------

HEADER = f"# QuickStatements v1: P463 (member of) {CICA} statements that Wikidata lacks"
AFG = f'Q889\tP463\t{CICA}\tP580\t+2001-00-00T00:00:00Z/9\tS854\t"https://english.pravda.ru/news/world/30145-n/"'
KWT = (
    f"Q817\tP463\t{CICA}\tP580\t+2022-10-13T00:00:00Z/11\tS854\t"
    '"https://news.az/news/cica-astana-summit-approves-kuwaits-bid-to-join-organization"'
)
PHL_TAIL = (
    "P580\t+2014-05-00T00:00:00Z/10\tS854\t"
    '"https://news.lk./news/politics/item/810-president-rajapaksa-in-china-for-cica-s-fourth-summit"'
)
KOR_OBSERVER = (
    f"Q884\tP463\t{CICA}\tP2868\t<observer>\tP580\t+1999-09-14T00:00:00Z/11\t"
    "P582\t+2006-06-17T00:00:00Z/11\tS854\t"
    '"http://prosites-kazakhembus.homestead.com/062006.html"'
)
NO_OBSERVER_QID = (
    '# not emitted (no verified QID for the role "observer" as P2868 value; give --observer-qid): '
)
BHR_START = (
    f"Q398\tP463\t{CICA}\tP580\t+2011-00-00T00:00:00Z/9\tS854\t"
    '"http://covid-19.chinadaily.com.cn/world/2014cica/2014-05/20/content_17525444.htm"'
)


@pytest.fixture()
def lacking(docs: Docs) -> Docs:
    """Wikidata without AFG's and KWT's memberships, PHL's observer status, KOR's former
    observer status (its membership stays), and the start of BHR's membership."""
    memberships = drop_members(docs["memberships"], "Q889", "Q817", "Q928")
    memberships["results"]["bindings"] = [
        b
        for b in memberships["results"]["bindings"]
        if not (b["member"]["value"].endswith("/Q884") and "role" in b)
    ]
    bhr = binding_of(memberships, "member", "Q398")
    del bhr["start"], bhr["startPrecision"]
    return {**docs, "memberships": memberships}


def test_quickstatements_for_missing_statements(
    built_settings: Settings, serve: Any, lacking: Docs
) -> None:
    standin = serve(Wdqs(lacking))
    result = invoke(built_settings, standin.url + "/sparql", "quickstatements")
    assert result.exit_code == 0, result.output
    assert result.stdout.splitlines() == [
        HEADER,
        AFG,
        BHR_START,
        NO_OBSERVER_QID + KOR_OBSERVER,
        KWT,
        NO_OBSERVER_QID + f"Q928\tP463\t{CICA}\tP2868\t<observer>\t" + PHL_TAIL,
    ]
    assert len(standin.requests) == 3


def test_quickstatements_with_observer_qid(
    built_settings: Settings, serve: Any, lacking: Docs
) -> None:
    lacking["memberships"] = drop_members(lacking["memberships"], "Q846")  # Qatar: both
    standin = serve(Wdqs(lacking))
    result = invoke(
        built_settings, standin.url + "/sparql", "quickstatements", "--observer-qid", OBSERVER
    )
    assert result.exit_code == 0, result.output
    lines = result.stdout.splitlines()
    assert f"Q928\tP463\t{CICA}\tP2868\t{OBSERVER}\t{PHL_TAIL}" in lines
    assert (
        "# not emitted (Q884 already has a P463 statement to CICA; QuickStatements v1 would "
        "merge into it: add by hand): " + KOR_OBSERVER.replace("<observer>", OBSERVER)
    ) in lines
    qatar = [line for line in lines if "Q846\t" in line]
    assert qatar[0].startswith(f"Q846\tP463\t{CICA}\tP580\t+2014-05-21T00:00:00Z/11\tS854\t")
    assert qatar[1].startswith(
        "# not emitted (Q846 gets a P463 statement to CICA above; QuickStatements v1 would "
        f"merge into it: add by hand): Q846\tP463\t{CICA}\tP2868\t{OBSERVER}\tP580\t"
        "+2008-08-25T00:00:00Z/11\tP582\t+2014-05-21T00:00:00Z/11\t"
    )
    assert len(qatar) == 2


def test_check_lists_the_missing_statements(
    built_settings: Settings, serve: Any, lacking: Docs
) -> None:
    standin = serve(Wdqs(lacking))
    result = invoke(built_settings, standin.url + "/sparql", "check")
    assert result.exit_code == 1
    missing = [
        line.split()[:4] for line in result.stdout.splitlines() if line.startswith("missing")
    ]
    assert missing == [
        ["missing", "membership/AFG", "Q889", "P463"],
        ["missing", "membership/BHR", "Q398", "P580"],
        ["missing", "observer-status/KOR-1999", "Q884", "P463"],
        ["missing", "membership/KWT", "Q817", "P463"],
        ["missing", "observer-status/PHL-2014", "Q928", "P463"],
    ]


def test_nothing_to_add(built_settings: Settings, serve: Any, docs: Docs) -> None:
    standin = serve(Wdqs(docs))
    result = invoke(built_settings, standin.url + "/sparql", "quickstatements")
    assert result.exit_code == 0
    assert result.stdout.splitlines() == [
        HEADER,
        "# nothing to add: Wikidata has every membership and date we have",
    ]


# ---------------------------------------------------------------------------------------
#   Retries
# ---------------------------------------------------------------------------------------


def test_429_with_retry_after_is_waited_for(
    built_settings: Settings, serve: Any, docs: Docs
) -> None:
    busy = Reply(429, b"Too Many Requests", "text/plain", headers={"Retry-After": "1"})
    standin = serve(Wdqs(docs, failures=[busy]))
    started = time.monotonic()
    result = invoke(built_settings, standin.url + "/sparql", "check")
    assert result.exit_code == 0, result.output
    assert time.monotonic() - started >= 1.0
    assert len(standin.requests) == 4
    assert standin.requests[0].query == standin.requests[1].query  # the same query again


def test_500_then_success(
    built_settings: Settings, serve: Any, docs: Docs, fast_backoff: None
) -> None:
    standin = serve(Wdqs(docs, failures=[Reply(500, b"java.lang.Exception", "text/plain")]))
    result = invoke(built_settings, standin.url + "/sparql", "check")
    assert result.exit_code == 0, result.output
    assert len(standin.requests) == 4


def test_persistent_503_exits_2(
    built_settings: Settings, serve: Any, docs: Docs, fast_backoff: None
) -> None:
    standin = serve(Wdqs(docs, always=Reply(503, b"Service Unavailable", "text/plain")))
    result = invoke(
        built_settings, standin.url + "/sparql", "check", env={"CICA_KG_WIKIDATA_RETRIES": "2"}
    )
    assert result.exit_code == 2
    assert result.stdout == ""
    assert result.stderr.splitlines()[-1] == (  # after the stages' progress
        f"error: could not reach the Wikidata Query Service at {standin.url}/sparql after "
        "3 attempt(s) (HTTP 503)"
    )
    assert len(standin.requests) == 3


def test_connection_refused_exits_2(built_settings: Settings, fast_backoff: None) -> None:
    url = f"http://127.0.0.1:{free_port()}/sparql"
    result = invoke(built_settings, url, "quickstatements", env={"CICA_KG_WIKIDATA_RETRIES": "1"})
    assert result.exit_code == 2
    assert "could not reach the Wikidata Query Service" in result.stderr
    assert "after 2 attempt(s) (ConnectionError" in result.stderr


def test_bad_request_is_not_retried(built_settings: Settings, serve: Any, docs: Docs) -> None:
    standin = serve(Wdqs(docs, always=Reply(400, b"MalformedQueryException", "text/plain")))
    result = invoke(built_settings, standin.url + "/sparql", "check")
    assert result.exit_code == 2
    assert "refused the query: HTTP 400 MalformedQueryException" in result.stderr
    assert len(standin.requests) == 1


def test_client_backs_off_exponentially(serve: Any, docs: Docs) -> None:
    standin = serve(Wdqs(docs, always=Reply(502, b"Bad Gateway", "text/plain")))
    waits: list[float] = []
    client = WikidataClient(standin.url + "/sparql", 5.0, 3, 0.5, sleep=waits.append)
    with pytest.raises(RemoteError):
        client.select("SELECT * WHERE { ?s ?p ?o } LIMIT 1")
    assert waits == [0.5, 1.0, 2.0]
    assert client.requests_made == 4


# ---------------------------------------------------------------------------------------
#   Small parts
# ---------------------------------------------------------------------------------------


def test_dates_at_wikidata_precision() -> None:
    day = PartialDate.parse("1999-09-14", 11)
    month = PartialDate.parse("2014-05-01", 10)
    year = PartialDate.parse("+2001-01-01T00:00:00Z", 9)
    assert day.quickstatements() == "+1999-09-14T00:00:00Z/11"
    assert month.quickstatements() == "+2014-05-00T00:00:00Z/10"
    assert year.quickstatements() == "+2001-00-00T00:00:00Z/9"
    assert day.agrees(PartialDate(1999, 1, 1, 9))
    assert not day.agrees(PartialDate(1999, 9, 15, 11))
    assert month.agrees(PartialDate(2014, 5, 20, 11))
    assert not year.agrees(PartialDate(2002, 1, 1, 9))


def test_retry_after_values() -> None:
    assert retry_after("1") == 1.0
    assert retry_after(None) is None
    assert retry_after("Wed, 21 Oct 2015 07:28:00 GMT") == 0.0  # in the past
    assert retry_after("soon") is None


def test_reference_url_prefers_dated_sources_near_the_start() -> None:
    start = PartialDate(2001, 1, 1, 9)
    urls = {
        "https://late.example/": "2025-07-01",
        "https://pravda.example/": "2001-06-01",
        "https://undated.example/": None,
        "https://en.wikipedia.org/wiki/CICA": "2001-01-01",
    }
    assert reference_url(urls, start) == "https://pravda.example/"
    assert reference_url({"https://en.wikipedia.org/wiki/X": None}, start) is None


def test_wdqs_templates_take_one_escaped_values_block() -> None:
    names = ['a "quoted" name', "back\\slash", "two\nlines", VALUES_MARK]
    values = r'"%%VALUES%%"@en "a \"quoted\" name"@en "back\\slash"@en "two\nlines"@en'
    assert f"\n  VALUES ?name {{ {values} }}\n" in candidates_query(names)
    items = items_query(["Q1", "Q22"])
    assert "\n  VALUES ?item { wd:Q1 wd:Q22 }\n" in items
    for qid in (*STATE_CLASSES, ORGANIZATION_CLASS, SETTLEMENT_CLASS):  # named in the findings
        assert f"wd:{qid} " in items
    assert "\n  VALUES ?cica { wd:Q1 }\n" in membership_query("Q1")
    assert VALUES_MARK not in items + membership_query("Q1") + membership_query(None)
