"""A local stand-in for a remote SPARQL endpoint (Wikidata's, in production): a tiny HTTP
server on 127.0.0.1 that records every request and answers from a handler function."""

from __future__ import annotations

import sys
import threading
from collections.abc import Callable
from dataclasses import dataclass, field
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from urllib.parse import parse_qs, urlparse


@dataclass
class Recorded:
    method: str
    path: str
    headers: dict[str, str]
    query: str  # the SPARQL text, from the body or the query string


@dataclass
class Reply:
    status: int = 200
    body: bytes = b""
    content_type: str = "application/sparql-results+json"
    headers: dict[str, str] = field(default_factory=dict)
    delay: float = 0.0


Handler = Callable[[Recorded], Reply]


class _Server(ThreadingHTTPServer):
    daemon_threads = True

    def handle_error(self, request: object, client_address: object) -> None:
        # A client that gave up on a delayed reply (a timeout test) is expected: no
        # traceback on stderr, where it would land in whatever a CliRunner is capturing.
        if not isinstance(sys.exc_info()[1], ConnectionError):
            super().handle_error(request, client_address)  # type: ignore[arg-type]


class StandIn:
    def __init__(self, handler: Handler):
        self.handler = handler
        self.requests: list[Recorded] = []
        outer = self

        class _H(BaseHTTPRequestHandler):
            def _serve(self) -> None:
                length = int(self.headers.get("Content-Length") or 0)
                body = self.rfile.read(length).decode("utf-8", "replace") if length else ""
                parsed = urlparse(self.path)
                query = parse_qs(parsed.query).get("query", [""])[0]
                if body and self.headers.get("Content-Type", "").startswith(
                    "application/x-www-form-urlencoded"
                ):
                    query = parse_qs(body).get("query", [query])[0]
                elif body:
                    query = body
                rec = Recorded(self.command, parsed.path, dict(self.headers), query)
                outer.requests.append(rec)
                reply = outer.handler(rec)
                if reply.delay:
                    threading.Event().wait(reply.delay)
                self.send_response(reply.status)
                self.send_header("Content-Type", reply.content_type)
                self.send_header("Content-Length", str(len(reply.body)))
                for k, v in reply.headers.items():
                    self.send_header(k, v)
                self.end_headers()
                self.wfile.write(reply.body)

            do_GET = do_POST = _serve

            def log_message(self, *args: object) -> None:
                pass

        self.httpd = _Server(("127.0.0.1", 0), _H)
        self.port = self.httpd.server_address[1]
        self.url = f"http://127.0.0.1:{self.port}"
        self._thread = threading.Thread(target=self.httpd.serve_forever, daemon=True)

    def __enter__(self) -> StandIn:
        self._thread.start()
        return self

    def __exit__(self, *exc: object) -> None:
        self.httpd.shutdown()
        self.httpd.server_close()
