"""Several faces on one inverter (an east-west roof): issue #18 asked for them; one array per meter was all."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pytest

from amiscen.compile import solar
from amiscen.compile.plan import SiteModel
from amiscen.errors import ScenarioError
from amiscen.scenario import load_scenario
from amiscen.scenario.model import meters

SITE = """\
schema_version: 1
time: {start: 2026-03-02T00:00:00+07:00, duration: 1d, reading_interval: 5m}
function_sets: {mirror_usage_point: {post_rate: 5m}}
buildings:
  - name: roofs
    type: support
    meters:
      - {id: SOUTH, pv: {kwp: 20, tilt_deg: 15, azimuth_deg: 180}}
      - {id: EAST_WEST, pv: {inverter_kw: 17.39, arrays: [{kwp: 10, tilt_deg: 15, azimuth_deg: 90},
                                                          {kwp: 10, tilt_deg: 15, azimuth_deg: 270}]}}
"""


def _site(tmp_path: Path, text: str = SITE) -> SiteModel:
    path = tmp_path / "faces.yaml"
    path.write_text(text)
    return SiteModel(load_scenario(path).scenario)


def test_an_east_west_roof_is_two_faces_on_one_inverter(tmp_path: Path) -> None:
    site = _site(tmp_path)
    south, east_west = meters(site.scenario)
    assert east_west.pv is not None and east_west.pv.kwp == 20  # the sum of its faces
    ew = site.pv_w(east_west)
    faces = sum(
        solar.dc_power_w(east_west.pv, face.kwp, *site._array_light(face.tilt_deg, face.azimuth_deg))
        for face in east_west.pv.faces
    )
    assert np.array_equal(ew, solar.inverter_w(east_west.pv, faces))  # DC of both faces, one inverter
    s = site.pv_w(south)
    hours = site.grid.local_hours()
    morning, noon = (hours >= 6.5) & (hours < 7.25), (hours >= 11.5) & (hours < 12.5)
    assert ew[morning].mean() > s[morning].mean()  # the east face catches the early sun
    assert ew[noon].mean() < s[noon].mean()  # and neither face faces noon


def test_a_total_that_is_not_the_sum_of_the_faces_is_refused(tmp_path: Path) -> None:
    with pytest.raises(ScenarioError, match=r"kwp \(25\) is not the sum of its arrays' kwp \(20\)"):
        _site(tmp_path, SITE.replace("pv: {inverter_kw: 17.39, arrays:", "pv: {kwp: 25, arrays:"))
