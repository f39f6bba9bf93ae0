"""One exception base for every error a user can cause or see, carrying its exit code.

Exit codes (documented in the README): 0 ok, 1 the run finished but expectations or deliveries failed,
2 invalid input or usage, 3 internal error, 4 the disk is full, 130 interrupted, 143 terminated.
"""

from __future__ import annotations

import errno
import sqlite3

from amiscen.diagnostics import Diagnostic

EXIT_OK = 0
EXIT_FAILED = 1
EXIT_USAGE = 2
EXIT_INTERNAL = 3
SQLITE_FULL = 13  # SQLite's "database or disk is full" (the typing stubs lack sqlite3.SQLITE_FULL)
EXIT_DISK_FULL = 4  # no space left where amiscen writes (a run directory, a head-end database, an export)
EXIT_INTERRUPTED = 130  # Ctrl-C (128 + SIGINT)
EXIT_TERMINATED = 143  # SIGTERM (128 + SIGTERM), after the same orderly stop


class AmiscenError(Exception):
    """An error meant for the user: printed without a traceback, mapped to ``exit_code``."""

    exit_code = EXIT_INTERNAL

    def __init__(self, message: str, *, hint: str | None = None) -> None:
        super().__init__(message)
        self.message = message
        self.hint = hint

    def __str__(self) -> str:
        return self.message if not self.hint else f"{self.message}\n  hint: {self.hint}"


class UsageError(AmiscenError):
    """Bad input: a scenario, a file, an option."""

    exit_code = EXIT_USAGE


class ScenarioError(UsageError):
    """A scenario that cannot be loaded or is invalid; carries every diagnostic found."""

    def __init__(self, diagnostics: list[Diagnostic], message: str | None = None) -> None:
        self.diagnostics = diagnostics
        lines = [d.format() for d in diagnostics]
        super().__init__(message or "\n".join(lines))


class RunFailed(AmiscenError):
    """The run finished but expectations or deliveries failed."""

    exit_code = EXIT_FAILED


class DiskFull(AmiscenError):
    """No space left on the disk amiscen writes to: not a bug, and nothing to retry until space is freed."""

    exit_code = EXIT_DISK_FULL


def is_disk_full(exc: BaseException) -> bool:
    """An exception that says the disk is full: ENOSPC (or EDQUOT, a quota) from a file, SQLITE_FULL from SQLite."""
    if isinstance(exc, sqlite3.Error):
        return getattr(exc, "sqlite_errorcode", None) == SQLITE_FULL
    return isinstance(exc, OSError) and exc.errno in (errno.ENOSPC, errno.EDQUOT)
