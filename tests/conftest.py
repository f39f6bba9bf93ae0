"""Shared fixtures: the repository root, the IEEE schema (when present), golden-file regeneration."""

from __future__ import annotations

import os
from collections.abc import Iterator
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parent.parent

pytest_plugins = ["tests.fixtures"]


def pytest_addoption(parser: pytest.Parser) -> None:
    parser.addoption("--update-golden", action="store_true", help="Rewrite golden files from current output.")


@pytest.fixture
def update_golden(request: pytest.FixtureRequest) -> bool:
    return bool(request.config.getoption("--update-golden"))


# what tools write into the tree by themselves; anything else a test leaves in the repository is a test bug
_TOOL_DIRS = {".git", "__pycache__", ".pytest_cache", ".hypothesis", ".mypy_cache", ".ruff_cache", "build"}


def _tree() -> set[Path]:
    found = set()
    for path in ROOT.rglob("*"):
        parts = set(path.relative_to(ROOT).parts)
        if parts & _TOOL_DIRS or any(p.endswith(".egg-info") for p in parts) or not path.is_file():
            continue
        found.add(path.relative_to(ROOT))
    return found


@pytest.fixture(scope="session", autouse=True)
def _repository_untouched() -> Iterator[None]:
    """The suite writes nothing into the repository (certificates, runs, databases go to temporary dirs)."""
    before = _tree()
    yield
    added = sorted(str(p) for p in _tree() - before)
    if added:
        pytest.fail(f"the tests wrote into the repository: {', '.join(added[:10])}", pytrace=False)


@pytest.fixture
def repo_root(monkeypatch: pytest.MonkeyPatch) -> Path:
    """Run with the repository as the working directory, so paths in messages are short and stable."""
    monkeypatch.chdir(ROOT)
    return ROOT


def sep_xsd_path() -> Path | None:
    """The IEEE 2030.5 schema: $AMISCEN_SEP_XSD, else ../shared/sep2/sep.xsd beside the repository."""
    candidates = [os.environ.get("AMISCEN_SEP_XSD"), str(ROOT.parent / "shared" / "sep2" / "sep.xsd")]
    for candidate in candidates:
        if candidate and Path(candidate).is_file():
            return Path(candidate)
    return None


@pytest.fixture(scope="session")
def sep_xsd() -> Path:
    path = sep_xsd_path()
    if path is None:
        pytest.skip("IEEE 2030.5 schema not found (set AMISCEN_SEP_XSD or place ../shared/sep2/sep.xsd)")
    return path
