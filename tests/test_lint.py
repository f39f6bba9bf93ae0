"""The suite also runs the linters: ruff (style, imports, bugbear) and mypy (types), configured in the repo."""

from __future__ import annotations

import re
import shutil
import subprocess
import sys
from pathlib import Path

import pytest

from .fixtures import HANG

ROOT = Path(__file__).resolve().parent.parent


def _run(*args: str) -> subprocess.CompletedProcess[str]:
    return subprocess.run(args, cwd=ROOT, capture_output=True, text=True, timeout=HANG)


def test_ruff_check() -> None:
    if shutil.which("ruff") is None:
        pytest.fail("ruff is not installed: pip install -e '.[test]'")
    result = _run("ruff", "check", "amiscen", "tests", "bench")
    assert result.returncode == 0, result.stdout + result.stderr


def test_ruff_format() -> None:
    result = _run("ruff", "format", "--check", "amiscen", "tests", "bench")
    assert result.returncode == 0, result.stdout + result.stderr


def test_mypy() -> None:
    result = _run(sys.executable, "-m", "mypy")
    assert result.returncode == 0, result.stdout + result.stderr


# A number of seconds after which a test gives up: what a busy machine can reach (issue #19: an example's test failed
# at its own 120 s limit on a loaded machine). Tests wait with HANG, a guard against a hang, or not at all.
_WALL_LIMIT = re.compile(r"(timeout=|\.wait\(|monotonic\(\) \+ )\s*\d")


def test_no_test_gives_up_after_a_wall_clock_limit() -> None:
    found = [
        f"{path.relative_to(ROOT)}:{number}: {line.strip()}"
        for path in sorted((ROOT / "tests").rglob("*.py"))
        if "build" not in path.parts
        for number, line in enumerate(path.read_text().splitlines(), 1)
        if _WALL_LIMIT.search(line) and not line.lstrip().startswith("_WALL_LIMIT")
    ]
    assert not found, "a wall-clock limit a slow machine can reach (use tests.fixtures.HANG):\n" + "\n".join(found)
