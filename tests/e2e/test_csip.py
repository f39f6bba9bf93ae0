"""CSIP (California Rule 21) DER behaviour end to end: the embedded head-end publishes a fixed power factor, a
volt-var curve, a frequency-watt curve and a fixed var control (the curves as DERCurves the controls link to);
the csip meter reads the curves, applies each control, answers 1 -> 2 -> 3, and its DER mirror reports active
and reactive power, voltage and frequency showing it. Played through `play()` over mutual TLS on loopback, in
fast pace, every body checked against sep.xsd."""

from __future__ import annotations

import math
import sqlite3
from collections import defaultdict
from pathlib import Path

import pytest

from amiscen.clock import Pace
from amiscen.compile.registers import NOMINAL_VOLTAGE
from amiscen.play.session import RunOptions, play
from amiscen.runner.physics import VAR_SHARE, on_curve
from amiscen.scenario import load_scenario
from amiscen.scenario.model import meters

pytestmark = pytest.mark.e2e

START = 1_772_424_000  # 2026-03-02T11:00:00+07:00
SCENARIO = """\
schema_version: 1
name: csip_rule21
gateway: {profile: csip}
time: {start: 2026-03-02T11:00:00+07:00, duration: 90m, reading_interval: 60s, seed: 5}
function_sets:
  mirror_usage_point: {post_rate: 120s}
  der: {polling_rate: 60s}
buildings:
  - name: roof
    type: support
    peak_kw: 20
    meters:
      - {id: CSIP_PROSUMER, pv: {kwp: 80}}
events:
  - {type: der_control, id: PF, start: +10m, duration: 15m,
     control: {type: fixed_pf, power_factor: 0.9, absorbing: true}}
  - {type: der_control, id: VOLT_VAR, start: +30m, duration: 15m,
     control: {type: curve, mode: volt_var, points: [[90, 44], [110, -44]]}}
  - {type: der_control, id: FREQ_WATT, start: +50m, duration: 15m,
     control: {type: curve, mode: freq_watt, points: [[49.95, 40], [50.05, 20]]}}
  - {type: der_control, id: FIXED_VAR, start: +70m, duration: 15m, control: {type: fixed_var, percent: -50}}
"""


def _window(minutes: int) -> range:
    return range(START + minutes * 60, START + (minutes + 15) * 60)


def test_rule21_controls_are_applied_and_visible_in_the_der_readings(tmp_path: Path, sep_xsd: Path) -> None:
    path = tmp_path / "csip.yaml"
    path.write_text(SCENARIO)
    options = RunOptions(
        pace=Pace(None), run_dir=tmp_path / "run", certs_dir=tmp_path / "certs", xsd=sep_xsd, workers=2
    )
    outcome = play(load_scenario(path), options)
    assert outcome.ok, outcome.summary
    assert all(
        outcome.metrics.responses[e]["CSIP_PROSUMER"] == [1, 2, 3] for e in ("PF", "VOLT_VAR", "FREQ_WATT", "FIXED_VAR")
    )
    with sqlite3.connect(outcome.run_dir / "headend.db") as db:
        rows = db.execute(
            "SELECT r.start, m.description, r.value FROM reading r JOIN mirror_meter_reading m ON m.id = r.mmr_id "
            "JOIN mirror_usage_point u ON u.id = m.mup_id WHERE u.role_flags = 73"
        ).fetchall()
        (curves,) = db.execute("SELECT count(*) FROM der_curve").fetchone()
    assert curves == 2
    by_time: dict[int, dict[str, int]] = defaultdict(dict)
    for start, description, value in rows:
        by_time[start][description.split(" (")[0]] = value
    p, q = "DER active power", "DER reactive power"
    (meter,) = meters(load_scenario(path).scenario)
    rated = meter.pv.ac_kw * 1000  # type: ignore[union-attr]  # setMaxW: the PV inverter's rating
    assert len(by_time) == 90 and all(len(v) == 4 for v in by_time.values())
    for t, x in by_time.items():
        volts, hertz = x["DER voltage"] / 10, x["grid frequency"] / 100
        assert 49.9 < hertz < 50.1
        if t in _window(10):  # absorbing at 0.9: -0.484 var per watt
            assert x[q] == pytest.approx(-x[p] * math.tan(math.acos(0.9)), abs=2)
        elif t in _window(30):  # on the volt-var line: absorbing above nominal, injecting below
            assert abs(x[q]) <= 0.44 * VAR_SHARE * rated + 1
            if abs(volts - NOMINAL_VOLTAGE) > 0.5:
                assert x[q] * (volts - NOMINAL_VOLTAGE) < 0
        elif t in _window(50):  # output held under the frequency-watt cap (the frequency is reported to 0.01 Hz)
            assert x[p] <= on_curve(((49.95, 0.4), (50.05, 0.2)), hertz - 0.005) * rated + 1
        elif t in _window(70):
            assert x[q] == pytest.approx(-0.5 * VAR_SHARE * rated, abs=1)
        else:
            assert x[q] == 0
    capped = [by_time[t][p] for t in _window(50) if t in by_time]
    uncapped = [by_time[t][p] for t in range(START + 65 * 60, START + 70 * 60) if t in by_time]
    assert max(capped) < min(uncapped)  # the cap bound: more came out once it ended
