"""The discrete-event loop: every meter's tasks on one simulated clock; a meter's own tasks always run in order, one
job at a time.

In fast pace the loop goes moment by moment: the tasks due at one moment run concurrently, and the clock jumps to
the next moment once they are all done (so a run is the same every time). Meters start at their own phases, so
most moments hold one meter's task: with ``window`` set, the loop takes every task due in a window of simulated
time at once, each meter running its own in order (follow-ups due inside the window included) at their own
times, concurrently with the others. That is exact where the head-end answers each request at its meter's time
(``meter_time``) and nothing one meter does changes another's answers within the window: a window never spans
a moment of ``moments`` (where the head-end's events change), a meter's first connect (the head-end numbers the
EndDevices and mirrors it creates: their hrefs stay those of a stepped run) or a one-off (a flow reservation,
whose grant depends on the others'); the caller leaves ``window`` at 0 where the head-end draws injected faults.

In realtime and Nx pace the clock moves by itself, and each meter's work starts when it comes due, whatever other
meters are still doing (a slow TLS handshake of one meter delays that meter only, as in a real fleet); how late each
task started is measured per task kind.
"""

from __future__ import annotations

import bisect
import functools
import heapq
import itertools
import queue
import threading
from collections import defaultdict
from collections.abc import Callable, Sequence
from concurrent.futures import Future, ThreadPoolExecutor
from dataclasses import dataclass, field
from typing import Any

from amiscen.clock import SimClock
from amiscen.errors import AmiscenError, DiskFull, is_disk_full
from amiscen.runner.events import Failed, Progress, RunEvent
from amiscen.runner.meter import Meter, Task

DRAIN_TASKS = {"flush", "tick", "post"}


# tasks that reschedule themselves: after an internal error one is tried again a minute later, so one surprise
# never ends a meter's polling or posting for the rest of the run
def _in_order(task: str) -> bool:
    """A task whose effect at the head-end depends on the order meters arrive in: a first connect (the head-end
    numbers the EndDevice and mirrors it creates) and a one-off (a flow reservation, granted first come first
    served). No window spans one, and meters with one at the same moment run in turn."""
    return task == "connect" or task.startswith("oneoff:")


RECURRING = {"connect", "post", "poll_dr", "poll_der", "poll_time", "poll_dcap", "poll_flow"}
INTERNAL_RETRY_S = 60.0

# how late a task started, in simulated seconds: the bins of the lateness histograms
LATENESS_EDGES = (0.0, 0.05, 0.1, 0.25, 0.5, 0.75, 1.0, 1.5, 2.0, 5.0, 10.0, 30.0, 60.0, float("inf"))


@dataclass
class Lateness:
    """How late tasks started: a histogram over LATENESS_EDGES, so it stays small for any fleet and run length."""

    counts: list[int] = field(default_factory=lambda: [0] * (len(LATENESS_EDGES) - 1))
    worst: float = 0.0

    @property
    def n(self) -> int:
        return sum(self.counts)

    def add(self, late: float) -> None:
        self.counts[min(bisect.bisect_right(LATENESS_EDGES, late), len(self.counts)) - 1] += 1
        self.worst = max(self.worst, late)

    def merge(self, other: Lateness) -> Lateness:
        return Lateness([a + b for a, b in zip(self.counts, other.counts, strict=True)], max(self.worst, other.worst))

    def upper(self, q: float) -> float:
        """The upper edge of the bin that holds quantile ``q``: at least that share of tasks started less than this
        late (0 when nothing was measured)."""
        total = self.n
        running = 0
        for upper, count in zip(LATENESS_EDGES[1:], self.counts, strict=True):
            running += count
            if total and running >= q * total:
                return min(upper, self.worst) if upper == float("inf") else upper
        return 0.0

    def to_json(self) -> dict[str, Any]:
        return {
            "tasks": self.n,
            "p50_below_s": self.upper(0.5),
            "p99_below_s": self.upper(0.99),
            "worst_s": self.worst,
            "histogram": self.counts,
            "edges_s": list(LATENESS_EDGES[:-1]),
        }

    @classmethod
    def of_all(cls, parts: dict[str, Lateness]) -> Lateness:
        total = cls()
        for part in parts.values():
            total = total.merge(part)
        return total


@dataclass
class FleetResult:
    interrupted: bool
    drained: bool
    lateness: dict[str, Lateness]  # by task kind (post, flush, poll_dr, connect...): realtime and Nx pace, drain aside


Job = list[Task]  # one meter's tasks, each with its own due time, run in order
MeterOutcome = tuple[list[Task], list[tuple[str, float]]]  # a job's follow-ups, and how late each task started


def _disk_full(exc: BaseException) -> DiskFull:
    full = DiskFull(
        f"no space left on the disk: {exc}",
        hint="free space where the run directory is (or choose another with --run-dir), then "
        "`amiscen run SCENARIO --run-dir DIR --resume` continues where the run stopped",
    )
    full.__cause__ = exc
    return full


class Fleet:
    def __init__(
        self,
        meters: Sequence[Meter],
        clock: SimClock,
        emit: Callable[[RunEvent], None],
        workers: int = 16,
    ) -> None:
        self.meters = list(meters)
        # fast pace: ``on_moment`` is called with each moment's time before its tasks run, and the loop also stops
        # at each of ``moments`` (a heap) though no meter has a task then (the embedded head-end's notifications
        # are sent at the moments its events change, so fast runs stay the same every time)
        self.on_moment: Callable[[float], None] | None = None
        self.moments: list[float] = []
        self.window = 0.0  # fast pace: simulated seconds of tasks run at once (see the module's docstring)
        self.meter_time: Callable[[int, float], None] | None = None  # told (meter index, time) before each task
        self._serial: list[float] = []  # times of first connects and one-offs: no window spans one
        self.give_up: Callable[[float], str | None] | None = None  # a reason to stop the run now, or None
        self.gave_up: str | None = None
        # what stops the run at once (it raises from run(), what was written kept, no drain): the first write refused
        # for want of space, or what ``halt`` tells (checked at each step of the loop: the head-end's process gone)
        self.halt: Callable[[], AmiscenError | None] | None = None
        self.halted: AmiscenError | None = None
        self._end = float("inf")
        self.clock = clock
        self.emit = emit
        self.workers = max(1, min(workers, len(self.meters)))
        self._heap: list[tuple[float, int, int, str]] = []
        self._seq = itertools.count()
        self._lateness: dict[str, Lateness] = defaultdict(Lateness)
        self._paced = clock.pace.factor is not None
        self._shown = float("-inf")  # the latest simulated time told to the handlers (paced)
        self._wake = threading.Event()  # set when a job finishes or a Notification arrives
        self._halting = threading.Lock()  # held while the first reason to halt is kept (_halt)
        self._notified: queue.SimpleQueue[int] = queue.SimpleQueue()  # meters with Notifications to take

    def notify(self, index: int) -> None:
        """From the notification listener's thread: meter ``index`` has Notifications in its inbox."""
        self._notified.put(index)
        self._wake.set()

    def _take_notified(self) -> None:
        """A ``notified`` task now for every meter told of Notifications since the last look."""
        now = self.clock.now()
        while not self._notified.empty():
            self._push(self._notified.get(), [(now, "notified")])

    def _giving_up(self, t: float) -> bool:
        if self.give_up is not None and self.gave_up is None:
            self.gave_up = self.give_up(t)
        return self.gave_up is not None

    def _push(self, meter: int, tasks: list[Task]) -> None:
        for t, task in tasks:
            heapq.heappush(self._heap, (t, next(self._seq), meter, task))

    def _batch(self, draining: bool) -> tuple[float, dict[int, Job]]:
        """Everything due at the earliest moment, by meter (the same task twice at one moment is once)."""
        t = self._heap[0][0]
        jobs: dict[int, Job] = defaultdict(list)
        while self._heap and self._heap[0][0] == t:
            _, _, meter, task = heapq.heappop(self._heap)
            if draining and task.split(":")[0] not in DRAIN_TASKS:
                continue
            if (t, task) not in jobs[meter]:
                jobs[meter].append((t, task))
        return t, {m: job for m, job in jobs.items() if job}

    def _run_meter(self, index: int, job: Job) -> MeterOutcome:
        """One meter's tasks in order; the follow-ups they schedule, and how late each started."""
        follow: list[Task] = []
        late: list[tuple[str, float]] = []
        for t, task in job:
            follow += self._run_task(index, t, task, late)
        return follow, late

    def _run_task(self, index: int, t: float, task: str, late: list[tuple[str, float]]) -> list[Task]:
        meter = self.meters[index]
        if self._paced:
            late.append((task.split(":")[0], self.clock.lateness(t)))
            if t > self._shown:  # told from here, not by the loop, so the loop never waits for the handlers
                self._shown = t
                self.emit(Progress(t, t))
        if self.halted is not None:  # stopping: no task starts (what runs next time is the resumed run's)
            return []
        if self.meter_time is not None:
            self.meter_time(index, t)
        try:
            return meter.run(task, t)
        except Exception as exc:  # a bug in amiscen must not stop the fleet, nor end a meter's periodic work
            if is_disk_full(exc):  # not a bug, and retrying cannot help: the run stops, what was written is kept
                self._halt(_disk_full(exc))
                return []
            again = task.split(":")[0] in RECURRING
            self.emit(Failed(meter.id, t, task, "internal", f"{type(exc).__name__}: {exc}", again))
            return [(t + INTERNAL_RETRY_S, task)] if again else []

    def _run_window(self, index: int, job: Job, until: float) -> MeterOutcome:
        """One meter's tasks of a window in time order, with the follow-ups due before ``until``, moment by moment
        as the stepped loop would run them (each moment's tasks once, its follow-ups at the same time next); the
        follow-ups due later."""
        later: list[Task] = []
        late: list[tuple[str, float]] = []
        seq = itertools.count()
        local = [(t, next(seq), task) for t, task in job]
        heapq.heapify(local)
        while local:
            t = local[0][0]
            moment: list[str] = []
            while local and local[0][0] == t:
                task = heapq.heappop(local)[2]
                if task not in moment:
                    moment.append(task)
            for task in moment:
                for ft, follow in self._run_task(index, t, task, late):
                    if ft < until:
                        heapq.heappush(local, (ft, next(seq), follow))
                    else:
                        later.append((ft, follow))
        return later, late

    def _window_end(self, t: float) -> float:
        """Where a window from ``t`` ends: its length, the end of play, the next moment or one-off after ``t``."""
        until = min(t + self.window, self._end)
        if self.moments:  # a heap, the moments up to t taken off it
            until = min(until, self.moments[0])
        after = bisect.bisect_right(self._serial, t)
        if after < len(self._serial):
            until = min(until, self._serial[after])
        return until

    def _windowed(self, until: float) -> dict[int, Job]:
        """Every task due before ``until``, by meter, in order."""
        jobs: dict[int, Job] = defaultdict(list)
        while self._heap and self._heap[0][0] < until:
            t, _, meter, task = heapq.heappop(self._heap)
            jobs[meter].append((t, task))
        return jobs

    def _take(self, index: int, outcome: MeterOutcome, draining: bool) -> None:
        follow, late = outcome
        for kind, seconds in late if not draining else ():  # the drain posts every meter at once: not timeliness
            self._lateness[kind].add(seconds)
        if draining:
            follow = [(ft, task) for ft, task in follow if self._drains(ft, task)]
        self._push(index, follow)

    def _drains(self, t: float, task: str) -> bool:
        """Whether a task runs in the drain: delivering what is queued, and the Responses due by the end of the
        played window (not one due after it: that is not this run's)."""
        kind = task.split(":")[0]
        return kind == "flush" or (kind == "tick" and t <= self._end)

    def run(self, start: float, end: float, drain: float = 3600.0) -> FleetResult:
        """Play [start, end), then post the last readings and drain outboxes for up to ``drain`` seconds."""
        self._end = end
        for i, meter in enumerate(self.meters):
            self._push(i, meter.first_tasks(start))
        self._serial = sorted({t for t, _, _, task in self._heap if _in_order(task)})
        interrupted = False
        play = self._play_paced if self._paced else self._play_stepped
        pool = ThreadPoolExecutor(self.workers, thread_name_prefix="meter")
        try:
            play(pool, lambda t: t < end and not self._giving_up(t) and not self._halting_now(), draining=False)
            self._stop_if_halted()
            if self.gave_up is not None:  # nothing to drain to a gateway no meter reaches
                return FleetResult(interrupted=False, drained=False, lateness=dict(self._lateness))
            # the drain: only what delivers; everything else leaves the queue now, so the clock (which sleeps
            # in realtime pace) never waits for a task that will not run
            self._heap = [x for x in self._heap if self._drains(x[0], x[3])]
            heapq.heapify(self._heap)
            for i in range(len(self.meters)):
                self._push(i, [(end, "post")])
            play(pool, lambda t: t <= end + drain and not self._halting_now(), draining=True)
            self._stop_if_halted()
        except KeyboardInterrupt:
            interrupted = True
        finally:
            pool.shutdown(wait=True, cancel_futures=True)  # jobs already running finish; none starts
        drained = all(m.outbox.pending(m.id)[0] == 0 for m in self.meters)
        return FleetResult(interrupted=interrupted, drained=drained, lateness=dict(self._lateness))

    def _halt(self, reason: AmiscenError | None) -> None:
        """Keep the first reason to halt, whichever thread finds one."""
        with self._halting:
            self.halted = self.halted or reason

    def _halting_now(self) -> bool:
        if self.halted is None and self.halt is not None:
            self._halt(self.halt())
        return self.halted is not None

    def _stop_if_halted(self) -> None:
        if self.halted is not None:
            raise self.halted

    def _play_stepped(self, pool: ThreadPoolExecutor, within: Callable[[float], bool], draining: bool) -> None:
        """Fast pace: one moment at a time; the next starts when every job of this one is done. The loop also
        stops at each of ``moments`` (for ``on_moment``), though no meter has a task then."""
        while self._heap:
            t = self._heap[0][0]
            if not draining and self.moments and self.moments[0] < t:
                t = self.moments[0]
            if not within(t):
                return
            self.clock.advance_to(t)
            if not draining:
                while self.moments and self.moments[0] <= t:
                    heapq.heappop(self.moments)
                if self.on_moment is not None:
                    self.on_moment(t)
                self._take_notified()
            if self._heap[0][0] != t:
                continue  # a moment of the head-end's: nothing came due for the meters
            if self.window > 0 and not draining:
                until = self._window_end(t)
                jobs = self._windowed(until)
                run: Callable[[int, Job], MeterOutcome] = functools.partial(self._run_window, until=until)
            else:
                t, jobs = self._batch(draining)
                run = self._run_meter
            self.emit(Progress(t, t))  # first, so what the batch logs carries its time
            done = self._in_turn(pool, run, jobs)
            futures = {i: pool.submit(run, i, job) for i, job in jobs.items() if i not in done}
            for i in jobs:
                self._take(i, done[i] if i in done else futures[i].result(), draining)

    @staticmethod
    def _in_turn(
        pool: ThreadPoolExecutor, run: Callable[[int, Job], MeterOutcome], jobs: dict[int, Job]
    ) -> dict[int, MeterOutcome]:
        """Meters with work at this moment whose outcome depends on the order meters arrive in (``_in_order``),
        one after the other in fleet order (their other work of the moment or window with them): run concurrently,
        which meter's EndDevice gets which href, or whose flow reservation is granted, would be a race (two meters
        of the campus share a phase)."""
        ordered = [i for i, job in jobs.items() if any(_in_order(task) for _, task in job)]
        if len(ordered) < 2:
            return {}
        return {i: pool.submit(run, i, jobs[i]).result() for i in sorted(ordered)}

    def _play_paced(self, pool: ThreadPoolExecutor, within: Callable[[float], bool], draining: bool) -> None:
        """Realtime and Nx pace: each meter's work is handed to the pool when it comes due. A meter with a job still
        running keeps what comes due meanwhile and runs it right after, so its own tasks never overlap or reorder."""
        finished: queue.SimpleQueue[tuple[int, Future[MeterOutcome]]] = queue.SimpleQueue()
        wake = self._wake
        busy: dict[int, Job] = {}  # meters with a job running -> tasks that came due meanwhile

        def submit(index: int, job: Job) -> None:
            busy[index] = []
            future = pool.submit(self._run_meter, index, job)

            def done(f: Future[MeterOutcome]) -> None:
                finished.put((index, f))
                wake.set()

            future.add_done_callback(done)

        while True:
            if not draining:
                self._take_notified()
            while not finished.empty():
                index, future = finished.get()
                self._take(index, future.result(), draining)
                waiting = busy.pop(index)
                if waiting:
                    submit(index, waiting)
            if not self._heap or not within(self._heap[0][0]):
                if not busy:
                    return
                wake.wait()
                wake.clear()
                continue
            t = self._heap[0][0]
            if self.clock.now() < t:
                self.clock.wait_until(t, wake)
                wake.clear()
                continue
            t, jobs = self._batch(draining)
            for index, job in jobs.items():
                if index in busy:
                    busy[index] += job
                else:
                    submit(index, job)
