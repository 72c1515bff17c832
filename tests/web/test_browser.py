"""Browser tests: Playwright drives Debian's Chromium (headless) against the real server
(issue 5). A failing test leaves a screenshot in test-artifacts/."""

from __future__ import annotations

import os
import shutil
from collections.abc import Iterator
from pathlib import Path

import pytest
from conftest import REPO, Server

pytestmark = pytest.mark.browser

CHROMIUM = shutil.which("chromium") or "/usr/bin/chromium"
ARTIFACTS = REPO / "test-artifacts"
if not Path(CHROMIUM).exists():
    if os.environ.get("CI"):
        raise RuntimeError("CI must have Debian's chromium (make browser installs it)")
    pytest.skip("Debian's chromium is not installed (make browser)", allow_module_level=True)

from playwright.sync_api import Browser, Page, sync_playwright  # noqa: E402

ARGS = [
    "--headless",
    "--no-sandbox",
    "--disable-gpu",
    "--disable-quic",
    "--no-first-run",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
]


@pytest.fixture(scope="module")
def browser() -> Iterator[Browser]:
    with sync_playwright() as p:
        b = p.chromium.launch(executable_path=CHROMIUM, args=ARGS)
        yield b
        b.close()


@pytest.fixture()
def page(browser: Browser, request: pytest.FixtureRequest) -> Iterator[Page]:
    context = browser.new_context(viewport={"width": 1280, "height": 900})
    pg = context.new_page()
    requests_elsewhere: list[str] = []
    pg.on(
        "request",
        lambda r: (
            requests_elsewhere.append(r.url)
            if not r.url.startswith(("http://127.0.0.1", "data:", "blob:", "about:"))
            else None
        ),
    )
    yield pg
    failed = getattr(request.node, "rep_call", None)
    if failed is not None and failed.failed:
        ARTIFACTS.mkdir(exist_ok=True)
        pg.screenshot(path=str(ARTIFACTS / f"{request.node.name}.png"), full_page=True)
    context.close()
    assert requests_elsewhere == [], "pages must work offline"


def test_home_timeline_shows_all_28_members(page: Page, server: Server) -> None:
    page.goto(server.url + "/")
    page.wait_for_selector("svg.timeline")
    members = page.eval_on_selector_all(
        "svg.timeline g.state",
        "gs => gs.filter(g => g.querySelector('rect.member')).map(g => g.dataset.iso3)",
    )
    assert len(set(members)) == 28
    assert "KWT" in members and "LKA" in members


def test_editor_runs_a_typed_query_and_shows_the_table(page: Page, server: Server) -> None:
    page.goto(server.url + "/sparql")
    page.wait_for_selector(".CodeMirror")
    page.evaluate(
        """() => window.cicaYasgui.getTab().setQuery(
        'SELECT ?label WHERE { ?s a cica:Summit ; cica:ordinal 6 ; rdfs:label ?label }')"""
    )
    page.click(".yasqe_queryButton")
    cell = page.wait_for_selector(".yasr table tbody tr td:nth-child(2)", timeout=20_000)
    assert cell is not None and "Sixth CICA Summit" in cell.inner_text()


def test_canned_query_page_with_a_date_shows_the_right_states(page: Page, server: Server) -> None:
    page.goto(server.url + "/queries/members")
    page.fill("#param-date", "2015-06-01")
    page.click("form.params button[type=submit]")
    page.wait_for_selector("table.results")
    assert "date=2015-06-01" in page.url
    rows = page.eval_on_selector_all("table.results tbody tr", "rs => rs.length")
    assert rows == 26
    text = page.inner_text("table.results")
    assert "Sri Lanka" not in text and "Kuwait" not in text and "Bangladesh" in text


def test_state_page_shows_sources_and_wikidata(page: Page, server: Server) -> None:
    page.goto(server.url + "/id/state/LKA")
    assert page.inner_text("h1") == "Sri Lanka"
    link = page.get_attribute("a.wikidata", "href")
    assert link == "http://www.wikidata.org/entity/Q854"
    sources = page.eval_on_selector_all("ul.sources li", "ls => ls.length")
    assert sources >= 2


def test_search_for_turkiye_reaches_its_page(page: Page, server: Server) -> None:
    page.goto(server.url + "/")
    page.fill("#site-search", "turkiye")
    page.press("#site-search", "Enter")
    page.wait_for_selector("ol.search-results")
    page.click("ol.search-results li:first-child a")
    page.wait_for_url("**/id/state/TUR")
    assert page.inner_text("h1") == "Türkiye"
