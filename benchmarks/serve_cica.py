"""The `cica-kg serve` web app (same uvicorn configuration, same front and Flask app) on an already
built store, without the CLI's load-and-validate-before-serving step: what a deployment that
builds in CI and serves the result runs. Cold start of the real CLI is measured too."""

from __future__ import annotations

import argparse
from pathlib import Path

from cica_kg.settings import Settings
from cica_kg.web.server import serve


def main() -> None:
    ap = argparse.ArgumentParser()
    ap.add_argument("--store", type=Path, required=True)
    ap.add_argument("--port", type=int, required=True)
    ap.add_argument("--workers", type=int, default=2)
    ap.add_argument("--threads", type=int, default=8)
    a = ap.parse_args()
    settings = Settings.from_env(
        store=a.store, host="127.0.0.1", port=a.port, workers=a.workers, threads=a.threads
    )
    serve(settings)


if __name__ == "__main__":
    main()
