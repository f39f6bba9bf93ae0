"""What a revenue meter registers per interval, and the identity that must hold exactly:
load = import - export + pv + discharge - charge (energy per interval)."""

from __future__ import annotations

import math
import zlib
from dataclasses import dataclass

import numpy as np

from amiscen.compile.blocks import CumulativeSum

NOMINAL_VOLTAGE = 230.0  # the default site grid (scenario site.grid): Thailand, 230/400 V, 50 Hz
NOMINAL_FREQUENCY = 50.0


def grid_frequency(t: int, nominal: float = NOMINAL_FREQUENCY) -> float:
    """The system frequency at ``t``, the same at every meter: nominal, a slow swing of 0.03 Hz (load following)
    and 0.02 Hz of noise, inside the normal operating band."""
    noise = zlib.crc32(f"frequency\x1f{t}".encode()) / 2**32 - 0.5
    return nominal + 0.03 * math.sin(2 * math.pi * t / 1800) + 0.02 * noise


@dataclass(frozen=True)
class Registers:
    """Per interval (arrays of equal length). Energies in Wh, powers in W (interval averages)."""

    load_w: np.ndarray
    pv_w: np.ndarray
    battery_w: np.ndarray  # + discharge, - charge
    soc: np.ndarray  # 0..1 at the interval's end (NaN without a battery)
    import_wh: np.ndarray
    export_wh: np.ndarray
    import_total_wh: np.ndarray  # cumulative, at the interval's end
    export_total_wh: np.ndarray
    voltage_v: np.ndarray

    @property
    def net_w(self) -> np.ndarray:
        """Active power through the meter: + import, - export."""
        return self.load_w - self.pv_w - self.battery_w


class RegisterBlocks:
    """What the meter registers, a block of intervals at a time (``next``, in order): the import and export
    totals run on across blocks, so the blocks joined are the whole window's registers, bit for bit."""

    def __init__(self, step_s: float, peak_w: float, nominal_v: float = NOMINAL_VOLTAGE) -> None:
        self.hours = step_s / 3600
        self.peak_w = peak_w
        self.nominal_v = nominal_v
        self.imported = CumulativeSum()
        self.exported = CumulativeSum()

    def next(
        self, load_w: np.ndarray, pv_w: np.ndarray, battery_w: np.ndarray, soc: np.ndarray, voltage_noise: np.ndarray
    ) -> Registers:
        net = load_w - pv_w - battery_w
        import_wh = np.maximum(net, 0) * self.hours
        export_wh = np.maximum(-net, 0) * self.hours
        # voltage sags with import and rises with export through the service impedance (~1.5% at peak import)
        nominal_v = self.nominal_v
        voltage = nominal_v * (1 - 0.015 * net / max(self.peak_w, 1.0)) + voltage_noise * (nominal_v / NOMINAL_VOLTAGE)
        return Registers(
            load_w=load_w,
            pv_w=pv_w,
            battery_w=battery_w,
            soc=soc,
            import_wh=import_wh,
            export_wh=export_wh,
            import_total_wh=self.imported.next(import_wh),
            export_total_wh=self.exported.next(export_wh),
            voltage_v=voltage,
        )
