"""Durations as people write them, and as the JSON schema writes its own defaults (ISO 8601, issue #18)."""

from __future__ import annotations

import json
from datetime import timedelta
from pathlib import Path

import pytest

from amiscen.scenario import load_scenario
from amiscen.scenario.durations import parse_duration, parse_time_ref

ROOT = Path(__file__).resolve().parents[2]


@pytest.mark.parametrize(
    ("text", "seconds"),
    [("15s", 15), ("1h30m", 5400), ("PT15S", 15), ("PT1.5M", 90), ("P1DT2H", 93600), ("P1W", 604800), ("PT0S", 0)],
)
def test_our_spelling_and_iso_8601(text: str, seconds: float) -> None:
    assert parse_duration(text) == timedelta(seconds=seconds)
    assert parse_time_ref("+" + text) == timedelta(seconds=seconds)


@pytest.mark.parametrize(("text", "said"), [("P1M", "no fixed length"), ("P1Y", "no fixed length"), ("PT", "PT15S"),
                                             ("P1H", "PT15S"), ("pt15s", "PT15S")])  # fmt: skip
def test_what_is_not_a_duration_says_what_is(text: str, said: str) -> None:
    with pytest.raises(ValueError, match=said):
        parse_duration(text)


def test_every_default_the_schema_shows_is_accepted() -> None:
    """A user copying a default out of amiscen.schema.json (pydantic writes them PT15S) gets a valid scenario."""
    schema = json.loads((ROOT / "amiscen.schema.json").read_text())
    found = []

    def walk(node: object) -> None:
        if isinstance(node, dict):
            default = node.get("default")
            if isinstance(default, str) and default.startswith("P"):
                found.append(default)
            for value in node.values():
                walk(value)
        elif isinstance(node, list):
            for value in node:
                walk(value)

    walk(schema)
    assert len(found) > 10
    for default in found:
        parse_duration(default)


def test_a_scenario_in_iso_durations(tmp_path: Path) -> None:
    path = tmp_path / "iso.yaml"
    path.write_text(
        "schema_version: 1\n"
        "time: {start: 2026-03-02T00:00:00+07:00, duration: PT6H, reading_interval: PT15S}\n"
        "buildings: [{name: hall, type: academic, count: 1}]\n"
        "events: [{type: demand_response, id: DR1, start: +PT2H, duration: PT30M, target_reduction: {kw: 5}}]\n"
    )
    s = load_scenario(path).scenario
    assert (s.time.duration, s.time.reading_interval) == (timedelta(hours=6), timedelta(seconds=15))
    assert s.demand_response_events()[0].duration == timedelta(minutes=30)
