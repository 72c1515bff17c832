"""Pages for people and linked-data dereferencing, server side (issue 5)."""

from __future__ import annotations

import re

import pytest
import rdflib
from conftest import Server

HTML = {"Accept": "text/html,application/xhtml+xml,application/xml;q=0.9,*/*;q=0.8"}
KAZ = rdflib.URIRef("https://w3id.org/cica-kg/id/state/KAZ")
ORG_MEMBER = rdflib.URIRef("http://www.w3.org/ns/org#member")


def test_home_shows_counts_and_a_timeline_of_every_member(server: Server) -> None:
    r = server.get("/", headers=HTML)
    assert r.status_code == 200 and r.headers["Content-Type"].startswith("text/html")
    members = set(
        re.findall(
            r'data-iso3="([A-Z]{3})"><a[^>]*>[^<]*<text[^>]*>[^<]*</text></a>'
            r'(?:<rect class="observer"[^>]*>.*?</rect>)*<rect class="member"',
            r.text,
        )
    )
    assert len(members) == 28
    assert "<svg" in r.text and 'role="img"' in r.text
    assert re.search(r"<td>state</td><td>40</td>", r.text)
    assert "/sparql" in r.text and "/queries" in r.text and "/ontology" in r.text


def test_pages_load_nothing_from_other_hosts(server: Server) -> None:
    for path in ("/", "/sparql", "/id/state/KAZ", "/ontology", "/queries", "/search?q=kaz"):
        page = server.get(path, headers=HTML).text
        for ref in re.findall(r'<(?:script|link|img)[^>]+(?:src|href)="([^"]+)"', page):
            assert ref.startswith("/"), (path, ref)


def test_state_page_has_label_wikidata_sources_and_timeline(server: Server) -> None:
    r = server.get("/id/state/KAZ", headers=HTML)
    assert r.status_code == 200
    assert r.headers["Vary"] == "Accept"
    assert "<h1>Kazakhstan</h1>" in r.text
    assert 'href="http://www.wikidata.org/entity/Q232"' in r.text
    sources = re.search(r'<ul class="sources">(.*?)</ul>', r.text, re.S)
    assert sources and sources.group(1).count("<li>") >= 3
    assert "<svg" in r.text and 'class="chair"' in r.text
    assert "Roles over time" in r.text
    assert re.search(r'cowStateNumber">COW state number</dt>\s*<dd>705</dd>', r.text)
    assert re.search(r'cowStateAbbreviation">COW state abbreviation</dt>\s*<dd>KZK</dd>', r.text)


@pytest.mark.parametrize(
    "accept, suffix, fmt",
    [
        ("text/turtle", "ttl", "turtle"),
        ("application/n-triples", "nt", "nt"),
        ("application/ld+json", "jsonld", "json-ld"),
        ("application/rdf+xml", "rdf", "xml"),
    ],
)
def test_resource_rdf_by_accept_and_by_suffix(
    server: Server, accept: str, suffix: str, fmt: str
) -> None:
    by_accept = server.get("/id/state/KAZ", headers={"Accept": accept})
    by_suffix = server.get(f"/id/state/KAZ.{suffix}")
    for r in (by_accept, by_suffix):
        assert r.status_code == 200
        assert r.headers["Content-Type"].split(";")[0] == accept
        g = rdflib.Graph().parse(data=r.content, format=fmt)
        assert (KAZ, rdflib.RDFS.label, rdflib.Literal("Kazakhstan", lang="en")) in g
        memberships = set(g.subjects(ORG_MEMBER, KAZ))
        assert rdflib.URIRef("https://w3id.org/cica-kg/id/membership/KAZ") in memberships
        assert rdflib.URIRef("https://w3id.org/cica-kg/id/chairmanship/KAZ-2020") in memberships
    assert by_accept.headers["Vary"] == "Accept"


def test_unknown_resource_is_a_404_page(server: Server) -> None:
    r = server.get("/id/state/XXX", headers=HTML)
    assert r.status_code == 404
    assert "there is no resource" in r.text and "https://w3id.org/cica-kg/id/state/XXX" in r.text
    plain = server.get("/id/state/XXX", headers={"Accept": "text/turtle"})
    assert plain.status_code == 404


def test_every_kind_of_resource_has_a_page(server: Server) -> None:
    for path in (
        "/id/organization/CICA", "/id/summit/6", "/id/ministerial/special-2018",
        "/id/membership/LKA", "/id/chairmanship/CHN-2014", "/id/source/seed-digwatch",
        "/id/disagreement/founding-date", "/id/priority-area/ict-security",
        "/id/person/kairat-sarybay", "/id/city/astana", "/id/document/almaty-act-2002",
    ):  # fmt: skip
        r = server.get(path, headers=HTML)
        assert r.status_code == 200, path
        assert "<h1>" in r.text and "Statements" in r.text


def test_ontology_documentation_and_rdf(server: Server) -> None:
    r = server.get("/ontology", headers=HTML)
    assert r.status_code == 200
    assert 'id="State"' in r.text and "A sovereign state" in r.text
    assert "http://www.w3.org/ns/org#" in r.text  # reused vocabularies listed
    ttl = server.get("/ontology", headers={"Accept": "text/turtle"})
    g = rdflib.Graph().parse(data=ttl.text, format="turtle")
    assert (
        rdflib.URIRef("https://w3id.org/cica-kg/ontology"),
        rdflib.RDF.type,
        rdflib.OWL.Ontology,
    ) in g
    assert len(g) == len(
        rdflib.Graph().parse(data=server.get("/ontology.ttl").text, format="turtle")
    )


@pytest.mark.parametrize(
    "query, first",
    [
        ("turkiye", "https://w3id.org/cica-kg/id/state/TUR"),
        ("TÜRKİYE", "https://w3id.org/cica-kg/id/state/TUR"),
        ("nur-sultan", "https://w3id.org/cica-kg/id/city/astana"),
        ("viet nam", "https://w3id.org/cica-kg/id/state/VNM"),
        ("vietnam", "https://w3id.org/cica-kg/id/state/VNM"),
        ("korea", "https://w3id.org/cica-kg/id/state/KOR"),
    ],
)
def test_search_forgives_case_and_diacritics(server: Server, query: str, first: str) -> None:
    r = server.get("/search.json", params={"q": query})
    assert r.status_code == 200
    assert r.json()["results"][0]["iri"] == first


def test_search_page_links_to_resource_pages(server: Server) -> None:
    r = server.get("/search", params={"q": "turkiye"}, headers=HTML)
    assert '<a href="/id/state/TUR">Türkiye</a>' in r.text
    empty = server.get("/search", params={"q": "zzzzqqq"}, headers=HTML)
    assert "0 results" in empty.text


def test_editor_is_vendored_yasgui(server: Server) -> None:
    r = server.get("/sparql", headers=HTML)
    assert "yasgui/yasgui.min.js" in r.text and "data-query-name" in r.text
    js = server.get("/static/yasgui/yasgui.min.js")
    assert js.status_code == 200 and len(js.content) > 500_000
