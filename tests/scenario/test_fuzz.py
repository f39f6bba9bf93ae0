"""Whatever YAML or structure arrives, loading ends in a valid scenario or a clean ScenarioError."""

from __future__ import annotations

from pathlib import Path
from typing import Any

from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from ruamel.yaml import YAML

from amiscen.errors import ScenarioError
from amiscen.scenario.load import validate_source
from amiscen.scenario.source import SourceError, parse

CAMPUS = (Path(__file__).resolve().parents[2] / "scenarios" / "campus_utcc.yaml").read_text()
KEYS = [
    "schema_version",
    "time",
    "buildings",
    "events",
    "faults",
    "site",
    "gateway",
    "type",
    "id",
    "start",
    "duration",
    "count",
    "meters",
    "pv",
    "battery",
    "kwp",
    "kw",
    "kwh",
    "name",
    "targets",
    "expect",
]

scalars = st.one_of(
    st.none(),
    st.booleans(),
    st.integers(-(2**70), 2**70),
    st.floats(allow_nan=True),
    st.text(max_size=20),
    st.sampled_from(["15s", "+1h", "academic", "demand_response", "2026-03-02T00:00:00+07:00"]),
)
structures = st.recursive(
    scalars,
    lambda children: st.one_of(
        st.lists(children, max_size=4),
        st.dictionaries(st.one_of(st.sampled_from(KEYS), st.text(max_size=8)), children, max_size=5),
    ),
    max_leaves=30,
)


def _load(text: str) -> None:
    try:
        source = parse(text, "fuzz.yaml")
    except SourceError as exc:
        assert exc.diagnostic.message
        return
    try:
        validate_source(source)
    except ScenarioError as exc:
        assert exc.diagnostics and all(d.message for d in exc.diagnostics)


@settings(max_examples=150, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(st.text(max_size=300))
def test_random_text_never_crashes(text: str) -> None:
    _load(text)


@settings(max_examples=150, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(structures)
def test_random_structures_never_crash(data: Any) -> None:
    import io

    buffer = io.StringIO()
    YAML(typ="safe", pure=True).dump(
        {"schema_version": 1, "payload": data, **(data if isinstance(data, dict) else {})}, buffer
    )
    _load(buffer.getvalue())


@settings(max_examples=150, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(st.integers(0, len(CAMPUS) - 1), st.integers(1, 40), st.text(max_size=10))
def test_mutated_campus_never_crashes(position: int, length: int, insert: str) -> None:
    _load(CAMPUS[:position] + insert + CAMPUS[position + length :])
