"""Every invalid scenario in invalid/ is paired with its exact diagnostics in invalid/NAME.expected."""

from __future__ import annotations

from pathlib import Path

import pytest

from amiscen.errors import ScenarioError
from amiscen.scenario import load_scenario

CORPUS = Path(__file__).parent / "invalid"
CASES = sorted(CORPUS.glob("*.yaml"))


def test_corpus_is_large_enough() -> None:
    assert len(CASES) >= 30


@pytest.mark.parametrize("case", CASES, ids=[c.stem for c in CASES])
def test_invalid_scenario_reports_exact_diagnostics(case: Path, repo_root: Path, update_golden: bool) -> None:
    relative = case.relative_to(repo_root)
    with pytest.raises(ScenarioError) as caught:
        load_scenario(relative)
    actual = "\n".join(d.format() for d in caught.value.diagnostics) + "\n"
    expected_file = case.with_suffix(".expected")
    if update_golden:
        expected_file.write_text(actual, encoding="utf-8")
    assert expected_file.exists(), f"no {expected_file.name}; run pytest --update-golden and review it"
    assert actual == expected_file.read_text(encoding="utf-8")
