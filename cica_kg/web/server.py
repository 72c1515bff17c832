"""`cica-kg serve`: uvicorn (httptools, uvloop) with the guarded protocol (guard.py) and
the ASGI front (front.py) before the Flask app, never Flask's development server.

uvicorn's process supervisor runs `workers` worker processes (also for one worker, so a
worker that dies is always replaced), pings them and restarts any that died or hangs; on
SIGTERM or SIGINT it asks each worker to stop, and a worker stops accepting, lets its
requests in flight finish (for up to query_timeout + 5 s) and exits. The per-client table
of fair share (fairshare.py) lives in /dev/shm while the server runs."""

from __future__ import annotations

import os
import uuid

import uvicorn
from uvicorn.supervisors.multiprocess import Multiprocess

from .. import logs, metrics
from ..settings import Settings
from . import fairshare
from .front import ENV, handoff
from .guard import GuardedProtocol


def config(settings: Settings) -> uvicorn.Config:
    return uvicorn.Config(
        "cica_kg.web.front:worker_app",
        factory=True,
        host=settings.host,
        port=settings.port,
        workers=max(1, settings.workers),
        http=GuardedProtocol,
        loop="uvloop",
        lifespan="on",
        access_log=False,  # the front logs each request with its client, size and time
        timeout_keep_alive=5,
        timeout_graceful_shutdown=int(settings.query_timeout) + 5,
        timeout_worker_healthcheck=10,  # a thread answers the ping; 10 s spares a busy worker
        backlog=4096,
        server_header=False,
        log_config=None,
    )


def serve(settings: Settings) -> None:
    logs.configure(settings.log_format)
    metrics.prepare_multiprocess_dir()  # before the workers start: they inherit it
    fairshare.sweep_stale()
    table = fairshare.table_path(f"{os.getpid()}-{uuid.uuid4().hex[:8]}")
    fairshare.create_table(table)
    os.environ[ENV] = handoff(settings, table)
    try:
        cfg = config(settings)
        sock = cfg.bind_socket()
        Multiprocess(cfg, sockets=[sock]).run()
    finally:
        table.unlink(missing_ok=True)
