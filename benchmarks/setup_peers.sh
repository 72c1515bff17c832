#!/bin/sh
# The peers and the load client for the benchmarks: rdflib-endpoint in its own venv (never
# the project's), and wrk from Debian (the harness falls back to a Python client without it).
# oxigraph (the server) comes with the project's test extra (.venv/bin/oxigraph).
set -e
cd "$(dirname "$0")"
python3 -m venv .venv-peers
.venv-peers/bin/pip install --quiet rdflib-endpoint uvicorn
.venv-peers/bin/pip list 2>/dev/null | grep -i -E "rdflib|uvicorn|fastapi"
if ! command -v wrk >/dev/null; then
  if [ "$(id -u)" = 0 ]; then apt-get install -y -qq wrk; else sudo apt-get install -y -qq wrk; fi
fi
wrk --version 2>&1 | head -1 || true
