"""`pip install .` (not only editable) gives a working amiscen: every package and the templates are in the wheel."""

from __future__ import annotations

import configparser
import os
import subprocess
import sys
import zipfile
from pathlib import Path

import pytest

from .fixtures import HANG

ROOT = Path(__file__).resolve().parent.parent


def test_every_package_is_listed_in_setup_cfg() -> None:
    config = configparser.ConfigParser()
    config.read(ROOT / "setup.cfg")
    listed = {p.strip() for p in config["options"]["packages"].split() if p.strip()}
    on_disk = {".".join(p.parent.relative_to(ROOT).parts) for p in (ROOT / "amiscen").rglob("__init__.py")}
    assert listed == on_disk | {"amiscen.templates"}


@pytest.mark.slow
def test_wheel_carries_templates_and_runs_from_site_packages(tmp_path: Path) -> None:
    build = subprocess.run(
        [
            sys.executable,
            "-m",
            "pip",
            "wheel",
            "--no-deps",
            "--no-build-isolation",
            "-q",
            "-w",
            str(tmp_path / "dist"),
            str(ROOT),
        ],
        capture_output=True,
        text=True,
        timeout=HANG,
    )
    assert build.returncode == 0, build.stderr
    (wheel,) = (tmp_path / "dist").glob("amiscen-*.whl")
    names = zipfile.ZipFile(wheel).namelist()
    templates = [n for n in names if n.startswith("amiscen/templates/sep/") and n.endswith(".xml.j2")]
    assert len(templates) == len(list((ROOT / "templates" / "sep").glob("*.xml.j2")))
    target = tmp_path / "site"
    install = subprocess.run(
        [sys.executable, "-m", "pip", "install", "--no-deps", "-q", "--target", str(target), str(wheel)],
        capture_output=True,
        text=True,
        timeout=HANG,
    )
    assert install.returncode == 0, install.stderr
    code = (
        "import amiscen, amiscen.sep.render as r; from amiscen.sep.model.misc import Error; "
        "assert str(target) in amiscen.__file__, amiscen.__file__; print(r.render(Error(reasonCode=1)))"
    )
    env = {**os.environ, "PYTHONPATH": str(target)}
    run = subprocess.run(
        [sys.executable, "-c", code.replace("str(target)", repr(str(target)))],
        cwd=tmp_path,
        capture_output=True,
        text=True,
        env=env,
        timeout=HANG,
    )
    assert run.returncode == 0, run.stderr
    assert "<reasonCode>1</reasonCode>" in run.stdout
    validate = subprocess.run(
        [sys.executable, "-m", "amiscen", "validate", str(ROOT / "examples" / "smoke_3_meters.yaml")],
        cwd=tmp_path,
        capture_output=True,
        text=True,
        env=env,
        timeout=HANG,
    )
    assert validate.returncode == 0, validate.stderr
