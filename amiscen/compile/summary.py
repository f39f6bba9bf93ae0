"""What a plan adds up to, per building and for the campus: energy, peaks, self-consumption, battery cycles,
and the reduction each DR event should bring. Pure: arrays in, numbers out."""

from __future__ import annotations

from dataclasses import dataclass, field

import numpy as np

from amiscen.compile.plan import MeterPlan


@dataclass
class Totals:
    """Sums over meters and time. Energies in kWh; the peak is of net import, in kW, with its interval index."""

    meters: int = 0
    consumption_kwh: float = 0.0
    pv_kwh: float = 0.0
    import_kwh: float = 0.0
    export_kwh: float = 0.0
    discharge_kwh: float = 0.0
    battery_kwh: float = 0.0
    floor_area_m2: float = 0.0
    net_w: np.ndarray | None = field(default=None, repr=False)

    def add(self, plan: MeterPlan, step_s: float) -> None:
        r = plan.registers
        hours = step_s / 3600
        self.meters += 1
        self.consumption_kwh += float(r.load_w.sum()) * hours / 1000
        self.pv_kwh += float(r.pv_w.sum()) * hours / 1000
        self.import_kwh += float(r.import_wh.sum()) / 1000
        self.export_kwh += float(r.export_wh.sum()) / 1000
        self.discharge_kwh += float(np.maximum(r.battery_w, 0).sum()) * hours / 1000
        if plan.meter.battery is not None:
            self.battery_kwh += plan.meter.battery.kwh
        self.floor_area_m2 += plan.meter.floor_area_m2 or 0.0
        net = r.net_w
        self.net_w = net.copy() if self.net_w is None else self.net_w + net

    @property
    def self_consumption(self) -> float:
        """Share of PV used on site (not fed in)."""
        return 1 - self.export_kwh / self.pv_kwh if self.pv_kwh else 0.0

    @property
    def battery_cycles(self) -> float:
        return self.discharge_kwh / self.battery_kwh if self.battery_kwh else 0.0

    def peak(self) -> tuple[float, int]:
        if self.net_w is None or not len(self.net_w):
            return 0.0, 0
        i = int(np.argmax(self.net_w))
        return float(self.net_w[i]) / 1000, i
