"""Random streams keyed by (scenario seed, name): a meter's series never depends on which other meters exist."""

from __future__ import annotations

import hashlib

import numpy as np


def stream(seed: int, *names: str) -> np.random.Generator:
    """A generator for one named purpose, e.g. ``stream(seed, "meter", "AMI_METER_UTCC_001", "noise")``."""
    digest = hashlib.sha256("\x1f".join(names).encode()).digest()
    words = [int.from_bytes(digest[i : i + 4], "little") for i in range(0, 16, 4)]
    return np.random.Generator(np.random.PCG64(np.random.SeedSequence([seed & 0xFFFFFFFF, seed >> 32, *words])))
