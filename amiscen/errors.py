"""One exception base for every error a user can cause or see, carrying its exit code.

Exit codes (documented in the README): 0 ok, 1 the run finished but expectations or deliveries failed,
2 invalid input or usage, 3 internal error, 130 interrupted.
"""

from __future__ import annotations

from amiscen.diagnostics import Diagnostic

EXIT_OK = 0
EXIT_FAILED = 1
EXIT_USAGE = 2
EXIT_INTERNAL = 3
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
