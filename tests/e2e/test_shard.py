"""`amiscen run --shard K/N`: slices that are disjoint, cover the fleet, and together send exactly what the whole
run sends, reading for reading (the DR event included), each against its own embedded head-end."""

from __future__ import annotations

import sqlite3
from pathlib import Path

import pytest

from amiscen.play.shard import Shard

from ..cli.test_validate import amiscen

ROOT = Path(__file__).resolve().parents[2]
pytestmark = pytest.mark.e2e


def _readings(run: Path) -> set[tuple[str, int, int]]:
    with sqlite3.connect(run / "headend.db") as db:
        rows = db.execute(
            "SELECT mmr.mrid, r.start, r.value FROM reading r JOIN mirror_meter_reading mmr ON mmr.id = r.mmr_id"
        ).fetchall()
    return {(m, s, v) for m, s, v in rows}


def test_shards_together_are_the_whole_run(tmp_path: Path) -> None:
    scenario = str(ROOT / "examples" / "demand_response.yaml")
    common = ["--duration", "1h30m", "--certs", str(tmp_path / "certs"), "-q"]
    whole = amiscen("run", scenario, "--run-dir", str(tmp_path / "whole"), *common)
    assert whole.returncode == 0, whole.stderr
    parts = []
    for k in (1, 2, 3):
        result = amiscen("run", scenario, "--shard", f"{k}/3", "--run-dir", str(tmp_path / f"s{k}"), *common)
        assert result.returncode == 0, result.stderr
        parts.append(_readings(tmp_path / f"s{k}"))
        log = (tmp_path / f"s{k}" / "ami_simulator.log").read_text()
        assert f"shard {k}/3:" in log
    assert all(parts)
    assert not parts[0] & parts[1] and not parts[1] & parts[2] and not parts[0] & parts[2]
    assert parts[0] | parts[1] | parts[2] == _readings(tmp_path / "whole")


def test_shard_parsing() -> None:
    assert Shard.parse("2/8") == Shard(2, 8)
    assert Shard.parse("3/3").select(list(range(10))) == [2, 5, 8]
    for bad in ("0/3", "4/3", "1/0", "x", "1-3"):
        with pytest.raises(ValueError, match="--shard"):
            Shard.parse(bad)


def test_bad_shard_is_a_usage_error(tmp_path: Path) -> None:
    result = amiscen(
        "run", str(ROOT / "examples" / "smoke_3_meters.yaml"), "--shard", "5/4", "--run-dir", str(tmp_path)
    )
    assert result.returncode == 2 and "K must be between 1 and N" in result.stderr
