"""One simulated clock: the source of "now" for every meter and for the embedded head-end (DESIGN.md, Time).

Pace ``realtime`` maps simulated time 1:1 to the wall clock, ``Nx`` runs N times faster, ``fast`` jumps
straight to the next scheduled moment. The wall clock and sleeping are injected, so tests never wait.
"""

from __future__ import annotations

import re
import threading
import time
from collections.abc import Callable
from dataclasses import dataclass

_PACE = re.compile(r"^(?:(realtime)|(fast)|(\d+(?:\.\d+)?)x)$")


@dataclass(frozen=True)
class Pace:
    """``factor`` simulated seconds per wall second; None means as fast as possible."""

    factor: float | None

    @classmethod
    def parse(cls, text: str) -> Pace:
        match = _PACE.match(text.strip().lower())
        if not match:
            raise ValueError(f"pace must be realtime, fast or Nx such as 10x (got {text!r})")
        if match.group(1):
            return cls(1.0)
        if match.group(2):
            return cls(None)
        factor = float(match.group(3))
        if factor <= 0:
            raise ValueError("a pace of Nx needs N > 0")
        return cls(factor)

    def __str__(self) -> str:
        if self.factor is None:
            return "fast"
        return "realtime" if self.factor == 1 else f"{self.factor:g}x"


class SimClock:
    """Simulated epoch seconds. Thread-safe; in ``fast`` pace time moves only through ``advance_to``."""

    def __init__(
        self,
        start: float,
        pace: Pace,
        *,
        wall: Callable[[], float] = time.monotonic,
        sleep: Callable[[float], None] | None = None,
    ) -> None:
        self.start = start
        self.pace = pace
        self._wall = wall
        self._sleep = sleep  # None: the real one (and waits that a wake-up can cut short)
        self._lock = threading.Lock()
        self._sim_at_anchor = start
        self._wall_anchor = wall()

    def anchor(self, t: float) -> None:
        """From this moment on, the simulated time is ``t`` (realtime and Nx pace: a fleet starts on time however
        long it took to build)."""
        with self._lock:
            self._sim_at_anchor = t
            self._wall_anchor = self._wall()

    def now(self) -> float:
        with self._lock:
            if self.pace.factor is None:
                return self._sim_at_anchor
            return self._sim_at_anchor + (self._wall() - self._wall_anchor) * self.pace.factor

    def advance_to(self, t: float) -> None:
        """Move to simulated time ``t``: in fast pace at once, otherwise by sleeping until it comes."""
        if self.pace.factor is None:
            with self._lock:
                if t > self._sim_at_anchor:
                    self._sim_at_anchor = t
            return
        delay = self._wall_until(t)
        if delay > 0:
            (self._sleep or time.sleep)(delay)

    def wait_until(self, t: float, wake: threading.Event) -> None:
        """Wait until simulated ``t`` comes or ``wake`` is set, whichever is first (realtime and Nx pace). With an
        injected sleep, sleep the whole way: the injected wall clock is what moves."""
        delay = self._wall_until(t)
        if delay <= 0:
            return
        if self._sleep is None:
            wake.wait(delay)
        else:
            self._sleep(delay)

    def _wall_until(self, t: float) -> float:
        """Wall seconds until simulated ``t`` (0 in fast pace, where time moves only by ``advance_to``)."""
        return 0.0 if self.pace.factor is None else (t - self.now()) / self.pace.factor

    def lateness(self, t: float) -> float:
        """How many simulated seconds past ``t`` it is now (0 in fast pace, where nothing is ever late)."""
        return max(0.0, self.now() - t) if self.pace.factor is not None else 0.0
