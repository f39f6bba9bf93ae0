"""The report as a page (HTML with its figures inside, plus the PNGs beside it) and as text."""

from __future__ import annotations

import base64
import datetime as dt
from collections import Counter
from dataclasses import dataclass
from pathlib import Path

import jinja2
import numpy as np

from amiscen.report.data import DrRow, ReportData
from amiscen.sep.render import templates_dir

STATUS_NAMES = {
    1: "received",
    2: "started",
    3: "completed",
    4: "opted out",
    6: "cancelled",
    7: "superseded",
    253: "invalid",
    254: "expired",
}


@dataclass(frozen=True)
class Totals:
    consumption_kwh: float
    pv_kwh: float
    feed_in_kwh: float
    import_kwh: float
    self_consumption: float | None  # share of PV used on campus
    peak_kw: float | None
    peak_at: str
    by_type: list[tuple[str, int, float, float, float]]  # type, meters, consumption, PV, feed-in kWh


def totals(data: ReportData) -> Totals:
    f = data.frame
    pv = f.kwh("pv")
    feed_in = f.kwh("feed_in")
    net = f.kw("net")
    peak_kw: float | None = None
    peak_at = "-"
    if np.isfinite(net).any():
        i = int(np.nanargmax(net))
        peak_kw = float(net[i])
        peak_at = data.local(float(f.times[i])).strftime("%Y-%m-%d %H:%M")
    counts = Counter(m.building_type for m in data.fleet)
    return Totals(
        consumption_kwh=f.kwh("consumption"),
        pv_kwh=pv,
        feed_in_kwh=feed_in,
        import_kwh=f.kwh("import"),
        self_consumption=(pv - feed_in) / pv if pv > 0 else None,
        peak_kw=peak_kw,
        peak_at=peak_at,
        by_type=[(t, counts[t], f.kwh("consumption", t), f.kwh("pv", t), f.kwh("feed_in", t)) for t in f.energy_wh],
    )


def statuses(row: DrRow, meter: str) -> str:
    return " → ".join(str(s) for s in row.responses.get(meter, [])) or "-"


def response_counts(row: DrRow) -> str:
    counts: Counter[int] = Counter(s for seq in row.responses.values() for s in seq)
    return ", ".join(f"{s} {STATUS_NAMES.get(s, '?')}: {n}" for s, n in sorted(counts.items())) or "none"


def _period(data: ReportData) -> str:
    f = data.frame
    a = data.local(f.start)
    b = data.local(f.start + f.bin_s * f.count)
    return f"{a:%Y-%m-%d %H:%M} to {b:%Y-%m-%d %H:%M} ({data.scenario.site.timezone})"


def text(data: ReportData) -> str:
    t = totals(data)
    lines = [
        f"amiscen report: {data.scenario.name} ({data.kind})",
        f"numbers from {data.source}",
        f"period {_period(data)}",
        "",
        f"campus consumption {t.consumption_kwh:,.1f} kWh, PV {t.pv_kwh:,.1f} kWh, feed-in {t.feed_in_kwh:,.1f} kWh, "
        f"import {t.import_kwh:,.1f} kWh",
    ]
    if t.self_consumption is not None:
        lines.append(f"PV used on campus {t.self_consumption * 100:.1f} %")
    if t.peak_kw is not None:
        lines.append(f"peak net import {t.peak_kw:,.1f} kW at {t.peak_at}")
    lines.append(f"{'building type':<16} {'meters':>6} {'consumed kWh':>13} {'PV kWh':>10} {'feed-in kWh':>12}")
    for name, n, consumed, pv, feed_in in t.by_type:
        lines.append(f"{name:<16} {n:>6} {consumed:>13,.1f} {pv:>10,.1f} {feed_in:>12,.1f}")
    for r in data.dr:
        head = f"DR {r.event_id} at {data.local(r.start):%Y-%m-%d %H:%M}: target {r.target}"
        if data.kind == "plan":
            expected = "-" if r.expected_kw is None else f"{r.expected_kw:,.1f} kW"
            lines.append(f"{head}, expected {expected} (everyone participating)")
        else:
            measured = "-" if r.measured_kw is None else f"{r.measured_kw:,.1f} kW"
            cancelled = (
                "" if r.cancelled_at is None else f" until its cancellation at {data.local(r.cancelled_at):%H:%M}"
            )
            lines.append(f"{head}, measured {measured}{cancelled}; responses {response_counts(r)}")
    for r in data.der:
        responses = "" if data.kind == "plan" else f"; responses {response_counts(r)}"
        lines.append(f"DER {r.event_id} at {data.local(r.start):%Y-%m-%d %H:%M}: {r.target}{responses}")
    d = data.delivery
    if d is not None:
        lines.append(f"requests {d.requests:,}: " + ", ".join(f"{k} {v:,}" for k, v in d.statuses.items()))
        if "all" in d.latency_ms:
            p = d.latency_ms["all"]
            lines.append(f"latency p50 {p['p50']:.1f} ms, p90 {p['p90']:.1f} ms, p99 {p['p99']:.1f} ms")
        if d.readings_generated is not None:
            stored = "" if d.readings_stored is None else f", {d.readings_stored:,} stored by the head-end"
            lines.append(f"readings {d.readings_generated:,} generated, {d.readings_delivered:,} delivered{stored}")
        if d.failures:
            lines.append("failures " + ", ".join(f"{k}: {v}" for k, v in sorted(d.failures.items())))
    if data.certificates:
        lines.append("certificates " + ", ".join(f"{k}: {v}" for k, v in sorted(data.certificates.items())))
    lines += data.notes
    return "\n".join(lines) + "\n"


def _environment() -> jinja2.Environment:
    env = jinja2.Environment(
        loader=jinja2.FileSystemLoader(str(templates_dir("report"))),
        autoescape=True,
        undefined=jinja2.StrictUndefined,
        trim_blocks=True,
        lstrip_blocks=True,
    )
    env.filters["kw"] = lambda v: "-" if v is None else f"{v:,.1f}"
    env.filters["num"] = lambda v: "-" if v is None else f"{v:,}"
    env.filters["local"] = lambda t, tz: dt.datetime.fromtimestamp(t, tz).strftime("%Y-%m-%d %H:%M")
    return env


CAPTIONS = {  # what each figure shows, in words (its file sits beside index.html under the name in brackets)
    "campus.png": (
        "Campus power over the period: consumption, PV, feed-in and net import; DR events and DER controls shaded "
        "and named, the planned rest of a cancelled event dashed"
    ),
    "battery_soc.png": (
        "State of charge of every battery, and of all of them together; DR events and DER controls shaded"
    ),
    "building_types.png": "Consumption and PV of each building type over the period",
    "dr_events.png": "Each demand response event: the target, the plan's expectation and the measured reduction",
}


def write(data: ReportData, out: Path, figures: list[Path]) -> Path:
    """index.html in ``out``: self-contained (figures inlined as PNG data), with the same PNGs beside it."""
    images = [
        {
            "name": p.stem.replace("_", " "),
            "file": p.name,
            "caption": CAPTIONS.get(p.name, p.stem.replace("_", " ")),
            "data": base64.b64encode(p.read_bytes()).decode(),
        }
        for p in figures
    ]
    page = (
        _environment()
        .get_template("report.html.j2")
        .render(
            data=data,
            totals=totals(data),
            period=_period(data),
            images=images,
            statuses=statuses,
            response_counts=response_counts,
            status_names=STATUS_NAMES,
            generated=dt.datetime.now(dt.timezone.utc).strftime("%Y-%m-%d %H:%M UTC"),
        )
    )
    path = out / "index.html"
    path.write_text(page, encoding="utf-8")
    (out / "report.txt").write_text(text(data), encoding="utf-8")
    return path
