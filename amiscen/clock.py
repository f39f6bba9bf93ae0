"""One simulated clock: the source of "now" for every meter and for the embedded head-end (DESIGN.md, Time).

Pace ``realtime`` maps simulated time 1:1 to the wall clock, ``Nx`` runs N times faster, ``fast`` jumps
straight to the next scheduled moment. The wall clock and sleeping are injected, so tests never wait.
"""

from __future__ import annotations

import contextlib
import re
import struct
import threading
import time
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from typing import Any

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
        self._mirror: ClockMirror | None = None  # where the clock is published for another process (share())

    def share(self, mirror: ClockMirror) -> None:
        """Publish this clock's time to ``mirror`` at every change from now on, for a FollowingClock in another
        process (the embedded head-end on its own core). Needs the real monotonic wall clock: it is the one clock
        both processes read."""
        if self._wall is not time.monotonic:
            raise ValueError("a shared clock runs on time.monotonic")
        with self._lock:
            self._mirror = mirror
            self._publish()

    def serving(self, meter_id: str) -> contextlib.AbstractContextManager[None]:
        """While a head-end answers ``meter_id``: the time it reads (a FollowingClock reads the meter's own)."""
        return contextlib.nullcontext()

    def _publish(self) -> None:
        if self._mirror is not None:
            self._mirror.publish(self._sim_at_anchor, self._wall_anchor)

    def anchor(self, t: float) -> None:
        """From this moment on, the simulated time is ``t`` (realtime and Nx pace: a fleet starts on time however
        long it took to build)."""
        with self._lock:
            self._sim_at_anchor = t
            self._wall_anchor = self._wall()
            self._publish()

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
                    self._publish()
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


class ClockMirror:
    """A clock's state, (simulated seconds at the anchor, monotonic seconds at the anchor), in shared memory (an
    mmap of a file both processes hold): written by one process, read by another. A sequence number, odd while a
    write is under way, lets a reader take a consistent pair without a lock between processes.

    After it, one slot per meter: the simulated time of the task the meter is running (fast pace, where meters
    run ahead of each other within a window: each request is answered at its meter's time). A slot is written
    by its meter's thread before the request and read by the head-end while answering it."""

    LAYOUT = struct.Struct("<Qdd")
    HEAD = LAYOUT.size

    def __init__(self, memory: Any) -> None:
        self._memory = memory  # an mmap (or any writable buffer) of at least size(slots) bytes
        self._seq = 0

    @classmethod
    def size(cls, slots: int) -> int:
        return cls.HEAD + 8 * slots

    def set_meter(self, slot: int, t: float) -> None:
        struct.pack_into("<d", self._memory, self.HEAD + 8 * slot, t)

    def meter(self, slot: int) -> float:
        return float(struct.unpack_from("<d", self._memory, self.HEAD + 8 * slot)[0])

    def publish(self, sim: float, wall: float) -> None:
        self._seq += 1
        struct.pack_into("<Q", self._memory, 0, self._seq)  # odd: a write is under way
        struct.pack_into("<dd", self._memory, 8, sim, wall)
        self._seq += 1
        struct.pack_into("<Q", self._memory, 0, self._seq)

    def read(self) -> tuple[float, float]:
        while True:
            seq, sim, wall = self.LAYOUT.unpack_from(self._memory, 0)
            if not seq & 1 and struct.unpack_from("<Q", self._memory, 0)[0] == seq:
                return sim, wall


class FollowingClock(SimClock):
    """The time of a SimClock in another process, read from the mirror it ``share()``s: the embedded head-end's
    clock when it runs in a process of its own. Only read (``now``); the fleet's clock is the one that moves."""

    def __init__(self, mirror: ClockMirror, pace: Pace, slots: dict[str, int] | None = None) -> None:
        """``slots``: each meter's slot in the mirror (fast pace); a request from one of them is answered at the
        time of the meter's task, not at the fleet's."""
        super().__init__(mirror.read()[0], pace)
        self._shared = mirror
        self._slots = slots or {}
        self._serving = threading.local()

    @contextlib.contextmanager
    def _serve(self, slot: int) -> Iterator[None]:
        self._serving.slot = slot
        try:
            yield
        finally:
            self._serving.slot = None

    def serving(self, meter_id: str) -> contextlib.AbstractContextManager[None]:
        slot = self._slots.get(meter_id) if self.pace.factor is None else None
        return contextlib.nullcontext() if slot is None else self._serve(slot)

    def now(self) -> float:
        slot = getattr(self._serving, "slot", None)
        if slot is not None:
            return self._shared.meter(slot)
        sim, wall = self._shared.read()
        if self.pace.factor is None:
            return sim
        return sim + (time.monotonic() - wall) * self.pace.factor

    def anchor(self, t: float) -> None:
        raise TypeError("a FollowingClock is moved by the clock it follows")

    def advance_to(self, t: float) -> None:
        raise TypeError("a FollowingClock is moved by the clock it follows")
