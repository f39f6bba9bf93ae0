"""The fleet runner, measured. `python bench/run.py [--realtime 500,1000,2000] [--minutes 3]`.

1. The campus for one simulated day, pace fast, against the embedded head-end: wall time, simulated-to-real
   speed-up, requests/s, and the ratio of those requests/s to the ceiling measured in the same run (the same
   clients against a TLS server that does no work, see bench/headend.py).
2. Realtime pace at a 15 s reading interval, every meter posting every 15 s, the fleet booting over 2 minutes
   (time.ramp_up), against the embedded head-end in the same process: for each fleet size, a few minutes of wall
   time, and how late each task started against when it was due (posts, and all work: connects, polls, flushes),
   boot included, the final drain aside. A size is sustained when 99 % of posts and 99 % of all tasks started less
   than 1 s late (histogram bins; the printed figure is the upper edge of the bin holding the 99th percentile).
"""

from __future__ import annotations

import argparse
import datetime as dt
import sys
import tempfile
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent))

from headend import ceiling

from amiscen.clock import Pace
from amiscen.play.session import RunOptions, play
from amiscen.play.summary import lateness_text
from amiscen.runner.fleet import Lateness
from amiscen.scenario import load_scenario
from amiscen.scenario.load import Loaded, validate_source
from amiscen.scenario.source import parse

ROOT = Path(__file__).resolve().parent.parent
CEILING_ROUNDS = 3


def campus_day(tmp: Path) -> None:
    loaded = load_scenario(ROOT / "scenarios" / "campus_utcc.yaml")
    cpu = time.process_time()
    outcome = play(loaded, RunOptions(pace=Pace(None), run_dir=tmp / "campus", certs_dir=tmp / "certs"))
    cpu = time.process_time() - cpu
    requests_per_s = outcome.metrics.requests / outcome.wall_seconds
    top = ceiling(tmp, clients=16, posts=100, rounds=CEILING_ROUNDS)
    print(
        f"campus day, pace fast: {outcome.wall_seconds:,.1f} s wall for {outcome.sim_seconds / 3600:.0f} h simulated "
        f"= {outcome.sim_seconds / outcome.wall_seconds:,.0f}x real time"
    )
    print(
        f"  {outcome.metrics.requests:,} requests = {requests_per_s:,.0f} requests/s; "
        f"{outcome.metrics.delivered:,} readings; all expectations held: {outcome.ok}"
    )
    print(
        f"  ceiling (no-work TLS server, same machine, this run, median of {CEILING_ROUNDS} rounds): "
        f"{top:,.0f} requests/s; "
        f"ratio {requests_per_s / top:.2f}"
    )
    headend = outcome.extra["headend_cpu_seconds"]
    print(
        f"  CPU: the meters' process {cpu:,.1f} s, the head-end's process {headend:,.1f} s "
        f"({headend / outcome.wall_seconds:.0%} of a core over the run)"
    )


def fleet(meters: int, minutes: float) -> Loaded:
    now = dt.datetime.now(dt.timezone(dt.timedelta(hours=7))).replace(microsecond=0)
    text = f"""schema_version: 1
name: realtime_{meters}
time: {{start: "{now.isoformat()}", duration: {int(minutes * 60)}s, reading_interval: 15s, seed: 1, ramp_up: 120s}}
function_sets: {{mirror_usage_point: {{post_rate: 15s}}}}
buildings:
  - {{name: fleet, type: residential, count: {meters}, id_pattern: "AMI_METER_RT_{{n:05d}}", peak_kw: 5}}
expect: {{all_readings_delivered: false, max_http_4xx: null}}
"""
    return validate_source(parse(text, f"realtime_{meters}.yaml"))


def realtime(tmp: Path, sizes: list[int], minutes: float) -> None:
    sustained = 0
    for trial, n in enumerate(sizes):
        loaded = fleet(n, minutes)
        outcome = play(
            loaded, RunOptions(pace=Pace(1.0), run_dir=tmp / f"rt{n}-{trial}", certs_dir=tmp / "certs", workers=64)
        )
        lateness = outcome.extra["lateness"]
        posts, work = lateness.get("post", Lateness()), Lateness.of_all(lateness)
        ok = posts.n > 0 and posts.upper(0.99) <= 1.0 and work.upper(0.99) <= 1.0  # bins are [a, b)
        sustained = n if ok else sustained
        print(
            f"realtime, {n:,} meters for {minutes:g} min: {lateness_text(lateness)}; "
            f"{outcome.metrics.requests:,} requests, {outcome.metrics.delivered:,} of {outcome.metrics.generated:,} "
            f"readings delivered -> {'sustained' if ok else 'NOT sustained'}"
        )
    print(f"most meters sustained in realtime at 15 s (p99 lateness < 1 s): {sustained:,}")


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--realtime", default="500,1000,2000", help="fleet sizes to try, comma-separated")
    parser.add_argument("--minutes", type=float, default=4.0)
    parser.add_argument("--skip-campus", action="store_true")
    args = parser.parse_args()
    with tempfile.TemporaryDirectory() as tmp:
        if not args.skip_campus:
            campus_day(Path(tmp))
        sizes = [int(x) for x in args.realtime.split(",") if x.strip()]
        if sizes:
            realtime(Path(tmp), sizes, args.minutes)


if __name__ == "__main__":
    main()
