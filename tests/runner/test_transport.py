"""Retry backoff (tenacity's exponential strategy with jitter) and failure classification."""

from __future__ import annotations

from pathlib import Path

from amiscen.runner.outbox import Outbox
from amiscen.runner.transport import RetrySchedule


def test_backoff_grows_then_waits_the_longest() -> None:
    schedule = RetrySchedule(max_attempts=4, initial=1, maximum=30, multiplier=2, jitter=0, seed=1)
    assert [schedule.delay(n) for n in range(1, 6)] == [1, 2, 4, 8, 30]
    assert schedule.delay(1, retry_after=12) == 12


def test_jitter_is_bounded_and_seeded() -> None:
    a = RetrySchedule(3, 1, 60, 2, 0.5, seed=9)
    b = RetrySchedule(3, 1, 60, 2, 0.5, seed=9)
    delays = [a.delay(2) for _ in range(20)]
    assert delays == [b.delay(2) for _ in range(20)]
    assert all(2 <= d <= 2.5 for d in delays)


def test_outbox_keeps_items_until_delivered(tmp_path: Path) -> None:
    box = Outbox(tmp_path / "outbox.db")
    first = box.add("M1", "readings", None, b"<a/>", 9, 100)
    box.add("M1", "readings", None, b"<b/>", 9, 160)
    assert [i.id for i in box.due("M1", 200)] == [first, first + 1]
    box.failed(first, 300, "connect: refused")
    assert [i.id for i in box.due("M1", 200)] == [first + 1]
    box.delivered(first + 1, 200)
    assert box.pending() == (1, 9)
    box.close()
    reopened = Outbox(tmp_path / "outbox.db")  # a killed run finds its queue again
    assert [i.body for i in reopened.due("M1", 300)] == [b"<a/>"]
