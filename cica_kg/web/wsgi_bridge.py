"""Running the Flask (WSGI) app from the ASGI front: the request's body is already read in
full, so the app runs in a worker thread with no socket to wait on; the response comes back
in batches (one batch for all but large files), each sent from the event loop."""

from __future__ import annotations

import asyncio
import io
import sys
from collections.abc import Callable, Iterable, Iterator
from concurrent.futures import Executor
from dataclasses import dataclass
from typing import Any
from urllib.parse import unquote

BATCH_BYTES = 1 << 20  # how much of a streamed response one trip to a thread collects


@dataclass
class WsgiResponse:
    status: int
    headers: list[tuple[bytes, bytes]]
    chunks: list[bytes]
    rest: Iterator[bytes] | None  # more body to collect, for large (streamed) responses
    closer: Any = None  # the app's iterable, closed once the body is sent


def environ_for(scope: dict[str, Any], body: bytes, client: str) -> dict[str, Any]:
    """A WSGI environ for an ASGI HTTP scope whose body is `body`."""
    server = scope.get("server") or ("localhost", 80)
    environ: dict[str, Any] = {
        "REQUEST_METHOD": scope["method"],
        "SCRIPT_NAME": scope.get("root_path", "").encode("utf8").decode("latin1"),
        "PATH_INFO": unquote(scope["raw_path"].decode("latin1"), "latin1")
        if scope.get("raw_path")
        else scope["path"].encode("utf8").decode("latin1"),
        "QUERY_STRING": scope["query_string"].decode("latin1"),
        "SERVER_NAME": str(server[0]),
        "SERVER_PORT": str(server[1]),
        "SERVER_PROTOCOL": f"HTTP/{scope['http_version']}",
        "REMOTE_ADDR": client,
        "wsgi.version": (1, 0),
        "wsgi.url_scheme": scope.get("scheme", "http"),
        "wsgi.input": io.BytesIO(body),
        "wsgi.errors": sys.stderr,
        "wsgi.multithread": True,
        "wsgi.multiprocess": True,
        "wsgi.run_once": False,
        "CONTENT_LENGTH": str(len(body)),
    }
    for name, value in scope["headers"]:
        key = name.decode("latin1").upper().replace("-", "_")
        text = value.decode("latin1")
        if key == "CONTENT_TYPE":
            environ["CONTENT_TYPE"] = text
        elif key == "CONTENT_LENGTH":
            continue  # the body was read whole: its length is len(body)
        else:
            key = "HTTP_" + key
            environ[key] = f"{environ[key]},{text}" if key in environ else text
    return environ


def _call(app: Callable[..., Iterable[bytes]], environ: dict[str, Any]) -> WsgiResponse:
    """In a worker thread: run the app and collect the first batch of its body."""
    started: list[Any] = []

    def start_response(status: str, headers: list[tuple[str, str]], exc_info: Any = None) -> Any:
        if exc_info and started:
            raise exc_info[1].with_traceback(exc_info[2])
        started[:] = [status, headers]
        return _no_write

    result = app(environ, start_response)
    iterator = iter(result)
    chunks, rest = _batch(iterator)
    status, headers = started
    closer: Any = result
    if not rest:  # closed here, in the thread: no second trip for the common case
        closer = None
        close = getattr(result, "close", None)
        if close is not None:
            close()
    return WsgiResponse(
        int(status.split(" ", 1)[0]),
        [(k.lower().encode("latin1"), v.encode("latin1")) for k, v in headers],
        chunks,
        iterator if rest else None,
        closer,
    )


def _no_write(data: bytes) -> None:
    raise RuntimeError("the WSGI write() callable is not supported")


def _batch(iterator: Iterator[bytes]) -> tuple[list[bytes], bool]:
    """Up to BATCH_BYTES of body, and whether there may be more."""
    chunks, size = [], 0
    for chunk in iterator:
        if chunk:
            chunks.append(chunk)
            size += len(chunk)
        if size >= BATCH_BYTES:
            return chunks, True
    return chunks, False


async def call_app(
    app: Callable[..., Iterable[bytes]], environ: dict[str, Any], executor: Executor
) -> WsgiResponse:
    loop = asyncio.get_running_loop()
    return await loop.run_in_executor(executor, _call, app, environ)


async def send_response(
    response: WsgiResponse,
    send: Callable[..., Any],
    receive: Callable[..., Any],
    executor: Executor,
) -> int:
    """Send a response (collecting the rest of a large body in threads, and stopping when
    the client goes away); the bytes of body sent."""
    loop = asyncio.get_running_loop()
    sent = 0
    try:
        await send(
            {"type": "http.response.start", "status": response.status, "headers": response.headers}
        )
        rest = response.rest
        chunks = response.chunks
        gone = asyncio.ensure_future(receive()) if rest is not None else None
        while True:
            for chunk in chunks:
                await send({"type": "http.response.body", "body": chunk, "more_body": True})
                sent += len(chunk)
            if rest is None or (gone is not None and gone.done()):
                break
            chunks, more = await loop.run_in_executor(executor, _batch, rest)
            if not more:
                rest = None
        if gone is not None:
            gone.cancel()
        await send({"type": "http.response.body", "body": b"", "more_body": False})
    finally:
        close = getattr(response.closer, "close", None)
        if close is not None:
            await loop.run_in_executor(executor, close)
    return sent
