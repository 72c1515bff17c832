"""The ASGI front of `cica-kg serve`, one per web worker process. It stands between the
network and the Flask app so that nothing slow or greedy reaches a request thread:

1. the body is read in full, within `body_timeout` seconds and `max_request_bytes`, before
   a thread is committed to the request (guard.py bounds the request head the same way);
2. answers kept in the front cache (complete responses the Flask app gave for the same
   GET, on the same build) are sent from the event loop, with 304 for a matching
   If-None-Match: no thread, no Flask, no query machinery;
3. fair share (fairshare.py): per client, a cap on running requests and a budget of
   request seconds per minute, else 429 with Retry-After naming the limit;
4. the Flask app runs in a thread pool of `threads` threads (wsgi_bridge.py).

The client is the connection's address; a trusted proxy's X-Forwarded-For names it
instead (`trusted_proxies`)."""

from __future__ import annotations

import asyncio
import base64
import faulthandler
import ipaddress
import json
import logging
import os
import pickle
import re
import signal
import time
from collections import OrderedDict
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path
from typing import Any
from urllib.parse import parse_qs

from .. import errors, logs, metrics
from ..formats import parse_accept
from ..settings import Settings
from . import wsgi_bridge
from .fairshare import FairShare, Refusal
from .guard import GuardedProtocol
from .observe import KINDS

log = logging.getLogger("cica_kg.access")
ENV = "CICA_KG__SERVE"  # how the server's parent hands the settings to its workers
# Files (no query runs) and the operations endpoints (polled every second by monitors):
# not counted by fair share.
UNCOUNTED = ("/static/", "/dumps/", "/healthz", "/readyz", "/metrics")
CACHED_PREFIXES = ("/sparql", "/queries/")  # answers with an ETag from the build
FRONT_CACHE_BYTES = 64 << 20
_MAX_AGE = re.compile(rb"max-age=(\d+)")


def handoff(settings: Settings, table: Path) -> str:
    """The value of ENV for the workers."""
    return base64.b64encode(pickle.dumps((settings, table))).decode()


def worker_app() -> Front:
    """uvicorn's app factory, called once in each worker process."""
    settings, table = pickle.loads(base64.b64decode(os.environ[ENV]))  # our own parent's
    logs.configure(settings.log_format)  # a spawned worker inherits no logging setup
    return Front(settings, table)


class FrontCache:
    """Complete responses by request, for one build and no longer than their max-age (an
    answer can depend on the day: a canned query's `date` defaults to today); LRU, bounded
    in entries and bytes."""

    def __init__(self, entries: int, max_bytes: int = FRONT_CACHE_BYTES):
        self.entries, self.max_bytes, self.size = entries, max_bytes, 0
        # key -> (build id, expiry, ETag, headers, body)
        self._data: OrderedDict[tuple[Any, ...], tuple[str, float, bytes, list[Any], bytes]] = (
            OrderedDict()
        )

    def get(self, key: tuple[Any, ...], build_id: str) -> tuple[bytes, list[Any], bytes] | None:
        found = self._data.get(key)
        if found is None or found[0] != build_id or found[1] < time.monotonic():
            return None
        self._data.move_to_end(key)
        return found[2], found[3], found[4]

    def put(
        self,
        key: tuple[Any, ...],
        build_id: str,
        max_age: float,
        etag: bytes,
        headers: list[Any],
        body: bytes,
    ) -> None:
        if self.entries <= 0 or max_age <= 0 or len(body) > self.max_bytes // 16:
            return
        old = self._data.pop(key, None)
        if old is not None:
            self.size -= len(old[4])
        self._data[key] = (build_id, time.monotonic() + max_age, etag, headers, body)
        self.size += len(body)
        while len(self._data) > self.entries or self.size > self.max_bytes:
            self.size -= len(self._data.popitem(last=False)[1][4])


class Front:
    """The ASGI app of one worker."""

    def __init__(self, settings: Settings, table: Path | None):
        from .app import create_app  # Flask and the query machinery: in the worker only

        self.settings = settings
        self.flask = create_app(settings)
        self.engine = self.flask.config["CICA_ENGINE"]
        self.routes = self.flask.url_map.bind("")  # to name the route of answers made here
        self.executor = ThreadPoolExecutor(settings.threads, thread_name_prefix="request")
        self.cache = FrontCache(settings.cache_entries)
        self.trusted = [ipaddress.ip_network(p, strict=False) for p in settings.trusted_proxies]
        lease = 2 * max(settings.query_timeout, settings.service_timeout) + 30
        self.share = (
            FairShare(table, settings.client_queries, settings.client_query_seconds, lease)
            if table is not None
            else None
        )
        self.exempt = frozenset(settings.fair_share_exempt)
        GuardedProtocol.settings = settings
        GuardedProtocol.uncapped = staticmethod(  # type: ignore[assignment]
            lambda host: host in self.exempt or self._is_trusted(host)
        )

    async def __call__(self, scope: dict[str, Any], receive: Any, send: Any) -> None:
        if scope["type"] == "lifespan":
            await self._lifespan(receive, send)
            return
        if scope["type"] != "http":
            return
        started = time.monotonic()
        client = self.client_address(scope)
        status, sent, by_front = 500, 0, True
        try:
            status, sent, by_front = await self._serve(scope, receive, send, client)
        finally:
            seconds = time.monotonic() - started
            if by_front:  # the app counts and logs (JSON) what reaches it (observe.py)
                self._observe(scope, client, status, sent, seconds)
            if self.settings.log_format == "plain":
                log.info(
                    '%s "%s %s" %s %s %.0fms',
                    client, scope["method"], scope["path"], status, sent, seconds * 1000,
                )  # fmt: skip

    def _observe(
        self, scope: dict[str, Any], client: str, status: int, sent: int, seconds: float
    ) -> None:
        """Metrics and the JSON access line for an answer made here, without Flask (a front
        cache hit, a 304, a 429, a 408 or 413 while reading the body)."""
        path = scope["path"]
        try:
            rule, _ = self.routes.match(path, method=scope["method"], return_rule=True)
            route, blueprint = rule.rule, (rule.endpoint or "").split(".")[0]
        except Exception:  # no route (404/405 answered by the app anyway)
            route, blueprint = "unmatched", ""
        hit = status in (200, 304) and path.startswith(CACHED_PREFIXES)
        if hit:
            metrics.cache_lookup(True)
        metrics.request(route, status, seconds, KINDS.get(blueprint, "other"))
        if self.settings.log_format == "json":
            limit = {429: "fair_share", 408: "body_timeout", 413: "max_request_bytes"}
            asked = parse_qs(scope["query_string"].decode("latin-1")).get("query")
            logs.access(
                {
                    "client": client, "method": scope["method"], "path": path,
                    "status": status, "duration": round(seconds, 6), "bytes": sent,
                    "query_hash": logs.query_hash(asked[0]) if asked else None,
                    "cache_hit": hit if hit else None,
                    "limit_hit": limit.get(status),
                }
            )  # fmt: skip

    async def _serve(
        self, scope: dict[str, Any], receive: Any, send: Any, client: str
    ) -> tuple[int, int, bool]:
        """Answer the request: (status, bytes sent, whether it was answered here)."""
        headers = dict(scope["headers"])
        body = await self._read_body(headers, receive, send)
        if isinstance(body, int):  # refused (or the client left) while reading the body
            return body, 0, True
        key, build_id = None, ""
        if scope["method"] == "GET" and scope["path"].startswith(CACHED_PREFIXES):
            # Host too: the service description names the endpoint by the URL asked.
            key = (
                scope["path"],
                scope["query_string"],
                headers.get(b"accept"),
                headers.get(b"host"),
            )
            try:
                build_id = self.engine.build().build_id
            except errors.CicaError:  # no build (or a remote engine away): the app answers why
                key = None
            hit = self.cache.get(key, build_id) if key else None
            if hit is not None:
                return (*await self._send_hit(hit, headers.get(b"if-none-match"), send), True)
        counted = self.share is not None and client not in self.exempt
        counted = counted and not scope["path"].startswith(UNCOUNTED)
        lease: Any = None
        if counted:
            assert self.share is not None
            lease = self.share.acquire(client)
            if isinstance(lease, Refusal):
                return (*await self._refuse(scope, headers, send, lease), True)
        began = time.monotonic()
        try:
            environ = wsgi_bridge.environ_for(scope, body, client)
            response = await wsgi_bridge.call_app(self.flask.wsgi_app, environ, self.executor)
        finally:
            if counted and self.share is not None:
                self.share.release(lease, client, time.monotonic() - began)
        if key is not None and response.status == 200 and response.rest is None:
            self._remember(key, build_id, response)
        sent = await wsgi_bridge.send_response(response, send, receive, self.executor)
        return response.status, sent, False

    # -- the client -----------------------------------------------------------------------

    def client_address(self, scope: dict[str, Any]) -> str:
        """The peer, or for a trusted proxy the nearest untrusted X-Forwarded-For entry."""
        peer = scope["client"][0] if scope.get("client") else ""
        if not self.trusted or not self._is_trusted(peer):
            return peer
        forwarded = b",".join(v for k, v in scope["headers"] if k == b"x-forwarded-for")
        hops = [h.strip() for h in forwarded.decode("latin1").split(",") if h.strip()]
        for hop in reversed(hops):
            if not self._is_trusted(hop):
                return hop
        return hops[0] if hops else peer

    def _is_trusted(self, address: str) -> bool:
        try:
            ip = ipaddress.ip_address(address)
        except ValueError:
            return False
        return any(ip in net for net in self.trusted)

    # -- the body -------------------------------------------------------------------------

    async def _read_body(self, headers: dict[bytes, bytes], receive: Any, send: Any) -> bytes | int:
        """The whole body within body_timeout and max_request_bytes; else the status of the
        refusal sent (408, 413, 400), or 499 when the client left."""
        length_header = headers.get(b"content-length")
        if length_header is None and b"transfer-encoding" not in headers:
            return b""
        limit = self.settings.max_request_bytes
        too_large = (
            f"the request body is larger than the limit of {limit} bytes (max_request_bytes)"
        )
        try:
            declared = int(length_header) if length_header is not None else 0
        except ValueError:
            await self._plain(send, errors.BadRequest("Content-Length is not a number"))
            return 400
        if declared > 16 * limit:  # not worth reading to the end: answer and close
            await self._plain(send, errors.PayloadTooLarge(too_large))
            return 413
        chunks, size = [], 0
        deadline = asyncio.get_running_loop().time() + self.settings.body_timeout
        while True:
            remaining = deadline - asyncio.get_running_loop().time()
            try:
                message = await asyncio.wait_for(receive(), max(0.0, remaining))
            except TimeoutError:
                timeout = self.settings.body_timeout
                await self._plain(
                    send,
                    errors.RequestTimeout(
                        f"the request body did not arrive within {timeout:g} s (body_timeout)"
                    ),
                )
                return 408
            if message["type"] == "http.disconnect":
                return 499
            size += len(message.get("body", b""))
            if size <= limit:
                chunks.append(message.get("body", b""))
            if not message.get("more_body"):
                break
        if size > limit:  # read to the end, so the client reads the answer
            await self._plain(send, errors.PayloadTooLarge(too_large))
            return 413
        return b"".join(chunks)

    # -- answers made here ----------------------------------------------------------------

    def _remember(self, key: tuple[Any, ...], build_id: str, response: Any) -> None:
        headers = dict(response.headers)
        etag = headers.get(b"etag")
        max_age = _MAX_AGE.search(headers.get(b"cache-control", b""))
        if etag and max_age and b"public" in headers.get(b"cache-control", b""):
            body = b"".join(response.chunks)
            self.cache.put(key, build_id, int(max_age.group(1)), etag, response.headers, body)

    async def _send_hit(
        self, hit: tuple[bytes, list[Any], bytes], if_none_match: bytes | None, send: Any
    ) -> tuple[int, int]:
        etag, headers, body = hit
        if if_none_match is not None and _matches(if_none_match, etag):
            kept = [(k, v) for k, v in headers if k not in (b"content-type", b"content-length")]
            await send({"type": "http.response.start", "status": 304, "headers": kept})
            await send({"type": "http.response.body", "body": b""})
            return 304, 0
        await send({"type": "http.response.start", "status": 200, "headers": headers})
        await send({"type": "http.response.body", "body": body})
        return 200, len(body)

    async def _refuse(
        self, scope: dict[str, Any], headers: dict[bytes, bytes], send: Any, refusal: Refusal
    ) -> tuple[int, int]:
        """429 in the app's error shape, JSON or plain text as the client prefers (no HTML
        page: a client over its share gets the cheapest answer that says why)."""
        metrics.rate_limited(refusal.limit)
        exc = errors.TooManyRequests(refusal.message)
        if _wants_json(scope["path"], headers.get(b"accept")):
            body = json.dumps(
                {"error": {"status": exc.status, "title": exc.title, "message": exc.message}}
            ).encode()
            media = b"application/json"
        else:
            body = f"{exc.status} {exc.title}: {exc.message}\n".encode()
            media = b"text/plain; charset=utf-8"
        out = [
            (b"content-type", media),
            (b"content-length", str(len(body)).encode()),
            (b"retry-after", str(refusal.retry_after).encode()),
            (b"cica-kg-limit", refusal.limit.encode()),
            (b"access-control-allow-origin", b"*"),
            (b"access-control-expose-headers", b"Retry-After, CICA-KG-Limit"),
        ]
        await send({"type": "http.response.start", "status": 429, "headers": out})
        await send({"type": "http.response.body", "body": body})
        return 429, len(body)

    @staticmethod
    async def _plain(send: Any, exc: errors.CicaError) -> None:
        """A refusal before the request was read whole, in plain text; the connection
        closes after it."""
        body = f"{exc.status} {exc.title}: {exc.message}\n".encode()
        await send(
            {
                "type": "http.response.start",
                "status": exc.status,
                "headers": [
                    (b"content-type", b"text/plain; charset=utf-8"),
                    (b"connection", b"close"),
                    (b"content-length", str(len(body)).encode()),
                ],
            }
        )
        await send({"type": "http.response.body", "body": body})

    # -- start and stop -------------------------------------------------------------------

    async def _lifespan(self, receive: Any, send: Any) -> None:
        while True:
            message = await receive()
            if message["type"] == "lifespan.startup":
                # SIGUSR2 prints every thread's stack (diagnosing a stuck worker).
                faulthandler.register(signal.SIGUSR2, all_threads=True)
                self.engine.pool.start()  # the query processes, before the first request
                await send({"type": "lifespan.startup.complete"})
            elif message["type"] == "lifespan.shutdown":
                self.executor.shutdown(wait=False, cancel_futures=True)
                self.engine.close()
                if self.share is not None:
                    self.share.close()
                await send({"type": "lifespan.shutdown.complete"})
                return


def _wants_json(path: str, accept: bytes | None) -> bool:
    """As web/errors.py chooses: .json paths, or JSON preferred over HTML in Accept."""
    if path.endswith(".json"):
        return True
    best, best_q = "text", 0.0
    for media, q in parse_accept(accept.decode("latin1") if accept else None):
        kind = (
            "json"
            if media in ("application/json", "application/sparql-results+json")
            else "html"
            if media == "text/html"
            else None
        )
        if kind and q > best_q:
            best, best_q = kind, q
    return best == "json"


def _matches(if_none_match: bytes, etag: bytes) -> bool:
    """Weak comparison (RFC 9110), as responses.matches does for the app."""
    if if_none_match.strip() == b"*":
        return True
    wanted = etag.removeprefix(b"W/").strip(b'"')
    return any(
        tag.strip().removeprefix(b"W/").strip(b'"') == wanted for tag in if_none_match.split(b",")
    )
