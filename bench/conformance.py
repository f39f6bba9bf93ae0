"""Every CACTUS server test procedure against `amiscen serve`, and the README's Conformance table.

    python bench/conformance.py [--profile csip-aus] [--only S-ALL-01,S-ALL-02] [--timeout 900] [--xsd sep.xsd]

cactus-client and cactus-test-definitions (pinned in tests/conformance/cactus.py) are installed once into their
own Python 3.12 environment. One head-end serves the whole run; the admin plugin (tests/conformance/cactus_plugin)
resets it through the operator API before each procedure. Prints one row per procedure (result, seconds, and the
harness's reason for a failure) and the total; exit 1 if any failed. S-ALL-50 (72 hours of wall time) runs only
with --long.
"""

from __future__ import annotations

import argparse
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

from tests.conformance.cactus import Harness, ensure_venv, procedures  # noqa: E402

LONG = {"S-ALL-50": "a client polling once a minute for 72 hours of wall time"}


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--profile", default="csip-aus", choices=["sep2018", "csip", "csip-aus"])
    parser.add_argument("--only", default="", help="comma-separated procedure ids (default: all)")
    parser.add_argument("--timeout", type=int, default=900, help="seconds per procedure")
    parser.add_argument("--xsd", type=Path, default=None, help="the head-end validates every body against it")
    parser.add_argument("--keep", type=Path, default=None, help="work directory to keep (logs, certs, database)")
    parser.add_argument("--long", action="store_true", help=f"also run {', '.join(LONG)} ({'; '.join(LONG.values())})")
    args = parser.parse_args()
    work = args.keep or Path(tempfile.mkdtemp(prefix="amiscen-cactus-"))
    work.mkdir(parents=True, exist_ok=True)
    cactus = ensure_venv(work / "install.log")
    chosen = [p for p in args.only.split(",") if p] or [p for p in procedures(cactus) if args.long or p not in LONG]
    harness = Harness(work, cactus, profile=args.profile)
    harness.prepare()
    harness.start(args.xsd)
    results = []
    began = time.monotonic()
    try:
        for procedure in chosen:
            result = harness.run(procedure, args.timeout)
            results.append(result)
            why = "" if result.passed else "  " + result.failure()
            print(f"| {procedure} | {'pass' if result.passed else 'FAIL'} | {result.seconds:5.0f} s |{why}", flush=True)
    finally:
        harness.stop()
    for procedure, why in LONG.items():
        if procedure not in chosen and not args.only:
            print(f"| {procedure} | not run | - |  {why}: --long runs it")
    passed = sum(r.passed for r in results)
    print(
        f"\n{passed} of {len(results)} procedures passed ({args.profile} profile) in "
        f"{(time.monotonic() - began) / 60:.1f} min; logs in {work}"
    )
    return 0 if passed == len(results) else 1


if __name__ == "__main__":
    sys.exit(main())
