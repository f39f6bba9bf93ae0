"""Certificates per second for a large fleet: `python bench/certs.py [--meters 10000] [--repeat 3]`.

Prints the median over repeats of generating the whole fleet's PKI (CA, head-end, one certificate per meter,
keys written 0600, index), and the ratio against the bare cryptography calls (key + sign, no files) in the
same run, and against creating the same files with no crypto: together, the floor on this machine.
"""

from __future__ import annotations

import argparse
import datetime as dt
import statistics
import tempfile
import time
from pathlib import Path

from cryptography import x509
from cryptography.hazmat.primitives import hashes
from cryptography.hazmat.primitives.asymmetric import ec

from amiscen.pki import fleet
from amiscen.pki.layout import Layout


def bare(n: int) -> float:
    """Seconds to make n P-256 keys and sign n minimal certificates, nothing written."""
    ca_key = ec.generate_private_key(ec.SECP256R1())
    name = x509.Name([x509.NameAttribute(x509.NameOID.COMMON_NAME, "ca")])
    now = dt.datetime.now(dt.timezone.utc)
    start = time.perf_counter()
    for i in range(n):
        key = ec.generate_private_key(ec.SECP256R1())
        (
            x509.CertificateBuilder()
            .subject_name(name)
            .issuer_name(name)
            .public_key(key.public_key())
            .serial_number(i + 1)
            .not_valid_before(now)
            .not_valid_after(now + dt.timedelta(days=1))
            .sign(ca_key, hashes.SHA256())
        )
    return time.perf_counter() - start


def files_only(n: int) -> float:
    """Seconds to create the same directories and files (temp file + rename, 0600) with no crypto at all."""
    import os

    payload = b"x" * 700
    with tempfile.TemporaryDirectory() as tmp:
        start = time.perf_counter()
        for i in range(n):
            d = Path(tmp) / f"M{i:05d}"
            d.mkdir(mode=0o700)
            for name in ("cert.pem", "key.pem"):
                fd, t = tempfile.mkstemp(dir=d)
                os.fchmod(fd, 0o600)
                os.write(fd, payload)
                os.close(fd)
                os.replace(t, d / name)
        return time.perf_counter() - start


def amiscen(n: int) -> float:
    ids = [f"AMI_METER_BENCH_{i:05d}" for i in range(n)]
    with tempfile.TemporaryDirectory() as tmp:
        start = time.perf_counter()
        fleet.generate(
            Layout(Path(tmp) / "certs"), ids, network_id="BENCH", hosts=[], now=dt.datetime.now(dt.timezone.utc)
        )
        return time.perf_counter() - start


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--meters", type=int, default=10_000)
    parser.add_argument("--repeat", type=int, default=3)
    args = parser.parse_args()
    ours = statistics.median(amiscen(args.meters) for _ in range(args.repeat))
    floor = statistics.median(bare(args.meters) for _ in range(args.repeat))
    disk = statistics.median(files_only(args.meters) for _ in range(args.repeat))
    print(f"meters: {args.meters:,}  repeats: {args.repeat} (medians)")
    print(f"amiscen certs generate: {ours:.2f} s  = {args.meters / ours:,.0f} certificates/s")
    print(f"bare key+sign floor:    {floor:.2f} s  = {args.meters / floor:,.0f} certificates/s")
    print(f"files only (no crypto): {disk:.2f} s  (the same mkdir/create/rename, one thread)")
    print(f"ratio amiscen / (crypto floor + files): {ours / (floor + disk):.2f}")


if __name__ == "__main__":
    main()
