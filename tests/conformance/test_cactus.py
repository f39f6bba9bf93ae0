"""CACTUS, the CSIP-AUS server test harness we did not write, against `amiscen serve --profile csip-aus`: one
procedure per function set on every run (bench/conformance.py runs all 61 and prints the README's table).

The harness (cactus-client, cactus-test-definitions, cactus-client-notifications from PyPI) needs Python >= 3.12
and gets its own environment, made on the first run (about a minute; kept under ~/.cache/amiscen/cactus-venv or
$AMISCEN_CACTUS_VENV). Its admin plugin (tests/conformance/cactus_plugin) drives the head-end only through the
operator API. Skipped only where no Python >= 3.12 exists at all.
"""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import pytest

from ..fixtures import HANG
from .cactus import Harness, ensure_venv, python312

# one per function set: the fast procedure of each (seconds measured with bench/conformance.py)
PROCEDURES = {
    "Registration": "S-ALL-03",  # an aggregator registers a site device in band
    "Monitoring": "S-ALL-08",  # DERStatus connection status
    "Control": "S-ALL-17",  # active controls: combinations of limits
    "Default control": "S-ALL-24",  # DefaultDERControl combinations
    "Subscription / Notification": "S-ALL-26",  # update and delete subscriptions
    "Edge cases": "S-ALL-53",  # CSIP-AUS ConnectionPoint updated
}


@pytest.fixture(scope="module")
def harness(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Harness]:
    if python312() is None:
        pytest.skip("cactus-client needs Python >= 3.12 and this machine has none")
    work = tmp_path_factory.mktemp("cactus")
    h = Harness(work, ensure_venv(work / "install.log"), profile="csip-aus")
    h.prepare()
    h.start()
    yield h
    h.stop()


@pytest.mark.parametrize("procedure", list(PROCEDURES.values()), ids=list(PROCEDURES))
def test_cactus_procedure_passes(harness: Harness, procedure: str) -> None:
    result = harness.run(procedure, timeout=HANG)
    assert result.passed, f"{procedure} failed: {result.failure()} (log: {result.log}; serve: {_tail(harness)})"


def _tail(h: Harness) -> str:
    log = Path(h.work) / "serve.log"
    lines = log.read_text(errors="replace").splitlines() if log.exists() else []
    return " | ".join(lines[-3:])
