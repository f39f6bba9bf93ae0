"""Every message every shipped scenario's meters would send is valid against sep.xsd."""

from __future__ import annotations

from pathlib import Path

import pytest

from amiscen.play.samples import sample_messages
from amiscen.scenario import load_scenario
from amiscen.sep.render import render
from amiscen.sep.xsd import validator

ROOT = Path(__file__).resolve().parents[2]
SHIPPED = sorted([*ROOT.glob("scenarios/*.yaml"), *ROOT.glob("examples/*.yaml")])


@pytest.mark.parametrize("path", SHIPPED, ids=[p.stem for p in SHIPPED])
def test_sample_messages_are_schema_valid(path: Path, sep_xsd: Path) -> None:
    pytest.importorskip("lxml")
    samples = sample_messages(load_scenario(path).scenario)
    assert len(samples) >= 5
    problems = {name: validator(sep_xsd).errors(render(r)) for name, r in samples}
    assert {k: v for k, v in problems.items() if v} == {}


def test_validate_xsd_cli(sep_xsd: Path) -> None:
    from ..cli.test_validate import amiscen

    result = amiscen("validate", "scenarios/campus_utcc.yaml", "--xsd", str(sep_xsd))
    assert result.returncode == 0, result.stderr
    assert result.stdout.splitlines()[-1].startswith("schema check: ")
    missing = amiscen("validate", "scenarios/campus_utcc.yaml", "--xsd", env={"AMISCEN_SEP_XSD": ""})
    assert missing.returncode == 2
    assert "no schema to check against" in missing.stderr and "AMISCEN_SEP_XSD" in missing.stderr
