"""Logs a machine can read: with `log_format = json`, every access and event log line is one
JSON object. Access lines (`"log": "access"`) carry time, client, method, path, status,
duration (seconds), bytes, query_hash, cache_hit and limit_hit; event lines (`"log":
"event"`) time, level, logger, message (and the traceback, as `exception`). The plain
format, the default, is the server's own access line and `time level logger: message`.

`note_query` is how the query facade tells the request being served which query it ran
(its hash) and whether the cache answered; it does nothing outside a request."""

from __future__ import annotations

import contextvars
import datetime as dt
import hashlib
import io
import json
import logging
from dataclasses import dataclass, field
from typing import Any

ACCESS_LOGGER = "cica_kg.access"
PLAIN_FORMAT = "%(asctime)s %(levelname)s %(name)s: %(message)s"


@dataclass
class RequestNotes:
    """What the request being served ran: the hash of its first query, and whether every
    query it ran was answered from the cache (None: it ran none)."""

    query_hash: str | None = None
    cache_hit: bool | None = None
    extra: dict[str, Any] = field(default_factory=dict)


_notes: contextvars.ContextVar[RequestNotes | None] = contextvars.ContextVar(
    "cica_kg_request_notes", default=None
)


def begin_request() -> RequestNotes:
    notes = RequestNotes()
    _notes.set(notes)
    return notes


def end_request() -> None:
    _notes.set(None)


def query_hash(query: str) -> str:
    """A short, stable name for a query text, to find the same query across log lines."""
    return hashlib.sha256(query.encode("utf-8")).hexdigest()[:16]


def note_query(query: str, cached: bool) -> None:
    notes = _notes.get()
    if notes is None:
        return
    if notes.query_hash is None:
        notes.query_hash = query_hash(query)
    notes.cache_hit = cached if notes.cache_hit is None else (notes.cache_hit and cached)


def now_iso() -> str:
    """UTC, to the millisecond, as log collectors expect (2026-12-03T06:40:01.123Z)."""
    return dt.datetime.now(dt.UTC).isoformat(timespec="milliseconds").replace("+00:00", "Z")


def access(entry: dict[str, Any]) -> None:
    """Log one answered request (the JSON access line): `entry` holds the fields after
    time (client, method, path, status, duration, bytes, query_hash, cache_hit,
    limit_hit). A front that answers before the web app (a 429 from the server's
    protocol) may call this too."""
    logging.getLogger(ACCESS_LOGGER).info("access", extra={"access": entry})


class JsonFormatter(logging.Formatter):
    """One JSON object a line, for access and event records alike."""

    def format(self, record: logging.LogRecord) -> str:
        entry: dict[str, Any] = getattr(record, "access", None) or {}
        if entry:
            out = {"time": _record_time(record), "log": "access", **entry}
        else:
            out = {
                "time": _record_time(record),
                "log": "event",
                "level": record.levelname,
                "logger": record.name,
                "message": record.getMessage(),
                "pid": record.process,
            }
            if record.exc_info:
                out["exception"] = self.formatException(record.exc_info)
        return json.dumps(out, ensure_ascii=False, default=str)


class LogLines(io.TextIOBase):
    """A text stream whose every line becomes an INFO record of `logger`: what a command
    writes on stderr (the build's progress) joins the JSON log as event lines."""

    def __init__(self, logger: logging.Logger):
        self.logger, self.pending = logger, ""

    def write(self, text: str) -> int:
        *lines, self.pending = (self.pending + text).split("\n")
        for line in lines:
            if line.strip():
                self.logger.info(line)
        return len(text)

    def isatty(self) -> bool:
        return False  # one record per finished stage, never a line redrawn in place


def _record_time(record: logging.LogRecord) -> str:
    when = dt.datetime.fromtimestamp(record.created, dt.UTC)
    return when.isoformat(timespec="milliseconds").replace("+00:00", "Z")


def dict_config(log_format: str) -> dict[str, Any]:
    """A logging.config.dictConfig for the server's processes: the root, the server's own
    loggers (uvicorn's) all to stderr, in the format asked for. In json the
    server's plain access logger is silenced: the web app writes the access lines."""
    formatter: dict[str, Any] = (
        {"()": f"{__name__}.JsonFormatter"} if log_format == "json" else {"format": PLAIN_FORMAT}
    )
    handler = {"class": "logging.StreamHandler", "formatter": "main", "stream": "ext://sys.stderr"}
    server_loggers = ("uvicorn", "uvicorn.error")
    loggers: dict[str, Any] = {
        name: {"level": "INFO", "handlers": ["main"], "propagate": False} for name in server_loggers
    }
    if log_format == "json":
        for name in ("uvicorn.access",):
            loggers[name] = {"level": "INFO", "handlers": [], "propagate": False}
    return {
        "version": 1,
        "disable_existing_loggers": False,
        "formatters": {"main": formatter},
        "handlers": {"main": handler},
        "root": {"level": "INFO", "handlers": ["main"]},
        "loggers": loggers,
    }


def configure(log_format: str) -> None:
    """Set up this process's logging in the format asked for (the server calls this once
    before its workers start; they inherit it). Plain leaves the server's own loggers as
    the server sets them."""
    import logging.config

    if log_format == "json":
        logging.config.dictConfig(dict_config(log_format))
    else:
        logging.basicConfig(level=logging.INFO, format=PLAIN_FORMAT)
