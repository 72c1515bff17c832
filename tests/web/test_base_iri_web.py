"""CICA_KG_BASE_IRI on the web (issue 12): a graph written under another base is served with
its own IRIs: resource pages and their RDF, search, the timeline, the ontology, canned
queries and dumps. Flask's test client over an in-process engine: no server needed."""

from __future__ import annotations

import re

import pyoxigraph as ox
import pytest
import rdflib

from cica_kg import build as building
from cica_kg import resources
from cica_kg.export import export
from cica_kg.query import Engine
from cica_kg.query.local import InlinePool
from cica_kg.settings import Settings
from cica_kg.web import create_app

CANONICAL = "https://w3id.org/cica-kg/"
NEW = "http://example.org/kg/"
HTML = {"Accept": "text/html"}
TURTLE = {"Accept": "text/turtle"}
KAZ = rdflib.URIRef(NEW + "id/state/KAZ")
ORG_MEMBER = rdflib.URIRef("http://www.w3.org/ns/org#member")
# Enough for states, their roles and sources. Meetings are left out and the references to
# them cut, so the subset is valid whether the checks (queries/checks/) follow the base or
# not: a canonical check reads a one-day meeting under another base as a role that ends
# when it starts.
SUBSET = (
    "states", "memberships", "observers", "chairs", "organizations", "sources", "places",
    "wikidata", "dataset",
)  # fmt: skip
# What passes only once the other modules that hold IRIs (canned queries, load's graph
# names, export, the serializers' prefixes) follow the setting too.


def rebased(text: str) -> str:
    """`text` under NEW, including the regex-escaped base of the shapes' sh:pattern."""
    escaped = CANONICAL.replace(".", "\\\\."), NEW.replace(".", "\\\\.")
    return text.replace(CANONICAL, NEW).replace(*escaped)


@pytest.fixture(scope="module")
def settings(tmp_path_factory: pytest.TempPathFactory) -> Settings:
    """A build of the ontology and a subset of the data, rewritten under NEW."""
    root = tmp_path_factory.mktemp("base-iri")
    (root / "ontology").mkdir()
    for path in resources.ontology_dir().glob("*.ttl"):
        text = rebased(path.read_text(encoding="utf-8"))
        (root / "ontology" / path.name).write_text(text, encoding="utf-8")
    files = {
        name: [
            quad.triple
            for quad in ox.parse(
                rebased((resources.data_dir() / f"{name}.ttl").read_text(encoding="utf-8")),
                format=ox.RdfFormat.TURTLE,
            )
        ]
        for name in SUBSET
    }
    described = {t.subject for triples in files.values() for t in triples}
    (root / "data").mkdir()
    for name, triples in files.items():
        kept = [t for t in triples if not _dangling(t.object, described)]
        data = ox.serialize(kept, format=ox.RdfFormat.TURTLE) or b""
        (root / "data" / f"{name}.ttl").write_bytes(data)
    settings = Settings.from_env(
        {},
        store=root / "store",
        ontology_dir=root / "ontology",
        data_dir=root / "data",
        base_iri=NEW,
    )
    building.build(settings)
    return settings


def _dangling(term: object, described: set[object]) -> bool:
    return (
        isinstance(term, ox.NamedNode)
        and term.value.startswith(NEW + "id/")
        and (term not in described)
    )


def make_client(settings: Settings):  # type: ignore[no-untyped-def]
    app = create_app(settings, engine=Engine(settings, pool=InlinePool()))
    app.testing = True
    return app.test_client()


@pytest.fixture(scope="module")
def client(settings: Settings):  # type: ignore[no-untyped-def]
    return make_client(settings)


@pytest.fixture(scope="module")
def bare_client(settings: Settings, tmp_path_factory: pytest.TempPathFactory):  # type: ignore[no-untyped-def]
    """No canned queries: a state page then shows no profile (the one canned query it runs)."""
    return make_client(settings.replace(queries_dir=tmp_path_factory.mktemp("no-queries")))


def graph_iris(g: rdflib.Graph) -> set[str]:
    return {str(t) for triple in g for t in triple if isinstance(t, rdflib.URIRef)}


def test_resource_rdf_is_under_the_new_base(client) -> None:  # type: ignore[no-untyped-def]
    for r in (client.get("/id/state/KAZ", headers=TURTLE), client.get("/id/state/KAZ.ttl")):
        assert r.status_code == 200 and r.mimetype == "text/turtle"
        g = rdflib.Graph().parse(data=r.get_data(as_text=True), format="turtle")
        assert (KAZ, rdflib.RDFS.label, rdflib.Literal("Kazakhstan", lang="en")) in g
        memberships = set(g.subjects(ORG_MEMBER, KAZ))
        assert rdflib.URIRef(NEW + "id/membership/KAZ") in memberships
        assert rdflib.URIRef(NEW + "id/chairmanship/KAZ-2020") in memberships
        assert not [iri for iri in graph_iris(g) if iri.startswith(CANONICAL)]
    missing = client.get("/id/state/XXX", headers=HTML)
    assert missing.status_code == 404
    assert f"there is no resource &lt;{NEW}id/state/XXX&gt;" in missing.get_data(as_text=True)


def test_state_page_links_to_this_server_and_draws_its_timeline(bare_client) -> None:  # type: ignore[no-untyped-def]
    r = bare_client.get("/id/state/KAZ", headers=HTML)
    assert r.status_code == 200
    page = r.get_data(as_text=True)
    assert "<h1>Kazakhstan</h1>" in page and f"<code>{NEW}id/state/KAZ</code>" in page
    assert '<a href="/id/membership/KAZ">' in page  # the new base's IRIs map to local pages
    assert 'href="/id/source/' in page
    chart = re.search(r"<svg.*?</svg>", page, re.S)
    assert chart and 'data-iso3="KAZ"' in chart.group(0)
    assert 'class="member"' in chart.group(0) and 'class="chair"' in chart.group(0)
    assert 'data-iso3="CHN"' not in chart.group(0)  # this state's bars only
    assert "Roles over time" not in page


def test_state_page_shows_its_profile(client) -> None:  # type: ignore[no-untyped-def]
    r = client.get("/id/state/KAZ", headers=HTML)
    assert r.status_code == 200
    page = r.get_data(as_text=True)
    assert "Roles over time" in page and '<a href="/id/membership/KAZ">' in page
    assert CANONICAL not in page


def test_home_timeline_and_counts(client) -> None:  # type: ignore[no-untyped-def]
    r = client.get("/", headers=HTML)
    assert r.status_code == 200
    page = r.get_data(as_text=True)
    members = set(
        re.findall(
            r'data-iso3="([A-Z]{3})"><a href="/id/state/[A-Z]{3}">[^<]*<text[^>]*>[^<]*</text></a>'
            r'(?:<rect class="observer"[^>]*>.*?</rect>)*<rect class="member"',
            page,
        )
    )
    assert len(members) == 28
    assert "<td>state</td><td>40</td>" in page  # the counts query sees the new base's classes
    assert CANONICAL not in page


def test_search_finds_the_new_base_resources(client) -> None:  # type: ignore[no-untyped-def]
    hits = client.get("/search.json", query_string={"q": "turkiye"}).get_json()["results"]
    assert hits[0]["iri"] == NEW + "id/state/TUR" and hits[0]["kind"] == "state"
    assert all(h["iri"].startswith(NEW + "id/") for h in hits)
    page = client.get("/search", query_string={"q": "kazakhstan"}, headers=HTML)
    assert '<a href="/id/state/KAZ">Kazakhstan</a>' in page.get_data(as_text=True)


def test_ontology_is_documented_and_served_under_the_new_base(client) -> None:  # type: ignore[no-untyped-def]
    page = client.get("/ontology", headers=HTML).get_data(as_text=True)
    assert f"<code>{NEW}ontology#</code>" in page
    assert 'id="State"' in page and "A sovereign state" in page
    assert '<a href="#Meeting">cica:Meeting</a>' in page  # its own terms link within the page
    reused = re.search(r"<h2>Reused vocabularies</h2>\s*<ul>(.*?)</ul>", page, re.S)
    assert reused and "http://www.w3.org/ns/org#" in reused.group(1)
    assert NEW not in reused.group(1)
    g = rdflib.Graph().parse(data=client.get("/ontology.ttl").get_data(as_text=True))
    assert (rdflib.URIRef(NEW + "ontology"), rdflib.RDF.type, rdflib.OWL.Ontology) in g
    assert not [iri for iri in graph_iris(g) if iri.startswith(CANONICAL)]


def test_canned_queries_answer_under_the_new_base(client) -> None:  # type: ignore[no-untyped-def]
    members = client.get("/queries/members.json", query_string={"date": "2020-01-01"})
    assert members.status_code == 200
    states = {b["state"]["value"] for b in members.get_json()["results"]["bindings"]}
    assert NEW + "id/state/KAZ" in states and len(states) == 27
    profile = client.get("/queries/state-profile.json", query_string={"state": "KAZ"})
    assert profile.status_code == 200
    subjects = {b["subject"]["value"] for b in profile.get_json()["results"]["bindings"]}
    assert NEW + "id/membership/KAZ" in subjects
    page = client.get("/queries/state-profile", query_string={"state": "KAZ"}, headers=HTML)
    assert page.status_code == 200 and CANONICAL not in page.get_data(as_text=True)


def test_dumps_hold_the_new_base_iris(client, settings: Settings) -> None:  # type: ignore[no-untyped-def]
    export(settings.store, settings.dumps_path, base_url=NEW, jobs=1)
    listing = client.get("/dumps/index.json").get_json()
    assert listing["files"] and listing["void"].endswith("/void")
    nt = rdflib.Graph().parse(data=client.get("/dumps/cica-kg.nt").get_data(), format="nt")
    assert (KAZ, rdflib.RDFS.label, rdflib.Literal("Kazakhstan", lang="en")) in nt
    assert not [iri for iri in graph_iris(nt) if iri.startswith(CANONICAL)]
    void = rdflib.Graph().parse(data=client.get("/void", headers=TURTLE).get_data(as_text=True))
    assert (rdflib.URIRef(NEW + "dataset"), rdflib.RDF.type, None) in void
    assert not [iri for iri in graph_iris(void) if iri.startswith(CANONICAL)]


def test_no_page_names_the_canonical_base(client) -> None:  # type: ignore[no-untyped-def]
    for path, headers in (
        ("/sparql", HTML),  # the editor's prefixes and example queries
        ("/id/organization/CICA", HTML),  # its named graphs
        ("/id/state/KAZ", TURTLE),  # the serializer's prefixes
        ("/ontology", HTML),
        ("/.well-known/sparql-examples", TURTLE),
    ):
        body = client.get(path, headers=headers).get_data(as_text=True)
        assert CANONICAL not in body, path
