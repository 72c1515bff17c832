"""Building responses: format choice (format= or Accept), answers as responses, conditional
requests (ETag, If-None-Match, 304), cache headers, Vary, JSON bodies."""

from __future__ import annotations

import json
from typing import Any

from flask import Response, request

from .. import errors, formats
from ..query import TRUNCATED_HEADER, Answer
from .context import get_settings


def choose_format(
    form: str | None, format_param: str | None, offered: list[formats.Format] | None = None
) -> formats.Format:
    """The format asked by `format=` or Accept, among those offered for the query form."""
    offered = offered or formats.offered_for(form)
    try:
        if format_param:
            return formats.by_name(format_param, offered)
        return formats.negotiate(request.headers.get("Accept"), offered)
    except formats.UnknownFormatError as exc:
        raise errors.BadRequest(str(exc)) from None
    except formats.NotAcceptableError as exc:
        raise errors.NotAcceptable(str(exc)) from None


def matches(etag: str) -> bool:
    """If-None-Match names this (quoted) ETag; weak comparison, as RFC 9110 asks."""
    return request.if_none_match.contains_weak(etag.strip('"'))


def cache_headers(response: Response, etag: str) -> Response:
    """ETag and max-age for answers from the build; no-store for federated answers."""
    response.headers["Vary"] = "Accept"
    if not etag:
        response.headers["Cache-Control"] = "no-store"
        return response
    response.headers["ETag"] = etag
    response.headers["Cache-Control"] = f"public, max-age={get_settings().cache_max_age}"
    return response


def not_modified(etag: str) -> Response:
    return cache_headers(Response(status=304), etag)


def answer_response(answer: Answer) -> Response:
    response = Response(answer.body, content_type=answer.media_type)
    if answer.truncated:
        response.headers[TRUNCATED_HEADER] = f"rows cut at {answer.rows} (max_result_rows)"
    return cache_headers(response, answer.etag)


def vary(response: Response) -> Response:
    """One URL, several representations chosen by Accept."""
    response.headers["Vary"] = "Accept"
    return response


def json_response(body: Any) -> Response:
    """`body` as indented JSON (the catalogue and dump listings)."""
    return Response(json.dumps(body, indent=1), mimetype="application/json")
