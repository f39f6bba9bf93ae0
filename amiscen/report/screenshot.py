"""A picture of the report page as a browser draws it: headless Chromium, when the machine has it.

`amiscen report RUN_DIR --screenshot FILE.png` takes one; the tests take one and look at it. Nothing is fetched:
the page is self-contained and Chromium's background networking is off (on a closed network it would try, and
fail, at every start).
"""

from __future__ import annotations

import os
import shutil
import subprocess
import tempfile
from pathlib import Path

from amiscen.errors import UsageError

BROWSERS = ("chromium", "chromium-browser", "google-chrome", "google-chrome-stable")
WIDTH, HEIGHT = 1280, 2400  # a laptop's width; tall enough for the expectations, the energy tables and two figures
FLAGS = (
    "--headless",
    "--disable-gpu",
    "--disable-quic",
    "--no-first-run",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
    "--hide-scrollbars",
)
GIVE_UP_S = 600  # a browser that has not drawn one local page in ten minutes is stuck


def browser() -> str | None:
    """The Chromium to use: $AMISCEN_CHROMIUM, else the first of BROWSERS on the PATH."""
    chosen = os.environ.get("AMISCEN_CHROMIUM")
    if chosen:
        return chosen
    return next((found for name in BROWSERS if (found := shutil.which(name))), None)


def screenshot(page: Path, out: Path, width: int = WIDTH, height: int = HEIGHT) -> Path:
    """Draw ``page`` (an HTML file) at width x height CSS pixels into the PNG ``out``."""
    chromium = browser()
    if chromium is None:
        raise UsageError(
            "a screenshot needs Chromium: install it (Debian: apt install chromium) or set AMISCEN_CHROMIUM"
        )
    out = out.resolve()
    out.parent.mkdir(parents=True, exist_ok=True)
    flags = list(FLAGS)
    if hasattr(os, "geteuid") and os.geteuid() == 0:
        flags.append("--no-sandbox")  # Chromium refuses to start its sandbox as root
    with tempfile.TemporaryDirectory(prefix="amiscen-chromium-") as profile:
        command = [
            chromium,
            *flags,
            f"--user-data-dir={profile}",
            f"--window-size={width},{height}",
            f"--screenshot={out}",
            page.resolve().as_uri(),
        ]
        try:
            done = subprocess.run(command, capture_output=True, text=True, timeout=GIVE_UP_S)
        except subprocess.TimeoutExpired:
            raise UsageError(f"{chromium} did not draw {page} in {GIVE_UP_S} s") from None
    if done.returncode != 0 or not out.exists():
        said = (done.stderr or done.stdout).strip().splitlines()[-3:]
        raise UsageError(f"{chromium} could not draw {page} (exit {done.returncode}): " + " / ".join(said))
    return out
