"""How long `amiscen serve` takes to stop (SIGTERM to exit, its closing status included) with a large fleet in
its database: `python bench/serve_stop.py [--devices 10000] [--readings 200] [--rounds 3]`. The database is made
directly (devices, one mirror each, readings kept as the head-end keeps them); medians of the rounds, with the
time to start for comparison. The target (issue #16): under 5 s at any fleet size.
"""

from __future__ import annotations

import argparse
import signal
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent))

from fleet import serve

from amiscen.gateway.store import Store

ROOT = Path(__file__).resolve().parent.parent


def fill(db: Path, devices: int, readings: int) -> None:
    store = Store(db)
    with store.transaction() as tx:
        tx.executemany(
            "INSERT INTO end_device(id, meter_id, lfdi, sfdi, changed_time, pin) VALUES (?, ?, ?, ?, 0, 1)",
            [(d, f"AMI_METER_{d:06d}", f"{d:040X}", d) for d in range(1, devices + 1)],
        )
        tx.executemany(
            "INSERT INTO mirror_usage_point(id, edev_id, mrid, role_flags, service_kind, status) "
            "VALUES (?, ?, ?, 13, 0, 1)",
            [(d, d, f"U{d}") for d in range(1, devices + 1)],
        )
        tx.executemany(
            "INSERT INTO mirror_meter_reading(id, mup_id, mrid, reading_type) VALUES (?, ?, ?, '{}')",
            [(d, d, f"R{d}") for d in range(1, devices + 1)],
        )
    for d in range(1, devices + 1):
        store.add_readings([(d, 15 * i, 15, i, 0, 0.0) for i in range(readings)], d)
    store.close()


def stop_time(db: Path, certs: Path) -> tuple[float, float]:
    """(seconds to start listening, seconds from SIGTERM to exit) of one `amiscen serve` on ``db``."""
    started = time.perf_counter()
    process, _ = serve(db, ROOT / "examples" / "smoke_3_meters.yaml", certs, pace="fast", stdout=subprocess.PIPE)
    up = time.perf_counter() - started
    asked = time.perf_counter()
    process.send_signal(signal.SIGTERM)
    assert process.stdout is not None
    out = process.stdout.read()
    process.wait()
    down = time.perf_counter() - asked
    assert process.returncode == 0 and "devices registered:" in out, (process.returncode, out[-500:])
    return up, down


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--devices", type=int, default=10_000)
    parser.add_argument("--readings", type=int, default=200, help="readings stored per device")
    parser.add_argument("--rounds", type=int, default=3)
    args = parser.parse_args()
    with tempfile.TemporaryDirectory() as tmp:
        db = Path(tmp) / "headend.db"
        made = time.perf_counter()
        fill(db, args.devices, args.readings)
        print(
            f"database: {args.devices:,} devices x {args.readings:,} readings "
            f"({db.stat().st_size / 1e6:,.0f} MB, made in {time.perf_counter() - made:.0f} s)"
        )
        runs = [stop_time(db, Path(tmp) / "certs") for _ in range(args.rounds)]
    print(f"serve: up in {statistics.median(r[0] for r in runs):.2f} s; SIGTERM to exit, its status printed, in "
          f"{statistics.median(r[1] for r in runs):.2f} s (median of {args.rounds}; target under 5 s)")  # fmt: skip


if __name__ == "__main__":
    main()
