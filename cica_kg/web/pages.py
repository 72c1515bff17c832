"""Pages for people: home, query editor, search, errors."""

from __future__ import annotations

import datetime as dt
import json
import re
import threading

import pyoxigraph as ox
from flask import Blueprint, Response, current_app, jsonify, render_template, request, url_for
from markupsafe import Markup

from .. import canned, errors, formats, ontology_doc, resources, timeline
from ..describe import DESCRIPTION, Description, describe
from ..namespaces import PREFIXES, graph_iri
from ..query import Job
from ..search import LABELS_QUERY, SearchIndex
from .app import get_engine, get_settings
from .sparql import answer_response, choose_format

blueprint = Blueprint(
    "pages", __name__, static_folder=str(resources.static_dir()), static_url_path="/static"
)

NAV_LINKS: list[tuple[str, str]] = []  # (endpoint, label), filled as blueprints register

_index_lock = threading.Lock()


@blueprint.app_context_processor
def navigation() -> dict[str, object]:
    return {"nav_links": NAV_LINKS}


def render_error(status: int, title: str, message: str) -> str:
    return render_template("error.html", status=status, title=title, message=message)


CLASS_COUNTS = """
SELECT ?class ?label (COUNT(DISTINCT ?s) AS ?n) WHERE {
  ?s a ?class . ?class rdfs:label ?label .
  FILTER(STRSTARTS(STR(?class), "https://w3id.org/cica-kg/ontology#"))
  FILTER(STRSTARTS(STR(?s), "https://w3id.org/cica-kg/id/"))
} GROUP BY ?class ?label ORDER BY DESC(?n) ?label
"""


@blueprint.route("/")
def home() -> str:
    engine = get_engine()
    counts = engine.select(CLASS_COUNTS)
    chart = timeline.svg(
        timeline.periods(engine.select(timeline.ROLES_QUERY)),
        timeline.markers(engine.select(timeline.SUMMITS_QUERY)),
        today=dt.date.today(),
    )
    return render_template("home.html", build=engine.build(), counts=counts, chart=Markup(chart))


IRI_KEY = re.compile(r"[^\s<>\"{}|^`\\]+")


def _iri_for(path: str) -> str:
    return get_settings().base_iri + path


@blueprint.route("/id/<path:key>")
def resource(key: str) -> Response:
    """A resource of the graph: HTML for browsers, RDF for clients (same URL, Vary: Accept;
    or a .ttl/.nt/.jsonld/.rdf suffix)."""
    fmt = None
    stem, dot, ext = key.rpartition(".")
    if dot and (found := formats.by_extension(ext, list(formats.GRAPH_FORMATS))):
        key, fmt = stem, found
    iri = _iri_for("id/" + key)
    if not IRI_KEY.fullmatch(key):  # characters no IRI of the graph can hold
        raise errors.NotFound(f"there is no resource <{iri}> in the graph")
    engine = get_engine()
    desc = describe(lambda q, **b: engine.select(q, **b), iri)
    if not desc.exists:
        raise errors.NotFound(f"there is no resource <{iri}> in the graph")
    if fmt is None:
        if formats.prefers_html(request.headers.get("Accept"), list(formats.GRAPH_FORMATS)):
            return _vary(Response(_resource_page(desc, key), mimetype="text/html"))
        fmt = choose_format("CONSTRUCT", request.args.get("format"))
    job = Job(DESCRIPTION, fmt.name, substitutions=(("resource", ox.NamedNode(iri)),))
    return _vary(answer_response(engine.run(job)))


def _vary(response: Response) -> Response:
    response.headers["Vary"] = "Accept"
    return response


def _resource_page(desc: Description, key: str) -> str:
    engine = get_engine()
    chart = profile = None
    kind = key.split("/", 1)[0]
    if kind == "state":
        code = key.split("/", 1)[1]
        items = [p for p in timeline.periods(engine.select(timeline.ROLES_QUERY)) if p.iso3 == code]
        if items:
            chart = Markup(
                timeline.svg(
                    items,
                    timeline.markers(engine.select(timeline.SUMMITS_QUERY)),
                    today=dt.date.today(),
                    title=f"{desc.label}: roles in CICA over time",
                )
            )
        catalogue = canned.cached_catalogue(get_settings().queries_dir)
        if "state-profile" in catalogue:
            profile = json.loads(
                canned.run(engine, catalogue["state-profile"], {"state": code}, "json").body
            )
    return render_template(
        "resource.html", desc=desc, kind=kind, chart=chart, profile=profile, key=key
    )


@blueprint.route("/ontology")
@blueprint.route("/ontology.<ext>")
def ontology(ext: str | None = None) -> Response:
    """The ontology: documentation for people, the Turtle (or other RDF) for clients."""
    engine = get_engine()
    graph = graph_iri("cica")
    fmt = formats.by_extension(ext, list(formats.GRAPH_FORMATS)) if ext else None
    if ext and fmt is None:
        raise errors.NotFound(f"no ontology format .{ext}; try .ttl, .nt, .jsonld or .rdf")
    if fmt is None and formats.prefers_html(
        request.headers.get("Accept"), list(formats.GRAPH_FORMATS)
    ):
        doc = ontology_doc.document(lambda q, **b: engine.select(q, **b))
        return _vary(Response(render_template("ontology.html", doc=doc), mimetype="text/html"))
    fmt = fmt or choose_format("CONSTRUCT", request.args.get("format"))
    job = Job(ONTOLOGY_GRAPH, fmt.name, substitutions=(("g", ox.NamedNode(graph)),))
    return _vary(answer_response(engine.run(job)))


ONTOLOGY_GRAPH = "CONSTRUCT { ?s ?p ?o } WHERE { GRAPH ?g { ?s ?p ?o } }"


DEFAULT_QUERY = """SELECT ?state ?label ?iso3 ?since WHERE {
  ?membership org:role cica:memberRole ;
              org:organization <https://w3id.org/cica-kg/id/organization/CICA> ;
              org:member ?state ;
              schema:startDate ?since .
  FILTER NOT EXISTS { ?membership schema:endDate ?end }
  ?state rdfs:label ?label ; cica:iso3166Alpha3 ?iso3 .
} ORDER BY ?since ?label
"""


def editor_page() -> Response:
    """YASGUI (vendored), with the graph's prefixes and the canned queries as examples."""
    queries = list(canned.cached_catalogue(get_settings().queries_dir).values())
    endpoint = url_for("sparql.endpoint", _external=True)
    config = {
        "endpoint": endpoint,
        "prefixes": PREFIXES,
        "defaultQuery": DEFAULT_QUERY,
        "examples": {q.name: q.text for q in queries},
    }
    page = render_template(
        "editor.html",
        queries=queries,
        config=config,
        endpoint=endpoint,
        default_query=DEFAULT_QUERY,
    )
    return Response(page, mimetype="text/html")


def search_index() -> SearchIndex:
    """The label index of the current build (rebuilt when the build changes)."""
    engine = get_engine()
    build_id = engine.build().build_id
    cache = current_app.config.setdefault("CICA_SEARCH", {})
    with _index_lock:
        if build_id not in cache:
            rows = engine.select(LABELS_QUERY)
            cache.clear()
            cache[build_id] = SearchIndex(
                [(r["resource"]["value"], r["label"]["value"], r["name"]["value"]) for r in rows]
            )
        index: SearchIndex = cache[build_id]
        return index


@blueprint.route("/search")
@blueprint.route("/search.json", endpoint="search_json")
def search() -> Response | str:
    query = request.args.get("q", "")
    hits = search_index().search(query)
    if request.path.endswith(".json") or request.accept_mimetypes.best == "application/json":
        return jsonify(
            {
                "query": query,
                "results": [
                    {"iri": h.iri, "label": h.label, "matched": h.matched, "kind": h.kind}
                    for h in hits
                ],
            }
        )
    return render_template("search.html", hits=hits, search_query=query)
