"""The meters' HTTP path, alone: one fixed MirrorMeterReadingList POSTed over mutual TLS with keep-alive to the
no-work TLS server (bench/headend.py), measured in the client thread's own CPU time (time.thread_time), against
bare `http.client` keep-alive doing the same in the same run. `python bench/transport.py [--posts 2000]
[--rounds 5]`; medians of the rounds. The ratio is the share of the bare floor's rate the meters' session reaches.
"""

from __future__ import annotations

import argparse
import datetime as dt
import http.client
import statistics
import sys
import tempfile
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent))

from headend import NoWorkServer, _bodies

from amiscen.gateway.tls import server_context
from amiscen.pki import fleet
from amiscen.pki.layout import Layout
from amiscen.runner.transport import Credentials, MeterSession, TlsSettings, client_context
from amiscen.sep.constants import MEDIA_TYPE


def _meter_session(session: MeterSession, body: bytes, posts: int) -> float:
    start = time.thread_time()
    for _ in range(posts):
        assert session.send("POST", "/mup/1", body).status == 201
    return time.thread_time() - start


def _bare(connection: http.client.HTTPSConnection, body: bytes, posts: int) -> float:
    headers = {"Content-Type": MEDIA_TYPE, "Accept": MEDIA_TYPE}
    start = time.thread_time()
    for _ in range(posts):
        connection.request("POST", "/mup/1", body, headers)
        response = connection.getresponse()
        response.read()
        assert response.status == 201
    return time.thread_time() - start


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--posts", type=int, default=2000)
    parser.add_argument("--rounds", type=int, default=5)
    args = parser.parse_args()
    with tempfile.TemporaryDirectory() as tmp:
        layout = Layout(Path(tmp) / "certs")
        fleet.generate(layout, ["AMI_METER_T"], network_id="BENCH", hosts=[], now=dt.datetime.now(dt.timezone.utc))
        server = NoWorkServer(server_context(layout), layout.crl).start()
        try:
            index = fleet.read_index(layout)
            body = _bodies("AMI_METER_T", index["AMI_METER_T"].lfdi, 1, 0)[0]
            creds = Credentials(layout.meter_cert("AMI_METER_T"), layout.meter_key("AMI_METER_T"), layout.ca_cert)
            session = MeterSession(server.url, creds, TlsSettings(), 30, 30)
            host, port = server.url.removeprefix("https://").rsplit(":", 1)
            bare = http.client.HTTPSConnection(host, int(port), context=client_context(creds, TlsSettings()))
            ours, floor = [], []
            for _ in range(args.rounds):
                ours.append(args.posts / _meter_session(session, body, args.posts))
                floor.append(args.posts / _bare(bare, body, args.posts))
            session.close()
            bare.close()
        finally:
            server.stop()
    o, f = statistics.median(ours), statistics.median(floor)
    print(f"{args.posts} POSTs of {len(body):,} bytes per round, {args.rounds} rounds (medians), client CPU only")
    print(f"MeterSession:       {o:8,.0f} requests per CPU-second")
    print(f"bare http.client:   {f:8,.0f} requests per CPU-second")
    print(f"ratio:              {o / f:.2f} of the bare floor")


if __name__ == "__main__":
    main()
