"""What every request leaves behind: its count and duration in the metrics, the refusals and
stopped queries it met, and (with `log_format = json`) its JSON access line. Installed on
the app by `install`; the figures are recorded when the answer has been sent (the
response's close), so a streamed download is timed to its last byte."""

from __future__ import annotations

import time

from flask import Flask, Response, g, request
from werkzeug.exceptions import RequestEntityTooLarge

from .. import errors, logs, metrics
from ..query import TRUNCATED_HEADER
from .context import get_settings

# The duration histogram's kind of each blueprint (the rest: "other").
KINDS = {"sparql": "sparql", "queries": "canned", "browse": "page", "dumps": "dumps", "ops": "ops"}


def install(app: Flask) -> None:
    metrics.enable()
    # First of the before_request functions, so the time starts before any other (a
    # fair-share wait, say) and the notes exist whatever refuses the request.
    app.before_request_funcs.setdefault(None, []).insert(0, _start)
    app.after_request(_finish)
    app.teardown_request(lambda exc: logs.end_request())


def _start() -> None:
    g.observe_start = time.perf_counter()
    g.observe_notes = logs.begin_request()


def limit_hit(response: Response) -> str | None:
    """The limit or policy that shaped this answer, by its setting's name (None: none)."""
    exc = g.get("error")
    if response.status_code == 429:
        return str(g.get("limit_hit") or "rate_limit")
    if isinstance(exc, errors.QueryTimeout):
        return "query_timeout"
    if isinstance(exc, errors.ServiceRefused):
        return "service_allowlist"
    if isinstance(exc, errors.Forbidden):
        return "read_only"
    if isinstance(exc, errors.PayloadTooLarge):
        return "max_query_length"
    if isinstance(exc, RequestEntityTooLarge):
        return "max_request_bytes"
    if isinstance(exc, errors.ResultTooLarge):
        return "max_result_bytes"
    if type(exc) is errors.Unavailable and "Retry-After" in exc.headers:
        return "query_processes"  # every query process busy
    # A scan, not `in response.headers`: werkzeug answers a miss by raising and catching a
    # BadRequestKeyError, which cost 4% of a small query's CPU in the web worker.
    truncated = TRUNCATED_HEADER.lower()
    if any(name.lower() == truncated for name, _ in response.headers):
        return "max_result_rows"
    return None


# The refusals counted in cica_kg_refused_total, by the limit's name.
REFUSALS = {
    "service_allowlist": "service",
    "read_only": "read_only",
    "max_query_length": "query_length",
    "max_request_bytes": "request_size",
    "max_result_bytes": "result_size",
    "query_processes": "busy",
}


def _finish(response: Response) -> Response:
    start = g.get("observe_start") or time.perf_counter()
    notes = g.get("observe_notes") or logs.RequestNotes()
    limit = limit_hit(response)
    if limit == "query_timeout":
        metrics.query_stopped()
    elif limit in REFUSALS:
        metrics.refused(REFUSALS[limit])
    rule = request.url_rule.rule if request.url_rule is not None else "unmatched"
    kind = KINDS.get(request.blueprint or "", "other")
    if request.endpoint == "browse.static":
        kind = "static"
    json_log = get_settings().log_format == "json"
    entry = {
        "client": request.remote_addr,
        "method": request.method,
        "path": request.path,
        "status": response.status_code,
        "query_hash": notes.query_hash,
        "cache_hit": notes.cache_hit,
        "limit_hit": limit,
    }

    def done() -> None:
        seconds = time.perf_counter() - start
        metrics.request(rule, response.status_code, seconds, kind)
        if json_log:
            entry["duration"] = round(seconds, 6)
            entry["bytes"] = response.content_length
            logs.access(_ordered(entry))

    response.call_on_close(done)
    return response


FIELDS = ("client", "method", "path", "status", "duration", "bytes", "query_hash",
          "cache_hit", "limit_hit")  # fmt: skip


def _ordered(entry: dict[str, object]) -> dict[str, object]:
    return {name: entry.get(name) for name in FIELDS}
