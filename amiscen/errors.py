"""One exception base for every error a user can cause or see, carrying its exit code.

Exit codes (documented in the README): 0 ok, 1 the run finished but expectations or deliveries failed,
2 invalid input or usage, 3 internal error, 4 the disk is full, 130 interrupted, 143 terminated.
"""

from __future__ import annotations

import errno
import sqlite3
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

from amiscen.diagnostics import Diagnostic

EXIT_OK = 0
EXIT_FAILED = 1
EXIT_USAGE = 2
EXIT_INTERNAL = 3
EXIT_DISK_FULL = 4  # no space left where amiscen writes (a run directory, a head-end database, an export)
EXIT_INTERRUPTED = 130  # Ctrl-C (128 + SIGINT)
EXIT_TERMINATED = 143  # SIGTERM (128 + SIGTERM), after the same orderly stop

# SQLite's result codes (the typing stubs lack sqlite3.SQLITE_FULL and the others)
SQLITE_FULL = 13  # "database or disk is full"
SQLITE_REFUSED = {3, 8, 14}  # SQLITE_PERM, SQLITE_READONLY, SQLITE_CANTOPEN: the place, not the database
SQLITE_DAMAGED = {11, 26}  # SQLITE_CORRUPT, SQLITE_NOTADB: a damaged database, a file that is none


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


def is_damaged_database(exc: BaseException) -> bool:
    """A SQLite error that says the file is damaged or is no database at all (not a lock, not a full disk)."""
    return isinstance(exc, sqlite3.Error) and getattr(exc, "sqlite_errorcode", None) in SQLITE_DAMAGED


@contextmanager
def writing(path: Path, what: str, hint: str | None = None) -> Iterator[None]:
    """Around creating or opening a path the user chose (a run directory, an export, a database): a refusal
    (permission, a read-only or missing place, a directory where a file goes) is the user's to fix, told as a
    UsageError naming the path (exit 2), not as a bug. A full disk stays a full disk (exit 4)."""
    try:
        yield
    except (OSError, sqlite3.Error) as exc:
        if is_disk_full(exc):
            raise
        if isinstance(exc, OSError):
            reason = exc.strerror or str(exc)
        elif getattr(exc, "sqlite_errorcode", None) in SQLITE_REFUSED:
            reason = str(exc)
        else:
            raise
        raise UsageError(f"{path}: cannot write {what} here ({reason})", hint=hint) from None
