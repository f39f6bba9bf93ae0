"""Every scenario shipped in scenarios/ and examples/ is valid in strict mode."""

from __future__ import annotations

from pathlib import Path

import pytest

from amiscen.scenario import load_scenario, meters

ROOT = Path(__file__).resolve().parents[2]
SHIPPED = sorted([*ROOT.glob("scenarios/*.yaml"), *ROOT.glob("examples/*.yaml")])


@pytest.mark.parametrize("path", SHIPPED, ids=[p.name for p in SHIPPED])
def test_strictly_valid(path: Path) -> None:
    loaded = load_scenario(path)
    assert loaded.warnings == []


def test_campus_matches_the_original_deployment() -> None:
    scenario = load_scenario(ROOT / "scenarios" / "campus_utcc.yaml").scenario
    fleet = meters(scenario)
    assert [m.id for m in fleet] == [f"AMI_METER_UTCC_{n:03d}" for n in range(1, 26)]
    by_type: dict[str, list[int]] = {}
    for m in fleet:
        by_type.setdefault(m.building_type, []).append(int(m.id[-3:]))
    assert by_type == {
        "academic": list(range(1, 9)),
        "residential": list(range(9, 15)),
        "administrative": list(range(15, 19)),
        "athletic": list(range(19, 22)),
        "research": [22, 23],
        "support": [24, 25],
    }
    assert sum(m.pv is not None for m in fleet) == 15
    assert sum(m.pv is not None and m.battery is not None for m in fleet) == 12
    assert sum(m.battery is not None for m in fleet) == 12
    assert sum(not m.is_prosumer for m in fleet) == 10
    assert scenario.time.reading_interval.total_seconds() == 15
    assert scenario.network.id == "UTCC_CAMPUS_001"
    assert (round(scenario.site.latitude, 1), round(scenario.site.longitude, 1)) == (13.8, 100.6)
    assert scenario.site.timezone == "Asia/Bangkok"
    dr = {e.id: e for e in scenario.demand_response_events()}["DR_EVENT_001"]
    assert dr.target_reduction.kw == 500
    assert dr.duration.total_seconds() == 3600


def test_committed_json_schema_is_current() -> None:
    from amiscen.scenario.jsonschema import scenario_json_schema

    committed = (ROOT / "amiscen.schema.json").read_text(encoding="utf-8")
    assert committed == scenario_json_schema(), "run `amiscen schema -o amiscen.schema.json` and commit it"


def test_readme_example_is_valid(tmp_path: Path) -> None:
    text = (ROOT / "README.md").read_text(encoding="utf-8")
    block = text.split("## The scenario language, by example", 1)[1].split("```yaml", 1)[1].split("```", 1)[0]
    path = tmp_path / "readme.yaml"
    path.write_text(block, encoding="utf-8")
    assert load_scenario(path).warnings == []
