"""Readings the embedded head-end ingests per second over mutual TLS with keep-alive, from N concurrent meter
clients, against the same clients posting to a minimal TLS server that does no work (the ceiling on this
machine), in one run. `python bench/headend.py [--clients 8] [--posts 150] [--rounds 3]`.

Each POST is a MirrorMeterReadingList of 6 quantities x 4 intervals (24 readings), as a meter posting every
minute at a 15 s interval sends. Medians over rounds are printed.
"""

from __future__ import annotations

import argparse
import datetime as dt
import statistics
import tempfile
import threading
import time
from concurrent.futures import ThreadPoolExecutor
from http.server import BaseHTTPRequestHandler
from pathlib import Path

from amiscen.clock import Pace, SimClock
from amiscen.gateway.app import Headend, HeadendConfig
from amiscen.gateway.server import HeadendServer
from amiscen.gateway.store import Store
from amiscen.gateway.tls import server_context
from amiscen.pki import fleet
from amiscen.pki.layout import Layout
from amiscen.runner import messages
from amiscen.runner.quantities import Interval, quantities
from amiscen.runner.transport import Credentials, MeterSession, TlsSettings
from amiscen.sep import constants as c
from amiscen.sep.render import render_bytes

T0 = 1_772_384_400
QUANTITIES = quantities(15, False, False)


class _NoWork(BaseHTTPRequestHandler):
    protocol_version = "HTTP/1.1"
    disable_nagle_algorithm = True

    def do_POST(self) -> None:
        self.rfile.read(int(self.headers.get("Content-Length") or 0))
        self.send_response(201)
        self.send_header("Location", "/mup/1")
        self.send_header("Content-Length", "0")
        self.end_headers()

    def log_message(self, *args: object) -> None:
        pass


class NoWorkServer(HeadendServer):
    """The same TLS, threads and keep-alive as the head-end; the handler only reads the body and answers 201."""

    def __init__(self, context: object, crl: Path) -> None:  # type: ignore[override]
        super().__init__(_dummy_app(), context, crl, port=0)  # type: ignore[arg-type]
        self.RequestHandlerClass = _NoWork  # type: ignore[assignment]


def _dummy_app() -> Headend:
    return Headend(Store(":memory:"), SimClock(T0, Pace(None)), HeadendConfig())


def _interval(i: int) -> Interval:
    return Interval(
        index=i,
        start=T0 + 15 * i,
        duration=15,
        load_w=100_000 + i,
        pv_w=0,
        battery_w=0,
        stored_wh=None,
        import_wh=416.7,
        export_wh=0,
        import_total_wh=416.7 * (i + 1),
        export_total_wh=0,
        voltage_v=229.5,
        baseline_net_w=100_000 + i,
    )


def _bodies(meter_id: str, lfdi: str, posts: int, offset: int) -> list[bytes]:
    return [
        render_bytes(
            messages.readings(32473, meter_id, lfdi, QUANTITIES, [_interval(offset + 4 * p + k) for k in range(4)])
        )
        for p in range(posts)
    ]


def _setup(layout: Layout, url: str, meters: list[str]) -> dict[str, tuple[MeterSession, str]]:
    index = fleet.read_index(layout)
    sessions = {}
    for m in meters:
        s = MeterSession(
            url, Credentials(layout.meter_cert(m), layout.meter_key(m), layout.ca_cert), TlsSettings(), 5, 30
        )
        ident = index[m]
        s.send("POST", "/edev", render_bytes(messages.end_device(ident.lfdi, ident.sfdi, 0)))
        x = s.send(
            "POST",
            "/mup",
            render_bytes(
                messages.mirror_usage_point(32473, m, ident.lfdi, QUANTITIES, 60, int(c.ROLE_REVENUE_PREMISES))
            ),
        )
        sessions[m] = (s, x.header("Location") or "/mup/1")
    return sessions


def _round(sessions: dict[str, tuple[MeterSession, str]], bodies: dict[str, list[bytes]]) -> tuple[float, int]:
    failures = [0]
    lock = threading.Lock()

    def run(meter: str) -> None:
        session, location = sessions[meter]
        for body in bodies[meter]:
            x = session.send("POST", location, body)
            if x.status != 201:
                with lock:
                    failures[0] += 1

    start = time.perf_counter()
    with ThreadPoolExecutor(len(sessions)) as pool:
        list(pool.map(run, sessions))
    return time.perf_counter() - start, failures[0]


def ceiling(tmp: Path, clients: int = 8, posts: int = 100, rounds: int = 3) -> float:
    """POSTs/s of the no-work TLS server from ``clients`` concurrent meter sessions, the median of ``rounds``
    rounds (one round is about a second: a busy neighbour moves one round by a fifth): this machine's ceiling."""
    meters = [f"AMI_METER_CEIL_{i:03d}" for i in range(clients)]
    layout = Layout(tmp / "ceiling-certs")
    fleet.generate(layout, meters, network_id="BENCH", hosts=[], now=dt.datetime.now(dt.timezone.utc))
    server = NoWorkServer(server_context(layout), layout.crl).start()
    try:
        sessions = _setup(layout, server.url, meters)
        index = fleet.read_index(layout)
        times = [
            _round(sessions, {m: _bodies(m, index[m].lfdi, posts, r * posts * 4) for m in meters})[0]
            for r in range(rounds)
        ]
    finally:
        server.stop()
    return clients * posts / statistics.median(times)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--clients", type=int, default=8)
    parser.add_argument("--posts", type=int, default=150, help="POSTs per client per round")
    parser.add_argument("--rounds", type=int, default=3)
    args = parser.parse_args()
    meters = [f"AMI_METER_BENCH_{i:03d}" for i in range(args.clients)]
    with tempfile.TemporaryDirectory() as tmp:
        layout = Layout(Path(tmp) / "certs")
        fleet.generate(layout, meters, network_id="BENCH", hosts=[], now=dt.datetime.now(dt.timezone.utc))
        context = server_context(layout)
        app = Headend(Store(Path(tmp) / "headend.db"), SimClock(T0, Pace(None)), HeadendConfig())
        ours_server = HeadendServer(app, context, layout.crl, port=0).start()
        floor_server = NoWorkServer(context, layout.crl).start()
        ours_sessions = _setup(layout, ours_server.url, meters)
        floor_sessions = _setup(layout, floor_server.url, meters)
        ours, floor = [], []
        index = fleet.read_index(layout)
        for r in range(args.rounds):
            bodies = {m: _bodies(m, index[m].lfdi, args.posts, r * args.posts * 4) for m in meters}
            seconds, failed = _round(ours_sessions, bodies)
            assert failed == 0, f"{failed} POSTs to the head-end failed"
            ours.append(seconds)
            floor.append(_round(floor_sessions, bodies)[0])
        stored = app.store.scalar("SELECT count(*) FROM reading")
        ours_server.stop()
        floor_server.stop()
    posts = args.clients * args.posts
    readings = posts * 4 * len(QUANTITIES)
    assert stored == readings * args.rounds, (stored, readings * args.rounds)
    t_ours, t_floor = statistics.median(ours), statistics.median(floor)
    print(
        f"clients: {args.clients}, {args.posts} POSTs each per round, {args.rounds} rounds (medians); "
        f"{4 * len(QUANTITIES)} readings per POST"
    )
    print(
        f"embedded head-end: {posts / t_ours:,.0f} POSTs/s = {readings / t_ours:,.0f} readings ingested/s "
        f"(stored {stored:,}, each once)"
    )
    print(f"no-work TLS server: {posts / t_floor:,.0f} POSTs/s (the ceiling: TLS, HTTP and the clients alone)")
    print(f"ratio head-end/ceiling: {t_floor / t_ours:.2f} of the ceiling's throughput")


if __name__ == "__main__":
    main()
