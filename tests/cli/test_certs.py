"""`amiscen certs` as a user runs it."""

from __future__ import annotations

from pathlib import Path

from .test_validate import amiscen

ROOT = Path(__file__).resolve().parents[2]


def test_generate_list_revoke(tmp_path: Path) -> None:
    certs = tmp_path / "certs"
    scenario = str(ROOT / "examples" / "smoke_3_meters.yaml")
    first = amiscen("certs", "generate", scenario, "--out", str(certs))
    assert first.returncode == 0, first.stderr
    assert first.stdout == f"{certs}: CA created, head-end certificate created, 3 meter certificates created, 0 kept\n"
    again = amiscen("certs", "generate", scenario, "--out", str(certs))
    assert again.stdout == f"{certs}: CA kept, head-end certificate kept, 0 meter certificates created, 3 kept\n"
    revoked = amiscen("certs", "revoke", "AMI_METER_SMOKE_002", "--certs", str(certs))
    assert revoked.returncode == 0, revoked.stderr
    listing = amiscen("certs", "list", "--certs", str(certs))
    lines = listing.stdout.splitlines()
    assert lines[0].split() == ["meter", "LFDI", "SFDI", "not", "after", "days", "status", "profile"]
    assert lines[2].split()[-2:] == ["revoked", "2030.5"] and lines[1].split()[-2:] == ["ok", "2030.5"]
    assert lines[4:6] == [f"CA {certs}/ca.pem: 2030.5", f"head-end {certs}/gateway/gateway.pem: 2030.5"]
    assert lines[-1] == "3 certificates, 2 ok, 1 need attention"


def test_missing_ca_is_a_usage_error(tmp_path: Path) -> None:
    result = amiscen("certs", "list", "--certs", str(tmp_path))
    assert result.returncode == 2
    assert (
        result.stderr == f"{tmp_path}/ca.pem: no such CA certificate\n  hint: run `amiscen certs generate SCENARIO`\n"
    )
