"""`--shard K/N`: one deterministic slice of a fleet, so a batch system (or Locust) can split a run.

Meters are dealt round-robin in the scenario's own order, so every slice gets its share of each building type,
and the N slices together are the whole fleet, each meter in exactly one."""

from __future__ import annotations

import re
from collections.abc import Sequence
from dataclasses import dataclass
from typing import TypeVar

T = TypeVar("T")


@dataclass(frozen=True)
class Shard:
    index: int  # K, from 1
    count: int  # N

    @classmethod
    def parse(cls, text: str) -> Shard:
        match = re.fullmatch(r"\s*(\d+)\s*/\s*(\d+)\s*", text)
        if not match:
            raise ValueError(f"--shard {text!r}: give K/N, e.g. 2/8 (the second of eight slices)")
        k, n = int(match.group(1)), int(match.group(2))
        if n < 1 or not 1 <= k <= n:
            raise ValueError(f"--shard {text}: K must be between 1 and N (N at least 1)")
        return cls(k, n)

    def select(self, items: Sequence[T]) -> list[T]:
        return [x for i, x in enumerate(items) if i % self.count == self.index - 1]

    def __str__(self) -> str:
        return f"{self.index}/{self.count}"
