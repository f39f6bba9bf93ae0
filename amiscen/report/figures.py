"""The report's figures, drawn with matplotlib (the optional extra ``amiscen[plot]``).

Every figure reads on its own: a title, units on the axes, the site's local time, a legend outside the data.
Lines differ in both colour (Okabe-Ito, chosen for distinct lightness) and dash, and shaded spans differ in
hatching, so a figure printed in grey still tells its series apart.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Sequence
from pathlib import Path
from typing import Any

import numpy as np

from amiscen.report.data import ReportData, Span

# (colour, dash) per series: lightness steps of at least 0.12 between any two, and a different dash each
STYLE = {
    "consumption": ("#000000", "-"),
    "pv": ("#E69F00", "--"),
    "feed_in": ("#009E73", ":"),
    "net": ("#0072B2", "-."),
    "baseline": ("#7F7F7F", "--"),
    "measured": ("#000000", "-"),
}
LABEL = {
    "consumption": "Consumption",
    "pv": "PV generation",
    "feed_in": "Feed-in (export)",
    "net": "Net import",
    "baseline": "Baseline: plan with no control",
    "measured": "Measured net import",
}
SPAN_STYLE = {
    "dr": {"facecolor": "#56B4E9", "alpha": 0.25, "hatch": "//", "edgecolor": "#0072B2"},
    "der": {"facecolor": "#E69F00", "alpha": 0.18, "hatch": "\\\\", "edgecolor": "#A05A00"},
    "outage": {"facecolor": "#999999", "alpha": 0.35, "hatch": "xx", "edgecolor": "#333333"},
    "offline": {"facecolor": "#CC79A7", "alpha": 0.25, "hatch": "..", "edgecolor": "#882255"},
}
SPAN_LABEL = {"dr": "DR event", "der": "DER control", "outage": "Gateway outage", "offline": "Meters offline"}
CANCELLED_LABEL = "Cancelled: the rest it was planned for"
# where each kind's name is written inside its band: DR and faults from the top, DER controls from the bottom,
# so a control during a DR event keeps both names readable
TEXT_AT = {"dr": (0.98, "top"), "der": (0.02, "bottom"), "outage": (0.98, "top"), "offline": (0.98, "top")}


def pyplot() -> Any:
    """matplotlib's pyplot on the non-interactive backend; ImportError when the extra is not installed."""
    import matplotlib

    matplotlib.use("Agg", force=True)
    import matplotlib.pyplot as plt

    return plt


def _times(data: ReportData, epochs: np.ndarray) -> list[dt.datetime]:
    return [dt.datetime.fromtimestamp(float(t), data.tz) for t in epochs]


def dates_shown(data: ReportData) -> str:
    """The local date (or dates) the axis covers: the last instant is one bin before the end, so a day that ends
    at midnight is that day, not the next."""
    f = data.frame
    first = data.local(f.start).date()
    last = data.local(f.start + f.bin_s * max(f.count - 1, 0)).date()
    return first.isoformat() if first == last else f"{first.isoformat()} to {last.isoformat()}"


def _time_axis(ax: Any, data: ReportData, label: bool = True) -> None:
    import matplotlib.dates as mdates

    locator = mdates.AutoDateLocator(tz=data.tz, minticks=3, maxticks=8)
    ax.xaxis.set_major_locator(locator)
    # ISO dates (a tick at midnight shows the day, 03-03), and no offset text: matplotlib's names the last tick's
    # day, which for a day drawn to its closing midnight is the next one; the label below names the dates instead
    ax.xaxis.set_major_formatter(
        mdates.ConciseDateFormatter(
            locator,
            tz=data.tz,
            formats=["%Y", "%Y-%m", "%m-%d", "%H:%M", "%H:%M", "%S.%f"],
            zero_formats=["", "%Y", "%Y-%m", "%m-%d", "%H:%M", "%H:%M"],
            show_offset=False,
        )
    )
    if label:
        ax.set_xlabel(f"Local time ({data.scenario.site.timezone}), {dates_shown(data)}")
    ax.grid(True, color="#DDDDDD", linewidth=0.6)


def _shade(ax: Any, data: ReportData, spans: Sequence[Span], seen: set[str]) -> None:
    """Each span its own band, edged so that back-to-back events stay two, with its name written inside; a
    cancelled event's band ends at the cancellation and the rest it was planned for is drawn as a dashed outline."""
    place = ax.get_xaxis_transform()  # x in time, y as a share of the axes' height
    for s in spans:
        style = SPAN_STYLE[s.kind]
        start, end = data.local(s.start), data.local(s.end)
        if s.end > s.start:
            ax.axvspan(start, end, label=SPAN_LABEL[s.kind] if s.kind not in seen else None, linewidth=0, **style)
            seen.add(s.kind)
            for edge in (start, end):
                ax.axvline(edge, color=style["edgecolor"], linewidth=0.9)
        name = s.label
        if s.planned_end is not None:
            ax.axvspan(
                end,
                data.local(s.planned_end),
                fill=False,
                linestyle="--",
                linewidth=1.0,
                edgecolor=style["edgecolor"],
                label=CANCELLED_LABEL if "cancelled" not in seen else None,
            )
            seen.add("cancelled")
            name += f" (cancelled {end:%H:%M})" if s.end > s.start else " (cancelled before its start)"
        y, align = TEXT_AT[s.kind]
        ax.text(
            start,
            y,
            " " + name,
            transform=place,
            rotation=90,
            ha="left",
            va=align,
            fontsize="x-small",
            color="#222222",
            bbox={"facecolor": "white", "alpha": 0.7, "edgecolor": "none", "pad": 1.0},
        )


def _legend(ax: Any) -> None:
    ax.legend(loc="upper left", bbox_to_anchor=(1.01, 1.0), frameon=False, fontsize="small")


def _bin_note(data: ReportData) -> str:
    seconds = data.frame.bin_s
    if seconds < 60:
        return f"{seconds:g}-second averages"
    return f"{seconds / 60:g}-minute averages" if seconds < 7200 else f"{seconds / 3600:g}-hour averages"


def campus(data: ReportData) -> Any:
    plt = pyplot()
    fig, ax = plt.subplots(figsize=(11, 4.6), layout="constrained")
    x = _times(data, data.frame.times)
    for key in ("consumption", "pv", "feed_in", "net"):
        colour, dash = STYLE[key]
        ax.plot(x, data.frame.kw(key), color=colour, linestyle=dash, linewidth=1.4, label=LABEL[key])
    _shade(ax, data, data.spans, set())
    ax.axhline(0, color="#444444", linewidth=0.6)
    ax.set_title(f"Campus power: consumption, PV and feed-in ({data.scenario.name})")
    ax.set_ylabel(f"Power (kW, {_bin_note(data)})")
    _time_axis(ax, data)
    _legend(ax)
    return fig


def battery_soc(data: ReportData) -> Any | None:
    batteries = [m for m in data.fleet if m.battery is not None and m.id in data.frame.soc_sum]
    if not batteries:
        return None
    plt = pyplot()
    fig, ax = plt.subplots(figsize=(11, 4.2), layout="constrained")
    x = _times(data, data.frame.times)
    stored = np.zeros(data.frame.count)
    capacity = 0.0
    for i, m in enumerate(batteries):
        soc = data.frame.soc(m.id)
        assert m.battery is not None
        ax.plot(x, soc, color="#9A9A9A", linewidth=0.7, label="Each battery" if i == 0 else None)
        stored += np.nan_to_num(soc) * m.battery.kwh
        capacity += m.battery.kwh
    ax.plot(x, stored / capacity, color="#000000", linewidth=2.0, label="Fleet (capacity-weighted)")
    _shade(ax, data, [s for s in data.spans if s.kind in ("dr", "der")], set())
    ax.set_ylim(0, 100)
    ax.set_title(f"Battery state of charge: {len(batteries)} batteries, {capacity:,.0f} kWh in all")
    ax.set_ylabel("State of charge (%)")
    _time_axis(ax, data)
    _legend(ax)
    return fig


def building_types(data: ReportData) -> Any:
    plt = pyplot()
    types = data.building_types
    cols = min(3, len(types))
    rows = -(-len(types) // cols)
    fig, axes = plt.subplots(
        rows, cols, figsize=(4.2 * cols + 1.6, 2.9 * rows + 0.6), sharex=True, squeeze=False, layout="constrained"
    )
    x = _times(data, data.frame.times)
    counts = {t: sum(1 for m in data.fleet if m.building_type == t) for t in types}
    for ax, t in zip(axes.flat, types, strict=False):
        for key in ("consumption", "pv"):
            colour, dash = STYLE[key]
            ax.plot(x, data.frame.kw(key, t), color=colour, linestyle=dash, linewidth=1.2, label=LABEL[key])
        ax.set_title(f"{t} ({counts[t]} meters)", fontsize="medium")
        ax.set_ylabel("kW")
        _time_axis(ax, data, label=False)
    for ax in list(axes.flat)[len(types) :]:
        ax.set_visible(False)
    handles, labels = axes.flat[0].get_legend_handles_labels()
    fig.legend(handles, labels, loc="outside lower center", ncols=2, frameon=False)
    fig.suptitle(
        f"Consumption and PV by building type ({_bin_note(data)})\n"
        f"local time ({data.scenario.site.timezone}), {dates_shown(data)}"
    )
    return fig


def dr_events(data: ReportData) -> Any | None:
    rows = [r for r in data.dr if r.target_kw is not None or r.measured_kw is not None or r.expected_kw is not None]
    if not rows:
        return None
    plt = pyplot()
    fig, ax = plt.subplots(figsize=(max(6.0, 1.6 * len(rows) + 4), 3.8), layout="constrained")
    index = np.arange(len(rows))
    bars = [
        ("Target", [r.target_kw for r in rows], "#FFFFFF", "//"),
        ("Expected (plan)", [r.expected_kw for r in rows], "#BBBBBB", ""),
        ("Measured", [r.measured_kw for r in rows], "#333333", ""),
    ]
    bars = [b for b in bars if any(v is not None for v in b[1])]
    width = 0.8 / len(bars)
    for i, (label, values, face, hatch) in enumerate(bars):
        heights = [np.nan if v is None else v for v in values]
        ax.bar(
            index + (i - (len(bars) - 1) / 2) * width,
            heights,
            width,
            label=label,
            color=face,
            hatch=hatch,
            edgecolor="#000000",
            linewidth=0.8,
        )
    names = [
        f"{r.event_id}\n(cancelled {data.local(r.cancelled_at):%H:%M})" if r.cancelled_at is not None else r.event_id
        for r in rows
    ]
    ax.set_xticks(index, names)
    ax.set_ylabel("Demand reduction (kW, mean over the event)")
    ax.set_title("Demand response: target and reduction")
    ax.axhline(0, color="#444444", linewidth=0.6)
    ax.grid(True, axis="y", color="#DDDDDD", linewidth=0.6)
    _legend(ax)
    return fig


FIGURES = {
    "campus.png": campus,
    "battery_soc.png": battery_soc,
    "building_types.png": building_types,
    "dr_events.png": dr_events,
}


def draw_all(data: ReportData, out: Path) -> list[Path]:
    """Each figure that has something to show, as a PNG in ``out``."""
    plt = pyplot()
    made = []
    for name, draw in FIGURES.items():
        fig = draw(data)
        if fig is None:
            continue
        fig.savefig(out / name, dpi=110)
        plt.close(fig)
        made.append(out / name)
    return made
