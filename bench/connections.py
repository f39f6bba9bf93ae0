"""The embedded head-end under a flood of idle and slow connections (issue #17): how long a normal meter's
request takes with N idle mutual-TLS connections (handshake done, nothing sent) and M slow ones (request headers
trickled a byte every few seconds) held open, against the same requests with no flood, in one run.

    python bench/connections.py [--idle 1000] [--slow 500] [--requests 50] [--cap 4096]

Each normal request opens its own connection (the worst case: a handshake too). Prints medians and p99 of both,
their ratio, and how many connections the head-end closed or refused to make room.
"""

from __future__ import annotations

import argparse
import contextlib
import datetime as dt
import socket
import ssl
import statistics
import tempfile
import threading
import time
from pathlib import Path

from amiscen.clock import Pace, SimClock
from amiscen.gateway.app import Headend, HeadendConfig
from amiscen.gateway.server import HeadendServer
from amiscen.gateway.store import Store
from amiscen.gateway.tls import server_context
from amiscen.pki import fleet
from amiscen.pki.layout import Layout
from amiscen.runner.transport import Credentials, MeterSession, TlsSettings, client_context

FLOOD_ID, METER_ID = "FLOOD_CLIENT", "NORMAL_METER"


def _client_context(layout: Layout) -> ssl.SSLContext:
    """A meter's own TLS context (the 2030.5 suite, the scenario CA), for the flood's raw connections."""
    return client_context(
        Credentials(layout.meter_cert(FLOOD_ID), layout.meter_key(FLOOD_ID), layout.ca_cert), TlsSettings()
    )


def _open(address: tuple[str, int], ctx: ssl.SSLContext) -> ssl.SSLSocket | None:
    try:
        tls = ctx.wrap_socket(socket.create_connection(address, timeout=60), server_hostname="localhost")
        tls.do_handshake()
        return tls
    except OSError:
        return None


def _timed_requests(server: HeadendServer, layout: Layout, n: int) -> list[float]:
    creds = Credentials(layout.meter_cert(METER_ID), layout.meter_key(METER_ID), layout.ca_cert)
    times = []
    for _ in range(n):
        session = MeterSession(server.url, creds, TlsSettings(), 30, 30)
        started = time.perf_counter()
        x = session.send("GET", "/dcap")
        times.append(time.perf_counter() - started)
        session.close()
        if x.status != 200:
            times[-1] = float("inf")
    return times


def _summary(times: list[float]) -> tuple[float, float]:
    ordered = sorted(times)
    return statistics.median(ordered), ordered[min(len(ordered) - 1, int(0.99 * len(ordered)))]


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--idle", type=int, default=1000)
    parser.add_argument("--slow", type=int, default=500)
    parser.add_argument("--requests", type=int, default=50)
    parser.add_argument("--cap", type=int, default=4096)
    args = parser.parse_args()
    with tempfile.TemporaryDirectory() as tmp:
        layout = Layout(Path(tmp) / "certs")
        fleet.generate(layout, [FLOOD_ID, METER_ID], network_id="BENCH", hosts=[], now=dt.datetime.now(dt.timezone.utc))
        app = Headend(Store(Path(tmp) / "h.db"), SimClock(time.time(), Pace(1.0)), HeadendConfig())
        server = HeadendServer(app, server_context(layout), None, port=0, max_connections=args.cap).start()
        try:
            base = _timed_requests(server, layout, args.requests)
            ctx = _client_context(layout)
            address = server.server_address[:2]
            flood = [c for c in (_open(address, ctx) for _ in range(args.idle)) if c is not None]
            slow = [c for c in (_open(address, ctx) for _ in range(args.slow)) if c is not None]
            stop = threading.Event()

            def trickle() -> None:  # a byte of request line every 2 s on every slow connection
                line = b"GET /dcap HTTP/1.1\r\nHost: x\r\n"
                position = 0
                while not stop.wait(2.0):
                    for c in slow:
                        with contextlib.suppress(OSError):
                            c.send(line[position % len(line) : position % len(line) + 1])
                    position += 1

            threading.Thread(target=trickle, daemon=True).start()
            time.sleep(1.0)
            flooded = _timed_requests(server, layout, args.requests)
            stop.set()
            closed = sum(1 for c in flood + slow if c.fileno() != -1 and _closed(c))
            for c in flood + slow:
                c.close()
        finally:
            server.stop(grace=2)
    b50, b99 = _summary(base)
    f50, f99 = _summary(flooded)
    print(f"connections held: {len(flood):,} idle, {len(slow):,} slow (cap {args.cap:,})")
    print(f"normal request, no flood:   median {b50 * 1000:7.1f} ms, p99 {b99 * 1000:7.1f} ms")
    print(f"normal request, with flood: median {f50 * 1000:7.1f} ms, p99 {f99 * 1000:7.1f} ms")
    print(f"ratio (flood / none), median: {f50 / b50:.2f}; the head-end closed {closed:,} flood connections to make "
          f"room and refused {server.refused:,}")  # fmt: skip


def _closed(connection: ssl.SSLSocket) -> bool:
    connection.setblocking(False)
    try:
        return connection.recv(1) == b""
    except (ssl.SSLWantReadError, BlockingIOError):
        return False
    except OSError:
        return True


if __name__ == "__main__":
    main()
