"""The layering DESIGN.md asks for, checked on the source: who may import whom."""

from __future__ import annotations

import ast
from pathlib import Path

import pytest

PACKAGE = Path(__file__).resolve().parent.parent / "amiscen"


def _imports(module: Path) -> set[str]:
    tree = ast.parse(module.read_text(encoding="utf-8"))
    found: set[str] = set()
    for node in ast.walk(tree):
        if isinstance(node, ast.Import):
            found |= {alias.name for alias in node.names}
        elif isinstance(node, ast.ImportFrom) and node.module:
            found.add(node.module)
    return found


def _layer(package: str) -> dict[Path, set[str]]:
    return {p: _imports(p) for p in (PACKAGE / package).rglob("*.py")}


@pytest.mark.parametrize(
    ("package", "forbidden"),
    [
        ("runner", "amiscen.gateway"),
        ("gateway", "amiscen.runner"),
        ("scenario", "amiscen.sep"),
        ("sep", "amiscen.scenario"),
        ("sep", "amiscen.runner"),
        ("sep", "amiscen.gateway"),
        ("compile", "amiscen.sep"),
        ("probe", "amiscen.gateway"),
        ("probe", "amiscen.play"),
    ],
)
def test_forbidden_imports(package: str, forbidden: str) -> None:
    offenders = {
        str(p.relative_to(PACKAGE))
        for p, names in _layer(package).items()
        if any(n == forbidden or n.startswith(forbidden + ".") for n in names)
    }
    assert offenders == set()


def test_only_the_transport_imports_an_http_client_library_and_tenacity() -> None:
    """The meters' one transport boundary: the retry policy, and any HTTP client library, imported there and
    nowhere else (the meters speak http.client there since issue #16; requests and urllib3 are not used)."""
    users = {
        str(p.relative_to(PACKAGE))
        for p in PACKAGE.rglob("*.py")
        if {n.split(".")[0] for n in _imports(p)} & {"requests", "urllib3", "httpx", "tenacity"}
    }
    assert users == {"runner/transport.py"}


def test_only_the_figures_import_matplotlib() -> None:
    """matplotlib is an optional extra: one module draws, and it is imported only when a report is written."""
    users = {
        str(p.relative_to(PACKAGE))
        for p in PACKAGE.rglob("*.py")
        if "matplotlib" in {n.split(".")[0] for n in _imports(p)}
    }
    assert users == {"report/figures.py"}


def test_only_the_locustfile_imports_locust_and_gevent() -> None:
    """Locust patches its process with gevent on import: nothing else may import it, the CLI included."""
    users = {
        str(p.relative_to(PACKAGE))
        for p in PACKAGE.rglob("*.py")
        if {n.split(".")[0] for n in _imports(p)} & {"locust", "gevent"}
    }
    assert users == {"scale/locustfile.py"}
