"""Validation and the atomic build (issue 2)."""

from __future__ import annotations

import hashlib
from pathlib import Path

import pytest
from click.testing import CliRunner
from conftest import FIXTURES

from cica_kg import build as building
from cica_kg.cli import cli
from cica_kg.errors import LoadError, ValidationError
from cica_kg.settings import Settings
from cica_kg.store import BUILDS, current_build, open_current


def store_fingerprint(settings: Settings) -> tuple[str, str, str]:
    """The published build's id, directory and a hash of its full N-Quads content."""
    published = open_current(settings.store)
    import pyoxigraph as ox

    dump = published.store.dump(format=ox.RdfFormat.N_QUADS) or b""
    lines = sorted(dump.splitlines())
    return (
        published.info.build_id,
        str(published.info.path),
        hashlib.sha256(b"\n".join(lines)).hexdigest(),
    )


def test_shipped_data_validates_without_problems(data_copy: Settings) -> None:
    checked = building.check(data_copy)
    assert len(checked.files) >= 15
    assert len(checked.dataset) > 3000
    assert checked.build_id == building.pending_build_id(data_copy)


def test_build_publishes_and_is_idempotent(data_copy: Settings) -> None:
    first = building.build(data_copy)
    assert first.changed
    again = building.build(data_copy)
    assert not again.changed and again.info.build_id == first.info.build_id
    info = current_build(data_copy.store)
    assert info is not None and info.build_id == first.info.build_id
    assert sum(info.graphs.values()) == info.triples
    assert "https://w3id.org/cica-kg/graph/memberships" in info.graphs


def test_syntax_error_names_file_line_column_and_keeps_the_store(data_copy: Settings) -> None:
    building.build(data_copy)
    before = store_fingerprint(data_copy)
    broken = data_copy.data_dir / "broken.ttl"
    broken.write_bytes((FIXTURES / "syntax-error.ttl").read_bytes())
    with pytest.raises(LoadError) as caught:
        building.build(data_copy)
    assert str(caught.value).startswith(f"{broken}:7:31: ")
    assert (caught.value.line, caught.value.column) == (7, 31)
    assert store_fingerprint(data_copy) == before


def test_shape_violation_names_the_focus_node_and_keeps_the_store(data_copy: Settings) -> None:
    building.build(data_copy)
    before = store_fingerprint(data_copy)
    (data_copy.data_dir / "bad-membership.ttl").write_bytes(
        (FIXTURES / "shape-violation.ttl").read_bytes()
    )
    with pytest.raises(ValidationError) as caught:
        building.build(data_copy)
    focus = "https://w3id.org/cica-kg/id/membership/XXX"
    messages = [str(p) for p in caught.value.problems if p.focus == focus]
    assert any("needs exactly one member" in m for m in messages), messages
    assert any("needs a schema:startDate" in m for m in messages), messages
    assert store_fingerprint(data_copy) == before


def test_a_failing_write_leaves_the_published_store(data_copy: Settings, monkeypatch) -> None:
    building.build(data_copy)
    before = store_fingerprint(data_copy)
    (data_copy.data_dir / "extra.ttl").write_text(
        "<https://w3id.org/cica-kg/id/source/seed-digwatch> "
        '<http://www.w3.org/2004/02/skos/core#note> "changed"@en .\n'
    )

    def disk_full(*args, **kwargs):
        raise OSError(28, "No space left on device")

    monkeypatch.setattr(building, "_write_info", disk_full)
    with pytest.raises(OSError, match="No space left"):
        building.build(data_copy)
    assert store_fingerprint(data_copy) == before
    builds = data_copy.store / BUILDS
    assert not [p for p in builds.iterdir() if p.name.startswith(".tmp-")]


def test_old_builds_are_pruned(data_copy: Settings) -> None:
    settings = data_copy.replace(keep_builds=2)
    for i in range(4):
        (settings.data_dir / "extra.ttl").write_text(f"# revision {i}\n")
        building.build(settings)
    builds = [p for p in (settings.store / BUILDS).iterdir() if p.is_dir()]
    assert len(builds) == 2
    assert current_build(settings.store).path in builds  # type: ignore[union-attr]


def test_cli_validate_reports_position_and_exits_nonzero(data_copy: Settings) -> None:
    runner = CliRunner()
    args = ["--ontology-dir", str(data_copy.ontology_dir), "--data-dir", str(data_copy.data_dir)]
    ok = runner.invoke(cli, ["validate", *args])
    assert ok.exit_code == 0, ok.output
    assert ok.stdout.startswith("ok: ")  # the stages' progress is on stderr
    broken = data_copy.data_dir / "broken.ttl"
    broken.write_bytes((FIXTURES / "syntax-error.ttl").read_bytes())
    bad = runner.invoke(cli, ["validate", *args])
    assert bad.exit_code == 1
    assert f"error: {broken}:7:31: " in bad.output


def test_cli_build_and_stats(data_copy: Settings) -> None:
    runner = CliRunner()
    args = [
        "--store", str(data_copy.store),
        "--ontology-dir", str(data_copy.ontology_dir),
        "--data-dir", str(data_copy.data_dir),
    ]  # fmt: skip
    built = runner.invoke(cli, ["build", *args])
    assert built.exit_code == 0, built.output
    assert built.stdout.startswith("published: build ")
    stats = runner.invoke(cli, ["stats", "--store", str(data_copy.store)])
    assert stats.exit_code == 0, stats.output
    assert "https://w3id.org/cica-kg/graph/states" in stats.output
    line = next(x for x in stats.output.splitlines() if x.endswith("ontology#State"))
    assert int(line.split()[0]) == 40


def test_stats_without_a_build_says_what_to_do(tmp_path: Path) -> None:
    result = CliRunner().invoke(cli, ["stats", "--store", str(tmp_path / "none")])
    assert result.exit_code == 1
    assert "run `cica-kg build` first" in result.output


def test_forced_rebuilds_in_the_same_second_keep_a_published_build(data_copy: Settings) -> None:
    first = building.build(data_copy)
    second = building.build(data_copy, force=True)
    third = building.build(data_copy, force=True)
    assert len({first.info.path, second.info.path, third.info.path}) == 3
    current = current_build(data_copy.store)
    assert current is not None and current.path == third.info.path
    assert len(open_current(data_copy.store).store) == third.info.triples > 4000


def test_overlapping_roles_are_reported(data_copy: Settings) -> None:
    (data_copy.data_dir / "overlap.ttl").write_bytes((FIXTURES / "overlap.ttl").read_bytes())
    with pytest.raises(ValidationError) as caught:
        building.check(data_copy)
    overlaps = {
        (p.focus.rsplit("/", 1)[1], p.message.split("<")[1].split(">")[0].rsplit("/", 1)[1])
        for p in caught.value.problems
        if p.check == "overlapping-role-violation.rq"
    }
    assert overlaps == {("KAZ", "KAZ-again"), ("AZE-2024", "CHN-2025")}


@pytest.mark.parametrize(
    ("variable", "value", "message"),
    [
        ("CICA_KG_SHACL", "bogus", "CICA_KG_SHACL='bogus': use one of auto, pyshacl, sparql"),
        ("CICA_KG_PORT", "abc", "CICA_KG_PORT='abc': invalid literal for int()"),
    ],
)
def test_unreadable_setting_is_a_clear_error_before_any_work(
    data_copy: Settings, variable: str, value: str, message: str
) -> None:
    result = CliRunner().invoke(
        cli, ["build", "--store", str(data_copy.store)], env={variable: value}
    )
    assert result.exit_code == 2
    assert f"error: {message}" in result.output
    assert current_build(data_copy.store) is None  # nothing was built


def test_settings_refuse_an_unknown_shacl_validator() -> None:
    with pytest.raises(ValueError, match="use one of auto, pyshacl, sparql"):
        Settings.from_env({}, shacl="pyshcal")
    assert Settings.from_env({"CICA_KG_SHACL": "sparql"}).shacl == "sparql"
