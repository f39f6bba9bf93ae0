"""The embedded head-end in a process of its own, so that it and the fleet each have a core (issue #16: in one
process they shared one GIL, and the head-end's half of a campus run waited on the meters' half and back).

The process serves exactly what ``embedded.serve`` serves: the same head-end (``open_headend``, served by
``serve_on_loopback``) and notifier, from the same settings. Its clock follows the fleet's (``SimClock.share``):
in fast pace the simulated time the fleet has reached, otherwise the same anchor on the machine's monotonic clock.
The parent talks to it over a channel: ``check`` runs one round of Notifications (fast pace, at each moment an
event changes, while the fleet waits, as ``Notifier.at_changes`` does in one process), ``stop`` stops it and
answers with what only it counted. If the parent goes away, the channel closes and the head-end stops.

The process is a new interpreter running this module (``python -m amiscen.play.headend_process``), handed a
socket for the channel and the file holding the clock: not multiprocessing, whose spawn and fork server run the
parent's main script again in the child (a user's script that calls ``play()`` would start a second run), and
not a fork of a process that may have threads.
"""

from __future__ import annotations

import contextlib
import mmap
import os
import signal
import socket
import subprocess
import sys
import tempfile
import threading
import time
import traceback
import weakref
from collections.abc import Callable
from dataclasses import dataclass, field
from multiprocessing.connection import Connection
from pathlib import Path
from typing import Any

from amiscen.clock import ClockMirror, FollowingClock, Pace, SimClock
from amiscen.errors import AmiscenError
from amiscen.gateway.app import HeadendConfig, open_headend
from amiscen.gateway.faults import FaultPlan, FaultWindow
from amiscen.gateway.notify import Notifier, at_changes
from amiscen.gateway.server import serve_on_loopback
from amiscen.gateway.tls import notification_context
from amiscen.gateway.utility import UtilityEvent
from amiscen.pki.layout import Layout
from amiscen.sep.xsd import SchemaValidator

START_TIMEOUT_S = 120.0  # a start that takes this long has failed (a busy machine starts it in about a second)
STOP_TIMEOUT_S = 60.0


@dataclass(frozen=True)
class HeadendSpec:
    """Everything the process builds its head-end from (picklable: it crosses to the process)."""

    db: Path
    config: HeadendConfig
    events: list[UtilityEvent]
    layout: Layout
    tls_version: str
    ciphers: list[str]
    pace: Pace
    xsd: Path | None = None
    fault_windows: list[FaultWindow] = field(default_factory=list)
    fault_seed: int = 0
    notifications: bool = False  # send Notifications to the meters' subscriptions
    slots: dict[str, int] = field(default_factory=dict)  # meter id -> its slot for its own time (fast pace)


@dataclass(frozen=True)
class Stopped:
    """What the head-end counted that is not in its database."""

    schema_invalid: int
    notifications_sent: int
    notifications_failed: int
    cpu_seconds: float  # the process's own, user and system, from its start


class HeadendError(RuntimeError):
    """The head-end's process failed; the message carries its traceback."""


class HeadendGone(AmiscenError):
    """The head-end's process ended while the run played (killed, or failed: its traceback is on stderr)."""


class HeadendProcess:
    """Start with ``start()``; ``url`` is where it listens (loopback, a free port); ``stop()`` always."""

    def __init__(self, spec: HeadendSpec, clock: SimClock) -> None:
        self.spec = spec
        self._clock_file = tempfile.TemporaryFile()  # noqa: SIM115 - held open for the process's life
        size = ClockMirror.size(len(spec.slots))
        self._clock_file.truncate(size)
        self._memory = mmap.mmap(self._clock_file.fileno(), size)
        self.mirror = ClockMirror(self._memory)
        clock.share(self.mirror)
        self._conn: Connection | None = None
        self._process: subprocess.Popen[bytes] | None = None
        self._lock = threading.Lock()  # one exchange on the channel at a time
        self.url = ""
        self.stopped: Stopped | None = None

    def start(self) -> HeadendProcess:
        mine, theirs = socket.socketpair()
        with mine, theirs:
            fds = [theirs.fileno(), self._clock_file.fileno()]
            self._process = subprocess.Popen(
                [sys.executable, "-m", __name__, *map(str, fds)], pass_fds=fds, stdin=subprocess.DEVNULL
            )
            self._conn = Connection(os.dup(mine.fileno()))
        # dropped without stop() (a run that failed before it played, or the interpreter's exit): the channel
        # closes, and the process stops as when its parent goes away
        self._abandoned = weakref.finalize(self, _abandon, self._conn, self._process)
        self._conn.send(self.spec)
        kind, value = self._answer(START_TIMEOUT_S, "start")
        if kind == "refused":
            self._end()
            message, hint, exit_code = value
            refused = AmiscenError(message, hint=hint)
            refused.exit_code = exit_code
            raise refused
        if kind != "ready":
            self._end()
            raise HeadendError(f"the embedded head-end did not start:\n{value}")
        self.url = str(value)
        return self

    def check_notifications(self) -> int:
        """One round of Notifications in the head-end's process; how many it sent."""
        assert self._conn is not None
        with self._lock:
            kind, value = self._ask(("check",), None, "a round of notifications")
        if kind != "checked":
            raise HeadendError(f"the embedded head-end failed a round of notifications:\n{value}")
        return int(value)

    def at_changes(self, times: list[int]) -> Callable[[float], None]:
        """``Notifier.at_changes`` across the process boundary."""
        return at_changes(times, self.check_notifications)

    def ended(self) -> HeadendGone | None:
        """While a run plays: the process gone before it was told to stop (killed by the out-of-memory killer or by
        hand, or failed: its traceback is on stderr), as the error that stops the run; None while it serves."""
        if self._process is None or self.stopped is not None or self._process.poll() is None:
            return None
        code = self._process.returncode
        how = f"was killed by {_signal_name(-code)}" if code < 0 else f"ended with exit code {code}"
        hint = "what the meters queued is kept: `amiscen run SCENARIO --run-dir DIR --resume` continues the run"
        if code == -signal.SIGKILL:
            hint = "SIGKILL is what the out-of-memory killer sends (see `dmesg`); " + hint
        return HeadendGone(f"the embedded head-end's process {how} while the run played: the run stopped", hint=hint)

    def stop(self) -> Stopped:
        """Stop serving (requests in flight finish), close the store; what it counted. Idempotent."""
        if self.stopped is not None:
            return self.stopped
        assert self._conn is not None
        try:
            with self._lock:
                kind, value = self._ask(("stop",), STOP_TIMEOUT_S, "stop")
            if kind != "stopped":
                raise HeadendError(f"the embedded head-end failed to stop:\n{value}")
            self.stopped = value
        finally:
            self._end()
        return value

    def _end(self) -> None:
        assert self._process is not None and self._conn is not None
        self._abandoned.detach()
        try:
            self._process.wait(STOP_TIMEOUT_S)
        except subprocess.TimeoutExpired:
            self._process.kill()
            self._process.wait()
        self._conn.close()
        self._memory.close()
        self._clock_file.close()

    def _ask(self, command: tuple[str], timeout: float | None, doing: str) -> tuple[str, Any]:
        assert self._process is not None and self._conn is not None
        try:
            self._conn.send(command)
        except OSError:  # it is gone (its own stderr has said why)
            return "error", f"its process ended (exit code {self._process.wait()}) before {doing}"
        return self._answer(timeout, doing)

    def _answer(self, timeout: float | None, doing: str) -> tuple[str, Any]:
        """The process's answer; its death or silence become an error naming what it was doing."""
        assert self._process is not None and self._conn is not None
        while not self._conn.poll(1.0 if timeout is None else min(timeout, 1.0)):
            if self._process.poll() is not None:
                return "error", f"its process ended (exit code {self._process.returncode}) during {doing}"
            if timeout is not None:
                timeout -= 1.0
                if timeout <= 0:
                    return "error", f"no answer during {doing}"
        try:
            answer: tuple[str, Any] = self._conn.recv()
        except (EOFError, OSError):
            return "error", f"its process ended (exit code {self._process.wait()}) during {doing}"
        return answer


def _signal_name(number: int) -> str:
    try:
        return f"{signal.Signals(number).name} (signal {number})"
    except ValueError:
        return f"signal {number}"


def _abandon(conn: Connection, process: subprocess.Popen[bytes]) -> None:
    conn.close()
    try:
        process.wait(STOP_TIMEOUT_S)
    except subprocess.TimeoutExpired:
        process.kill()
        process.wait()


def main(channel: int, clock_fd: int) -> None:
    """The head-end's process: build, serve, answer the parent until it says stop (or goes away)."""
    signal.signal(signal.SIGINT, signal.SIG_IGN)  # Ctrl-C is the parent's to handle; it stops this process
    conn = Connection(channel)
    memory = mmap.mmap(clock_fd, 0)
    try:
        spec: HeadendSpec = conn.recv()
        headend = open_headend(
            spec.db,
            FollowingClock(ClockMirror(memory), spec.pace, spec.slots),
            spec.config,
            spec.events,
            SchemaValidator(spec.xsd) if spec.xsd else None,
            FaultPlan(spec.fault_windows, seed=spec.fault_seed),
        )
        server = serve_on_loopback(headend, spec.layout, spec.tls_version, spec.ciphers)
        notifier = Notifier(headend, notification_context(spec.layout)) if spec.notifications else None
        if notifier is not None and spec.pace.factor is not None:
            notifier.start()  # realtime and Nx: at every accepted write and once a second, on its own thread
    except AmiscenError as exc:  # the user's to fix (a damaged crl.pem, a database it cannot write): told as such
        conn.send(("refused", (exc.message, exc.hint, exc.exit_code)))
        return
    except Exception:
        conn.send(("error", traceback.format_exc()))
        return
    conn.send(("ready", server.url))
    while True:
        try:
            command = conn.recv()
        except (EOFError, OSError):  # the parent is gone: stop as it would have asked
            command = ("stop",)
        try:
            if command[0] == "check":
                conn.send(("checked", notifier.check(time.monotonic()) if notifier is not None else 0))
                continue
            if notifier is not None:
                notifier.stop()
            server.stop()
            stopped = Stopped(
                headend.schema_invalid,
                notifier.sent if notifier is not None else 0,
                notifier.failed if notifier is not None else 0,
                time.process_time(),
            )
            headend.store.close()
        except Exception:
            _send(conn, ("error", traceback.format_exc()))
            return
        _send(conn, ("stopped", stopped))
        return


def _send(conn: Any, message: tuple[str, Any]) -> None:
    with contextlib.suppress(OSError):  # the parent is gone
        conn.send(message)


if __name__ == "__main__":  # run as the module itself, so what it sends back unpickles as this module's classes
    from amiscen.play import headend_process

    headend_process.main(int(sys.argv[1]), int(sys.argv[2]))
