"""Meters per core in realtime pace: Locust workers against the native runner, and memory per meter.

`python bench/fleet.py [--sizes 500,1000,2000] [--minutes 2] [--repeat 1]`

Both engines play the same fleet (residential meters, 15 s readings, realtime pace) against the same head-end,
`amiscen serve` in a process of its own, so each engine has one core to itself and the head-end the other. A fleet
size is sustained when the p99 lateness of work due (posts and polls) is under 1 s, boot included: the fleet
boots over ``--ramp`` seconds (the scenario's ``time.ramp_up``), as a real one does. The native runner is one
process (threads); Locust runs its local runner in one process (gevent). Every meter posts every 15 s. Lateness
is binned the same way for both (runner.fleet.LATENESS_EDGES); the p99 printed is the upper edge of the bin that
holds it.
Memory per meter is the growth of a process's resident set per meter built (compiled baseline for a simulated
day, its mTLS session and state), between two fleet sizes, measured in a fresh process.
"""

from __future__ import annotations

import argparse
import datetime as dt
import json
import os
import resource
import statistics
import subprocess
import sys
import tempfile
import threading
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from amiscen.runner.fleet import Lateness  # noqa: E402

RAMP_S = 120


def scenario(path: Path, meters: int, seconds: int, gateway: str | None = None) -> Path:
    now = dt.datetime.now(dt.timezone(dt.timedelta(hours=7))).replace(microsecond=0)
    target = f'gateway: {{url: "{gateway}"}}\n' if gateway else ""
    path.write_text(
        f"""schema_version: 1
name: fleet_{meters}
{target}time: {{start: "{now.isoformat()}", duration: {seconds}s, reading_interval: 15s, seed: 1, ramp_up: {RAMP_S}s}}
function_sets: {{mirror_usage_point: {{post_rate: 15s}}}}
buildings:
  - {{name: fleet, type: residential, count: {meters}, id_pattern: "AMI_METER_RT_{{n:05d}}", peak_kw: 5}}
expect: {{all_readings_delivered: true, max_http_4xx: 0}}
""",
        encoding="utf-8",
    )
    return path


def serve(
    db: Path, scen: Path, certs: Path, pace: str = "realtime", stdout: int = subprocess.DEVNULL
) -> tuple[subprocess.Popen[str], str]:
    """`amiscen serve` on ``db`` in a process of its own, once it listens (its log drained meanwhile): the process
    and its base URL. ``stdout=subprocess.PIPE`` keeps its closing status to read."""
    process = subprocess.Popen(
        [
            sys.executable,
            "-m",
            "amiscen",
            "serve",
            str(scen),
            "--port",
            "0",
            "--db",
            str(db),
            "--certs",
            str(certs),
            "--pace",
            pace,
        ],
        stdout=stdout,
        stderr=subprocess.PIPE,
        text=True,
    )
    assert process.stderr is not None
    for line in process.stderr:
        if "amiscen head-end at " in line:
            threading.Thread(target=process.stderr.read, daemon=True).start()  # keep its log drained
            return process, line.split("amiscen head-end at ", 1)[1].split("/dcap", 1)[0]
    raise SystemExit("the head-end did not start")


def cpu_seconds(pid: int) -> float:
    """User and system CPU seconds a live process has used so far (Linux /proc)."""
    fields = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()
    return (int(fields[11]) + int(fields[12])) / os.sysconf("SC_CLK_TCK")


def native(tmp: Path, n: int, seconds: int, certs: Path, url: str) -> dict[str, float]:
    code = f"""
import json, sys
sys.path.insert(0, {str(ROOT)!r})
from pathlib import Path
from amiscen.clock import Pace
from amiscen.play.session import RunOptions, play
from amiscen.scenario import load_scenario
from amiscen.runner.fleet import Lateness
loaded = load_scenario(Path({str(tmp / "native.yaml")!r}))
run_dir, certs = Path({str(tmp / "native-run")!r}), Path({str(certs)!r})
options = RunOptions(pace=Pace(1.0), run_dir=run_dir, certs_dir=certs, workers=64)
out = play(loaded, options)
late = Lateness.of_all(out.extra["lateness"])
import resource
use = resource.getrusage(resource.RUSAGE_SELF)
print(json.dumps({{"hist": late.counts, "worst": late.worst, "cpu": use.ru_utime + use.ru_stime,
                  "requests": out.metrics.requests, "delivered": out.metrics.delivered, "ok": out.ok}}))
"""
    scenario(tmp / "native.yaml", n, seconds, url)
    result = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=False)
    if result.returncode != 0:
        raise SystemExit(result.stderr[-2000:])
    data = json.loads(result.stdout.strip().splitlines()[-1])
    return {
        "p99": Lateness(data["hist"], data["worst"]).upper(0.99),
        "requests": data["requests"],
        "ok": float(data["ok"]),
        "client_cpu": data["cpu"],
    }


def locust(tmp: Path, n: int, seconds: int, certs: Path, url: str) -> dict[str, float]:
    scen = scenario(tmp / "locust.yaml", n, seconds, url)
    run = tmp / "locust-run"
    before = resource.getrusage(resource.RUSAGE_CHILDREN)
    result = subprocess.run(
        [
            sys.executable,
            "-m",
            "amiscen",
            "locust",
            str(scen),
            "--certs",
            str(certs),
            "--run-dir",
            str(run),
            "--pace",
            "realtime",
            "--",
            "--loglevel",
            "WARNING",
            "--only-summary",
        ],
        capture_output=True,
        text=True,
        check=False,
    )
    after = resource.getrusage(resource.RUSAGE_CHILDREN)  # the locust process and its own, once they ended
    client_cpu = after.ru_utime + after.ru_stime - before.ru_utime - before.ru_stime
    summary = json.loads((run / "locust-summary.json").read_text())
    late = Lateness()
    for r in summary["reports"]:
        late = late.merge(Lateness(r["lateness_histogram"], r["lateness_max_s"]))
    stats = (run / "locust_stats.csv").read_text().splitlines()
    requests = int(stats[-1].split(",")[2]) if len(stats) > 1 else 0
    return {
        "p99": late.upper(0.99),
        "requests": requests,
        "ok": float(result.returncode == 0),
        "client_cpu": client_cpu,
    }


def memory_per_meter(certs: Path, tmp: Path, days: int = 1, sizes: tuple[int, int] = (100, 600)) -> float:
    """Bytes of resident memory per meter built, for ``days`` simulated days at 15 s (fresh process, two sizes)."""
    code = f"""
import sys
sys.path.insert(0, {str(ROOT)!r})
from pathlib import Path
from amiscen.compile.plan import SiteModel
from amiscen.pki import fleet as pki
from amiscen.pki.layout import Layout
from amiscen.play.build import FleetSetup, build_meters
from amiscen.runner.baseline import BaselineFile
from amiscen.runner.outbox import Outbox
from amiscen.scenario import load_scenario
from amiscen.scenario.model import meters
def rss():
    for line in open("/proc/self/status"):
        if line.startswith("VmRSS:"):
            return int(line.split()[1]) * 1024
s = load_scenario(Path({str(tmp / "memory.yaml")!r})).scenario
layout = Layout(Path({str(certs)!r}))
site = SiteModel(s)
setup = FleetSetup("https://127.0.0.1:9", layout, pki.read_index(layout), Outbox(Path({str(tmp / "mem-outbox.db")!r})),
                   lambda e: None, lambda m, at, x: None, baselines=BaselineFile(Path({str(tmp)!r})))
fleet = meters(s)
kept = build_meters(s, site, fleet[:{sizes[0]}], setup)
before = rss()
kept += build_meters(s, site, fleet[{sizes[0]}:{sizes[1]}], setup)
for meter in kept:
    meter.plan.at(0)  # a running meter holds a window of its baseline
print((rss() - before) / ({sizes[1]} - {sizes[0]}))
"""
    scenario(tmp / "memory.yaml", sizes[1], days * 24 * 3600)
    result = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True)
    return float(result.stdout.strip().splitlines()[-1])


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--sizes", default="500,1000,2000", help="fleet sizes to try, comma-separated")
    parser.add_argument("--minutes", type=float, default=4.0, help="realtime minutes per trial, the ramp included")
    parser.add_argument("--repeat", type=int, default=1, help="trials per size and engine (the median is kept)")
    parser.add_argument("--ramp", type=int, default=RAMP_S, help="seconds over which the fleet boots (time.ramp_up)")
    parser.add_argument("--engines", default="native,locust", help="which engines to measure")
    args = parser.parse_args()
    globals()["RAMP_S"] = args.ramp
    engines = {"native": native, "locust": locust}
    chosen = [(e, engines[e]) for e in args.engines.split(",")]
    sizes = [int(x) for x in args.sizes.split(",") if x.strip()]
    seconds = int(args.minutes * 60)
    with tempfile.TemporaryDirectory() as name:
        tmp = Path(name)
        certs = tmp / "certs"
        top = scenario(tmp / "all.yaml", max([*sizes, 600]), seconds)
        subprocess.run(
            [sys.executable, "-m", "amiscen", "certs", "generate", str(top), "--out", str(certs)],
            check=True,
            capture_output=True,
        )
        day, week = memory_per_meter(certs, tmp), memory_per_meter(certs, tmp, days=7)
        print(
            f"memory per meter (baseline + mTLS session + state, 15 s readings): a simulated day {day / 1024:,.0f} KB, "
            f"a week {week / 1024:,.0f} KB = {week / day:.2f}x the day (targets: < 200 KB, flat in the length)"
        )
        best = {"native": 0, "locust": 0}
        for n in sizes:
            for engine, trial in chosen:
                results = []
                for _ in range(args.repeat):
                    trial_dir = tmp / f"{engine}-{n}-{time.monotonic_ns()}"
                    trial_dir.mkdir()
                    head, url = serve(trial_dir / "headend.db", scenario(trial_dir / "serve.yaml", n, seconds), certs)
                    try:
                        result = trial(trial_dir, n, seconds, certs, url)
                        result["headend_cpu"] = cpu_seconds(head.pid)
                        results.append(result)
                    finally:
                        head.terminate()
                        head.wait(timeout=120)
                p99 = statistics.median(r["p99"] for r in results)

                def per_request(key: str, results: list[dict[str, float]] = results) -> float:
                    return statistics.median(1000 * r[key] / max(1.0, r["requests"]) for r in results)

                ok = p99 <= 1.0 and all(r["ok"] for r in results)  # bins are [a, b): an edge of 1.0 means < 1 s
                if ok:
                    best[engine] = max(best[engine], n)
                print(
                    f"{engine:<6} {n:>6,} meters, {args.minutes:g} min realtime: p99 lateness < {p99:.2f} s, "
                    f"{statistics.median(r['requests'] for r in results):,.0f} requests, all delivered: "
                    f"{all(r['ok'] for r in results)} -> {'sustained' if ok else 'NOT sustained'}; CPU per request: "
                    f"head-end {per_request('headend_cpu'):.2f} ms"
                    + (f", meters {per_request('client_cpu'):.2f} ms" if "client_cpu" in results[0] else "")
                )
        print(
            f"meters per core sustained (p99 lateness < 1 s): native {best['native']:,}, locust {best['locust']:,}"
            + (f"; locust / native = {best['locust'] / best['native']:.2f}" if best["native"] else "")
        )


if __name__ == "__main__":
    main()
