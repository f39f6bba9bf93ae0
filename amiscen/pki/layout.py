"""Where the PKI files live, as in the original deployment: certs/meters/<ID>/<ID>.pem and <ID>-key.pem."""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path


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
        return self.root / "meters" / meter_id

    def meter_cert(self, meter_id: str) -> Path:
        return self.meter_dir(meter_id) / f"{meter_id}.pem"

    def meter_key(self, meter_id: str) -> Path:
        return self.meter_dir(meter_id) / f"{meter_id}-key.pem"
