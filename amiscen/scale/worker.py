"""What one Locust process holds: the scenario, compiled per meter on demand, and the meters it has played.

Kept free of Locust so that it can be tested and measured without it."""

from __future__ import annotations

import datetime as dt
import json
import os
import socket
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from amiscen.clock import Pace, SimClock
from amiscen.compile.plan import SiteModel
from amiscen.errors import UsageError
from amiscen.pki import fleet as pki
from amiscen.pki.fleet import Identity
from amiscen.pki.layout import Layout
from amiscen.play.build import FleetSetup, build_meters
from amiscen.play.schedule import played_site
from amiscen.runner.baseline import BaselineFile
from amiscen.runner.events import Delivered, Failed, Generated, RunEvent
from amiscen.runner.fleet import Fleet, Lateness
from amiscen.runner.outbox import Outbox
from amiscen.runner.transport import Exchange
from amiscen.scenario import load_scenario
from amiscen.scenario.durations import parse_duration
from amiscen.scenario.model import MeterSpec, Scenario, meters


@dataclass
class WorkerState:
    scenario: Scenario
    fleet: list[MeterSpec]
    base_url: str
    layout: Layout
    index: dict[str, Identity]
    run_dir: Path
    pace: Pace
    start: float
    end: float
    site: SiteModel
    outbox: Outbox
    baselines: BaselineFile
    shared_clock: SimClock | None = None
    generated: dict[str, int] = field(default_factory=dict)  # meter -> readings
    delivered: dict[str, int] = field(default_factory=dict)
    failures: dict[str, dict[str, int]] = field(default_factory=dict)  # meter -> failure class -> count

    @classmethod
    def from_environment(cls, env: Mapping[str, str]) -> WorkerState:
        path = env.get("AMISCEN_SCENARIO")
        url = env.get("AMISCEN_GATEWAY")
        if not path or not url:
            raise UsageError("the amiscen locustfile needs AMISCEN_SCENARIO and AMISCEN_GATEWAY in its environment")
        s = load_scenario(Path(path)).scenario
        layout = Layout(Path(env.get("AMISCEN_CERTS", "certs")))
        fleet = meters(s)
        index = pki.read_index(layout)
        missing = [m.id for m in fleet if m.id not in index]
        if missing:
            raise UsageError(
                f"{layout.root}: no certificates for {len(missing)} meters (e.g. {missing[0]})",
                hint="run `amiscen certs generate SCENARIO` and copy the directory to every worker",
            )
        cut = parse_duration(env["AMISCEN_DURATION"]) if env.get("AMISCEN_DURATION") else None
        site, start, end = played_site(s, cut)
        run_dir = Path(env.get("AMISCEN_RUN_DIR", "runs/locust"))
        run_dir.mkdir(parents=True, exist_ok=True)
        name = f"{socket.gethostname()}-{os.getpid()}"
        return cls(
            scenario=s,
            fleet=fleet,
            base_url=url,
            layout=layout,
            index=index,
            run_dir=run_dir,
            pace=Pace.parse(env.get("AMISCEN_PACE", "realtime")),
            start=start,
            end=end,
            site=site,
            outbox=Outbox(run_dir / f"outbox-{name}.db"),
            baselines=BaselineFile(run_dir),
        )

    @property
    def meter_count(self) -> int:
        return len(self.fleet)

    def clock(self) -> SimClock:
        """Realtime and Nx: one clock for the process, anchored when its first meter starts; fast: one per meter
        (each runs through its own timeline as fast as it can)."""
        if self.pace.factor is None:
            return SimClock(self.start, self.pace)
        if self.shared_clock is None:
            self.shared_clock = SimClock(self.start, self.pace)
        return self.shared_clock

    def emit(self, event: RunEvent) -> None:
        if isinstance(event, Generated):
            self.generated[event.meter] = self.generated.get(event.meter, 0) + len(event.intervals) * event.quantities
        elif isinstance(event, Delivered):
            self.delivered[event.meter] = self.delivered.get(event.meter, 0) + event.readings
        elif isinstance(event, Failed):
            mine = self.failures.setdefault(event.meter, {})
            mine[event.failure] = mine.get(event.failure, 0) + 1

    def play(self, index: int, record: Callable[[str, float, Exchange], None]) -> dict[str, Any]:
        """Meter number ``index`` of the scenario: its whole timeline, then the drain of its outbox; what it did
        (small: it goes to the master)."""
        spec = self.fleet[index]
        setup = FleetSetup(
            self.base_url, self.layout, self.index, self.outbox, self.emit, record, baselines=self.baselines
        )
        meter = build_meters(self.scenario, self.site, [spec], setup)[0]
        try:
            result = Fleet([meter], self.clock(), self.emit, workers=1).run(self.start, self.end)
        finally:
            meter.client.session.close()
        late = Lateness.of_all(result.lateness)
        return {
            "meter": spec.id,
            "worker": f"{socket.gethostname()}:{os.getpid()}",
            "generated": self.generated.get(spec.id, 0),
            "delivered": self.delivered.get(spec.id, 0),
            "queued": self.outbox.pending(spec.id)[1],
            "failures": self.failures.get(spec.id, {}),
            "lateness_p99_below_s": late.upper(0.99),
            "lateness_max_s": late.worst,
            "lateness_histogram": late.counts,  # over runner.fleet.LATENESS_EDGES, seconds
        }


def write_summary(run_dir: Path, meter_count: int, reports: list[dict[str, Any]]) -> Path:
    """The master's account of the test: one report per meter, from whichever worker played it."""
    path = run_dir / "locust-summary.json"
    body = {
        "meters": meter_count,
        "reports": sorted(reports, key=lambda r: r["meter"]),
        "written": dt.datetime.now(dt.timezone.utc).isoformat(),
    }
    path.write_text(json.dumps(body, indent=1), encoding="utf-8")
    return path
