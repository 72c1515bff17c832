"""The README documents what exists: every setting (with its real default and help) and
every CLI command."""

from __future__ import annotations

import click
from conftest import REPO

from cica_kg.cli import cli
from cica_kg.settings import documented

README = (REPO / "README.md").read_text(encoding="utf-8")


def test_readme_starts_with_the_two_commands() -> None:
    lines = [line.strip() for line in README.splitlines() if line.strip()]
    assert lines[2] == "make run" and lines[4] == "make test"


def test_every_setting_is_in_the_readme_with_its_default_and_help() -> None:
    for env, default, help_text in documented():
        assert f"| `{env}` | `{default}` | {help_text} |" in README, env


def test_every_cli_command_is_in_the_readme() -> None:
    def walk(group: click.Group, prefix: str) -> list[str]:
        names = []
        for name, command in group.commands.items():
            if isinstance(command, click.Group):
                names += walk(command, f"{prefix}{name} ")
            else:
                names.append(prefix + name)
        return names

    commands = walk(cli, "cica-kg ")
    assert len(commands) >= 10
    for command in commands:
        assert f"`{command}" in README, command


def test_ci_runs_exactly_the_readme_test_command() -> None:
    ci = (REPO / ".ci" / "run").read_text()
    assert "\nmake test\n" in ci
