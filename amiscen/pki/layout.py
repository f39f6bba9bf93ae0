"""Where the PKI files live, as in the original deployment: certs/meters/<ID>/<ID>.pem and <ID>-key.pem."""

from __future__ import annotations

import re
from dataclasses import dataclass
from pathlib import Path

from amiscen.errors import UsageError

# a meter id names a directory and two files under meters/: nothing that could lead out of it
SAFE_ID = re.compile(r"^(?!\.{1,2}$)[A-Za-z0-9_.\-]{1,64}$")


@dataclass(frozen=True)
class Layout:
    root: Path

    @property
    def ca_cert(self) -> Path:
        return self.root / "ca.pem"

    @property
    def ca_key(self) -> Path:
        return self.root / "ca-key.pem"

    @property
    def crl(self) -> Path:
        return self.root / "crl.pem"

    @property
    def index(self) -> Path:
        return self.root / "index.json"

    @property
    def gateway_cert(self) -> Path:
        return self.root / "gateway" / "gateway.pem"

    @property
    def gateway_key(self) -> Path:
        return self.root / "gateway" / "gateway-key.pem"

    def meter_dir(self, meter_id: str) -> Path:
        """certs/meters/<ID>; an id that is not a plain name (a separator, "..") is refused, whatever made it."""
        if not SAFE_ID.fullmatch(meter_id):
            raise UsageError(
                f"meter id {meter_id[:80]!r} cannot name a certificate file (letters, digits, '_', '.', '-')"
            )
        return self.root / "meters" / meter_id

    def meter_cert(self, meter_id: str) -> Path:
        return self.meter_dir(meter_id) / f"{meter_id}.pem"

    def meter_key(self, meter_id: str) -> Path:
        return self.meter_dir(meter_id) / f"{meter_id}-key.pem"
