"""The Flask app factory: the blueprints, the navigation, the error handlers, CORS."""

from __future__ import annotations

import logging

from flask import Flask, Response

from ..canned import compact
from ..namespaces import iris
from ..query import TRUNCATED_HEADER, Engine
from ..settings import Settings
from . import browse, dumps, errors, queries, sparql

# The site's navigation, in order, after the SPARQL editor: (endpoint, label).
NAV: tuple[tuple[str, str], ...] = (
    ("queries.index", "Canned queries"),
    ("dumps.index", "Dumps"),
    ("dumps.void", "VoID"),
)


def create_app(settings: Settings | None = None, engine: Engine | None = None) -> Flask:
    """The web app. Tests pass tmp settings (and may pass an engine); production neither."""
    settings = settings or Settings.from_env()
    app = Flask(__name__, static_folder=None)
    app.config["CICA_SETTINGS"] = settings
    app.config["CICA_ENGINE"] = engine or Engine(settings)
    app.config["MAX_CONTENT_LENGTH"] = settings.max_request_bytes
    app.json.sort_keys = False  # type: ignore[attr-defined]

    for module in (sparql, browse, queries, dumps):
        app.register_blueprint(module.blueprint)
    errors.install(app)
    app.context_processor(lambda: {"nav_links": list(NAV)})
    app.add_template_filter(_local_path(settings), "local_path")
    prefixes = iris(settings.base_iri).prefixes
    app.add_template_filter(lambda iri: compact(iri, prefixes), "compact")
    app.after_request(_cors)
    logging.getLogger("cica_kg").setLevel(logging.INFO)
    return app


def _local_path(settings: Settings):  # type: ignore[no-untyped-def]
    """A filter mapping the graph's IRIs to this server's pages (/id/…, /ontology)."""
    base = iris(settings.base_iri).base

    def local_path(iri: str) -> str:
        if iri.startswith(base):
            return "/" + iri[len(base) :]
        return iri

    return local_path


def _cors(response: Response) -> Response:
    """Any origin may read: the data is public and nothing uses cookies."""
    response.headers["Access-Control-Allow-Origin"] = "*"
    response.headers["Access-Control-Expose-Headers"] = f"ETag, {TRUNCATED_HEADER}"
    return response
