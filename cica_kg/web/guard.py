"""The HTTP protocol of the front server: uvicorn's httptools protocol with three guards
against clients that hold connections without asking anything.

- A deadline for the whole request head (request line and headers): a client that trickles
  its headers is cut off at `header_timeout` seconds (408, then the connection is closed).
  On a kept-alive connection the deadline starts with the next request's first byte;
  before that uvicorn's keep-alive timeout applies.
- A cap on the bytes of a request head (431 beyond).
- A cap on the connections one client address holds open in this worker
  (`max_connections_per_client`; 429 and close beyond). Addresses in `fair_share_exempt`
  and trusted proxies are not capped.

Nothing here reads a body: the ASGI front app (front.py) does, with its own deadline."""

from __future__ import annotations

import asyncio
from collections import Counter
from collections.abc import Callable
from typing import Any

from uvicorn.protocols.http.httptools_impl import HttpToolsProtocol

from .. import metrics
from ..settings import Settings

MAX_HEAD_BYTES = 64 * 1024


class GuardedProtocol(HttpToolsProtocol):
    """HttpToolsProtocol with a head deadline, a head size cap and a per-address cap."""

    settings: Settings | None = None  # set by front.configure in each worker
    uncapped: Callable[[str], bool] = staticmethod(lambda host: False)  # exempt, or a proxy
    open_by_client: Counter[str] = Counter()  # this worker's open connections per address

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self._head_timer: asyncio.TimerHandle | None = None
        self._head_bytes = 0
        self._in_head = False
        self._counted: str | None = None

    def connection_made(self, transport: asyncio.Transport) -> None:  # type: ignore[override]
        super().connection_made(transport)
        host = self.client[0] if self.client else ""
        settings = self.settings
        cap = settings.max_connections_per_client if settings else 0
        if host and cap > 0 and not self.uncapped(host):
            if self.open_by_client[host] >= cap:
                metrics.rate_limited("max_connections_per_client")
                self._refuse(
                    429,
                    "too many open connections from this client address "
                    f"(max_connections_per_client = {cap})",
                )
                return
            self.open_by_client[host] += 1
            self._counted = host
        self._start_head()

    def connection_lost(self, exc: Exception | None) -> None:
        self._stop_head()
        if self._counted is not None:
            self.open_by_client[self._counted] -= 1
            if self.open_by_client[self._counted] <= 0:
                del self.open_by_client[self._counted]
            self._counted = None
        super().connection_lost(exc)

    def data_received(self, data: bytes) -> None:
        if not self._in_head and (self.cycle is None or self.cycle.response_complete):
            self._start_head()  # the first bytes of the next request on this connection
        if self._in_head:
            self._head_bytes += len(data)
        super().data_received(data)
        # Still in the head after these bytes (a body in the same read does not count).
        if self._in_head and self._head_bytes > MAX_HEAD_BYTES:
            self._refuse(431, f"the request head is over {MAX_HEAD_BYTES} bytes")

    def on_headers_complete(self) -> None:
        self._stop_head()
        super().on_headers_complete()

    # -- the head deadline ----------------------------------------------------------------

    def _start_head(self) -> None:
        if self._in_head or self.transport is None or self.transport.is_closing():
            return
        timeout = self.settings.header_timeout if self.settings else 10.0
        self._in_head, self._head_bytes = True, 0
        self._head_timer = self.loop.call_later(timeout, self._head_timed_out)

    def _stop_head(self) -> None:
        self._in_head = False
        if self._head_timer is not None:
            self._head_timer.cancel()
            self._head_timer = None

    def _head_timed_out(self) -> None:
        self._head_timer = None
        if self._in_head and not self.transport.is_closing():
            self._refuse(408, "the request head did not arrive in time (header_timeout)")

    def _refuse(self, status: int, message: str) -> None:
        """A short plain-text answer, then close: the request was never read."""
        self._stop_head()
        reasons = {
            408: "Request Timeout",
            429: "Too Many Requests",
            431: "Request Header Fields Too Large",
        }
        body = f"{status} {reasons[status]}: {message}\n".encode()
        head = (
            f"HTTP/1.1 {status} {reasons[status]}\r\ncontent-type: text/plain; charset=utf-8\r\n"
            f"content-length: {len(body)}\r\nconnection: close\r\n"
        )
        if status == 429:
            head += "retry-after: 1\r\n"
        self.transport.write(head.encode() + b"\r\n" + body)
        self.transport.close()
