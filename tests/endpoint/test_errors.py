"""The error vocabulary (issue 12): every exception the library raises is in cica_kg.errors
with its HTTP status and CLI exit code; the web renders them in one JSON shape; the CLI's one
wrapper prints them and exits with their code."""

from __future__ import annotations

import ast
import contextlib
import fcntl
import inspect
import json
import logging
from collections.abc import Iterator
from pathlib import Path

import click
import pytest
from click.testing import CliRunner, Result
from conftest import FIXTURES, REPO
from flask.testing import FlaskClient

from cica_kg import errors
from cica_kg.cli import cli
from cica_kg.cli.common import reports_errors
from cica_kg.query import Engine, InlinePool
from cica_kg.settings import Settings
from cica_kg.validate.problem import Problem
from cica_kg.web import create_app

# name: (HTTP status, title, CLI exit code, breaks an operation under way)
VOCABULARY = {
    "CicaError": (500, "Internal Server Error", 1, False),
    "BadRequest": (400, "Bad Request", 1, False),
    "QuerySyntaxError": (400, "Bad Request", 1, False),
    "ServiceRefused": (400, "Bad Request", 1, False),
    "UnknownFormatError": (400, "Bad Request", 1, False),
    "Forbidden": (403, "Forbidden", 1, False),
    "NotFound": (404, "Not Found", 1, False),
    "MethodNotAllowed": (405, "Method Not Allowed", 1, False),
    "NotAcceptable": (406, "Not Acceptable", 1, False),
    "NotAcceptableError": (406, "Not Acceptable", 1, False),
    "Busy": (409, "Conflict", 1, True),
    "RequestTimeout": (408, "Request Timeout", 1, False),
    "PayloadTooLarge": (413, "Content Too Large", 1, False),
    "UnsupportedMediaType": (415, "Unsupported Media Type", 1, False),
    "TooManyRequests": (429, "Too Many Requests", 1, False),
    "ResultTooLarge": (422, "Result Too Large", 1, False),
    "UpstreamError": (502, "Bad Gateway", 1, False),
    "RemoteError": (502, "Bad Gateway", 1, True),
    "RemoteTimeout": (504, "Gateway Timeout", 1, True),
    "PartialAnswer": (502, "Bad Gateway", 1, True),
    "EngineCannotAnswer": (501, "Not Implemented", 1, False),
    "Unavailable": (503, "Service Unavailable", 1, False),
    "QueryTimeout": (503, "Service Unavailable", 1, False),
    "NoBuildError": (503, "Service Unavailable", 1, False),
    "SettingsError": (500, "Internal Server Error", 2, False),
    "LoadError": (500, "Internal Server Error", 1, False),
    "ValidationError": (500, "Internal Server Error", 1, False),
    "CatalogueError": (500, "Internal Server Error", 1, False),
    "ShapeCompileError": (500, "Internal Server Error", 1, False),
    "ExportError": (500, "Internal Server Error", 1, True),
}


def test_every_error_says_its_status_and_exit_code() -> None:
    classes = {
        name: cls
        for name, cls in vars(errors).items()
        if inspect.isclass(cls) and issubclass(cls, errors.CicaError)
    }
    assert set(classes) == set(VOCABULARY)
    for name, cls in classes.items():
        assert (cls.status, cls.title, cls.exit_code, cls.midway) == VOCABULARY[name], name


def test_no_exception_class_outside_errors_py() -> None:
    own = set(VOCABULARY)
    found = []
    for path in sorted((REPO / "cica_kg").rglob("*.py")):
        if path.name == "errors.py" and path.parent.name == "cica_kg":
            continue
        for node in ast.walk(ast.parse(path.read_text(encoding="utf-8"))):
            if not isinstance(node, ast.ClassDef):
                continue
            for base in node.bases:
                name = base.attr if isinstance(base, ast.Attribute) else getattr(base, "id", "")
                if name in own or name.endswith(("Error", "Exception")):
                    found.append(f"{path.relative_to(REPO)}: {node.name}({name})")
    assert found == []


# ---------------------------------------------------------------------------------------
#   The web: one JSON shape
# ---------------------------------------------------------------------------------------

RAISED: dict[str, Exception] = {
    "not-found": errors.NotFound("no such thing"),
    "no-build": errors.NoBuildError(Path("/srv/store")),
    "busy": errors.Unavailable("all query processes are busy", headers={"Retry-After": "5"}),
    "catalogue": errors.CatalogueError("/srv/queries/x.rq: needs exactly one '# title:' line"),
    "fault": RuntimeError("boom"),
}
FAULT = {"status": 500, "title": "Internal Server Error",
         "message": "the server failed to answer; the fault is logged"}  # fmt: skip


@pytest.fixture()
def web(built_settings: Settings) -> FlaskClient:
    app = create_app(built_settings, engine=Engine(built_settings, pool=InlinePool()))

    def raising(name: str) -> str:
        raise RAISED[name]

    app.add_url_rule("/test-raise/<name>", "test_raise", raising)
    app.add_url_rule("/test-post-only", "test_post_only", lambda: "", methods=["POST"])
    return app.test_client()


@pytest.mark.parametrize(
    ("name", "status", "error"),
    [
        ("not-found", 404, {"status": 404, "title": "Not Found", "message": "no such thing"}),
        ("no-build", 503, {"status": 503, "title": "Service Unavailable", "message":
                           "no published build in /srv/store; run `cica-kg build` first"}),
        ("busy", 503, {"status": 503, "title": "Service Unavailable",
                       "message": "all query processes are busy"}),
        ("catalogue", 500, FAULT),  # a fault of ours: logged, its detail not shown
        ("fault", 500, FAULT),
    ],
)  # fmt: skip
def test_json_error_shape(
    web: FlaskClient,
    caplog: pytest.LogCaptureFixture,
    name: str,
    status: int,
    error: dict[str, object],
) -> None:
    with caplog.at_level(logging.ERROR, logger="cica_kg.web"):
        response = web.get(f"/test-raise/{name}", headers={"Accept": "application/json"})
    assert response.status_code == status
    assert response.mimetype == "application/json"
    doc = json.loads(response.data)
    assert doc == {"error": error}
    assert list(doc["error"]) == ["status", "title", "message"]
    assert (f"internal error on GET /test-raise/{name}" in caplog.text) == (status == 500)
    if name == "busy":
        assert response.headers["Retry-After"] == "5"


def test_werkzeug_errors_and_other_kinds_share_the_shape(web: FlaskClient) -> None:
    refused = web.get("/test-post-only", headers={"Accept": "application/json"})
    assert refused.status_code == 405 and "POST" in refused.headers["Allow"]
    error = json.loads(refused.data)["error"]
    assert (error["status"], error["title"]) == (405, "Method Not Allowed")
    text = web.get("/test-raise/not-found", headers={"Accept": "text/plain"})
    assert text.mimetype == "text/plain"
    assert text.get_data(as_text=True) == "404 Not Found: no such thing\n"


# ---------------------------------------------------------------------------------------
#   The CLI: one wrapper, exit codes
# ---------------------------------------------------------------------------------------


def invoke_raising(exc: Exception, failed: str = "", exit_code: int | None = None) -> Result:
    @click.command()
    @reports_errors(failed, exit_code)
    def command() -> None:
        raise exc

    return CliRunner().invoke(command, [])


@pytest.mark.parametrize(
    ("exc", "exit_code", "stderr"),
    [
        (errors.LoadError(Path("a.ttl"), 3, 4, "bad"), 1, "error: a.ttl:3:4: bad\n"),
        (errors.NoBuildError(Path("/s")), 1,
         "error: no published build in /s; run `cica-kg build` first\n"),
        (errors.Busy("another build is running on /s"), 1,
         "error: thing failed: another build is running on /s\n"),
        (OSError(28, "No space left on device"), 1,
         "error: thing failed: [Errno 28] No space left on device\n"),
        (errors.RemoteError("the engine at u cannot be reached"), 1,
         "error: thing failed: the engine at u cannot be reached\n"),
        (errors.SettingsError("CICA_KG_PORT='x': not a number"), 2,
         "error: CICA_KG_PORT='x': not a number\n"),
        (errors.ValidationError([Problem("c.rq", "ex:a", "is wrong"), Problem("s", "ex:b", "no")]),
         1, "error: ex:a: is wrong [c.rq]\nerror: ex:b: no [s]\n"
            "2 problem(s); nothing was published\n"),
    ],
)  # fmt: skip
def test_the_wrapper_prints_and_exits_by_the_error(
    exc: Exception, exit_code: int, stderr: str
) -> None:
    result = invoke_raising(exc, failed="thing failed")
    assert (result.exit_code, result.stdout, result.stderr) == (exit_code, "", stderr)


def test_the_wrapper_leaves_faults_alone_and_a_command_may_fix_the_exit_code() -> None:
    fault = invoke_raising(RuntimeError("a bug"))
    assert isinstance(fault.exception, RuntimeError)  # a traceback, not an "error:" line
    assert invoke_raising(errors.RemoteError("gone")).stderr == "error: gone\n"  # no context
    assert invoke_raising(errors.NotFound("x"), exit_code=2).exit_code == 2


@contextlib.contextmanager
def held(directory: Path, name: str) -> Iterator[None]:
    """The lock a build or an export takes, held as another process would."""
    directory.mkdir(parents=True, exist_ok=True)
    with open(directory / name, "w") as lock:
        fcntl.flock(lock, fcntl.LOCK_EX | fcntl.LOCK_NB)
        yield


def test_busy_locks_name_the_operation(tmp_path: Path, built_settings: Settings) -> None:
    runner, store, out = CliRunner(), tmp_path / "store", tmp_path / "out"
    with held(store, ".build.lock"):
        build = runner.invoke(cli, ["build", "--store", str(store), "--quiet"])
        serve = runner.invoke(cli, ["serve", "--store", str(store), "--quiet"])
    busy = f"another build is running on {store}"
    assert (build.exit_code, build.stderr) == (
        1, f"error: build failed, the published store is unchanged: {busy}\n")  # fmt: skip
    assert (serve.exit_code, serve.stderr) == (1, f"error: no build to serve: {busy}\n")
    with held(out, ".export.lock"):
        args = ["export", "--store", str(built_settings.store), "--out", str(out), "--jobs", "1"]
        export = runner.invoke(cli, args)
    assert (export.exit_code, export.stderr) == (
        1, f"error: export failed: another export is writing to {out}\n")  # fmt: skip


def test_exit_codes_of_the_commands(tmp_path: Path, data_copy: Settings) -> None:
    runner, none = CliRunner(), str(tmp_path / "none")
    no_build = "error: no published build; run `cica-kg build`\n"
    links = runner.invoke(cli, ["wikidata", "links", "--store", none])
    assert (links.exit_code, links.stderr) == (1, no_build)
    check = runner.invoke(cli, ["wikidata", "check", "--store", none])
    assert (check.exit_code, check.stderr) == (2, no_build)  # 1 means "differences"
    unreadable = runner.invoke(cli, ["stats", "--store", none], env={"CICA_KG_PORT": "x"})
    assert unreadable.exit_code == 2 and unreadable.stderr.startswith("error: CICA_KG_PORT='x'")
    (data_copy.data_dir / "bad.ttl").write_bytes((FIXTURES / "shape-violation.ttl").read_bytes())
    args = ["--data-dir", str(data_copy.data_dir), "--ontology-dir", str(data_copy.ontology_dir)]
    invalid = runner.invoke(cli, ["validate", *args, "--quiet"])  # errors only on stderr
    lines = invalid.stderr.splitlines()
    assert invalid.exit_code == 1 and lines[-1] == "2 problem(s); nothing was published"
    assert all(line.startswith("error: ") for line in lines[:-1]) and len(lines) == 3
