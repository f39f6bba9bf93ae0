"""What happens during the run: the utility's DR events and DER controls, P2P flow reservations, faults."""

from __future__ import annotations

from datetime import date, timedelta
from typing import Annotated, Literal

from pydantic import Field, field_validator, model_validator

from amiscen.scenario.types import Duration, Identifier, Model, TimeRef


class Targets(Model):
    """Which meters something applies to: the union of the lists; all meters when every list is empty."""

    building_types: list[str] = Field(default_factory=list, description="Building types, e.g. [academic].")
    buildings: list[str] = Field(default_factory=list, description="Building names.")
    meters: list[str] = Field(default_factory=list, description="Meter ids.")

    @property
    def everyone(self) -> bool:
        return not (self.building_types or self.buildings or self.meters)


class TargetReduction(Model):
    """A demand reduction, in kW for the whole target group or in % of each meter's demand."""

    kw: float | None = Field(None, gt=0, le=1_000_000, description="Reduction of the group's demand, kW.")
    percent: float | None = Field(None, gt=0, le=100, description="Reduction of each meter's demand, %.")

    @model_validator(mode="after")
    def _one_of(self) -> TargetReduction:
        if (self.kw is None) == (self.percent is None):
            raise ValueError("give exactly one of `kw` or `percent`")
        return self


class Repeat(Model):
    """An event that recurs: each occurrence is an event of its own (its id the event's with the local date,
    EVENT_20260706; or date and time, EVENT_20260706T1400, when it recurs within a day), at the same time on the
    site's clock (14:00 stays 14:00 across a daylight-saving change). Occurrences run to the window's end, or to
    `until` or `count`, whichever comes first."""

    every: Literal["day", "weekday", "weekend", "week"] | Duration = Field(
        description="day; weekday (Monday to Friday); weekend; week (the first occurrence's weekday); or a duration "
        "(e.g. 12h, 2d: elapsed time, not the clock)."
    )
    until: date | None = Field(None, description="The last local date an occurrence may start on.")
    count: int | None = Field(None, ge=1, le=10_000, description="At most this many occurrences, the first included.")

    @field_validator("every")
    @classmethod
    def _not_too_often(cls, value: object) -> object:
        if isinstance(value, timedelta) and value < timedelta(minutes=1):
            raise ValueError("an event may recur at most once a minute")
        return value


class _Scheduled(Model):
    id: Identifier = Field(description="Unique event id; becomes the event's mRID description.")
    start: TimeRef = Field(
        description="When it starts: ISO 8601 (2026-03-02T14:00, the site's clock; or with an offset), or "
        "+DURATION from the start."
    )
    duration: Duration = Field(description="How long it lasts, e.g. 1h.")
    targets: Targets = Field(default_factory=Targets, description="Meters it applies to (default: all).")
    randomize_start: Duration = Field(
        timedelta(0), description="Each device may start up to this much later (2030.5 randomizeStart)."
    )
    randomize_duration: Duration = Field(
        timedelta(0), description="Each device may run up to this much longer (randomizeDuration)."
    )
    cancel_at: TimeRef | None = Field(None, description="The utility cancels the event at this time.")
    response_required: bool = Field(True, description="Devices must post Responses (received/started/completed).")
    repeat: Repeat | None = Field(
        None, description="Recur: every day, weekday, weekend, week or duration, each occurrence an event."
    )


class DemandResponseEvent(_Scheduled):
    """A DRLC EndDeviceControl published by the utility."""

    type: Literal["demand_response"] = Field(description="Kind of event.")
    program: Identifier = Field("campus_dr", description="DemandResponseProgram it belongs to.")
    target_reduction: TargetReduction = Field(description="How much demand to shed.")
    opt_out_share: float = Field(0.0, ge=0, le=1, description="Share of targeted meters that opt out (status 4).")
    mandatory: bool = Field(False, description="drProgramMandatory: opting out is not allowed.")
    allow_overlap: bool = Field(False, description="Allow this event to overlap another DR event on one meter.")


class Curtail(Model):
    """Limit active power output to a share of the DER's rated power (opModMaxLimW)."""

    type: Literal["curtail"] = Field(description="Kind of control.")
    max_w_percent: float = Field(ge=0, le=100, description="Output limit, % of setMaxW.")


class FixedW(Model):
    """Hold active power at a share of rated power; negative charges a battery (opModFixedW)."""

    type: Literal["fixed_w"] = Field(description="Kind of control.")
    percent: float = Field(ge=-100, le=100, description="Active power, % of setMaxW (negative = charge).")


class TargetW(Model):
    """Hold active power at a value (opModTargetW)."""

    type: Literal["target_w"] = Field(description="Kind of control.")
    kw: float = Field(ge=-1_000_000, le=1_000_000, description="Active power target, kW (negative = charge).")


class Connect(Model):
    """Connect or disconnect the DER (opModConnect)."""

    type: Literal["connect"] = Field(description="Kind of control.")
    connected: bool = Field(description="false disconnects the DER for the event.")


class Envelope(Model):
    """A dynamic operating envelope (CSIP-AUS csipaus:opModExpLimW, opModImpLimW, opModGenLimW, opModLoadLimW):
    limits at the connection point (export, import) and on the DER (generation, load). Meters apply it under
    gateway.profile csip-aus; others answer 252 (not applicable)."""

    type: Literal["envelope"] = Field(description="Kind of control.")
    export_kw: float | None = Field(None, ge=0, le=1_000_000, description="Most export at the connection point, kW.")
    import_kw: float | None = Field(None, ge=0, le=1_000_000, description="Most import at the connection point, kW.")
    generation_kw: float | None = Field(None, ge=0, le=1_000_000, description="Most the DER generates, kW.")
    load_kw: float | None = Field(None, ge=0, le=1_000_000, description="Most the DER consumes (charging), kW.")

    @model_validator(mode="after")
    def _some_limit(self) -> Envelope:
        if all(v is None for v in (self.export_kw, self.import_kw, self.generation_kw, self.load_kw)):
            raise ValueError("give at least one of export_kw, import_kw, generation_kw, load_kw")
        return self


class FixedPowerFactor(Model):
    """Hold a fixed power factor (opModFixedPFInjectW and opModFixedPFAbsorbW): reactive power in proportion to
    active power."""

    type: Literal["fixed_pf"] = Field(description="Kind of control.")
    power_factor: float = Field(ge=0.5, le=1, description="Displacement power factor, 0.5 to 1.")
    absorbing: bool = Field(
        True, description="true: absorb reactive power (under-excited, lowers voltage); false: inject it."
    )


class FixedReactivePower(Model):
    """Hold reactive power at a share of the DER's reactive capability (opModFixedVar, % of setMaxVar)."""

    type: Literal["fixed_var"] = Field(description="Kind of control.")
    percent: float = Field(ge=-100, le=100, description="Reactive power, % of setMaxVar (+ inject, - absorb).")


class Curve(Model):
    """An autonomous curve (Rule 21): volt_var (x: voltage, % of nominal; y: % of setMaxVar, + inject), watt_var
    (x: active power, % of setMaxW; y: % of setMaxVar), volt_watt (x: voltage, %; y: most output, % of setMaxW)
    or freq_watt (x: frequency, Hz; y: most output, % of setMaxW). Published as a DERCurve the control links to;
    meters apply it under any profile (their DER advertises the modes)."""

    type: Literal["curve"] = Field(description="Kind of control.")
    mode: Literal["volt_var", "watt_var", "volt_watt", "freq_watt"] = Field(description="The curve mode.")
    points: list[tuple[float, float]] = Field(
        min_length=2, max_length=10, description="(x, y) points, x ascending (2030.5 allows 2 to 10)."
    )

    @model_validator(mode="after")
    def _ascending(self) -> Curve:
        xs = [x for x, _ in self.points]
        if xs != sorted(xs) or len(set(xs)) != len(xs):
            raise ValueError("points must have x strictly ascending")
        if any(not -200 <= y <= 200 for _, y in self.points):
            raise ValueError("y must be a percent between -200 and 200")
        return self


DerControlKind = Annotated[
    Curtail | FixedW | TargetW | Connect | Envelope | FixedPowerFactor | FixedReactivePower | Curve,
    Field(discriminator="type"),
]


class DerControlEvent(_Scheduled):
    """A DERControl published in a DERProgram."""

    type: Literal["der_control"] = Field(description="Kind of event.")
    program: Identifier = Field("campus_der", description="DERProgram it belongs to.")
    primacy: int = Field(1, ge=0, le=255, description="Program primacy: lower wins when controls overlap.")
    control: DerControlKind = Field(description="What the DER must do.")


class FlowReservation(Model):
    """A P2P trading request a meter posts (FlowReservationRequest)."""

    type: Literal["flow_reservation"] = Field(description="Kind of event.")
    id: Identifier = Field(description="Unique request id.")
    meter: str = Field(description="Meter that posts the request.")
    request_at: TimeRef | None = Field(None, description="When it is posted; absent: 1h before start.")
    start: TimeRef = Field(description="Start of the requested interval.")
    duration: Duration = Field(description="Length of the requested interval.")
    direction: Literal["import", "export"] = Field("export", description="export sells energy, import buys.")
    energy_kwh: float = Field(gt=0, le=1_000_000, description="Energy requested over the interval, kWh.")
    power_kw: float = Field(gt=0, le=1_000_000, description="Maximum power requested, kW.")


Event = Annotated[DemandResponseEvent | DerControlEvent | FlowReservation, Field(discriminator="type")]


class _Fault(Model):
    id: Identifier | None = Field(None, description="Optional id, for reports.")
    start: TimeRef = Field(description="When it starts.")


class _TimedFault(_Fault):
    duration: Duration = Field(description="How long it lasts.")


class GatewayOutage(_TimedFault):
    """The head-end refuses connections."""

    type: Literal["gateway_outage"] = Field(description="Kind of fault.")


class Latency(_TimedFault):
    """Every response is delayed."""

    type: Literal["latency"] = Field(description="Kind of fault.")
    delay: Duration = Field(description="Added delay per request.")
    jitter: Duration = Field(timedelta(0), description="Random extra delay, up to this much.")


class HttpErrors(_TimedFault):
    """A share of requests get an error status."""

    type: Literal["http_errors"] = Field(description="Kind of fault.")
    status: int = Field(503, description="HTTP status returned: 429 or 500-599.")
    share: float = Field(0.5, gt=0, le=1, description="Share of requests affected.")
    retry_after: Duration | None = Field(None, description="Retry-After sent with 429/503.")

    @model_validator(mode="after")
    def _transient_status(self) -> HttpErrors:
        if self.status != 429 and not 500 <= self.status <= 599:
            raise ValueError(f"status must be 429 or 500-599 (got {self.status})")
        return self


class Tamper(_Fault):
    """A meter detects tampering and raises a LogEvent."""

    type: Literal["tamper"] = Field(description="Kind of fault.")
    meter: str = Field(description="Meter that is tampered with.")


class ClockDrift(_Fault):
    """A meter's clock runs off; it should re-sync from /tm."""

    type: Literal["clock_drift"] = Field(description="Kind of fault.")
    meter: str = Field(description="Meter whose clock drifts.")
    ppm: float = Field(0.0, ge=-100_000, le=100_000, description="Rate error, parts per million.")
    step: Duration = Field(timedelta(0), description="A sudden jump of the clock at start.")


class MeterOffline(_TimedFault):
    """Meters lose their connection and buffer readings until they are back."""

    type: Literal["meter_offline"] = Field(description="Kind of fault.")
    targets: Targets = Field(default_factory=Targets, description="Meters that go offline.")


Fault = Annotated[
    GatewayOutage | Latency | HttpErrors | Tamper | ClockDrift | MeterOffline, Field(discriminator="type")
]


class Expectations(Model):
    """What the run must show; checked at the end, failing the run (exit 1) when one does not hold."""

    all_readings_delivered: bool = Field(True, description="Every reading reached the head-end exactly once.")
    dr_responses_complete: bool = Field(
        False, description="Every targeted, participating meter posted received -> started -> completed."
    )
    min_dr_reduction_kw: dict[str, float] = Field(
        default_factory=dict, description="Per DR event id: minimum measured campus reduction, kW."
    )
    max_http_4xx: int | None = Field(0, ge=0, description="Most 4xx responses allowed (null: no limit).")
    max_schema_invalid: int = Field(0, ge=0, description="Most bodies allowed to fail schema validation.")
    max_failed_deliveries: int = Field(0, ge=0, description="Most readings allowed to remain undelivered.")
