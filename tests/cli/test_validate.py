"""`amiscen validate` as a user runs it: exit codes, exact messages, no tracebacks."""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

from ..fixtures import HANG

ROOT = Path(__file__).resolve().parents[2]


def amiscen(*args: str, env: dict[str, str] | None = None) -> subprocess.CompletedProcess[str]:
    import os

    full_env = {
        k: v
        for k, v in os.environ.items()
        if k not in ("API_GATEWAY_URL", "AMI_NETWORK_ID", "TLS_VERSION", "POLLING_INTERVAL")
    }
    full_env.update(env or {})
    return subprocess.run(
        [sys.executable, "-m", "amiscen", *args],
        cwd=ROOT,
        capture_output=True,
        text=True,
        env=full_env,
        timeout=HANG,
    )


def test_valid_campus_prints_one_line_summary() -> None:
    result = amiscen("validate", "scenarios/campus_utcc.yaml")
    assert result.returncode == 0, result.stderr
    assert result.stdout == (
        "scenarios/campus_utcc.yaml: valid: 25 meters in 6 buildings (15 with PV, 1,470 kWp; 12 with a battery, "
        "2,260 kWh); 3 events (1 DR, 1 DER control, 1 flow reservation); 0 faults\n"
    )


def test_invalid_exits_2_with_every_problem_and_no_traceback() -> None:
    result = amiscen("validate", "tests/scenario/invalid/many_problems_at_once.yaml")
    assert result.returncode == 2
    assert "Traceback" not in result.stderr
    assert result.stderr.count("tests/scenario/invalid/many_problems_at_once.yaml:") == 7
    assert result.stdout == ""


def test_verbose_shows_effective_values_and_their_origin() -> None:
    result = amiscen(
        "validate",
        "scenarios/campus_utcc.yaml",
        "-v",
        "--tls-version",
        "1.3",
        env={"API_GATEWAY_URL": "https://gw.example:8443"},
    )
    assert result.returncode == 0, result.stderr
    lines = {line.split()[0]: line.split(None, 2)[1:] for line in result.stdout.splitlines()[:-1]}
    assert lines["gateway.url"] == ["https://gw.example:8443", "environment variable API_GATEWAY_URL"]
    assert lines["gateway.tls.version"] == ["1.3", "option --tls-version"]
    assert lines["network.id"][1].startswith("scenarios/campus_utcc.yaml:")


def test_strict_turns_warnings_into_failure(tmp_path: Path) -> None:
    scenario = tmp_path / "warn.yaml"
    scenario.write_text(
        "schema_version: 1\n"
        "time: {start: 2026-03-02T00:00:00+07:00, duration: 1d}\n"
        "buildings:\n  - {name: hall, type: academic, count: 1}\n"
        "events:\n"
        "  - {type: der_control, id: C1, start: +12h, duration: 1h, control: {type: curtail, max_w_percent: 50}}\n"
    )
    relaxed = amiscen("validate", str(scenario))
    assert relaxed.returncode == 0
    assert relaxed.stderr == (
        f"{scenario}:6:5: warning: events[C1].targets: event 'C1' reaches no meter with PV or a battery\n"
    )
    strict = amiscen("validate", "--strict", str(scenario))
    assert strict.returncode == 2
    assert strict.stderr.endswith(f"{scenario}: 1 warning(s), which --strict treats as errors\n")


def test_missing_file_is_a_usage_error() -> None:
    result = amiscen("validate", "no/such.yaml")
    assert (result.returncode, result.stderr) == (2, "no/such.yaml: no such file\n")


def test_schema_command_prints_json_schema() -> None:
    import json

    result = amiscen("schema")
    assert result.returncode == 0
    schema = json.loads(result.stdout)
    assert schema["title"] == "amiscen scenario"
    assert "buildings" in schema["properties"]
