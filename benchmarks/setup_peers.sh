#!/bin/sh
# The peer endpoint for the benchmarks, in its own venv (never the project's): rdflib-endpoint.
# oxigraph (the server) comes with the project's test extra (.venv/bin/oxigraph).
set -e
cd "$(dirname "$0")"
python3 -m venv .venv-peers
.venv-peers/bin/pip install --quiet rdflib-endpoint uvicorn
.venv-peers/bin/pip list 2>/dev/null | grep -i -E "rdflib|uvicorn|fastapi"
