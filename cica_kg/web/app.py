"""The Flask app factory: the blueprints, the navigation, the error handlers, CORS."""

from __future__ import annotations

import datetime as dt
import logging

from flask import Flask, Response, g

from .. import currency
from .. import errors as cica_errors
from ..canned import compact
from ..namespaces import iris
from ..query import TRUNCATED_HEADER, Engine
from ..settings import Settings
from . import browse, dumps, errors, observe, ops, queries, sparql
from .context import get_engine

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

    for module in (sparql, browse, queries, dumps, ops):  # ops: not in NAV
        app.register_blueprint(module.blueprint)
    errors.install(app)
    observe.install(app)  # metrics and the JSON access log
    app.context_processor(lambda: {"nav_links": list(NAV)})
    app.add_template_filter(_local_path(settings), "local_path")
    prefixes = iris(settings.base_iri).prefixes
    app.add_template_filter(lambda iri: compact(iri, prefixes), "compact")
    app.after_request(_cors)
    app.after_request(_currency)
    app.context_processor(lambda: {"data_current_to": _current_to()})
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
    response.headers["Access-Control-Expose-Headers"] = (
        f"ETag, {TRUNCATED_HEADER}, {currency.HEADER}, {currency.WARNING_HEADER}"
    )
    return response


def _current_to() -> dt.date | None:
    """The data's currency, or None when there is no build to ask (the answer then says
    why on its own)."""
    try:
        return currency.data_current_to(get_engine())
    except cica_errors.CicaError:
        return None


def _currency(response: Response) -> Response:
    """Every answer says how current the data are; an answer about a later day (a view
    puts the day it answers about in g.as_of) warns that later changes may be missing."""
    current_to = _current_to()
    if current_to is not None:
        response.headers[currency.HEADER] = current_to.isoformat()
    text = currency.warning(current_to, g.get("as_of"))
    if text and response.status_code < 400:  # errors answer nothing about the day
        response.headers[currency.WARNING_HEADER] = text
    return response
