"""The fleet loop: in realtime pace a slow meter delays only itself; in fast pace a moment finishes before the next.

The meters here are scripted stand-ins for the scheduler only (what a task does on the wire is tested end to end);
the realtime clock is injected, so nothing waits for wall time."""

from __future__ import annotations

import errno
import threading
from collections.abc import Callable
from concurrent.futures import Future, ThreadPoolExecutor
from dataclasses import dataclass, field
from typing import Any

import pytest

from amiscen.clock import Pace, SimClock
from amiscen.errors import AmiscenError, DiskFull
from amiscen.runner import fleet as fleet_module
from amiscen.runner.events import Failed, RunEvent
from amiscen.runner.fleet import LATENESS_EDGES, Fleet, Lateness
from amiscen.runner.meter import Task

from ..fixtures import HANG


class _EmptyOutbox:
    def pending(self, meter: str | None = None) -> tuple[int, int]:
        return 0, 0


@dataclass
class Scripted:
    """A meter whose tasks are functions of (task, now) returning follow-ups."""

    id: str
    first: list[Task]
    does: Callable[[str, float], list[Task]]
    ran: list[tuple[str, float]] = field(default_factory=list)
    outbox: _EmptyOutbox = field(default_factory=_EmptyOutbox)

    def first_tasks(self, start: float) -> list[Task]:
        return self.first

    def run(self, task: str, now: float) -> list[Task]:
        self.ran.append((task, now))
        return self.does(task, now)


class FakeWall:
    def __init__(self) -> None:
        self.now = 1000.0

    def sleep(self, seconds: float) -> None:
        self.now += seconds


def _quiet(event: RunEvent) -> None:
    pass


def test_realtime_a_slow_meter_delays_only_itself() -> None:
    """Meter A is stuck in its first task until meter B's post at t=30 has run: B's posts start on time meanwhile,
    and A's post due at 15 runs after its stuck task, 15 s late, in order."""
    wall = FakeWall()
    clock = SimClock(0.0, Pace(1.0), wall=lambda: wall.now, sleep=wall.sleep)
    released = threading.Event()

    def a_does(task: str, now: float) -> list[Task]:
        if task == "connect":
            assert released.wait(HANG), "meter A was never released: B's posts waited for A"
        return []

    def b_does(task: str, now: float) -> list[Task]:
        if now >= 30:
            released.set()
            return []
        return [(now + 15, "post")]

    a = Scripted("A", [(0.0, "connect"), (15.0, "post")], a_does)
    b = Scripted("B", [(0.0, "post")], b_does)
    result = Fleet([a, b], clock, _quiet, workers=4).run(0.0, 60.0, drain=0)  # type: ignore[list-item]
    # ... and the drain's last post at the end (not counted for lateness: every meter posts at once)
    assert b.ran == [("post", 0.0), ("post", 15.0), ("post", 30.0), ("post", 60.0)]
    assert a.ran == [("connect", 0.0), ("post", 15.0), ("post", 60.0)]
    posts = result.lateness["post"]
    assert posts.n == 4
    assert posts.worst == pytest.approx(15.0)
    assert posts.counts[0] == 3  # B's three posts: on time
    assert result.lateness["connect"].worst == 0


def test_realtime_a_meters_own_tasks_never_overlap() -> None:
    """Tasks of one meter that come due while its job runs wait for it: never two jobs of one meter at once."""
    wall = FakeWall()
    clock = SimClock(0.0, Pace(1.0), wall=lambda: wall.now, sleep=wall.sleep)
    inside = threading.Semaphore(1)
    overlaps: list[float] = []

    def does(task: str, now: float) -> list[Task]:
        if not inside.acquire(blocking=False):
            overlaps.append(now)
            return []
        try:
            wall.sleep(7.0)  # the job takes 7 s: the next task (due in 5 s) comes due while it runs
        finally:
            inside.release()
        return [(now + 5, "post")] if now < 40 else []

    m = Scripted("M", [(0.0, "post")], does)
    result = Fleet([m], clock, _quiet, workers=4).run(0.0, 100.0, drain=0)  # type: ignore[list-item]
    assert overlaps == []
    assert [t for _, t in m.ran] == [0, 5, 10, 15, 20, 25, 30, 35, 40, 100]
    assert result.lateness["post"].worst > 0


def test_fast_pace_finishes_a_moment_before_the_next() -> None:
    """In fast pace a follow-up due before the next moment runs first, whatever thread ran what."""
    clock = SimClock(0.0, Pace(None))
    order: list[tuple[str, float]] = []
    lock = threading.Lock()

    def make(name: str) -> Callable[[str, float], list[Task]]:
        def does(task: str, now: float) -> list[Task]:
            with lock:
                order.append((name, now))
            if name == "A" and now == 0:
                return [(0.5, "post")]
            return []

        return does

    a = Scripted("A", [(0.0, "post")], make("A"))
    b = Scripted("B", [(1.0, "post")], make("B"))
    result = Fleet([a, b], clock, _quiet, workers=2).run(0.0, 10.0, drain=0)  # type: ignore[list-item]
    assert order[:3] == [("A", 0.0), ("A", 0.5), ("B", 1.0)]
    assert sorted(order[3:]) == [("A", 10.0), ("B", 10.0)]  # the drain's last post
    assert result.lateness == {}  # nothing is late in fast pace


@pytest.mark.parametrize("window", [0.0, 900.0])
def test_fast_pace_meters_that_first_connect_at_one_moment_connect_in_turn(
    monkeypatch: pytest.MonkeyPatch, window: float
) -> None:
    """Two meters that share a phase connect at the same moment; the head-end numbers the EndDevice each registers
    in the order they arrive, so they go one after the other, in fleet order (each job submitted only once the
    one before has ended), stepped and windowed alike; the third meter's post of that moment runs alongside."""
    log: list[str] = []
    lock = threading.Lock()

    class Recorded(ThreadPoolExecutor):
        def submit(self, fn: Callable[..., Any], /, *args: Any, **kwargs: Any) -> Future[Any]:
            with lock:
                log.append(f"submit {args[0]}")
            future = super().submit(fn, *args, **kwargs)
            result = future.result

            def logged(timeout: float | None = None) -> Any:
                value = result(timeout)
                with lock:
                    log.append(f"result {args[0]}")
                return value

            future.result = logged  # type: ignore[method-assign]
            return future

    monkeypatch.setattr(fleet_module, "ThreadPoolExecutor", Recorded)

    def ran(name: str) -> Callable[[str, float], list[Task]]:
        def does(task: str, now: float) -> list[Task]:
            with lock:
                log.append(f"ran {name} {task}")
            return []

        return does

    meters = [
        Scripted("C", [(5.0, "post")], ran("C")),
        Scripted("A", [(5.0, "connect")], ran("A")),
        Scripted("B", [(5.0, "connect")], ran("B")),
    ]
    fleet = Fleet(meters, SimClock(0.0, Pace(None)), _quiet, workers=3)  # type: ignore[arg-type]
    fleet.window = window
    real = fleet._in_turn

    def in_turn(*args: Any) -> dict[int, Any]:
        done = real(*args)
        with lock:
            log.append(f"in turn {sorted(done)}")
        return done

    monkeypatch.setattr(fleet, "_in_turn", in_turn)
    fleet.run(0.0, 10.0, drain=0)
    assert log[:9] == [
        "submit 1",
        "ran A connect",
        "result 1",
        "submit 2",  # only once A's connect has ended and been taken
        "ran B connect",
        "result 2",
        "in turn [1, 2]",
        "submit 0",
        "ran C post",
    ]


def test_lateness_histogram_quantiles() -> None:
    late = Lateness()
    for x in [0.0] * 98 + [0.3, 4.0]:
        late.add(x)
    assert late.n == 100
    assert late.upper(0.5) == LATENESS_EDGES[1]
    assert late.upper(0.99) == 0.5  # the 99th is 0.3 s: in [0.25, 0.5)
    assert late.upper(1.0) == 5.0
    assert late.worst == 4.0
    both = late.merge(late)
    assert both.n == 200 and both.upper(0.99) == 0.5
    far = Lateness()
    far.add(1e6)
    assert far.upper(0.99) == 1e6  # past the last edge: the worst itself
    assert Lateness().upper(0.99) == 0.0


@pytest.mark.parametrize("pace", [Pace(None), Pace(1.0)])
def test_a_full_disk_stops_the_run(pace: Pace) -> None:
    """A task that meets a full disk (ENOSPC) is not a bug to log and retry a minute later: the run stops, no task
    starts after it, nothing is drained, and the run tells DiskFull (exit 4) with the way to resume."""
    wall = FakeWall()
    clock = SimClock(0.0, pace, wall=lambda: wall.now, sleep=wall.sleep)

    def a_does(task: str, now: float) -> list[Task]:
        if now >= 30:
            raise OSError(errno.ENOSPC, "No space left on device")
        return [(now + 15, "post")]

    def b_does(task: str, now: float) -> list[Task]:
        return [(now + 15, "post")]

    a = Scripted("A", [(0.0, "post")], a_does)
    b = Scripted("B", [(1.0, "post")], b_does)
    events: list[RunEvent] = []
    fleet = Fleet([a, b], clock, events.append, workers=1)  # type: ignore[list-item]
    with pytest.raises(DiskFull) as stopped:
        fleet.run(0.0, 600.0)
    assert stopped.value.exit_code == 4 and "--resume" in str(stopped.value)
    assert a.ran == [("post", 0.0), ("post", 15.0), ("post", 30.0)]
    assert b.ran == [("post", 1.0), ("post", 16.0)]  # due at 31, after the full disk: not started
    assert not any(isinstance(e, Failed) for e in events)  # not told as an internal failure to retry


def test_halt_stops_the_run_where_it_is_told() -> None:
    """``halt`` (the embedded head-end's process gone) is asked at each step: from the first step it names an
    error, no task starts, nothing is drained, and run() raises that error."""
    clock = SimClock(0.0, Pace(None))
    m = Scripted("M", [(0.0, "post")], lambda task, now: [(now + 15, "post")])
    fleet = Fleet([m], clock, _quiet, workers=1)  # type: ignore[list-item]
    gone = AmiscenError("the head-end's process ended")
    fleet.halt = lambda: gone if clock.now() >= 45 else None
    with pytest.raises(AmiscenError) as stopped:
        fleet.run(0.0, 600.0)
    assert stopped.value is gone
    assert [t for _, t in m.ran] == [0, 15, 30, 45]  # 45 had begun when halt was asked next
