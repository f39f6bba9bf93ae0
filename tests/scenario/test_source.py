"""Files that are not scenarios at all get one clear line each, never a traceback."""

from __future__ import annotations

from pathlib import Path

import pytest

from amiscen.errors import ScenarioError
from amiscen.scenario import load_scenario


def _message(path: Path) -> str:
    with pytest.raises(ScenarioError) as caught:
        load_scenario(path)
    assert len(caught.value.diagnostics) == 1
    return caught.value.diagnostics[0].format()


def test_missing_file(tmp_path: Path) -> None:
    assert _message(tmp_path / "nope.yaml") == f"{tmp_path / 'nope.yaml'}: no such file"


def test_directory(tmp_path: Path) -> None:
    assert _message(tmp_path) == f"{tmp_path}: is a directory, not a scenario file"


def test_empty_file(tmp_path: Path) -> None:
    path = tmp_path / "empty.yaml"
    path.write_text("")
    assert _message(path) == f"{path}: is empty; a scenario needs at least schema_version, time and buildings"


def test_binary_junk(tmp_path: Path) -> None:
    path = tmp_path / "junk.yaml"
    path.write_bytes(bytes(range(256)) * 4)
    assert _message(path) == f"{path}: is a binary file, not a YAML scenario"


def test_not_utf8(tmp_path: Path) -> None:
    path = tmp_path / "latin1.yaml"
    path.write_bytes("name: caf\xe9\n".encode("latin-1"))
    assert _message(path) == f"{path}: is not UTF-8 text (byte 0xe9 at offset 9)"


def test_fifty_megabytes(tmp_path: Path) -> None:
    path = tmp_path / "huge.yaml"
    with path.open("wb") as handle:
        handle.truncate(50 * 1024 * 1024)  # sparse: no 50 MB actually written
    assert _message(path) == (
        f"{path}: is 52.4 MB; a scenario may be at most 10 MiB "
        "(describe large fleets with `count:` instead of listing every meter)"
    )


def test_deeply_nested_flow(tmp_path: Path) -> None:
    path = tmp_path / "deep.yaml"
    path.write_text("schema_version: 1\nx: " + "[" * 5000 + "]" * 5000 + "\n")
    assert _message(path) == f"{path}: is nested too deeply (more than 64 levels)"


def test_nested_beyond_limit_but_parsable(tmp_path: Path) -> None:
    path = tmp_path / "deep.yaml"
    path.write_text("schema_version: 1\nx: " + "[" * 100 + "]" * 100 + "\n")
    assert _message(path).startswith(f"{path}:2:")
    assert _message(path).endswith("is nested deeper than 64 levels")


def test_unreadable_file(tmp_path: Path) -> None:
    import os

    if os.geteuid() == 0:
        pytest.skip("root reads any file")
    path = tmp_path / "secret.yaml"
    path.write_text("schema_version: 1\n")
    path.chmod(0)
    assert _message(path) == f"{path}: cannot be read (permission denied)"


def test_start_now_is_the_moment_of_loading(tmp_path: Path) -> None:
    """`time.start: now` for realtime runs against a head-end on its own clock (issue #14)."""
    import datetime as dt

    path = tmp_path / "now.yaml"
    path.write_text(
        "schema_version: 1\ntime: {start: now, duration: 1h}\nbuildings:\n  - {name: b, type: support, count: 1}\n"
    )
    before = dt.datetime.now(dt.timezone.utc).replace(microsecond=0)
    start = load_scenario(path).scenario.time.start
    after = dt.datetime.now(dt.timezone.utc)
    assert before <= start <= after and start.microsecond == 0
