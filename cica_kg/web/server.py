"""`cica-kg serve`: the web app behind gunicorn (threaded workers), never Flask's
development server."""

from __future__ import annotations

import faulthandler
import signal
from typing import Any

from gunicorn.app.base import BaseApplication

from .. import logs, metrics
from ..settings import Settings

ACCESS_LOG_FORMAT = '%(h)s "%(m)s %(U)s" %(s)s %(B)s %(M)sms'


class _Server(BaseApplication):  # type: ignore[misc]
    def __init__(self, settings: Settings):
        self.settings = settings
        super().__init__()

    def load_config(self) -> None:
        s = self.settings
        options: dict[str, Any] = {
            "bind": f"{s.host}:{s.port}",
            "workers": s.workers,
            "threads": s.threads,
            "worker_class": "gthread",
            # The worker heartbeat must outlive the longest query; queries have their own limit.
            "timeout": int(max(s.query_timeout, s.service_timeout)) + 30,
            "graceful_timeout": int(s.query_timeout) + 5,
            "keepalive": 5,
            # json: the web app writes the access lines (observe.py), with more in them
            "accesslog": "-" if s.log_format == "plain" else None,
            "errorlog": "-",
            "access_log_format": ACCESS_LOG_FORMAT,
            "post_worker_init": _warm_up,
            "limit_request_line": 16384,
            "control_socket_disable": True,  # one fixed socket path would clash between servers
            "child_exit": lambda server, worker: metrics.process_ended(worker.pid),
        }
        if s.log_format == "json":
            options["logconfig_dict"] = logs.dict_config("json")
        for key, value in options.items():
            self.cfg.set(key, value)

    def load(self) -> Any:
        from .app import create_app

        return create_app(self.settings)


def _warm_up(worker: Any) -> None:
    """Start the worker's query processes before the first request arrives. SIGUSR2 makes
    a worker print every thread's stack to the error log (for diagnosing a stuck worker)."""
    faulthandler.register(signal.SIGUSR2, all_threads=True)
    app = worker.wsgi
    app.config["CICA_ENGINE"].pool.start()


def serve(settings: Settings) -> None:
    logs.configure(settings.log_format)
    metrics.prepare_multiprocess_dir()  # before the workers start: they inherit it
    _Server(settings).run()
