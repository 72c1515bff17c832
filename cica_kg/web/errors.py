"""One place that turns failures into responses: CicaError (but a 500, a fault of ours) and
werkzeug HTTP errors keep their status and message; anything else is a logged 500 with no
detail."""

from __future__ import annotations

import json
import logging

from flask import Flask, Response, g, render_template, request
from werkzeug.exceptions import HTTPException

from ..errors import CicaError
from ..formats import parse_accept

log = logging.getLogger("cica_kg.web")


def error_response(status: int, title: str, message: str, headers: dict[str, str]) -> Response:
    """The error in the representation the client prefers: JSON, HTML or plain text."""
    kind = _preferred_kind()
    if kind == "json":
        body = json.dumps({"error": {"status": status, "title": title, "message": message}})
        mimetype = "application/json"
    elif kind == "html":
        body = render_template("error.html", status=status, title=title, message=message)
        mimetype = "text/html"
    else:
        body = f"{status} {title}: {message}\n"
        mimetype = "text/plain"
    response = Response(body, status=status, mimetype=mimetype)
    response.headers.update(headers)
    return response


def _preferred_kind() -> str:
    if request.path.endswith(".json"):
        return "json"
    best, best_q = "text", 0.0
    for media, q in parse_accept(request.headers.get("Accept")):
        kind = (
            "json"
            if media in ("application/json", "application/sparql-results+json")
            else "html"
            if media == "text/html"
            else None
        )
        if kind and q > best_q:
            best, best_q = kind, q
    return best


def install(app: Flask) -> None:
    @app.errorhandler(CicaError)
    def cica_error(exc: CicaError) -> Response:
        g.error = exc  # for the metrics and the access log (observe.py)
        if exc.status == 500:  # a fault on our side (a broken catalogue…): not for the user
            return server_fault(exc)
        return error_response(exc.status, exc.title, exc.message, exc.headers)

    @app.errorhandler(HTTPException)
    def http_error(exc: HTTPException) -> Response:
        g.error = exc
        status = exc.code or 500
        headers = {k: v for k, v in exc.get_headers() if k.lower() == "allow"}
        message = exc.description or exc.name
        if status == 413:
            message = "the request body is larger than the limit (max_request_bytes)"
        return error_response(status, exc.name, message, headers)

    @app.errorhandler(Exception)
    def server_fault(exc: Exception) -> Response:
        log.exception("internal error on %s %s", request.method, request.path)
        return error_response(
            500, "Internal Server Error", "the server failed to answer; the fault is logged", {}
        )
