"""A meter's part in events: responses 1 -> 2 -> 3, cancellation, opt-out, expiry, randomisation, primacy."""

from __future__ import annotations

import pytest

from amiscen.runner.participation import Participation, Policy
from amiscen.runner.physics import in_force
from amiscen.sep.model.common import ActivePower, DateTimeInterval, EventStatus, Link
from amiscen.sep.model.events import (
    CurveData,
    DefaultDERControl,
    DERControl,
    DERControlBase,
    DERCurve,
    EndDeviceControl,
    FixedVar,
    FreqDroopType,
    PowerFactorWithExcitation,
    TargetReduction,
)

T = 1_000_000


def _edc(status: int = 0, rs: int | None = None, event: str = "DR1", mandatory: bool = False) -> EndDeviceControl:
    return EndDeviceControl(
        mRID="AA" * 16,
        description=event,
        creationTime=T,
        EventStatus=EventStatus(status, T),
        interval=DateTimeInterval(3600, T + 600),
        deviceCategory=0xFFFF,
        replyTo="/rsps/0/rsp",
        responseRequired=3,
        randomizeStart=rs,
        drProgramMandatory=mandatory,
        TargetReduction=TargetReduction(1, 20),
    )


def _statuses(due: list) -> list[int]:  # type: ignore[type-arg]
    return [d.status for d in due]


def test_received_started_completed() -> None:
    p = Participation("M1", 1, {}, 0)
    assert _statuses(p.update("dr", [(_edc(), 0)], T)) == [1]
    assert _statuses(p.tick(T + 599)) == []
    assert _statuses(p.tick(T + 600)) == [2]
    assert _statuses(p.tick(T + 4200)) == [3]
    assert _statuses(p.tick(T + 9999)) == []
    (control,) = p.controls()
    assert control.reduce_w == 20_000 and (control.start, control.end) == (T + 600, T + 4200)


def test_cancelled_after_start() -> None:
    p = Participation("M1", 1, {}, 0)
    p.update("dr", [(_edc(), 0)], T)
    p.tick(T + 700)
    assert _statuses(p.update("dr", [(_edc(status=2), 0)], T + 800)) == [6]
    assert p.controls()[0].end == T + 800
    assert _statuses(p.tick(T + 5000)) == []


def test_opt_out_unless_mandatory() -> None:
    p = Participation("M1", 1, {"DR1": Policy(opt_out_share=1.0)}, 0)
    assert _statuses(p.update("dr", [(_edc(), 0)], T)) == [1, 4]
    assert p.controls() == [] and _statuses(p.tick(T + 700)) == []
    forced = Participation("M1", 1, {"DR1": Policy(opt_out_share=1.0)}, 0)
    assert _statuses(forced.update("dr", [(_edc(mandatory=True), 0)], T)) == [1]


def test_expired_when_first_seen_after_the_end() -> None:
    p = Participation("M1", 1, {}, 0)
    assert _statuses(p.update("dr", [(_edc(), 0)], T + 5000)) == [254]


def test_randomised_start_is_per_meter_and_reproducible() -> None:
    starts = set()
    for meter in ("M1", "M2", "M3", "M4"):
        p = Participation(meter, 7, {}, 0)
        p.update("dr", [(_edc(rs=600), 0)], T)
        again = Participation(meter, 7, {}, 0)
        again.update("dr", [(_edc(rs=600), 0)], T)
        assert p.controls()[0].start == again.controls()[0].start
        control = p.controls()[0]
        assert T + 600 <= control.start < T + 1200
        assert control.end - control.start == 3600  # moved, not shortened (issue #18: meters ran 115-119 of 120 min)
        starts.add(control.start)
    assert len(starts) > 1


def test_der_overlap_resolved_by_primacy() -> None:
    def derc(mrid: str, limit: int) -> DERControl:
        return DERControl(
            mRID=mrid,
            description=mrid[:4],
            creationTime=T,
            EventStatus=EventStatus(0, T),
            interval=DateTimeInterval(3600, T),
            DERControlBase=DERControlBase(opModMaxLimW=limit),
        )

    p = Participation("M1", 1, {}, 100, pv=True)
    p.update("der", [(derc("BB" * 16, 5000), 2), (derc("CC" * 16, 2000), 1)], T)
    (winner,) = p.controls()
    assert winner.max_w_share == 0.2
    # a meter whose DER is a battery alone applies opModMaxLimW too (a share of its setMaxW, the battery's rating)
    battery_only = Participation("M2", 1, {}, 5)
    battery_only.update("der", [(derc("DD" * 16, 5000), 1)], T)
    assert battery_only.controls()[0].max_w_share == 0.5


def test_a_control_the_meter_cannot_apply_is_answered_not_applicable() -> None:
    p = Participation("M1", 1, {}, 0)
    control = EndDeviceControl(
        mRID="DD" * 16,
        description="DR9",
        creationTime=T,
        EventStatus=EventStatus(0, T),
        interval=DateTimeInterval(3600, T + 600),
        deviceCategory=0xFFFF,
        replyTo="/rsps/0/rsp",
        responseRequired=3,
    )
    assert _statuses(p.update("dr", [(control, 0)], T)) == [1, 252]
    assert p.controls() == [] and _statuses(p.tick(T + 700)) == []


def _derc(base: DERControlBase, status: int = 0, mrid: str = "EE" * 16) -> DERControl:
    return DERControl(
        mRID=mrid,
        description="DOE1",
        creationTime=T,
        EventStatus=EventStatus(status, T),
        interval=DateTimeInterval(3600, T + 600),
        DERControlBase=base,
        replyTo="/rsps/1/rsp",
        responseRequired=3,
    )


EXPORT_LIMIT = DERControlBase(opModExpLimW=ActivePower(3, 5))


def test_a_csipaus_limit_is_not_applicable_to_a_meter_without_the_profile() -> None:
    """issue #14: a sep2018 meter that cannot apply opModExpLimW answers 252, never 2 or 3."""
    p = Participation("M1", 1, {}, 50, pv=True, doe=False)
    assert _statuses(p.update("der", [(_derc(EXPORT_LIMIT), 1)], T)) == [1, 252]
    assert p.controls() == [] and _statuses(p.tick(T + 700)) == [] and _statuses(p.tick(T + 9000)) == []


def test_a_csipaus_limit_is_applied_under_the_profile() -> None:
    p = Participation("M1", 1, {}, 50, pv=True, doe=True)
    assert _statuses(p.update("der", [(_derc(EXPORT_LIMIT), 1)], T)) == [1]
    assert _statuses(p.tick(T + 600)) == [2] and _statuses(p.tick(T + 4200)) == [3]
    (control,) = p.controls()
    assert control.export_limit_w == 5000


def test_a_fixed_w_control_without_a_battery_is_not_applicable() -> None:
    p = Participation("M1", 1, {}, 0, pv=True)
    assert _statuses(p.update("der", [(_derc(DERControlBase(opModFixedW=5000)), 1)], T)) == [1, 252]


def test_cancelled_mid_flight_is_answered_cancelled_and_not_applied() -> None:
    p = Participation("M1", 1, {}, 0, pv=True)
    base = DERControlBase(opModConnect=False)
    p.update("der", [(_derc(base), 1)], T)
    assert _statuses(p.tick(T + 700)) == [2]
    assert _statuses(p.update("der", [(_derc(base, status=2), 1)], T + 1000)) == [6]
    (control,) = p.controls()
    assert control.end == T + 1000 and not control.covers(T + 1000)
    assert _statuses(p.tick(T + 4200)) == []


def test_a_control_gone_from_the_list_before_its_end_is_taken_as_cancelled() -> None:
    p = Participation("M1", 1, {}, 0, pv=True)
    p.update("der", [(_derc(DERControlBase(opModConnect=False)), 1)], T)
    p.tick(T + 700)
    assert _statuses(p.update("der", [], T + 900)) == [6]
    assert _statuses(p.tick(T + 4200)) == []
    assert not any(c.covers(T + 1000) for c in p.controls())


def test_the_default_control_applies_only_while_no_control_is_active() -> None:
    p = Participation("M1", 1, {}, 0, pv=True, doe=True)
    p.take_default(DefaultDERControl(mRID="FF" * 16, DERControlBase=DERControlBase(opModExpLimW=ActivePower(3, 1))))
    p.update("der", [(_derc(EXPORT_LIMIT), 1)], T)
    before = in_force(p.controls(), T)
    during = in_force(p.controls(), T + 700)
    assert [c.export_limit_w for c in before] == [1000]
    assert [c.export_limit_w for c in during] == [5000]


def test_superseded_mid_flight_is_answered_superseded_and_ends() -> None:
    p = Participation("M1", 1, {}, 0, pv=True)
    base = DERControlBase(opModConnect=False)
    p.update("der", [(_derc(base), 1)], T)
    assert _statuses(p.tick(T + 700)) == [2]
    assert _statuses(p.update("der", [(_derc(base, status=4), 1)], T + 1200)) == [7]
    (control,) = p.controls()
    assert control.covers(T + 1100) and not control.covers(T + 1200)  # in force until superseded, not after
    assert _statuses(p.tick(T + 4200)) == []


# -- Rule 21 (CSIP) modes: applied whole, or answered 252 -------------------------------------------------------------
VOLT_VAR = DERCurve(
    href="/derp/1/dc/1",
    mRID="DC" * 16,
    creationTime=T,
    CurveData=[CurveData(9200, 3000), CurveData(10800, -3000)],
    curveType=11,
    xMultiplier=-2,
    yMultiplier=-2,
    yRefType=2,
)


def test_a_curve_control_is_applied_with_the_curve_it_links_to() -> None:
    p = Participation("M1", 1, {}, 0, pv=True)
    p.curves[VOLT_VAR.href] = VOLT_VAR  # type: ignore[index]
    pf = PowerFactorWithExcitation(95, True, -2)
    base = DERControlBase(
        opModVoltVar=Link("/derp/1/dc/1"), opModFixedPFInjectW=pf, opModFixedVar=FixedVar(2, -500), rampTms=3000
    )
    assert _statuses(p.update("der", [(_derc(base), 1)], T)) == [1]
    assert _statuses(p.tick(T + 600)) == [2]
    (control,) = p.controls()
    assert control.volt_var == ((92.0, 0.3), (108.0, -0.3))
    assert control.pf_inject == (0.95, True) and control.var_share == -0.05 and control.ramp_s == 30


def test_a_mode_the_meter_does_not_model_makes_the_control_not_applicable() -> None:
    """A control carrying a mode the meter cannot apply (a fixed var in % of setMaxW, a curve that cannot be read
    or is of another type, a csipaus limit outside CSIP-AUS) is answered 252 and nothing of it is applied, not
    even its other modes."""
    p = Participation("M1", 1, {}, 0, pv=True)
    p.curves.update({VOLT_VAR.href: VOLT_VAR})  # type: ignore[dict-item]
    cases = [
        DERControlBase(opModConnect=False, opModFixedVar=FixedVar(1, 500)),
        DERControlBase(opModVoltVar=Link("/derp/1/dc/9")),  # never read
        DERControlBase(opModVoltWatt=Link("/derp/1/dc/1")),  # a volt-var curve given as volt-watt
        DERControlBase(opModConnect=False, opModExpLimW=ActivePower(3, 5)),  # csipaus outside CSIP-AUS
    ]
    for n, base in enumerate(cases):
        assert _statuses(p.update("der", [(_derc(base, mrid=f"{n:02d}" * 16), 1)], T)) == [1, 252], base
    assert p.controls() == []
    assert p.unsupported(cases[0]) == ["opModFixedVar"]


def test_ride_through_droop_and_watt_pf_are_read_into_the_control() -> None:
    p = Participation("M1", 1, {}, 0, pv=True)
    trip = DERCurve(
        href="/derp/1/dc/5",
        mRID="D5" * 16,
        creationTime=T,
        CurveData=[CurveData(16, 12000), CurveData(1300, 11000)],  # 0.16 s above 120 %, 13 s above 110 %
        curveType=5,
        xMultiplier=-2,
        yMultiplier=-2,
        yRefType=4,
    )
    watt_pf = DERCurve(
        href="/derp/1/dc/6",
        mRID="D6" * 16,
        creationTime=T,
        CurveData=[CurveData(5000, 100), CurveData(10000, 90, True)],  # unity to half output, then 0.90 absorbing
        curveType=13,
        xMultiplier=-2,
        yMultiplier=-2,
        yRefType=0,
    )
    p.curves.update({trip.href: trip, watt_pf.href: watt_pf})  # type: ignore[dict-item]
    droop = FreqDroopType(dBOF=36, dBUF=36, kOF=50, kUF=50, openLoopTms=500)
    base = DERControlBase(opModHVRTMustTrip=Link(trip.href), opModWattPF=Link(watt_pf.href), opModFreqDroop=droop)
    assert _statuses(p.update("der", [(_derc(base), 1)], T)) == [1]
    (control,) = p.controls()
    assert control.trips == (("HV", ((0.16, 120.0), (13.0, 110.0)), True),)
    assert control.droop == (0.036, 0.036, 0.05, 0.05)
    (low, high) = control.watt_pf  # type: ignore[misc]
    assert low == (0.5, 0.0) and high[0] == 1.0 and high[1] == pytest.approx(-0.4843, abs=1e-4)


def test_nothing_starts_at_or_after_the_end_of_the_played_window() -> None:
    """issue #19: a run cut short (--duration) sent 'started' for an event beginning after its end."""
    p = Participation("M1", 1, {}, 0)
    p.played_until = T + 600  # the event starts at T + 600: just outside [start, T + 600)
    assert _statuses(p.update("dr", [(_edc(), 0)], T)) == [1]
    assert _statuses(p.tick(T + 600)) == [] and _statuses(p.tick(T + 4200)) == []


def test_a_server_dropping_an_event_at_its_end_does_not_cancel_a_randomised_meter() -> None:
    """A meter randomised to start late runs past the end the server gave; envoy (and CSIP-AUS servers) drop the
    event from the list at that end: that is no cancellation, and the meter completes at its own end."""
    for meter in ("M1", "M2", "M3", "M4", "M5"):
        p = Participation(meter, 7, {}, 0)
        p.update("dr", [(_edc(rs=600), 0)], T)
        (control,) = p.controls()
        if control.start == T + 600:
            continue  # not moved: nothing to see
        nominal_end = T + 600 + 3600
        assert _statuses(p.tick(control.start)) == [2]
        assert _statuses(p.update("dr", [], nominal_end + 1)) == []  # gone from the list: not a cancel
        assert _statuses(p.tick(control.end)) == [3]
        return
    raise AssertionError("no meter was randomised to start late")
