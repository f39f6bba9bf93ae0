"""Problems found in user input, as data: ``file:line:col: path: message``."""

from __future__ import annotations

import difflib
from collections.abc import Iterable
from dataclasses import dataclass
from typing import Literal

Severity = Literal["error", "warning"]


@dataclass(frozen=True)
class Diagnostic:
    """One problem, located in a file. ``line`` and ``col`` are 1-based; 0 means unknown."""

    file: str
    line: int
    col: int
    path: str
    message: str
    severity: Severity = "error"

    def format(self) -> str:
        where = self.file
        if self.line:
            where += f":{self.line}:{self.col}"
        prefix = "warning: " if self.severity == "warning" else ""
        path = f"{self.path}: " if self.path else ""
        return f"{where}: {prefix}{path}{self.message}"

    def sort_key(self) -> tuple[str, int, int, str]:
        return (self.file, self.line, self.col, self.message)


def closest(word: str, choices: Iterable[str]) -> str | None:
    """The most similar choice, if any is similar enough to be a likely typo."""
    matches = difflib.get_close_matches(word, list(choices), n=1, cutoff=0.6)
    return matches[0] if matches else None


def did_you_mean(word: str, choices: Iterable[str]) -> str:
    """`` (did you mean 'x'?)`` or an empty string; very short words get none (they all look alike)."""
    if len(word) <= 3:
        return ""
    match = closest(word, choices)
    return f" (did you mean '{match}'?)" if match else ""
