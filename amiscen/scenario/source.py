"""Reading a scenario file safely: size, encoding and YAML syntax checked, every node's line:col kept."""

from __future__ import annotations

import os
import re
from dataclasses import dataclass
from datetime import datetime
from pathlib import Path
from typing import Any

from ruamel.yaml import YAML
from ruamel.yaml.comments import CommentedMap, CommentedSeq
from ruamel.yaml.error import MarkedYAMLError, YAMLError

from amiscen.diagnostics import Diagnostic

MAX_BYTES = 10 * 1024 * 1024
MAX_DEPTH = 64
MAX_NODES = 2_000_000


class SourceError(Exception):
    """The file cannot be read as a scenario at all; carries one diagnostic."""

    def __init__(self, diagnostic: Diagnostic) -> None:
        super().__init__(diagnostic.format())
        self.diagnostic = diagnostic


@dataclass(frozen=True)
class Source:
    """A parsed scenario file: the ruamel tree (positions) and the same data as plain Python (for pydantic)."""

    file: str
    tree: CommentedMap
    data: dict[str, Any]


def _fail(file: str, message: str, line: int = 0, col: int = 0) -> SourceError:
    return SourceError(Diagnostic(file, line, col, "", message))


def read_text(path: Path, display: str) -> str:
    """The file's text, or a SourceError saying in one line why it is not a scenario file."""
    if not path.exists():
        raise _fail(display, "no such file")
    if path.is_dir():
        raise _fail(display, "is a directory, not a scenario file")
    try:
        size = path.stat().st_size
        if size > MAX_BYTES:
            raise _fail(
                display,
                f"is {size / 1e6:.1f} MB; a scenario may be at most {MAX_BYTES // (1024 * 1024)} MiB "
                "(describe large fleets with `count:` instead of listing every meter)",
            )
        raw = path.read_bytes()
    except PermissionError:
        raise _fail(display, "cannot be read (permission denied)") from None
    except OSError as exc:
        raise _fail(display, f"cannot be read ({exc.strerror or exc})") from None
    if b"\x00" in raw:
        raise _fail(display, "is a binary file, not a YAML scenario")
    try:
        text = raw.decode("utf-8-sig")
    except UnicodeDecodeError as exc:
        raise _fail(display, f"is not UTF-8 text (byte 0x{raw[exc.start]:02x} at offset {exc.start})") from None
    return text


def _as_text(constructor: Any, node: Any) -> Any:
    return constructor.construct_scalar(node)


def _yaml() -> YAML:
    yaml = YAML(typ="rt")
    yaml.allow_duplicate_keys = False
    # timestamps stay text for the model to read: ruamel's own reading crashes on an impossible date
    # (2026-02-30), where the model reports it with its line and column among every other problem
    yaml.constructor.add_constructor("tag:yaml.org,2002:timestamp", _as_text)
    return yaml


def _plain(node: Any, depth: int, budget: list[int], file: str) -> Any:
    """Plain dicts, lists and scalars, with a depth and size limit (aliases can multiply a small file)."""
    budget[0] -= 1
    if budget[0] < 0:
        raise _fail(file, f"expands to more than {MAX_NODES:,} values (YAML aliases?); refusing to load it")
    if depth > MAX_DEPTH:
        line, col = _position(node)
        raise _fail(file, f"is nested deeper than {MAX_DEPTH} levels", line, col)
    if isinstance(node, dict):
        out: dict[Any, Any] = {}
        for key, value in node.items():
            if not isinstance(key, str | int | float | bool) or key is None:
                line, col = _position(node)
                raise _fail(file, "a key must be a plain name, not a list or a mapping", line, col)
            out[str(key) if not isinstance(key, str) else key] = _plain(value, depth + 1, budget, file)
        return out
    if isinstance(node, list):
        return [_plain(item, depth + 1, budget, file) for item in node]
    if isinstance(node, bool) or node is None:
        return node
    if isinstance(node, int):
        return int(node)
    if isinstance(node, float):
        return float(node)
    if isinstance(node, str):
        return str(node)
    if isinstance(node, datetime):  # ruamel's TimeStamp subclass; pydantic would drop its offset
        return datetime.fromisoformat(node.isoformat())
    return node  # dates


def _position(node: Any) -> tuple[int, int]:
    lc = getattr(node, "lc", None)
    if lc is None or lc.line is None:
        return 0, 0
    return lc.line + 1, lc.col + 1


def parse(text: str, display: str) -> Source:
    """Parse YAML text into a Source, or raise a SourceError with the position of the syntax error."""
    if not text.strip() or all(not ln.strip() or ln.lstrip().startswith("#") for ln in text.splitlines()):
        raise _fail(display, "is empty; a scenario needs at least schema_version, time and buildings")
    try:
        tree = _yaml().load(text)
    except MarkedYAMLError as exc:
        mark = exc.problem_mark or exc.context_mark
        problem = (exc.problem or exc.context or "invalid YAML").strip()
        duplicate = re.search(r'found duplicate key "(.*?)"', str(exc))
        if duplicate:
            first = exc.context_mark.line + 1 if exc.context_mark is not None else "?"
            problem = f"duplicate key '{duplicate.group(1)}' (the mapping starts at line {first})"
        line, col = (mark.line + 1, mark.column + 1) if mark is not None else (0, 0)
        raise _fail(display, f"YAML syntax error: {problem}", line, col) from None
    except YAMLError as exc:
        raise _fail(display, f"YAML syntax error: {str(exc).splitlines()[0]}") from None
    except RecursionError:
        raise _fail(display, f"is nested too deeply (more than {MAX_DEPTH} levels)") from None
    if tree is None:
        raise _fail(display, "is empty; a scenario needs at least schema_version, time and buildings")
    if not isinstance(tree, CommentedMap):
        kind = "a list" if isinstance(tree, CommentedSeq) else f"a single value ({str(tree)[:40]!r})"
        raise _fail(display, f"must be a mapping of keys such as schema_version, time, buildings (got {kind})")
    try:
        data = _plain(tree, 0, [MAX_NODES], display)
    except RecursionError:
        raise _fail(display, f"is nested too deeply (more than {MAX_DEPTH} levels)") from None
    return Source(file=display, tree=tree, data=data)


def read_source(path: Path | str) -> Source:
    """Read and parse a scenario file; the name shown in diagnostics is the path as given."""
    path = Path(path)
    display = os.fspath(path)
    return parse(read_text(path, display), display)
