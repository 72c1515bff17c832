# Two commands on a fresh machine:  `make run`  and  `make test`.
PYTHON ?= python3
VENV ?= .venv
BIN := $(VENV)/bin

.PHONY: run test test-fast lint browser virtuoso clean

$(BIN)/.installed: pyproject.toml
	$(PYTHON) -m venv $(VENV)
	$(BIN)/pip install --quiet --upgrade pip
	$(BIN)/pip install --quiet -e '.[test]'
	touch $@

# Build the store from the bundled data (if needed) and serve http://127.0.0.1:8000/sparql
run: $(BIN)/.installed
	$(BIN)/cica-kg serve

# Debian's Chromium for the browser tests (Playwright drives it; no browser download).
browser:
	@command -v chromium >/dev/null 2>&1 || { \
	  if [ "$$(id -u)" = 0 ]; then apt-get update -qq && apt-get install -y -qq chromium >/dev/null; \
	  elif command -v sudo >/dev/null 2>&1; then sudo apt-get update -qq && sudo apt-get install -y -qq chromium >/dev/null; \
	  else echo "chromium is not installed and cannot be installed here: browser tests will be skipped"; fi; }

# Debian's Virtuoso 7 for the engine conformance tests (tests/virtuoso.py starts a throwaway
# server) and for `cica-kg load-virtuoso`.
virtuoso:
	@command -v virtuoso-t >/dev/null 2>&1 || { \
	  if [ "$$(id -u)" = 0 ]; then apt-get update -qq && apt-get install -y -qq --no-install-recommends virtuoso-opensource-7-bin >/dev/null; \
	  elif command -v sudo >/dev/null 2>&1; then sudo apt-get update -qq && sudo apt-get install -y -qq --no-install-recommends virtuoso-opensource-7-bin >/dev/null; \
	  else echo "virtuoso-t is not installed and cannot be installed here: Virtuoso tests will be skipped"; fi; }

lint: $(BIN)/.installed
	$(BIN)/ruff check .
	$(BIN)/ruff format --check .
	$(BIN)/mypy cica_kg

test: $(BIN)/.installed browser virtuoso lint
	$(BIN)/pytest

# Unit tests and the tests that need no server, no browser and no long run (well under a minute).
test-fast: $(BIN)/.installed
	$(BIN)/pytest -m "not slow and not server and not browser"

clean:
	rm -rf $(VENV) build dist *.egg-info .pytest_cache .ruff_cache .mypy_cache
