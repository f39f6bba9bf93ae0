"""Long windows computed a block of intervals at a time (issue #16): a year at 15 s is 2.1 M intervals, 17 MB an
array, and a chain of elementwise steps over whole arrays runs at the speed of memory; over a block, its
temporaries stay in the CPU's caches. Elementwise steps give the same values however the window is cut; what
runs on across intervals (a cumulative sum, a recurrence, a battery's charge) carries its state from block to
block so that it does too, bit for bit."""

from __future__ import annotations

from collections.abc import Iterator

import numpy as np

from amiscen.compile.battery import CHUNK

# intervals at a time: 8 days at 15 s, 360 KB an array; whole chunks of the battery's simulation (which is run a
# block at a time, and whose standby loss is taken per chunk)
BLOCK = 8 * CHUNK


def spans(n: int) -> Iterator[tuple[int, int]]:
    """The blocks [a, b) of a window of ``n`` intervals, in order."""
    for a in range(0, n, BLOCK):
        yield a, min(a + BLOCK, n)


class CumulativeSum:
    """``start + np.cumsum(x)`` of a series given a block at a time: the running sum is carried into the next
    block, added to its first term (the same additions in the same order as one cumulative sum)."""

    def __init__(self, start: float = 0.0) -> None:
        self.start = start
        self.sum = 0.0
        self.begun = False

    def add_to(self, block: np.ndarray) -> np.ndarray:
        """``block`` (the caller's own array) turned in place into the running sum, without ``start``."""
        if len(block):
            if self.begun:
                block[0] += self.sum
            np.cumsum(block, out=block)
            self.sum, self.begun = float(block[-1]), True
        return block

    def raw(self, x: np.ndarray) -> np.ndarray:
        """The running sum without ``start``, in a new array."""
        return self.add_to(x.copy())

    def next(self, x: np.ndarray) -> np.ndarray:
        return self.start + self.raw(x)
