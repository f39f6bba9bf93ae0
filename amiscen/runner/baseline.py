"""What the runner keeps of a meter's compiled plan: per interval its load, PV and battery power, state of charge
and voltage, in single precision, read one interval at a time in order.

Held in memory (``Baseline.of``) for short-lived uses (plan, samples), or spilled to one file per fleet
(``BaselineFile``) for a run: each meter then keeps a window of ``WINDOW`` intervals, so its memory does not grow
with the simulated length (issue #16: a week costs no more per meter than a day). The file is unlinked from the
moment it is made: nothing is left behind, whatever way the process ends.
"""

from __future__ import annotations

import os
import tempfile
import threading
from pathlib import Path

import numpy as np

from amiscen.compile.plan import MeterPlan
from amiscen.scenario.model import MeterSpec

SERIES = ("load_w", "pv_w", "battery_w", "soc", "voltage_v")
WINDOW = 240  # intervals read at a time from the file: an hour at 15 s, up to 4.8 KB a meter
FLOAT = np.dtype(np.float32)


class Baseline:
    """A meter's baseline: ``at(i)`` gives (load W, PV W, battery W, state of charge, voltage V) of interval ``i``.
    A series with one value throughout (no PV, no battery: 0 W, NaN) is held as that value; the others are the
    columns of ``rows`` (intervals first_row.., the varying series in SERIES order)."""

    def __init__(self, meter: MeterSpec, length: int, held: tuple[float | None, ...], rows: np.ndarray) -> None:
        self.meter = meter
        self.length = length
        self.held = held
        self.varying = tuple(n for n, value in enumerate(held) if value is None)
        self.rows = rows
        self.first_row = 0

    @classmethod
    def of(cls, plan: MeterPlan) -> Baseline:
        """The whole plan in memory."""
        held, columns = _split(plan)
        length = len(plan.registers.load_w)
        return cls(plan.meter, length, held, _matrix(columns, length))

    def __len__(self) -> int:
        return self.length

    def at(self, i: int) -> tuple[float, ...]:
        if not 0 <= i < self.length:
            raise IndexError(f"interval {i} is outside the plan's {self.length}")
        offset = i - self.first_row
        if not 0 <= offset < len(self.rows):
            self._read(i)
            offset = 0
        values = list(self.held)
        for n, value in zip(self.varying, self.rows[offset].tolist(), strict=True):
            values[n] = value
        return tuple(values)  # type: ignore[arg-type]  # every None replaced above

    def _read(self, i: int) -> None:
        raise IndexError(f"interval {i} is not held")  # in memory every row is

    @property
    def nbytes(self) -> int:
        """The memory the values take: the rows held, and one value for each constant series."""
        return self.rows.nbytes + FLOAT.itemsize * (len(SERIES) - len(self.varying))


class SpilledBaseline(Baseline):
    """A baseline whose rows are in a ``BaselineFile``; ``WINDOW`` of them in memory at a time."""

    def __init__(self, meter: MeterSpec, length: int, held: tuple[float | None, ...], fd: int, offset: int) -> None:
        super().__init__(meter, length, held, np.empty((0, 0), FLOAT))
        self.fd = fd
        self.offset = offset

    def _read(self, i: int) -> None:
        width = len(self.varying) * FLOAT.itemsize
        count = min(WINDOW, self.length - i)
        data = os.pread(self.fd, count * width, self.offset + i * width)
        if len(data) != count * width:
            raise OSError(f"baseline file: {len(data)} of {count * width} bytes at interval {i} of {self.meter.id}")
        self.rows = np.frombuffer(data, FLOAT).reshape(count, len(self.varying))
        self.first_row = i


class BaselineFile:
    """The fleet's baselines on disk, in ``directory`` (the run's: a temporary file system may be memory). Each
    meter's varying series are written once, interval by interval, when it is built; meters read them with
    positional reads, so any thread may read while another meter is written."""

    def __init__(self, directory: Path) -> None:
        self._file = tempfile.TemporaryFile(dir=directory, prefix="baseline-")  # noqa: SIM115 - closed by close()
        self._lock = threading.Lock()
        self._end = 0

    def keep(self, plan: MeterPlan) -> Baseline:
        whole = Baseline.of(plan)
        if not whole.varying:  # nothing varies: nothing to write, nothing held but the values
            return whole
        data = whole.rows.tobytes()
        with self._lock:
            offset, self._end = self._end, self._end + len(data)
        view, done = memoryview(data), 0
        while done < len(data):  # a regular file may take less than asked at once
            done += os.pwrite(self._file.fileno(), view[done:], offset + done)
        return SpilledBaseline(plan.meter, whole.length, whole.held, self._file.fileno(), offset)

    @property
    def size(self) -> int:
        """Bytes written."""
        return self._end

    def close(self) -> None:
        self._file.close()


def _split(plan: MeterPlan) -> tuple[tuple[float | None, ...], list[np.ndarray]]:
    """Each series in single precision: a constant one (NaN throughout included) as its value, the others as
    columns."""
    held: list[float | None] = []
    columns = []
    for name in SERIES:
        single = getattr(plan.registers, name).astype(FLOAT)
        if len(single) and (np.isnan(single).all() or (single == single[0]).all()):
            held.append(float(single[0]))
        else:
            held.append(None)
            columns.append(single)
    return tuple(held), columns


def _matrix(columns: list[np.ndarray], length: int) -> np.ndarray:
    """Interval by interval (row-major), so a window of intervals is one read."""
    return np.ascontiguousarray(np.stack(columns, axis=1)) if columns else np.empty((length, 0), FLOAT)
