"""Pages for people and linked-data dereferencing: home, /id/…, /ontology, /search."""

from __future__ import annotations

import datetime as dt
import json
import re
import threading

import pyoxigraph as ox
from flask import Blueprint, Response, current_app, jsonify, render_template, request
from markupsafe import Markup

from .. import canned, errors, formats, resources
from ..browse import ontology_doc, timeline
from ..browse.describe import Description, describe, description_query
from ..browse.search import SearchIndex, labels_query
from ..query import Job
from ..sparql_files import query_text
from . import timeline_svg
from .context import get_engine, get_iris, get_settings
from .responses import answer_response, choose_format, vary

blueprint = Blueprint(
    "browse", __name__, static_folder=str(resources.static_dir()), static_url_path="/static"
)

_index_lock = threading.Lock()
IRI_KEY = re.compile(r"[^\s<>\"{}|^`\\]+")


def _query(name: str) -> str:
    return get_iris().rebase(query_text(__package__ or "cica_kg.web", name))


def _select(query: str, **bindings: ox.NamedNode) -> list[dict[str, dict[str, str]]]:
    return get_engine().select(query, **bindings)


@blueprint.route("/")
def home() -> str:
    engine, iris = get_engine(), get_iris()
    counts = engine.select(_query("home-class-counts.rq"))
    chart = timeline_svg.svg(
        timeline.periods(_select, iris), timeline.markers(_select, iris), today=dt.date.today()
    )
    return render_template("home.html", build=engine.build(), counts=counts, chart=Markup(chart))


@blueprint.route("/id/<path:key>")
def resource(key: str) -> Response:
    """A resource of the graph: HTML for browsers, RDF for clients (same URL, Vary: Accept;
    or a .ttl/.nt/.jsonld/.rdf suffix)."""
    fmt = None
    stem, dot, ext = key.rpartition(".")
    if dot and (found := formats.by_extension(ext, list(formats.GRAPH_FORMATS))):
        key, fmt = stem, found
    iris = get_iris()
    iri = iris.id + key
    if not IRI_KEY.fullmatch(key):  # characters no IRI of the graph can hold
        raise errors.NotFound(f"there is no resource <{iri}> in the graph")
    desc = describe(_select, iri, iris)
    if not desc.exists:
        raise errors.NotFound(f"there is no resource <{iri}> in the graph")
    if fmt is None:
        if formats.prefers_html(request.headers.get("Accept"), list(formats.GRAPH_FORMATS)):
            return vary(Response(_resource_page(desc, key), mimetype="text/html"))
        fmt = choose_format("CONSTRUCT", request.args.get("format"))
    job = Job(description_query(iris), fmt.name, substitutions=(("resource", ox.NamedNode(iri)),))
    return vary(answer_response(get_engine().run(job)))


def _resource_page(desc: Description, key: str) -> str:
    engine, iris = get_engine(), get_iris()
    chart = profile = None
    kind = key.split("/", 1)[0]
    if kind == "state":
        code = key.split("/", 1)[1]
        items = [p for p in timeline.periods(_select, iris) if p.iso3 == code]
        if items:
            chart = Markup(
                timeline_svg.svg(
                    items,
                    timeline.markers(_select, iris),
                    today=dt.date.today(),
                    title=f"{desc.label}: roles in CICA over time",
                )
            )
        catalogue = canned.cached_catalogue(get_settings().queries_dir, get_settings().base_iri)
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
    iris = get_iris()
    fmt = formats.by_extension(ext, list(formats.GRAPH_FORMATS)) if ext else None
    if ext and fmt is None:
        raise errors.NotFound(f"no ontology format .{ext}; try .ttl, .nt, .jsonld or .rdf")
    if fmt is None and formats.prefers_html(
        request.headers.get("Accept"), list(formats.GRAPH_FORMATS)
    ):
        doc = ontology_doc.document(_select, iris)
        page = render_template("ontology.html", doc=doc, cica=iris.cica)
        return vary(Response(page, mimetype="text/html"))
    fmt = fmt or choose_format("CONSTRUCT", request.args.get("format"))
    graph = ox.NamedNode(iris.graph_iri("cica"))
    job = Job(_query("ontology-graph.rq"), fmt.name, substitutions=(("g", graph),))
    return vary(answer_response(get_engine().run(job)))


def search_index() -> SearchIndex:
    """The label index of the current build (rebuilt when the build changes)."""
    engine, iris = get_engine(), get_iris()
    build_id = engine.build().build_id
    cache = current_app.config.setdefault("CICA_SEARCH", {})
    with _index_lock:
        if build_id not in cache:
            rows = engine.select(labels_query(iris))
            cache.clear()
            cache[build_id] = SearchIndex(
                [(r["resource"]["value"], r["label"]["value"], r["name"]["value"]) for r in rows],
                iris.id,
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
