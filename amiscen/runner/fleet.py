"""The discrete-event loop: every meter's tasks on one simulated clock. Tasks due at the same moment run
concurrently (one job per meter, so a meter's own tasks stay in order); the clock then moves to the next moment:
at once in fast pace, by sleeping in realtime or Nx."""

from __future__ import annotations

import heapq
import itertools
from collections import defaultdict
from collections.abc import Callable, Sequence
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass

from amiscen.clock import SimClock
from amiscen.runner.events import Failed, Progress, RunEvent
from amiscen.runner.meter import Meter, Task

DRAIN_TASKS = {"flush", "tick", "post"}


@dataclass
class FleetResult:
    interrupted: bool
    drained: bool
    lateness: list[float]  # per batch, simulated seconds late (realtime and Nx pace)


class Fleet:
    def __init__(
        self, meters: Sequence[Meter], clock: SimClock, emit: Callable[[RunEvent], None], workers: int = 16
    ) -> None:
        self.meters = list(meters)
        self.clock = clock
        self.emit = emit
        self.workers = max(1, min(workers, len(self.meters)))
        self._heap: list[tuple[float, int, int, str]] = []
        self._seq = itertools.count()

    def _push(self, meter: int, tasks: list[Task]) -> None:
        for t, task in tasks:
            heapq.heappush(self._heap, (t, next(self._seq), meter, task))

    def _batch(self) -> tuple[float, dict[int, list[str]]]:
        t = self._heap[0][0]
        jobs: dict[int, list[str]] = defaultdict(list)
        while self._heap and self._heap[0][0] == t:
            _, _, meter, task = heapq.heappop(self._heap)
            if task not in jobs[meter]:  # the same task twice at one moment is once
                jobs[meter].append(task)
        return t, jobs

    def _run_meter(self, index: int, tasks: list[str], now: float) -> list[Task]:
        meter = self.meters[index]
        follow: list[Task] = []
        for task in tasks:
            try:
                follow += meter.run(task, now)
            except Exception as exc:  # a bug or a surprise in one meter must not stop the fleet
                self.emit(Failed(meter.id, now, task, "protocol", f"{type(exc).__name__}: {exc}", False))
        return follow

    def run(self, start: float, end: float, drain: float = 3600.0) -> FleetResult:
        """Play [start, end), then post the last readings and drain outboxes for up to ``drain`` seconds."""
        for i, meter in enumerate(self.meters):
            self._push(i, meter.first_tasks(start))
        lateness: list[float] = []
        interrupted = False
        with ThreadPoolExecutor(self.workers, thread_name_prefix="meter") as pool:
            try:
                while self._heap and self._heap[0][0] < end:
                    lateness.append(self._step(pool))
                # the drain: only what delivers; everything else leaves the queue now, so the clock (which sleeps
                # in realtime pace) never waits for a task that will not run
                self._heap = [x for x in self._heap if x[3].split(":")[0] in DRAIN_TASKS - {"post"}]
                heapq.heapify(self._heap)
                for i in range(len(self.meters)):
                    self._push(i, [(end, "post")])
                while self._heap and self._heap[0][0] <= end + drain:
                    self._step(pool, draining=True)
            except KeyboardInterrupt:
                interrupted = True
        drained = all(m.outbox.pending(m.id)[0] == 0 for m in self.meters)
        return FleetResult(interrupted=interrupted, drained=drained, lateness=lateness)

    def _step(self, pool: ThreadPoolExecutor, draining: bool = False) -> float:
        t, jobs = self._batch()
        if draining:
            jobs = {m: [x for x in tasks if x.split(":")[0] in DRAIN_TASKS] for m, tasks in jobs.items()}
        self.clock.advance_to(t)
        late = self.clock.lateness(t)
        self.emit(Progress(t, t))  # first, so what the batch logs carries its time
        futures = {i: pool.submit(self._run_meter, i, tasks, t) for i, tasks in jobs.items() if tasks}
        for i, future in futures.items():
            follow = future.result()
            if draining:
                follow = [(ft, task) for ft, task in follow if task == "flush" or task == "tick"]
            self._push(i, follow)
        return late
