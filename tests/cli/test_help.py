"""`amiscen --help` lists every command with a whole description, within 80 columns (issue #19)."""

from __future__ import annotations

import os

from click.testing import CliRunner

from amiscen.cli.app import _register, cli


def test_help_lists_every_command_whole_within_80_columns() -> None:
    _register()
    result = CliRunner().invoke(cli, ["--help"], env={**os.environ, "COLUMNS": "80"}, terminal_width=80)
    assert result.exit_code == 0
    commands = result.output.split("Commands:", 1)[1].strip().splitlines()
    assert len(commands) == len(cli.commands) >= 11  # type: ignore[attr-defined]
    for line in commands:
        assert "..." not in line and len(line) <= 80, line
