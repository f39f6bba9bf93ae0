"""`amiscen report` on a real run: the demand-response example played against the embedded head-end over mutual
TLS. The report's numbers are checked against the head-end's database (queried here on its own), and against the
exchange record, which must tell the same story."""

from __future__ import annotations

import json
import re
import shutil
import sqlite3
import sys
from html.parser import HTMLParser
from pathlib import Path

import numpy as np
import pytest

from amiscen.report import from_run, write_report
from amiscen.report.data import quantity_of
from amiscen.report.page import totals

from ..cli.test_validate import amiscen

ROOT = Path(__file__).resolve().parents[2]
pytestmark = pytest.mark.e2e


@pytest.fixture(scope="module")
def run(tmp_path_factory: pytest.TempPathFactory) -> Path:
    root = tmp_path_factory.mktemp("report")
    result = amiscen(
        "run",
        str(ROOT / "examples" / "demand_response.yaml"),
        "--duration",
        "3h",
        "--run-dir",
        str(root / "run"),
        "--certs",
        str(root / "certs"),
        "--record",
        str(root / "run" / "record.jsonl"),
    )
    assert result.returncode == 0, result.stdout + result.stderr
    return root / "run"


def _stored_kwh(run: Path, uom: int, flow: int, power: bool) -> float:
    """Energy of one quantity straight from the head-end's tables."""
    total = 0.0
    with sqlite3.connect(run / "headend.db") as db:
        for reading_type, value, duration in db.execute(
            "SELECT mmr.reading_type, r.value, r.duration "
            "FROM reading r JOIN mirror_meter_reading mmr ON mmr.id = r.mmr_id"
        ):
            rt = json.loads(reading_type)
            if rt["uom"] == uom and rt["flowDirection"] == flow and (power or rt["accumulationBehaviour"] == 4):
                scale = 10 ** rt.get("powerOfTenMultiplier", 0)
                total += value * scale * (duration / 3600 if power else 1)
    return total / 1000


def test_report_totals_are_what_the_headend_stored(run: Path) -> None:
    data = from_run(run)
    assert "headend.db" in data.source
    t = totals(data)
    assert t.import_kwh == pytest.approx(_stored_kwh(run, 72, 1, power=False), rel=1e-9)
    assert t.feed_in_kwh == pytest.approx(_stored_kwh(run, 72, 19, power=False), abs=1e-9)
    assert t.pv_kwh == pytest.approx(_stored_kwh(run, 38, 19, power=True), rel=1e-9)
    net = _stored_kwh(run, 38, 1, power=True)
    battery = _stored_kwh(run, 38, 0, power=True)
    assert t.consumption_kwh == pytest.approx(net + t.pv_kwh + battery, rel=1e-9)
    # the energy balance holds on what was stored: import - export = net (to rounding of each reading)
    assert t.import_kwh - t.feed_in_kwh == pytest.approx(net, rel=2e-3)
    with sqlite3.connect(run / "headend.db") as db:
        stored = db.execute("SELECT count(*) FROM reading").fetchone()[0]
        responses = db.execute("SELECT count(*) FROM response WHERE status IS NOT NULL").fetchone()[0]
    assert data.delivery is not None and data.delivery.readings_stored == stored
    assert sum(len(s) for r in data.dr + data.der for s in r.responses.values()) == responses
    by_id = {r.event_id: r for r in data.dr}
    assert {tuple(s) for s in by_id["DR_OFFICES_PERCENT"].responses.values()} == {(1, 2, 3)}
    assert {tuple(s) for s in by_id["DR_HALLS_KW"].responses.values()} == {(1, 2, 6)}
    # measured from stored readings against the plan's baseline; the run's own client-side figure agrees
    summary = json.loads((run / "summary.json").read_text())
    assert by_id["DR_OFFICES_PERCENT"].measured_kw == pytest.approx(
        summary["reduction_kw"]["DR_OFFICES_PERCENT"], rel=0.01
    )
    assert by_id["DR_OFFICES_PERCENT"].measured_kw > 50
    assert all(m.certificate == "ok" and m.connected for m in data.meters)


def test_the_exchange_record_tells_the_same_story(run: Path, tmp_path: Path) -> None:
    copy = tmp_path / "external"
    shutil.copytree(run, copy, ignore=shutil.ignore_patterns("headend.db*"))
    from_headend, from_record = from_run(run), from_run(copy)
    assert "exchange record" in from_record.source
    a, b = totals(from_headend), totals(from_record)
    assert (b.consumption_kwh, b.pv_kwh, b.import_kwh, b.feed_in_kwh) == pytest.approx(
        (a.consumption_kwh, a.pv_kwh, a.import_kwh, a.feed_in_kwh), rel=1e-9
    )
    assert [r.measured_kw for r in from_record.dr] == pytest.approx([r.measured_kw for r in from_headend.dr])


def test_report_command_writes_a_page_and_figures(run: Path, tmp_path: Path) -> None:
    out = tmp_path / "report"
    result = amiscen("report", str(run), "--out", str(out))
    assert result.returncode == 0, result.stderr
    assert f"report: {out / 'index.html'} (4 figures)" in result.stdout
    for name in ("campus.png", "battery_soc.png", "building_types.png", "dr_events.png"):
        png = (out / name).read_bytes()
        assert png.startswith(b"\x89PNG") and len(png) > 20_000, name
    page = (out / "index.html").read_text()
    assert page.count("data:image/png;base64,") == 4  # self-contained
    assert "the embedded head-end&#39;s database" in page or "the embedded head-end's database" in page
    assert "DR_OFFICES_PERCENT" in page and "1 → 2 → 3" in page
    assert "AMI_" in page and "p99" in page
    # issue #19: the verdict first, captions in words, no words run together
    assert page.index("<h2>Expectations</h2>") < page.index("<h2>Campus energy</h2>")
    assert "<figcaption>Campus power over the period" in page and "<figcaption>campus.png" not in page
    assert '</code>. <span class="nowrap">Generated' in page
    text = (out / "report.txt").read_text()
    assert "numbers from the embedded head-end's database" in text


def test_without_matplotlib_the_text_and_a_clear_message(
    run: Path, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setitem(sys.modules, "matplotlib", None)  # import matplotlib now raises ImportError
    monkeypatch.delitem(sys.modules, "amiscen.report.figures", raising=False)
    written = write_report(from_run(run), tmp_path / "plain")
    assert written.note is not None and "pip install 'amiscen[plot]'" in written.note
    assert written.figures == [] and written.page.exists()
    assert "campus consumption" in written.text and "DR DR_OFFICES_PERCENT" in written.text


def test_a_directory_that_is_not_a_run(tmp_path: Path) -> None:
    result = amiscen("report", str(tmp_path))
    assert result.returncode == 2
    assert "not an amiscen run directory" in result.stderr


def test_plan_report_says_it_is_a_prediction(tmp_path: Path) -> None:
    result = amiscen("plan", str(ROOT / "examples" / "demand_response.yaml"), "--report", str(tmp_path / "plan"))
    assert result.returncode == 0, result.stderr
    text = (tmp_path / "plan" / "report.txt").read_text()
    assert "numbers from the compiled plan (a prediction" in text
    # everyone participating, the plan expects the target: 20 % of the offices' demand over the event
    found = re.search(
        r"DR_OFFICES_PERCENT .*target 20 % of demand \(([\d,.]+) kW\), expected ([\d,.]+) kW \(everyone", text
    )
    assert found, text
    target, expected = (float(g.replace(",", "")) for g in found.groups())
    assert expected == pytest.approx(target, rel=0.02)


@pytest.mark.parametrize(
    ("reading_type", "quantity"),
    [
        ({"uom": 72, "flowDirection": 1, "accumulationBehaviour": 4}, "import"),
        ({"uom": 72, "flowDirection": 19, "accumulationBehaviour": 4}, "feed_in"),
        ({"uom": 72, "flowDirection": 1, "accumulationBehaviour": 9}, None),  # a register, not plotted
        ({"uom": 38, "flowDirection": 1, "accumulationBehaviour": 12}, "net"),
        ({"uom": 38, "flowDirection": 19, "accumulationBehaviour": 12}, "pv"),
        ({"uom": 38, "flowDirection": 0, "accumulationBehaviour": 12}, "battery"),
        ({"uom": 72, "flowDirection": 0, "accumulationBehaviour": 12}, "stored"),
        ({"uom": 29, "flowDirection": 0, "accumulationBehaviour": 12}, None),  # voltage
    ],
)
def test_quantities_are_recognised_by_reading_type(reading_type: dict[str, int], quantity: str | None) -> None:
    assert quantity_of(reading_type) == quantity


def _texts(fig: object) -> list[object]:
    """Every visible, non-empty piece of text in a drawn figure; not the labels of ticks beyond an axis' limits,
    which matplotlib keeps but does not draw."""
    from matplotlib.text import Text

    undrawn = set()
    for ax in fig.axes:  # type: ignore[attr-defined]
        for axis in (ax.xaxis, ax.yaxis):
            low, high = sorted(axis.get_view_interval())
            for tick in axis.get_major_ticks() + axis.get_minor_ticks():
                if not low - 1e-9 <= tick.get_loc() <= high + 1e-9:
                    undrawn |= {id(tick.label1), id(tick.label2)}
    return [
        t
        for t in fig.findobj(Text)  # type: ignore[attr-defined]
        if t.get_visible() and t.get_text().strip() and id(t) not in undrawn
    ]


def _luminance(colour: object) -> float:
    from matplotlib.colors import to_rgb

    r, g, b = to_rgb(colour)  # type: ignore[arg-type]
    return 0.299 * r + 0.587 * g + 0.114 * b


def test_figures_read_on_their_own(run: Path) -> None:
    from amiscen.report import figures

    data = from_run(run)
    plt = figures.pyplot()
    for name, draw in figures.FIGURES.items():
        fig = draw(data)
        assert fig is not None, name
        fig.canvas.draw()
        renderer = fig.canvas.get_renderer()
        boxes = [(t.get_text(), t.get_window_extent(renderer)) for t in _texts(fig)]
        for i, (a, box_a) in enumerate(boxes):
            for b, box_b in boxes[i + 1 :]:
                assert not box_a.overlaps(box_b), f"{name}: {a!r} overlaps {b!r}"
        axes = [ax for ax in fig.axes if ax.get_visible()]
        assert fig._suptitle is not None or all(ax.get_title() for ax in axes), name
        for ax in axes:
            unit = ax.get_ylabel()
            assert any(u in unit for u in ("kW", "%")), f"{name}: y axis without a unit: {unit!r}"
            if name != "dr_events.png":
                assert "Local time" in ax.get_xlabel() or fig._suptitle is not None, name
            lines = [line for line in ax.get_lines() if not line.get_label().startswith("_")]
            for j, p in enumerate(lines):
                for q in lines[j + 1 :]:
                    apart = abs(_luminance(p.get_color()) - _luminance(q.get_color())) >= 0.15
                    assert apart or p.get_linestyle() != q.get_linestyle(), (
                        f"{name}: {p.get_label()} and {q.get_label()} look alike in grey"
                    )
        assert fig.legends or any(ax.get_legend() for ax in axes), f"{name}: no legend"
        plt.close(fig)


def test_time_axes_are_in_the_sites_local_time(run: Path) -> None:
    from amiscen.report import figures

    data = from_run(run)
    fig = figures.campus(data)
    fig.canvas.draw()
    labels = [t.get_text() for t in fig.axes[0].get_xticklabels()]
    # the example starts 12:00 Asia/Bangkok (05:00 UTC)
    assert "12:00" in labels and "05:00" not in labels
    figures.pyplot().close(fig)


def test_each_event_is_its_own_named_band_and_a_cancelled_one_shows_its_planned_rest(run: Path) -> None:
    """The example's two DR events run back to back (13:00-14:00, 14:00-15:00, the second cancelled at 14:30) and a
    DER control curtails PV at 12:30: each is named in its band, the cancellation is written and its planned rest
    drawn apart (issue #19: one unlabelled band, the cancel unmarked, the curtailment not drawn)."""
    from amiscen.report import figures

    data = from_run(run)
    by_id = {s.label.split(":")[0]: s for s in data.spans}
    assert by_id["DR_HALLS_KW"].cancelled and not by_id["DR_OFFICES_PERCENT"].cancelled
    assert by_id["DR_OFFICES_PERCENT"].end == by_id["DR_HALLS_KW"].start  # back to back
    assert by_id["DR_HALLS_KW"].end < by_id["DR_HALLS_KW"].planned_end  # type: ignore[operator]
    assert by_id["DER_CURTAIL_HALLS"].kind == "der"
    fig = figures.campus(data)
    fig.canvas.draw()
    texts = [t.get_text() for t in _texts(fig)]
    assert " DR_OFFICES_PERCENT" in texts and " DR_HALLS_KW (cancelled 14:30)" in texts
    assert " DER_CURTAIL_HALLS: max 40 %" in texts
    legend = [t.get_text() for t in fig.axes[0].get_legend().get_texts()]
    assert {"DR event", "DER control", figures.CANCELLED_LABEL} <= set(legend)
    figures.pyplot().close(fig)


def test_a_day_drawn_to_its_closing_midnight_is_labelled_with_its_own_date() -> None:
    """The campus day (2026-03-02, 00:00 to 24:00 Bangkok) was labelled 2026-Mar-03, the day of its last tick."""
    from amiscen.report import figures
    from amiscen.report.data import from_plan
    from amiscen.scenario import load_scenario

    data = from_plan(load_scenario(ROOT / "scenarios" / "campus_utcc.yaml").scenario)
    fig = figures.campus(data)
    fig.canvas.draw()
    axis = fig.axes[0].xaxis
    assert axis.get_label().get_text() == "Local time (Asia/Bangkok), 2026-03-02"
    assert "03-03" in [t.get_text() for t in axis.get_ticklabels()]  # the closing midnight names its day, in ISO
    assert not axis.get_offset_text().get_text()
    figures.pyplot().close(fig)


class _Cells(HTMLParser):
    """Each table of a page as rows of (tag, classes) cells."""

    def __init__(self) -> None:
        super().__init__()
        self.tables: list[list[list[tuple[str, str]]]] = []

    def handle_starttag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        if tag == "table":
            self.tables.append([])
        elif tag == "tr":
            self.tables[-1].append([])
        elif tag in ("th", "td"):
            self.tables[-1][-1].append((tag, dict(attrs).get("class") or ""))


def test_every_header_is_aligned_as_its_column(run: Path, tmp_path: Path) -> None:
    """Text columns are left-aligned, numbers right-aligned; a header sits as its column does (issue #19: the
    headers of text columns were right-aligned over left-aligned text)."""
    page = write_report(from_run(run), tmp_path / "report").page
    cells = _Cells()
    cells.feed(page.read_text())
    checked = 0
    for table in cells.tables:
        header, *rows = table
        for i, (tag, classes) in enumerate(header[1:], 1):
            assert tag == "th"
            body = {"text" in row[i][1].split() for row in rows if len(row) == len(header)}
            assert body <= {"text" in classes.split()}, f"column {i} of a table headed {header}"
            checked += 1
    assert checked > 30


def test_the_page_as_a_browser_draws_it(run: Path, tmp_path: Path) -> None:
    """A screenshot of index.html by headless Chromium (`amiscen report --screenshot`): the page is drawn with its
    inlined figures (their DR band colour is on screen). Where no Chromium is installed this is the README's
    documented check instead (`apt install chromium`)."""
    from amiscen.report.screenshot import HEIGHT, WIDTH, browser

    if browser() is None:
        pytest.skip("no Chromium on this machine (apt install chromium); the README gives the check by hand")
    shot = tmp_path / "page.png"
    result = amiscen("report", str(run), "--out", str(tmp_path / "report"), "--screenshot", str(shot))
    assert result.returncode == 0, result.stderr
    import matplotlib.image

    pixels = matplotlib.image.imread(str(shot))[:, :, :3]
    assert pixels.shape[:2] == (HEIGHT, WIDTH)
    drawn = (pixels < 0.9).any(axis=2)
    assert drawn[:120].any(), "no title at the top"
    assert drawn.mean() > 0.03, "the page is nearly blank"
    # the DR band: #56B4E9 at alpha 0.25 over white, as the campus figure draws it
    band = np.array([0x56, 0xB4, 0xE9]) / 255 * 0.25 + 0.75
    assert (np.abs(pixels - band).max(axis=2) < 0.03).sum() > 2_000, "the figures are not on the page"
