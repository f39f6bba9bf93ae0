"""MirrorMeterReading bodies per second: the Jinja template amiscen sends vs. a plain str.format of the same
document (the floor no template engine beats), in one run, one core. `python bench/render.py [--docs 20000]`.

Prints the median of several rounds for each, and their ratio. Both produce byte-identical documents (checked).
"""

from __future__ import annotations

import argparse
import statistics
import time

from amiscen.sep.model.common import DateTimeInterval
from amiscen.sep.model.metering import MirrorMeterReading, Reading
from amiscen.sep.render import render

FORMAT = (
    '<MirrorMeterReading xmlns="urn:ieee:std:2030.5:ns">\n'
    "  <mRID>{mrid}</mRID>\n"
    "  <Reading><qualityFlags>{quality:04X}</qualityFlags><timePeriod><duration>{duration}</duration>"
    "<start>{start}</start></timePeriod><value>{value}</value></Reading>\n"
    "</MirrorMeterReading>\n"
)
MRID = "0FA1B2C3D4E5F60718293A4B00007ED9"


def documents(n: int) -> list[MirrorMeterReading]:
    return [
        MirrorMeterReading(
            mRID=MRID,
            Reading=Reading(qualityFlags=1, timePeriod=DateTimeInterval(15, 1_772_384_400 + 15 * i), value=1000 + i),
        )
        for i in range(n)
    ]


def with_template(docs: list[MirrorMeterReading]) -> float:
    start = time.perf_counter()
    for d in docs:
        render(d)
    return time.perf_counter() - start


def with_format(docs: list[MirrorMeterReading]) -> float:
    start = time.perf_counter()
    for d in docs:
        r = d.Reading
        assert r is not None and r.timePeriod is not None
        FORMAT.format(
            mrid=d.mRID, quality=r.qualityFlags, duration=r.timePeriod.duration, start=r.timePeriod.start, value=r.value
        )
    return time.perf_counter() - start


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--docs", type=int, default=20_000)
    parser.add_argument("--rounds", type=int, default=5)
    args = parser.parse_args()
    docs = documents(args.docs)
    first = docs[0]
    assert first.Reading is not None and first.Reading.timePeriod is not None
    same = FORMAT.format(mrid=first.mRID, quality=1, duration=15, start=first.Reading.timePeriod.start, value=1000)
    assert render(first) == same, "the two renderings differ; the comparison would be unfair"
    render(first)  # compile the template before timing
    ours = statistics.median(with_template(docs) for _ in range(args.rounds))
    floor = statistics.median(with_format(docs) for _ in range(args.rounds))
    print(f"documents: {args.docs:,} x {args.rounds} rounds (medians), one core")
    print(f"Jinja template (amiscen): {args.docs / ours:,.0f} documents/s")
    print(f"str.format floor:         {args.docs / floor:,.0f} documents/s")
    print(f"ratio template/floor:     {ours / floor:.1f}x the floor's time")


if __name__ == "__main__":
    main()
