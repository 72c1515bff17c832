"""Pages for people: home, query editor, search, errors."""

from __future__ import annotations

import threading

from flask import Blueprint, Response, current_app, jsonify, render_template, request

from .. import resources
from ..search import LABELS_QUERY, SearchIndex
from .app import get_engine

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


@blueprint.route("/")
def home() -> str:
    build = get_engine().build()
    return render_template("home.html", build=build)


def editor_page() -> Response:
    return Response(render_template("editor.html"), mimetype="text/html")


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
