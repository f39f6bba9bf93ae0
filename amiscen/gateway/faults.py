"""Faults the embedded head-end plays on its own simulated clock: outages (connections closed before the TLS
handshake), bursts of 5xx/429 with Retry-After, and added latency."""

from __future__ import annotations

import random
import threading
from dataclasses import dataclass
from typing import Literal


@dataclass(frozen=True)
class FaultWindow:
    kind: Literal["outage", "http_errors", "latency"]
    start: float
    end: float
    status: int = 503
    share: float = 1.0
    retry_after: int | None = None
    delay: float = 0.0
    jitter: float = 0.0

    def covers(self, t: float) -> bool:
        return self.start <= t < self.end


class FaultPlan:
    """Which faults are in force at a simulated time; draws are seeded so a run is reproducible."""

    def __init__(self, windows: list[FaultWindow], seed: int = 0) -> None:
        self.windows = windows
        self._random = random.Random(seed)
        self._lock = threading.Lock()

    def outage(self, t: float) -> bool:
        return any(w.kind == "outage" and w.covers(t) for w in self.windows)

    def error(self, t: float) -> FaultWindow | None:
        for w in self.windows:
            if w.kind == "http_errors" and w.covers(t):
                with self._lock:
                    if self._random.random() < w.share:
                        return w
        return None

    def delay(self, t: float) -> float:
        total = 0.0
        for w in self.windows:
            if w.kind == "latency" and w.covers(t):
                with self._lock:
                    total += w.delay + self._random.uniform(0, w.jitter)
        return total
