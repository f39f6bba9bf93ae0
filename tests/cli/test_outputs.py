"""Every path a user names for amiscen to write (a run directory, the record, the JUnit report, an export, the
schema, the head-end's database, a report) that cannot be written is told as the user's to fix: exit 2, the path
and the reason, before anything is sent; not "internal error ... a bug" (exit 3). The place here is under a
regular file, which no user, root included, can create anything in."""

from __future__ import annotations

from pathlib import Path

import pytest

from .test_validate import amiscen

SCENARIO = "examples/smoke_3_meters.yaml"


@pytest.mark.parametrize(
    ("args", "what"),
    [
        (["run", SCENARIO, "--run-dir", "{bad}/run"], "the run directory"),
        (["run", SCENARIO, "--run-dir", "{tmp}/run", "--record", "{bad}/record.jsonl"], "the record"),
        (["run", SCENARIO, "--run-dir", "{tmp}/run", "--junit", "{bad}/junit.xml"], "the JUnit report"),
        (["plan", SCENARIO, "--export", "{bad}/plan.csv"], "the export"),
        (["schema", "-o", "{bad}/schema.json"], "the schema"),
        (["serve", "--db", "{bad}/headend.db"], "the head-end's database"),
        (["run", SCENARIO, "--run-dir", "{tmp}/run", "--certs", "{bad}/certs"], "cannot create this directory"),
    ],
)
def test_a_path_that_cannot_be_written_is_a_usage_error(tmp_path: Path, args: list[str], what: str) -> None:
    bad = tmp_path / "a-file"
    bad.write_text("not a directory\n")
    given = [a.format(bad=bad, tmp=tmp_path) for a in args]
    certs = [] if "--certs" in args or args[0] not in ("run", "serve") else ["--certs", str(tmp_path / "certs")]
    done = amiscen(*given, *certs)
    assert done.returncode == 2, done.stdout + done.stderr
    told = what if what.startswith("cannot") else f"cannot write {what} here"
    assert told in done.stderr and str(bad) in done.stderr, done.stderr
    assert "internal error" not in done.stderr and "Traceback" not in done.stderr
    assert not (tmp_path / "run").exists()  # refused before the run began: nothing sent, no empty run directory
