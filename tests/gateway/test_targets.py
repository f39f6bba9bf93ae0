"""A meter's share of a DR target in kW, as the head-end sends it (issue #18: whole kW, so a meter whose share was
under 0.5 kW was sent 0 and shed nothing)."""

from __future__ import annotations

from amiscen.gateway.routes.events import _target
from amiscen.sep.constants import UnitType


def test_small_shares_go_in_watts_and_large_ones_in_kilowatts() -> None:
    small = _target(0.4)
    assert (small.type, small.value) == (int(UnitType.WATTS), 400)
    edge = _target(65.535)
    assert (edge.type, edge.value) == (int(UnitType.WATTS), 65535)  # the largest a UInt16 holds in watts
    large = _target(70.2)
    assert (large.type, large.value) == (int(UnitType.KW), 70)
