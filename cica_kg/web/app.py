"""The Flask app factory."""

from __future__ import annotations

import logging

from flask import Flask, Response, current_app

from ..canned import compact
from ..namespaces import PREFIXES
from ..query import TRUNCATED_HEADER, Engine
from ..settings import Settings
from . import errors


def create_app(settings: Settings | None = None, engine: Engine | None = None) -> Flask:
    """The web app. Tests pass tmp settings (and may pass an engine); production neither."""
    settings = settings or Settings.from_env()
    app = Flask(__name__, static_folder=None)
    app.config["CICA_SETTINGS"] = settings
    app.config["CICA_ENGINE"] = engine or Engine(settings)
    app.config["MAX_CONTENT_LENGTH"] = settings.max_request_bytes
    app.json.sort_keys = False  # type: ignore[attr-defined]

    # Import order is navigation order (each blueprint adds its links).
    from . import pages, queries, sparql  # isort: skip
    from . import dumps  # isort: skip

    app.register_blueprint(sparql.blueprint)
    app.register_blueprint(pages.blueprint)
    app.register_blueprint(queries.blueprint)
    app.register_blueprint(dumps.blueprint)
    errors.install(app)
    app.add_template_filter(_local_path(settings), "local_path")
    app.add_template_filter(lambda iri: compact(iri, PREFIXES), "compact")
    app.after_request(_cors)
    logging.getLogger("cica_kg").setLevel(logging.INFO)
    return app


def get_settings() -> Settings:
    settings: Settings = current_app.config["CICA_SETTINGS"]
    return settings


def get_engine() -> Engine:
    engine: Engine = current_app.config["CICA_ENGINE"]
    return engine


def _local_path(settings: Settings):  # type: ignore[no-untyped-def]
    """A filter mapping the graph's IRIs to this server's pages (/id/…, /ontology)."""

    def local_path(iri: str) -> str:
        if iri.startswith(settings.base_iri):
            return "/" + iri[len(settings.base_iri) :]
        return iri

    return local_path


def _cors(response: Response) -> Response:
    """Any origin may read: the data is public and nothing uses cookies."""
    response.headers["Access-Control-Allow-Origin"] = "*"
    response.headers["Access-Control-Expose-Headers"] = f"ETag, {TRUNCATED_HEADER}"
    return response
