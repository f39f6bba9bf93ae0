"""The fleet: building types and their load profiles, buildings, meters, rooftop PV and batteries."""

from __future__ import annotations

import re
import string
from collections.abc import Mapping
from enum import Enum
from typing import Any

from pydantic import Field, field_validator, model_validator

from amiscen.scenario.types import Identifier, Model


class LoadProfile(Model):
    """How a building type consumes: a weekday shape scaled to a peak, modulated by calendar and heat."""

    peak_kw: float = Field(gt=0, le=100_000, description="Typical weekday in-term peak demand per meter, kW.")
    hourly: list[float] = Field(
        min_length=24,
        max_length=24,
        description="24 fractions of peak (0..1.5) for local hours 0-23 on an in-term weekday; interpolated.",
    )
    weekend_factor: float = Field(0.5, ge=0, le=3, description="Weekend demand above base, relative to weekday.")
    holiday_factor: float = Field(0.3, ge=0, le=3, description="Public-holiday demand above base, relative.")
    break_factor: float = Field(0.6, ge=0, le=3, description="Demand above base outside academic terms, relative.")
    cooling_share: float = Field(
        0.5, ge=0, le=1, description="Share of peak that is air-conditioning and follows outdoor temperature."
    )
    cooling_balance_c: float = Field(
        24.0, ge=0, le=40, description="Outdoor temperature (degC) below which cooling load is minimal."
    )
    heating_share: float = Field(
        0.0,
        ge=0,
        le=1,
        description="Share of peak that is electric heating (heat pumps, resistive) and follows the cold; 0 where "
        "heat comes from gas or a district network, as on most campuses.",
    )
    heating_balance_c: float = Field(
        15.0, ge=-30, le=30, description="Outdoor temperature (degC) above which no heating runs."
    )
    heating_design_c: float = Field(
        -12.0, ge=-50, le=20, description="Outdoor temperature (degC) at which heating runs flat out (design day)."
    )
    thermal_hours: float = Field(
        3.0,
        ge=0,
        le=48,
        description="How slowly cooling and heating follow the outdoor air (the building's thermal mass): the "
        "time constant, hours (0: at once).",
    )
    daily_variation: float = Field(
        0.06,
        ge=0,
        le=0.5,
        description="Std. dev. of a meter's day-to-day activity (occupancy, events, operations), a share of its "
        "demand above base; days persist a little (correlation time 2 days).",
    )
    cooling_variation: float = Field(
        0.15,
        ge=0,
        le=1,
        description="Std. dev. of a meter's air-conditioning around what the weather asks (setpoints, chiller "
        "staging, sun on the facade), a share of its cooling; correlation time 3 hours.",
    )
    noise: float = Field(0.04, ge=0, le=0.5, description="Std. dev. of autocorrelated noise, share of demand.")
    noise_minutes: float = Field(
        20.0, gt=0, le=1440, description="Correlation time of the noise (AR(1) time constant), minutes."
    )
    steps_per_day: float = Field(
        8.0, ge=0, le=1000, description="Mean number of appliance-like on/off steps per meter and day."
    )
    step_share: float = Field(0.05, ge=0, le=1, description="Size of one step, share of peak.")
    power_factor: float = Field(0.92, gt=0, le=1, description="Power factor, for reactive power and VA.")
    dr_shed_share: float = Field(
        0.2,
        ge=0,
        le=1,
        description="Share of its demand a building of this type can shed for a DR event without closing "
        "(AC setpoint, lighting, pumps); a battery covers the rest of a target.",
    )
    dr_rebound_share: float = Field(
        0.3,
        ge=0,
        le=2,
        description="Energy paid back after a DR event, a share of the energy shed (published: 10-50 % in the "
        "first hour; cooling recovers what it gave up).",
    )
    dr_rebound_minutes: float = Field(
        30.0, gt=0, le=1440, description="Time constant of the payback after an event, minutes (it decays)."
    )
    dr_precool_share: float = Field(
        0.25,
        ge=0,
        le=2,
        description="Pre-cooling: in the hour (dr_precool_minutes) before a DR event it knows of, the building "
        "draws this share of the power it will shed, to store cool in its mass (0: none; cooling-dominated "
        "buildings in published DR programmes pre-cool 1-3 hours).",
    )
    dr_precool_minutes: float = Field(60.0, ge=0, le=360, description="How long before a DR event pre-cooling starts.")

    @model_validator(mode="after")
    def _shares_and_temperatures(self) -> LoadProfile:
        if self.cooling_share + self.heating_share > 1:
            raise ValueError(
                f"cooling_share ({self.cooling_share:g}) and heating_share ({self.heating_share:g}) add up to more "
                "than all of the demand"
            )
        if self.heating_design_c >= self.heating_balance_c:
            raise ValueError(
                f"heating_design_c ({self.heating_design_c:g}) must be colder than heating_balance_c "
                f"({self.heating_balance_c:g})"
            )
        return self

    @field_validator("hourly")
    @classmethod
    def _fractions(cls, values: list[float]) -> list[float]:
        bad = [f"hour {h}: {v}" for h, v in enumerate(values) if not 0 <= v <= 1.5]
        if bad:
            raise ValueError("each value must be between 0 and 1.5 (" + ", ".join(bad) + ")")
        return values


def check_peak_hours(hours: tuple[float, float]) -> None:
    """A tariff's on-peak window: [from, to) local hours within one day (the battery's and the site's)."""
    start, end = hours
    if not 0 <= start < end <= 24:
        raise ValueError(f"peak_hours must be [from, to) within 0-24 with from before to (got {start:g}-{end:g})")


def share_field() -> Any:
    """``share`` of a building's PV or battery: which of its generated meters have it."""
    return Field(
        1.0,
        gt=0,
        le=1,
        description="Share of the building's generated meters that have it (0.5: half of them, picked by the "
        "seed); a meter of an explicit list that inherits it always has it.",
    )


class PvArray(Model):
    """One roof face of a PV system: its own orientation, sharing the system's inverter."""

    kwp: float = Field(gt=0, le=100_000, description="DC nameplate of this face, kWp.")
    tilt_deg: float = Field(10.0, ge=0, le=90, description="Panel tilt from horizontal, degrees.")
    azimuth_deg: float = Field(180.0, ge=0, lt=360, description="Panel azimuth, degrees clockwise from north.")


class Pv(Model):
    """A rooftop PV system with its inverter: one array (kwp, tilt_deg, azimuth_deg), or several faces (arrays:
    an east-west roof) whose DC power meets in the one inverter."""

    kwp: float = Field(gt=0, le=100_000, description="DC nameplate, kWp (with arrays: their sum, may be left out).")
    tilt_deg: float = Field(10.0, ge=0, le=90, description="Panel tilt from horizontal, degrees.")
    azimuth_deg: float = Field(180.0, ge=0, lt=360, description="Panel azimuth, degrees clockwise from north.")
    arrays: list[PvArray] | None = Field(
        None,
        min_length=1,
        max_length=16,
        description="Faces of different orientation on one inverter, e.g. east and west; tilt_deg and "
        "azimuth_deg then belong to each face.",
    )
    inverter_kw: float | None = Field(
        None, gt=0, description="AC rating of the inverter, kW; absent: kWp / 1.15 (a typical DC/AC ratio)."
    )
    losses_percent: float = Field(
        14.0, ge=0, lt=100, description="System losses (soiling, wiring, mismatch), % (PVWatts default 14)."
    )
    temp_coeff_per_c: float = Field(
        -0.0037,
        ge=-0.01,
        le=0,
        description="Power temperature coefficient, per degC (crystalline Si ~ -0.37%).",
    )
    share: float = share_field()

    @model_validator(mode="before")
    @classmethod
    def _total_of_the_faces(cls, data: Any) -> Any:
        if isinstance(data, Mapping) and isinstance(data.get("arrays"), list) and "kwp" not in data:
            faces = [a.get("kwp") for a in data["arrays"] if isinstance(a, Mapping)]
            if faces and all(isinstance(k, int | float) and not isinstance(k, bool) for k in faces):
                return {**data, "kwp": sum(faces)}
        return data

    @model_validator(mode="after")
    def _faces_add_up(self) -> Pv:
        if self.arrays is not None:
            total = sum(a.kwp for a in self.arrays)
            if abs(total - self.kwp) > 1e-9 * max(total, 1):
                raise ValueError(f"kwp ({self.kwp:g}) is not the sum of its arrays' kwp ({total:g}); leave it out")
        return self

    @property
    def faces(self) -> list[PvArray]:
        """The faces the system has: its arrays, or itself as one."""
        return self.arrays or [PvArray(kwp=self.kwp, tilt_deg=self.tilt_deg, azimuth_deg=self.azimuth_deg)]

    @property
    def ac_kw(self) -> float:
        return self.inverter_kw if self.inverter_kw is not None else self.kwp / 1.15


class BatteryMode(str, Enum):
    """How a battery is dispatched when no control overrides it."""

    self_consumption = "self_consumption"
    peak_shaving = "peak_shaving"
    time_of_use = "time_of_use"
    backup = "backup"


class Battery(Model):
    """A stationary battery behind the meter."""

    kwh: float = Field(gt=0, le=1_000_000, description="Usable energy capacity, kWh.")
    kw: float = Field(gt=0, le=1_000_000, description="Maximum charge and discharge power, kW.")
    mode: BatteryMode = Field(BatteryMode.self_consumption, description="Dispatch mode without controls.")
    soc_min: float = Field(0.10, ge=0, lt=1, description="Lowest state of charge it may reach (0..1).")
    soc_max: float = Field(0.95, gt=0, le=1, description="Highest state of charge it may reach (0..1).")
    initial_soc: float = Field(0.5, ge=0, le=1, description="State of charge at the start (0..1).")
    round_trip_efficiency: float = Field(0.90, gt=0.3, le=1, description="AC round-trip efficiency (0..1).")
    standby_loss_per_day: float = Field(
        0.01, ge=0, le=0.5, description="Share of stored energy lost per day when idle."
    )
    peak_threshold_kw: float | None = Field(
        None, gt=0, description="peak_shaving: discharge to keep the meter's import below this, kW."
    )
    peak_hours: tuple[float, float] = Field(
        (9.0, 22.0),
        description="The tariff's on-peak window on weekdays, local hours [from, to) (default: site.tariff's, "
        "itself by default the Thai TOU tariff's 09:00-22:00): time_of_use discharges in it and charges outside; "
        "peak_shaving recharges outside.",
    )
    share: float = share_field()

    @model_validator(mode="after")
    def _peak_window(self) -> Battery:
        check_peak_hours(self.peak_hours)
        return self

    @model_validator(mode="after")
    def _soc_window(self) -> Battery:
        if self.soc_min >= self.soc_max:
            raise ValueError(f"soc_min ({self.soc_min}) must be below soc_max ({self.soc_max})")
        if not self.soc_min <= self.initial_soc <= self.soc_max:
            raise ValueError(
                f"initial_soc ({self.initial_soc}) must lie between soc_min ({self.soc_min}) "
                f"and soc_max ({self.soc_max})"
            )
        return self


class Meter(Model):
    """One revenue meter (one 2030.5 EndDevice). Fields left out take the building's values."""

    id: Identifier = Field(description="Meter id, e.g. AMI_METER_UTCC_001; names its certificate.")
    name: str | None = Field(None, description="Human name, e.g. the building it serves.")
    peak_kw: float | None = Field(None, gt=0, le=100_000, description="Weekday peak demand, kW.")
    time_shift_min: float | None = Field(None, ge=-240, le=240, description="Shift of the daily shape, minutes.")
    floor_area_m2: float | None = Field(None, gt=0, description="Conditioned floor area served, m2.")
    pv: Pv | None = Field(None, description="Rooftop PV; null for none.")
    battery: Battery | None = Field(None, description="Battery; null for none.")
    pin: int | None = Field(
        None,
        ge=0,
        le=999_999,
        description="This meter's registration PIN, as on its label (overrides gateway.registration.pin).",
    )
    nmi: str | None = Field(
        None,
        pattern=r"^[A-Z0-9]{10,11}$",
        description="CSIP-AUS: the connection point id (NMI) the meter reports in its ConnectionPoint; absent: "
        "an 11-character NMI derived from the meter id.",
    )


def pattern_fields(pattern: str) -> set[str]:
    return {name for _, name, _, _ in string.Formatter().parse(pattern) if name is not None}


ID_PATTERN_FIELDS = {"n", "building", "network"}


class Building(Model):
    """A group of meters of one building type: either `count` generated meters or an explicit `meters` list."""

    name: Identifier = Field(description="Unique name of this building (group), e.g. academic_block_a.")
    type: str = Field(
        description="Building type: academic, residential, administrative, athletic, research, support, "
        "pv_plant (a meter of generation only: a carport or ground-mounted array, its load the plant's own), or a "
        "type defined under load_profiles."
    )
    count: int | None = Field(None, ge=1, le=1_000_000, description="Number of meters to generate.")
    id_pattern: str = Field(
        "AMI_METER_{building}_{n:03d}",
        description="Id of generated meters; fields {n} (number), {building}, {network}.",
    )
    first_number: int = Field(1, ge=0, description="{n} of the first generated meter.")
    meters: list[Meter] | None = Field(None, min_length=1, description="Explicit meters (instead of count).")
    peak_kw: float | None = Field(None, gt=0, le=100_000, description="Peak per meter; absent: the type's.")
    time_shift_min: float = Field(0.0, ge=-240, le=240, description="Shift of the daily shape, minutes.")
    floor_area_m2: float | None = Field(None, gt=0, description="Conditioned floor area per meter, m2.")
    pv: Pv | None = Field(
        None, description="PV for the building's meters (all, or pv.share of them; a listed meter may override)."
    )
    battery: Battery | None = Field(
        None, description="Battery for the building's meters (all, or battery.share of them; a meter may override)."
    )
    size_spread: float = Field(
        0.0,
        ge=0,
        le=1,
        description="How much the generated meters differ in size: the coefficient of variation of a factor drawn "
        "per meter (lognormal, mean 1, kept within 0.2-5) that scales its peak demand, PV and battery together "
        "(0.3: most within +/-30 %). 0: all alike.",
    )

    @model_validator(mode="after")
    def _count_or_meters(self) -> Building:
        if (self.count is None) == (self.meters is None):
            raise ValueError("give either `count` (generated meters) or `meters` (an explicit list), not both")
        return self

    @field_validator("id_pattern")
    @classmethod
    def _pattern(cls, value: str) -> str:
        """Literal id characters and the fields {n} (optionally zero-padded, {n:03d}, width up to 12),
        {building}, {network}: nothing else (no format specs that build huge strings, no attribute access)."""
        try:
            parts = list(string.Formatter().parse(value))
        except ValueError as exc:
            raise ValueError(f"not a valid pattern ({exc}); use fields {{n}}, {{building}}, {{network}}") from None
        fields = set()
        for literal, name, spec, conversion in parts:
            if literal and not re.fullmatch(r"[A-Za-z0-9_.\-]*", literal):
                raise ValueError(f"{literal!r}: ids are letters, digits, '_', '.', '-' (no '/', no spaces)")
            if name is None:
                continue
            if name not in ID_PATTERN_FIELDS or conversion is not None:
                raise ValueError(f"unknown field {{{name}}}; use {{n}}, {{building}}, {{network}}")
            if spec and not (name == "n" and re.fullmatch(r"0?([1-9]|1[0-2])d", spec)):
                raise ValueError(
                    f"{{{name}:{spec}}}: only {{n}} takes a format, a zero-padded width up to 12 ({{n:03d}})"
                )
            fields.add(name)
        if "n" not in fields:
            raise ValueError("must contain {n}, the meter number, so generated ids are unique")
        return value
