"""A run directory's JSON files, named once and read back as the objects they must be: run.json (what a report or
status needs to read the run later) and summary.json (what the run counted)."""

from __future__ import annotations

import json
import typing
from collections.abc import Collection
from pathlib import Path
from typing import Any

from amiscen.errors import UsageError

RUN_FILE = "run.json"
SUMMARY_FILE = "summary.json"


class DamagedRunFile(UsageError):
    """A run file that is not JSON, not an object, or lacks what its reader needs."""


def read_run_json(path: Path, keys: Collection[str], hint: str | None = None) -> dict[str, Any]:
    """The JSON object in ``path``, holding every one of ``keys``; else DamagedRunFile naming the path and what is
    wrong ("PATH: damaged, not JSON (...)", "PATH: damaged, lacks KEY, KEY")."""
    try:
        data = json.loads(path.read_text(encoding="utf-8"))
    except (ValueError, UnicodeDecodeError) as exc:
        raise DamagedRunFile(f"{path}: damaged, not JSON ({exc})", hint=hint) from None
    missing = [k for k in keys if not isinstance(data, dict) or k not in data]
    if missing or not isinstance(data, dict):
        raise DamagedRunFile(f"{path}: damaged, lacks {', '.join(missing) or 'a JSON object'}", hint=hint)
    return typing.cast(dict[str, Any], data)
