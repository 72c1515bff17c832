"""Progress on stderr (cica_kg.progress): one line per stage with its counts when stderr is
not a terminal, redrawn in place when it is, nothing with --quiet; and the commands' answers
on stdout the same bytes whichever. The reporter is tested with a clock the test moves; the
commands (build, validate, export, wikidata check, the benchmark generator) on the shipped
data."""

from __future__ import annotations

import functools
import io
import json
import re
import subprocess
import sys
import time
from collections.abc import Callable, Iterator
from pathlib import Path

import pytest
from click.testing import CliRunner, Result
from conftest import start_server, stop_server
from standin import Recorded, Reply, StandIn
from wdqs import Wdqs, load_docs

from benchmarks.generate import generate
from cica_kg import build as building
from cica_kg.cli import cli
from cica_kg.cli import common as cli_common
from cica_kg.export.files import SUMS_FILE
from cica_kg.load import input_files
from cica_kg.progress import BYTES, Progress
from cica_kg.settings import Settings
from cica_kg.store import current_build

ROOT = Path(__file__).resolve().parents[2]
CLEAR = "\x1b[K"


class Clock:
    """Time as the test sets it."""

    def __init__(self) -> None:
        self.now = 0.0

    def __call__(self) -> float:
        return self.now


class Terminal(io.StringIO):
    """A stream that says it is a terminal, as sys.stderr does in an interactive shell."""

    def isatty(self) -> bool:
        return True


def frames(text: str) -> list[str]:
    """What a terminal showed, draw by draw: the text between carriage returns."""
    return text.split("\r")[1:]


# ---------------------------------------------------------------------------------------
#   The reporter
# ---------------------------------------------------------------------------------------


def test_not_a_terminal_one_line_per_stage_with_counts() -> None:
    out, clock = io.StringIO(), Clock()
    progress = Progress(out, clock=clock)
    with progress.stage("load", BYTES, "files", totals={BYTES: 3000, "files": 2}) as stage:
        clock.now = 1.0
        stage.advance(1000, {"files": 1})
        assert out.getvalue() == ""  # nothing until the stage ends
        clock.now = 2.0
        stage.advance(2000, {"files": 1})
    with progress.stage("validate", "checks", "problems") as stage:
        stage.update({"checks": 15})
        clock.now = 2.5
    with progress.stage("publish"):
        clock.now = 2.6
    progress.close()
    assert out.getvalue() == (
        "load: 3.0 kB, 2 files, 2.0 s (1.5 kB/s)\n"
        "validate: 15 checks, 0 problems, 0.5 s (30 checks/s)\n"
        "publish: 0.1 s\n"
    )


def test_a_terminal_is_redrawn_in_place_with_the_time_left() -> None:
    term, clock = Terminal(), Clock()
    progress = Progress(term, interval=0.5, tick=None, clock=clock)
    with progress.stage("generate", "triples", totals={"triples": 1000}) as stage:
        for second in (1, 2):
            clock.now = second
            stage.update({"triples": 250 * second})
            stage.update({"triples": 250 * second + 1})  # within `interval`: not drawn
        clock.now = 4.0
        stage.update({"triples": 1000})
    progress.close()
    assert frames(term.getvalue()) == [
        "generate: 0/1,000 triples, 0.0 s" + CLEAR,
        "generate: 250/1,000 triples (25%), 1.0 s (250 triples/s), ~3.0 s left" + CLEAR,
        "generate: 500/1,000 triples (50%), 2.0 s (250 triples/s), ~2.0 s left" + CLEAR,
        "generate: 1,000/1,000 triples, 4.0 s (250 triples/s)" + CLEAR,
        "generate: 1,000 triples, 4.0 s (250 triples/s)" + CLEAR + "\n",  # the final line
    ]


def test_the_time_left_counts_down_between_counts_and_runs_out() -> None:
    """One big file between two counts: the estimate made at the last count runs down, it
    does not grow with the wait (nor does it come back once run out)."""
    term, clock = Terminal(), Clock()
    progress = Progress(term, interval=0, tick=None, clock=clock)
    with progress.stage("load", BYTES, totals={BYTES: 4000}) as stage:
        clock.now = 0.5
        stage.advance(10)  # under 2 % done: no estimate yet
        assert "left" not in frames(term.getvalue())[-1]
        clock.now = 1.0
        stage.advance(990)  # 1,000 of 4,000 in 1 s: 3 s left
        assert frames(term.getvalue())[-1].endswith(", ~3.0 s left" + CLEAR)
        for now, shown in ((2.5, ", ~1.5 s left"), (4.5, " (222 B/s)")):
            clock.now = now
            progress.changed(force=True)  # as the ticker does
            assert frames(term.getvalue())[-1].endswith(shown + CLEAR)
        stage.update({BYTES: 4000})
    progress.close()


def test_no_rate_or_time_left_for_units_of_unequal_cost() -> None:
    term, clock = Terminal(), Clock()
    progress = Progress(term, interval=0, tick=None, clock=clock)
    with progress.stage("validate", "checks", totals={"checks": 10}, estimate=False) as stage:
        clock.now = 2.0
        stage.advance(5)
        assert frames(term.getvalue())[-1] == "validate: 5/10 checks (50%), 2.0 s" + CLEAR
        stage.advance(5)
    assert frames(term.getvalue())[-1] == "validate: 10 checks, 2.0 s" + CLEAR + "\n"


def test_a_terminal_shows_stages_that_overlap_on_one_line() -> None:
    term, clock = Terminal(), Clock()
    progress = Progress(term, interval=0, tick=None, clock=clock)
    writing = progress.stage("write store", "files", totals={"files": 2})
    with progress.stage("validate", "checks") as checking:
        clock.now = 1.0
        checking.advance()
        assert frames(term.getvalue())[-1] == (
            "write store: 0/2 files, 1.0 s | validate: 1 checks, 1.0 s (1 checks/s)" + CLEAR
        )
    assert frames(term.getvalue())[-2:] == [
        "validate: 1 checks, 1.0 s (1 checks/s)" + CLEAR + "\n",  # ended: its own line
        "write store: 0/2 files, 1.0 s" + CLEAR,  # still running, drawn again below it
    ]
    writing.end()
    progress.close()
    assert term.getvalue().endswith("\rwrite store: 0/2 files, 1.0 s" + CLEAR + "\n")  # short


def test_a_note_and_a_watched_file_on_a_terminal(tmp_path: Path) -> None:
    term, clock = Terminal(), Clock()
    progress = Progress(term, interval=0, tick=None, clock=clock)
    dump = tmp_path / "cica-kg.nt"
    dump.write_bytes(b"x" * 2500)  # written by a worker process, seen by its size
    with progress.stage("cica-kg.nt", BYTES, watch=dump) as stage:
        stage.note("retrying in 30 s")
        assert frames(term.getvalue())[-1] == "cica-kg.nt: 2.5 kB, 0.0 s, retrying in 30 s" + CLEAR
        stage.note("")
        stage.update({BYTES: 2500, "triples": 20})
        stage.rate_of = "triples"
        clock.now = 2.0
    assert frames(term.getvalue())[-1] == (
        "cica-kg.nt: 2.5 kB, 20 triples, 2.0 s (10 triples/s)" + CLEAR + "\n"
    )


def test_a_ticker_redraws_the_clock_while_nothing_reports() -> None:
    term = Terminal()
    with Progress(term, tick=0.02) as progress, progress.stage("write store", BYTES):
        deadline = 200
        while term.getvalue().count("\r") < 3 and deadline:  # the ticker, not the stage
            deadline -= 1
            time.sleep(0.01)
    assert term.getvalue().count("\rwrite store: 0 B, ") >= 3


def test_a_stage_stopped_by_an_error_leaves_no_line() -> None:
    out, term = io.StringIO(), Terminal()
    for stream in (out, term):
        progress = Progress(stream, tick=None)
        with pytest.raises(RuntimeError), progress.stage("validate", "checks") as stage:
            stage.advance()
            raise RuntimeError("boom")
        progress.close()
    assert out.getvalue() == ""
    assert term.getvalue().endswith("\r" + CLEAR)  # the live line is cleared, not kept
    assert "\n" not in term.getvalue()


@pytest.mark.parametrize("stream", [io.StringIO(), Terminal()], ids=["pipe", "terminal"])
def test_quiet_writes_nothing(stream: io.StringIO) -> None:
    progress = Progress(stream, quiet=True)
    with progress.stage("load", "files", totals={"files": 2}) as stage:
        stage.advance(2)
        stage.note("a note")
    progress.close()
    assert stream.getvalue() == ""
    assert stage.counts["files"].done == 2  # still counted


# ---------------------------------------------------------------------------------------
#   The commands
# ---------------------------------------------------------------------------------------


def store_args(settings: Settings) -> list[str]:
    return [
        "--store", str(settings.store),
        "--ontology-dir", str(settings.ontology_dir),
        "--data-dir", str(settings.data_dir),
    ]  # fmt: skip


@pytest.fixture()
def terminal(monkeypatch: pytest.MonkeyPatch) -> None:
    """The commands' progress as on a terminal (CliRunner's stderr is not one)."""
    monkeypatch.setattr(cli_common, "Progress", functools.partial(Progress, tty=True))


def stage_lines(result: Result) -> dict[str, str]:
    """{stage: its line} from a run's stderr, each stage once."""
    lines = result.stderr.splitlines()
    names = [line.split(": ", 1)[0] for line in lines]
    assert len(names) == len(set(names)), lines
    return dict(zip(names, lines, strict=True))


def test_build_one_line_per_stage_with_counts(data_copy: Settings) -> None:
    result = CliRunner().invoke(cli, ["build", *store_args(data_copy)])
    assert result.exit_code == 0, result.output
    info = current_build(data_copy.store)
    assert info is not None
    names = [line.split(": ", 1)[0] for line in result.stderr.splitlines()]
    assert names[0] == "read inputs" and names[-1] == "publish"
    # validation and writing the store run at the same time: either may end first
    assert sorted(names[1:-1]) == ["load", "validate", "write store"]
    turtle = input_files(data_copy.ontology_dir, data_copy.data_dir)
    inputs = building.input_paths(data_copy, turtle)
    lines = stage_lines(result)
    number = r"[\d.]+ (B|kB|MB)"
    assert re.fullmatch(
        rf"read inputs: {len(inputs)} files, {number}, \d+\.\d s", lines["read inputs"]
    )
    assert re.fullmatch(
        rf"load: {number}, {len(turtle)} files, \d+\.\d s( \([\d.]+ (kB|MB)/s\))?", lines["load"]
    )
    assert re.match(r"validate: \d+ checks, 0 problems, ", lines["validate"])
    assert f", {len(turtle)} files, {info.triples:,} triples, " in lines["write store"]
    assert re.fullmatch(r"publish: \d+\.\d s", lines["publish"])
    assert result.stdout.startswith(f"published: build {info.build_id} ")


def test_build_quiet_prints_nothing_on_stderr(data_copy: Settings) -> None:
    result = CliRunner().invoke(cli, ["build", "--quiet", *store_args(data_copy)])
    assert result.exit_code == 0, result.output
    assert result.stderr == ""
    assert result.stdout.startswith("published: build ")


def test_build_on_a_terminal_is_redrawn(data_copy: Settings, terminal: None) -> None:
    result = CliRunner().invoke(cli, ["build", *store_args(data_copy)])
    assert result.exit_code == 0, result.output
    shown = frames(result.stderr)
    assert len(shown) > 5 and all(frame.endswith((CLEAR, CLEAR + "\n")) for frame in shown)
    ended = [frame.removesuffix(CLEAR + "\n") for frame in shown if frame.endswith("\n")]
    assert [line.split(": ")[0] for line in ended][0] == "read inputs"
    assert sorted(line.split(": ")[0] for line in ended) == sorted(
        ["read inputs", "load", "validate", "write store", "publish"]
    )
    assert "\r" not in result.stdout and "\x1b" not in result.stdout


def test_validate_stdout_is_the_same_bytes_with_or_without_progress(
    data_copy: Settings, monkeypatch: pytest.MonkeyPatch
) -> None:
    args = ["validate", *store_args(data_copy)]
    quiet = CliRunner().invoke(cli, [*args, "--quiet"])
    lines = CliRunner().invoke(cli, args)
    monkeypatch.setattr(cli_common, "Progress", functools.partial(Progress, tty=True))
    redrawn = CliRunner().invoke(cli, args)
    assert quiet.exit_code == lines.exit_code == redrawn.exit_code == 0
    assert quiet.stderr == "" and lines.stderr.count("\n") == 3 and "\r" in redrawn.stderr
    assert quiet.stdout_bytes == lines.stdout_bytes == redrawn.stdout_bytes
    assert quiet.stdout.startswith("ok: ")


def test_validate_quiet_still_prints_the_errors(data_copy: Settings) -> None:
    (data_copy.data_dir / "broken.ttl").write_bytes(b"<a> <b> .\n")
    result = CliRunner().invoke(cli, ["validate", "--quiet", *store_args(data_copy)])
    assert result.exit_code == 1
    assert result.stderr.startswith(f"error: {data_copy.data_dir / 'broken.ttl'}:1:")
    assert len(result.stderr.splitlines()) == 1


def export_run(settings: Settings, out: Path, *more: str) -> Result:
    args = ["export", "--store", str(settings.store), "--out", str(out), "--jobs", "1", *more]
    result = CliRunner().invoke(cli, args)
    assert result.exit_code == 0, result.output
    return result


def test_export_one_line_per_file_with_its_triples(
    built_settings: Settings, tmp_path: Path
) -> None:
    result = export_run(built_settings, tmp_path / "dumps")
    counted = re.search(r": (\d+) triples, (\d+) quads", result.stdout)
    assert counted is not None, result.stdout
    triples, quads = int(counted[1]), int(counted[2])
    lines = stage_lines(result)
    sums = (tmp_path / "dumps" / SUMS_FILE).read_text().splitlines()
    files = [row.split()[1] for row in sums]
    assert set(lines) >= set(files)  # every file written has its line
    for name in files:
        if name.startswith(("cica-kg.nq", "cica-kg.trig")):
            assert f", {quads:,} quads, " in lines[name], lines[name]
        elif name.startswith("cica-kg."):  # the graph formats (and their .gz): triples
            assert f", {triples:,} triples, " in lines[name], lines[name]
    assert len([name for name in files if name.startswith("cica-kg.")]) == 12  # 6 and .gz
    size = (tmp_path / "dumps" / "cica-kg.ttl").stat().st_size
    assert lines["cica-kg.ttl"].startswith(f"cica-kg.ttl: {size / 1000:.1f} kB, {triples:,} ")
    assert re.match(rf"dump graphs: {quads:,} lines, \d+ graphs, ", lines["dump graphs"])
    assert lines["publish"].startswith(f"publish: {len(files) + 1} files, ")


def test_export_quiet_prints_nothing_and_writes_the_same_files(
    built_settings: Settings, tmp_path: Path
) -> None:
    loud = export_run(built_settings, tmp_path / "loud")
    quiet = export_run(built_settings, tmp_path / "quiet", "--quiet")
    assert loud.stderr and quiet.stderr == ""
    sums = [(tmp_path / d / SUMS_FILE).read_bytes() for d in ("loud", "quiet")]
    assert sums[0] == sums[1]
    seconds = re.compile(r"in \d+\.\d s")  # the one line that differs between two runs
    assert seconds.sub("", loud.stdout).replace("loud", "quiet") == seconds.sub("", quiet.stdout)


Serve = Callable[[Callable[[Recorded], Reply]], StandIn]


@pytest.fixture()
def serve() -> Iterator[Serve]:
    """Start stand-ins of the Wikidata Query Service; stopped after the test."""
    started: list[StandIn] = []

    def start(handler: Callable[[Recorded], Reply]) -> StandIn:
        started.append(StandIn(handler).__enter__())
        return started[-1]

    yield start
    for standin in started:
        standin.__exit__(None, None, None)


def wikidata_check(settings: Settings, url: str, *more: str) -> Result:
    return CliRunner().invoke(
        cli,
        ["wikidata", "check", "--store", str(settings.store), *more],
        env={"CICA_KG_WIKIDATA_ENDPOINT": url},
    )


def test_wikidata_check_reports_the_requests_and_keeps_stdout(
    built_settings: Settings, serve: Serve
) -> None:
    standin = serve(Wdqs(load_docs()))
    loud = wikidata_check(built_settings, standin.url + "/sparql")
    quiet = wikidata_check(built_settings, standin.url + "/sparql", "--quiet")
    assert loud.exit_code == quiet.exit_code == 0, loud.output
    lines = stage_lines(loud)
    assert set(lines) == {"read our graph", "ask Wikidata"}
    resources = len(json.loads(CliRunner().invoke(
        cli, ["wikidata", "links", "--store", str(built_settings.store), "-f", "json"]
    ).stdout)["resources"])  # fmt: skip
    assert lines["read our graph"].startswith(f"read our graph: {resources} resources, ")
    assert lines["ask Wikidata"].startswith("ask Wikidata: 3 queries, 3 requests, ")
    assert quiet.stderr == ""
    assert loud.stdout_bytes == quiet.stdout_bytes


def test_wikidata_retry_is_noted_on_a_terminal(
    built_settings: Settings, serve: Serve, terminal: None
) -> None:
    busy = Reply(429, b"Too Many Requests", "text/plain", headers={"Retry-After": "1"})
    standin = serve(Wdqs(load_docs(), failures=[busy]))
    result = wikidata_check(built_settings, standin.url + "/sparql")
    assert result.exit_code == 0, result.output
    assert "ask Wikidata: 0/3 queries, 1 requests, " in result.stderr
    assert ", retrying in 1 s" + CLEAR in result.stderr
    assert "\rask Wikidata: 3 queries, 4 requests, " in result.stderr
    assert "4 request(s) to Wikidata" in result.stdout


def test_generator_reports_the_triples_written(tmp_path: Path) -> None:
    out = io.StringIO()
    meta = generate(5_000, tmp_path / "data", progress=Progress(out))
    organisations = meta["entities"]["organization"]  # type: ignore[index]
    line = out.getvalue()
    assert re.fullmatch(
        rf"generate: {meta['triples']:,} triples, {organisations} organisations, \d+\.\d s"
        r"( \([\d,]+ triples/s\))?\n",
        line,
    ), line


def test_generator_quiet(tmp_path: Path) -> None:
    args = [sys.executable, "-m", "benchmarks.generate", "--triples", "2k", "--out"]
    quiet = subprocess.run(
        [*args, str(tmp_path / "a"), "--quiet"], cwd=ROOT, capture_output=True, text=True
    )
    assert quiet.returncode == 0 and quiet.stderr == ""
    loud = subprocess.run([*args, str(tmp_path / "b")], cwd=ROOT, capture_output=True, text=True)
    assert loud.returncode == 0 and loud.stderr.startswith("generate: ")
    assert json.loads(quiet.stdout)["triples"] == json.loads(loud.stdout)["triples"]


@pytest.mark.parametrize("quiet", [False, True])
def test_serve_shows_the_build_before_serving(data_copy: Settings, quiet: bool) -> None:
    """`cica-kg serve` on a store with no build builds first: the build's stages on stderr
    (one line each, not a terminal), then the serving line; with --quiet only the latter."""
    server = start_server(data_copy, **({"quiet": True} if quiet else {}))
    try:
        log = server.log.read_text(errors="replace")
    finally:
        stop_server(server)
    info = current_build(data_copy.store)
    assert info is not None
    serving = log.index("serving http://")
    stages = [line.split(": ", 1)[0] for line in log[:serving].splitlines()]
    built = f"built {info.build_id} ({info.triples} triples)"
    if quiet:
        assert stages == [built]
    else:
        assert stages[0] == "read inputs" and stages[-2:] == ["publish", built]
        assert sorted(stages[1:-2]) == ["load", "validate", "write store"]
