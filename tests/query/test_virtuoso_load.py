"""Loading is part of the product (issue 14): `cica-kg load-virtuoso` puts the exported
dumps into a Virtuoso 7, replacing the project's graphs on a reload, and `cica-kg serve
--engine` on it answers as the embedded store does."""

from __future__ import annotations

from pathlib import Path

from click.testing import CliRunner
from conftest import require_virtuoso, start_server, stop_server
from virtuoso import running

from cica_kg import canned, resources
from cica_kg.cli import cli
from cica_kg.export import export
from cica_kg.query import Engine, InlinePool
from cica_kg.settings import Settings
from cica_kg.store import current_build


def test_load_virtuoso_then_serve_it(built_settings: Settings, tmp_path: Path) -> None:
    require_virtuoso()
    info = current_build(built_settings.store)
    assert info is not None
    with running() as server:
        dumps = server.directory / "dumps"  # inside the server's DirsAllowed
        export(built_settings.store, dumps, jobs=1)
        args = ["load-virtuoso", "--dumps", str(dumps), "--isql", server.isql_path,
                "--server", f"127.0.0.1:{server.sql_port}"]  # fmt: skip
        first = CliRunner().invoke(cli, args)
        assert first.exit_code == 0, first.output
        graphs = len(info.graphs)
        assert f": {info.triples} triples in {graphs} graphs (0 graphs replaced)" in first.output
        # A reload (after a rebuild and export) replaces the graphs: nothing doubles.
        again = CliRunner().invoke(cli, args)
        assert f"{info.triples} triples in {graphs} graphs ({graphs} graphs replaced)" in (
            again.output
        )
        web = start_server(
            Settings.from_env({}, store=tmp_path / "no-store"),
            env={"CICA_KG_ENGINE": server.sparql_url},
        )
        try:
            served = web.get("/queries/members.csv", params={"date": "2015-06-01"})
            page = web.get("/id/state/KAZ", headers={"Accept": "text/html"})
        finally:
            log = stop_server(web)
        assert "queries go to the remote engine" in log
    catalogue = canned.load_catalogue(resources.queries_dir())
    engine = Engine(built_settings, pool=InlinePool())
    want = canned.run(engine, catalogue["members"], {"date": "2015-06-01"}, "csv").body
    assert served.status_code == 200 and served.content == want
    assert page.status_code == 200 and "<h1>Kazakhstan</h1>" in page.text


def test_load_virtuoso_without_dumps_says_what_to_do(tmp_path: Path) -> None:
    result = CliRunner().invoke(cli, ["load-virtuoso", "--dumps", str(tmp_path)])
    assert result.exit_code == 1
    assert (
        result.stderr
        == f"error: {tmp_path / 'cica-kg.nq'} does not exist: run `cica-kg export` first\n"
    )
