"""Shared fixtures: one store built from the shipped data per test session, the web app
over it with a test client (no server), and a real `cica-kg serve` process on a free
127.0.0.1 port. Markers (`server`, `browser`, `slow`) are set here for `make test-fast`."""

from __future__ import annotations

import contextlib
import inspect
import os
import shutil
import socket
import subprocess
import sys
import tempfile
import time
from collections.abc import Iterator
from pathlib import Path

import pyoxigraph as ox
import pytest
import requests
from flask import Flask
from flask.testing import FlaskClient
from virtuoso import Virtuoso
from virtuoso import binaries as virtuoso_binaries
from virtuoso import required as virtuoso_required
from virtuoso import running as running_virtuoso

from cica_kg import build as building
from cica_kg import resources
from cica_kg.query import Engine, InlinePool
from cica_kg.settings import Settings
from cica_kg.store import open_current
from cica_kg.web.app import create_app

REPO = Path(__file__).resolve().parent.parent
FIXTURES = Path(__file__).resolve().parent / "fixtures"
TODAY = "2026-11-23"


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


@pytest.fixture(scope="session")
def built_settings(tmp_path_factory: pytest.TempPathFactory) -> Settings:
    """Settings whose store holds a build of the shipped data."""
    settings = Settings.from_env({}, store=tmp_path_factory.mktemp("store"))
    building.build(settings)
    return settings


@pytest.fixture(scope="session")
def store(built_settings: Settings) -> ox.Store:
    return open_current(built_settings.store).store


@pytest.fixture(scope="session")
def app(built_settings: Settings) -> Iterator[Flask]:
    """The web app over the session's build, as Flask's tutorial tests it: queries run in
    this process (no server, no query processes, no time limit)."""
    engine = Engine(built_settings, InlinePool())
    yield create_app(built_settings, engine)
    engine.close()


@pytest.fixture()
def client(app: Flask) -> FlaskClient:
    return app.test_client()


@pytest.fixture()
def data_copy(tmp_path: Path) -> Settings:
    """Settings over a private copy of the ontology and data, free to break."""
    ontology, data = tmp_path / "ontology", tmp_path / "data"
    shutil.copytree(resources.ontology_dir(), ontology)
    shutil.copytree(resources.data_dir(), data)
    return Settings.from_env({}, store=tmp_path / "store", ontology_dir=ontology, data_dir=data)


def select(store: ox.Store, query: str, **bindings: ox.NamedNode | ox.Literal) -> list[dict]:
    """Rows of a SELECT over the union of all graphs, as {variable: term value}."""
    result = store.query(
        query,
        use_default_graph_as_union=True,
        substitutions={ox.Variable(k): v for k, v in bindings.items()},
    )
    return [
        {v.value: (row[v].value if row[v] is not None else None) for v in result.variables}
        for row in result
    ]


class Server:
    def __init__(self, url: str, process: subprocess.Popen, settings: Settings, log: Path):
        self.url, self.process, self.settings, self.log = url, process, settings, log

    def get(self, path: str, **kwargs) -> requests.Response:
        return requests.get(self.url + path, timeout=30, **kwargs)

    def post(self, path: str, **kwargs) -> requests.Response:
        return requests.post(self.url + path, timeout=30, **kwargs)


def start_server(settings: Settings, env: dict[str, str] | None = None, **flags) -> Server:
    port = free_port()
    args = [
        sys.executable,
        "-m",
        "cica_kg",
        "serve",
        "--store",
        str(settings.store),
        "--host",
        "127.0.0.1",
        "--port",
        str(port),
    ]
    for key, value in flags.items():  # True: a flag with no value (--quiet)
        flag = "--" + key.replace("_", "-")
        args += [flag] if value is True else [flag, str(value)]
    full_env = {**os.environ, **(env or {})}
    # The log goes to a file: a pipe nobody reads fills up and blocks the server's logging.
    log = Path(tempfile.mkstemp(prefix="cica-kg-server-", suffix=".log")[1])
    with open(log, "wb") as out:
        process = subprocess.Popen(args, env=full_env, stdout=out, stderr=subprocess.STDOUT)
    url = f"http://127.0.0.1:{port}"
    deadline = time.monotonic() + 60
    while time.monotonic() < deadline:
        if process.poll() is not None:
            raise RuntimeError(log.read_text(errors="replace"))
        try:
            if requests.get(url + "/sparql?query=ASK{}", timeout=5).status_code == 200:
                return Server(url, process, settings, log)
        except requests.ConnectionError:
            time.sleep(0.1)
    process.kill()
    raise RuntimeError("server did not start")


def stop_server(server: Server) -> str:
    """Stop the server (SIGTERM, then SIGKILL after 30 s) and return its log."""
    server.process.terminate()
    try:
        server.process.wait(timeout=30)
    except subprocess.TimeoutExpired:
        server.process.kill()
        server.process.wait()
    text = server.log.read_text(errors="replace")
    server.log.unlink(missing_ok=True)
    return text


@pytest.fixture(scope="session")
def server(built_settings: Settings) -> Iterator[Server]:
    srv = start_server(built_settings, workers=2, threads=8)
    yield srv
    stop_server(srv)


@pytest.hookimpl(hookwrapper=True)
def pytest_runtest_makereport(item: pytest.Item, call: pytest.CallInfo[None]):  # type: ignore[no-untyped-def]
    """Keep each phase's report on the test item, so fixtures can see a failure (the
    browser tests take a screenshot then)."""
    outcome = yield
    report = outcome.get_result()
    setattr(item, "rep_" + report.when, report)


OXIGRAPH = shutil.which("oxigraph") or str(Path(sys.executable).parent / "oxigraph")


@contextlib.contextmanager
def oxigraph_server(location: Path, union_default_graph: bool = True) -> Iterator[str]:
    """`oxigraph serve-read-only` on a store directory; yields its /query URL."""
    if not Path(OXIGRAPH).exists():
        pytest.fail("the `oxigraph` CLI (PyPI package oxigraph) is a test dependency")
    port = free_port()
    args = [OXIGRAPH, "serve-read-only", "--location", str(location),
            "--bind", f"127.0.0.1:{port}"]  # fmt: skip
    process = subprocess.Popen(
        args + (["--union-default-graph"] if union_default_graph else []),
        stdout=subprocess.DEVNULL,
        stderr=subprocess.DEVNULL,
    )
    url = f"http://127.0.0.1:{port}/query"
    try:
        for _ in range(100):
            try:
                requests.get(url, params={"query": "ASK {}"}, timeout=2)
                break
            except requests.ConnectionError:
                time.sleep(0.1)
        yield url
    finally:
        process.terminate()
        process.wait(timeout=10)


def require_virtuoso() -> None:
    """Skip the calling test where Virtuoso is not installed; in CI (CI=true) fail it
    instead: .ci/run installs Debian's virtuoso-opensource-7-bin."""
    if virtuoso_binaries() is None:
        if virtuoso_required():
            pytest.fail(
                "virtuoso-t / isql-vt are missing: apt-get install virtuoso-opensource-7-bin"
            )
        pytest.skip("Virtuoso is not installed (apt-get install virtuoso-opensource-7-bin)")


@pytest.fixture(scope="session")
def virtuoso() -> Iterator[Virtuoso]:
    """A running Virtuoso 7 with an empty database (tests/virtuoso.py), for the session."""
    require_virtuoso()
    with running_virtuoso() as server:
        yield server


# -- markers: `make test-fast` runs -m "not slow and not server and not browser" ----------

# What starts a server process (`cica-kg serve`, `oxigraph serve`, Virtuoso) when a test or one of
# its fixtures calls it; loopback stand-ins (tests/standin.py) are threads, not servers.
_STARTS_SERVER = ("start_server(", "oxigraph_server(", "running_virtuoso(", "require_virtuoso(")
# Tests that take over ~5 s without a server on this 2-core machine when it is busy (most
# run a full build, export or a CLI process), so that `make test-fast` stays well under a
# minute; by file name and test name, so that moving a file into a folder keeps its marks.
SLOW = {
    "test_benchmarks_smoke.py::test_harness_smallest_size",
    "test_build.py::test_a_failing_write_leaves_the_published_store",
    "test_build.py::test_cli_build_and_stats",
    "test_build.py::test_cli_validate_reports_position_and_exits_nonzero",
    "test_build.py::test_forced_rebuilds_in_the_same_second_keep_a_published_build",
    "test_build.py::test_old_builds_are_pruned",
    "test_build.py::test_shape_violation_names_the_focus_node_and_keeps_the_store",
    "test_build.py::test_syntax_error_names_file_line_column_and_keeps_the_store",
    "test_canned_queries.py::test_same_answer_on_rdflib",
    "test_errors.py::test_exit_codes_of_the_commands",
    "test_export.py::test_a_rebuild_of_the_same_data_gives_the_same_dumps",
    "test_export.py::test_remote_export_reads_turtle_and_refuses_a_graph_cut_short",
    "test_export.py::test_two_exports_are_byte_identical",
    "test_packaging.py::test_wheel_installs_and_builds_from_another_directory",
    "test_progress.py::test_build_on_a_terminal_is_redrawn",
    "test_progress.py::test_build_one_line_per_stage_with_counts",
    "test_progress.py::test_build_quiet_prints_nothing_on_stderr",
    "test_progress.py::test_export_quiet_prints_nothing_and_writes_the_same_files",
    "test_progress.py::test_validate_stdout_is_the_same_bytes_with_or_without_progress",
    "test_query_pool.py::test_slow_query_is_reniced_then_restored_and_the_process_kept",
    "test_query_pool.py::test_without_permission_to_restore_the_process_is_replaced",
    "test_resilience.py::test_builds_killed_at_random_points_leave_the_last_good_build",
    "test_shacl_sparql.py::test_messages_are_the_shapes_messages_or_pyshacls_defaults",
    "test_shacl_sparql.py::test_random_edits_give_the_same_problems_as_pyshacl",
    "test_shacl_sparql.py::test_sparql_and_pyshacl_report_the_injected_violation",
}


def _starts_server(func: object, seen: dict[object, bool]) -> bool:
    if func not in seen:
        try:
            source = inspect.getsource(func)  # type: ignore[arg-type]
        except (OSError, TypeError):
            source = ""
        seen[func] = any(call in source for call in _STARTS_SERVER)
    return seen[func]


def pytest_collection_modifyitems(config: pytest.Config, items: list[pytest.Item]) -> None:
    seen: dict[object, bool] = {}
    for item in items:
        funcs = [getattr(item, "function", None)]
        info = getattr(item, "_fixtureinfo", None)
        if info is not None:
            funcs += [d.func for defs in info.name2fixturedefs.values() for d in defs]
        if any(f is not None and _starts_server(f, seen) for f in funcs):
            item.add_marker(pytest.mark.server)
        if item.path.name == "test_browser.py":
            item.add_marker(pytest.mark.browser)
        if f"{item.path.name}::{item.name.split('[')[0]}" in SLOW:
            item.add_marker(pytest.mark.slow)
