"""issue #17: a valid scenario whose posts are larger than the head-end takes (1 s readings posted hourly: ~8 MB)
used to lose every reading (413, dropped for good). The head-end reads and drops the body so the meter hears the
413; the meter splits the post in two until it fits, and splits later posts before sending them. Nothing is
lost, and `validate` warns of it up front."""

from __future__ import annotations

import re
import sqlite3
from pathlib import Path

import pytest

from amiscen.clock import Pace
from amiscen.gateway.app import Quirks
from amiscen.play.session import RunOptions, play
from amiscen.scenario import load_scenario

pytestmark = pytest.mark.e2e

SCENARIO = """\
schema_version: 1
name: large_posts
time: {start: 2026-03-02T11:00:00+07:00, duration: 2h, reading_interval: 1s, seed: 5}
function_sets:
  mirror_usage_point: {post_rate: 1h}
buildings:
  - name: roof
    type: support
    peak_kw: 20
    meters:
      - {id: LARGE_PROSUMER, pv: {kwp: 80}, battery: {kwh: 50, kw: 10}}
expect: {max_http_4xx: 3}
"""


def test_posts_over_the_servers_limit_are_split_and_every_reading_arrives(tmp_path: Path) -> None:
    path = tmp_path / "large.yaml"
    path.write_text(SCENARIO)
    loaded = load_scenario(path)
    assert any("a post carries 3,600 intervals" in w.message for w in loaded.warnings)
    outcome = play(loaded, RunOptions(pace=Pace(None), run_dir=tmp_path / "run", certs_dir=tmp_path / "certs"))
    assert outcome.ok, outcome.summary
    assert outcome.metrics.delivered == outcome.metrics.generated == 2 * 3600 * 9
    with sqlite3.connect(outcome.run_dir / "headend.db") as db:
        assert db.execute("SELECT count(*) FROM reading").fetchone()[0] == 2 * 3600 * 9
    wire = (outcome.run_dir / "ieee2030_5.log").read_text(encoding="utf-8")
    # the first post is refused on its way down to what fits (a few MB: two or three halvings); the next ones are
    # split before they are sent, so every 413 happened at that first post
    refused = re.findall(r"^(\S+) \S+ POST \S+/mup/\d+ 413 ", wire, re.M)
    assert 1 <= len(refused) <= 3 and len(set(refused)) == 1, refused
    assert outcome.metrics.statuses[413] == len(refused) and outcome.metrics.permanent_failures == 0


def test_a_server_that_closes_on_a_large_body_without_reading_it_gets_split_posts(tmp_path: Path) -> None:
    """Servers that answer 413 before reading the body and close (the client sees its connection lost mid-upload,
    as with nginx's client_max_body_size) used to be retried as 'connect' until the end of the run."""
    path = tmp_path / "large.yaml"
    path.write_text(SCENARIO.replace("expect: {max_http_4xx: 3}", "expect: {max_http_4xx: 0}"))
    nginx = Quirks(drain_oversized_bodies=False)  # never read an over-limit body: close at once
    options = RunOptions(pace=Pace(None), run_dir=tmp_path / "run", certs_dir=tmp_path / "c", quirks=nginx)
    outcome = play(load_scenario(path), options)
    assert outcome.metrics.delivered == outcome.metrics.generated == 2 * 3600 * 9, outcome.summary
    notes = (outcome.run_dir / "ami_simulator.log").read_text(encoding="utf-8")
    assert "the connection lost for a " in notes
