"""/healthz, /readyz and /metrics: for load balancers, orchestrators and Prometheus. Not in
the site's navigation, and (like every route of this blueprint, "ops") exempt from any
client's budget.

- /healthz: 200 while the process serves, with the build id and the data's currency.
- /readyz: 200 only when a published build is open and a query process (or the remote
  engine) answers a trivial query; else 503 with the reason. The check runs at most once a
  second per worker (`PROBE_EVERY`); pollers in between get its last answer.
- /metrics: the Prometheus metrics (metrics.py), for 127.0.0.1, ::1 and the addresses in
  `metrics_allow`; 403 for anyone else."""

from __future__ import annotations

import datetime as dt
import functools
import ipaddress
import threading
import time
from dataclasses import dataclass
from typing import Any

from flask import Blueprint, Response, current_app, json, request

from .. import currency, errors, metrics
from ..query import Engine, Job
from ..store import BuildInfo
from .context import get_engine, get_settings
from .errors import error_response

blueprint = Blueprint("ops", __name__)

PROBE_EVERY = 1.0  # seconds a readiness answer is reused
PROBE_TIMEOUT = 2.0  # seconds the trivial query may take
PROBE_QUERY = "ASK {}"
ALWAYS_ALLOWED = ("127.0.0.1", "::1")  # this host's own loopback addresses


@dataclass(frozen=True)
class Readiness:
    ready: bool
    reason: str | None
    build_id: str | None
    data_current_to: dt.date | None

    def as_json(self) -> dict[str, Any]:
        return {
            "status": "ready" if self.ready else "unavailable",
            "reason": self.reason,
            "build_id": self.build_id,
            "data_current_to": _iso(self.data_current_to),
        }


def check(engine: Engine) -> Readiness:
    """Is there a published build, and does a query process (or the remote engine) answer
    a trivial query on it within PROBE_TIMEOUT? Every failure is a reason, never a raise."""
    try:
        build = engine.build()
    except errors.CicaError as exc:
        return Readiness(False, f"no published build: {exc.message}", None, None)
    job = Job(query=PROBE_QUERY, format_name="json")
    try:
        # Straight to the pool: past the cache, which would answer without a process.
        engine.pool.run(str(build.store_path), job, PROBE_TIMEOUT)
        current_to = currency.data_current_to(engine)
    except (errors.CicaError, RuntimeError, OSError) as exc:
        reason = exc.message if isinstance(exc, errors.CicaError) else str(exc)
        return Readiness(False, f"a trivial query failed: {reason}", build.build_id, None)
    return Readiness(True, None, build.build_id, current_to)


class _Probe:
    """The last readiness check of this worker, reused for PROBE_EVERY seconds; one
    check at a time (pollers arriving meanwhile wait for it rather than start their own)."""

    def __init__(self) -> None:
        self._lock = threading.Lock()
        self._last: tuple[float, Readiness] | None = None

    def get(self, engine: Engine) -> Readiness:
        with self._lock:
            if self._last is None or time.monotonic() - self._last[0] >= PROBE_EVERY:
                self._last = (time.monotonic(), check(engine))
            return self._last[1]


def _probe() -> _Probe:
    probe: _Probe = current_app.extensions.setdefault("cica_kg_probe", _Probe())
    return probe


def _published() -> tuple[BuildInfo | None, dt.date | None]:
    """The published build and its currency, or None where there is none to ask."""
    engine = get_engine()
    try:
        build = engine.build()
    except errors.CicaError:
        return None, None
    try:
        return build, currency.data_current_to(engine)
    except errors.CicaError:
        return build, None


def _json(body: dict[str, Any], status: int = 200) -> Response:
    response = Response(json.dumps(body), status=status, mimetype="application/json")
    response.headers["Cache-Control"] = "no-store"
    return response


@blueprint.route("/healthz")
def healthz() -> Response:
    build, current_to = _published()
    return _json(
        {
            "status": "ok",
            "build_id": build.build_id if build else None,
            "data_current_to": _iso(current_to),
        }
    )


@blueprint.route("/readyz")
def readyz() -> Response:
    readiness = _probe().get(get_engine())
    return _json(readiness.as_json(), 200 if readiness.ready else 503)


@blueprint.route("/metrics")
def metrics_view() -> Response:
    if not allowed(request.remote_addr, get_settings().metrics_allow):
        return error_response(
            403, "Forbidden", "/metrics is served to this host and to the addresses in "
            "CICA_KG_METRICS_ALLOW only", {},
        )  # fmt: skip
    build, current_to = _published()
    ready = _probe().get(get_engine()).ready
    body, content_type = metrics.exposition(build, current_to, ready)
    response = Response(body, content_type=content_type)
    response.headers["Cache-Control"] = "no-store"
    return response


def allowed(address: str | None, allow: tuple[str, ...]) -> bool:
    """May this client address read /metrics?"""
    if not address:
        return False
    try:
        ip = ipaddress.ip_address(address.split("%", 1)[0])
    except ValueError:
        return False
    if isinstance(ip, ipaddress.IPv6Address) and ip.ipv4_mapped is not None:
        ip = ip.ipv4_mapped
    return any(ip in network for network in networks(ALWAYS_ALLOWED + tuple(allow)))


@functools.cache
def networks(entries: tuple[str, ...]) -> tuple[ipaddress.IPv4Network | ipaddress.IPv6Network, ...]:
    out = []
    for entry in entries:
        try:
            out.append(ipaddress.ip_network(entry, strict=False))
        except ValueError as exc:
            raise errors.SettingsError(f"CICA_KG_METRICS_ALLOW: {entry!r}: {exc}") from None
    return tuple(out)


@blueprint.record_once
def _check_allow(state: Any) -> None:
    """A bad address in metrics_allow stops the app from starting, not the first scrape."""
    networks(tuple(state.app.config["CICA_SETTINGS"].metrics_allow))


def _iso(day: dt.date | None) -> str | None:
    return day.isoformat() if day else None
