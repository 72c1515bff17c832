"""The SPARQL query editor (YASGUI, vendored) that browsers get at /sparql."""

from __future__ import annotations

from flask import Response, render_template, url_for

from .. import canned
from ..sparql_files import query_text
from .context import get_iris, get_settings


def default_query() -> str:
    """The query the editor opens with (shown as is: no comment in the file)."""
    return get_iris().rebase(query_text(__package__ or "cica_kg.web", "editor-default.rq"))


def editor_page() -> Response:
    """YASGUI (vendored), with the graph's prefixes and the canned queries as examples."""
    queries = list(
        canned.cached_catalogue(get_settings().queries_dir, get_settings().base_iri).values()
    )
    endpoint = url_for("sparql.endpoint", _external=True)
    query = default_query()
    config = {
        "endpoint": endpoint,
        "prefixes": get_iris().prefixes,
        "defaultQuery": query,
        "examples": {q.name: q.text for q in queries},
    }
    page = render_template(
        "editor.html",
        queries=queries,
        config=config,
        endpoint=endpoint,
        default_query=query,
    )
    return Response(page, mimetype="text/html")
