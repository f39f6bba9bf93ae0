"""Run the CACTUS server test procedures (cactus-client, cactus-test-definitions: the CSIP-AUS harness, on PyPI)
against `amiscen serve`, driven by the admin plugin beside this file (cactus_plugin/), which only calls amiscen's
operator API.

cactus-client needs Python >= 3.12, so it gets its own virtual environment (made once, kept under
$AMISCEN_CACTUS_VENV or ~/.cache/amiscen/cactus-venv). Used by tests/conformance/test_cactus.py (one procedure per
function set) and bench/conformance.py (all of them, with the table for the README).
"""

from __future__ import annotations

import datetime as dt
import hashlib
import json
import os
import shutil
import signal
import socket
import subprocess
import sys
import time
from dataclasses import dataclass
from pathlib import Path

HERE = Path(__file__).resolve().parent
PLUGIN = HERE / "cactus_plugin"
# what the harness is pinned to (the README's Conformance table was measured with these)
PACKAGES = ("cactus-client==1.3.3", "cactus-test-definitions==1.15.0")
# the webhook server cactus-client collects notifications from; it pins cactus-schema<1 but uses only
# cactus_schema.notification, which cactus-client's cactus-schema 1.x has: installed without its pins
NOTIFICATIONS = "cactus-client-notifications==0.1.0"
DEVICES = ("CACTUS_DEVICE_1", "CACTUS_DEVICE_2")
AGGREGATOR = "CACTUS_AGGREGATOR_1"
MAX_WATTS = 5000
PINS = (111115, 222220, 555555)
STOP_GRACE_S = 60  # a server asked to stop has this long before it is killed
CONNECT_TRY_S = 5  # one try at connecting to a server that is starting


def python312() -> str | None:
    """A Python >= 3.12 that runs: $AMISCEN_PYTHON312, one on PATH, or one pyenv installed (its shims may point
    at a version that is not selected)."""
    candidates = [os.environ.get("AMISCEN_PYTHON312", "")]
    candidates += [shutil.which(name) or "" for name in ("python3.13", "python3.12")]
    pyenv = Path(os.environ.get("PYENV_ROOT") or Path.home() / ".pyenv") / "versions"
    candidates += sorted((str(p) for p in pyenv.glob("3.1[2-9]*/bin/python3")), reverse=True)
    for candidate in filter(None, candidates):
        probe = subprocess.run(
            [candidate, "-c", "import sys; print(sys.version_info >= (3, 12))"], capture_output=True, text=True
        )
        if probe.returncode == 0 and probe.stdout.strip() == "True":
            return candidate
    return None


def venv_dir() -> Path:
    return Path(os.environ.get("AMISCEN_CACTUS_VENV") or Path.home() / ".cache" / "amiscen" / "cactus-venv")


def ensure_venv(log: Path) -> Path:
    """The harness's environment, made (or brought up to the pins) once; its `cactus` executable."""
    venv = venv_dir()
    cactus = venv / "bin" / "cactus"
    stamp = venv / "amiscen-pins.json"
    wanted = json.dumps([*PACKAGES, NOTIFICATIONS, _plugin_digest()])
    if cactus.exists() and stamp.exists() and stamp.read_text() == wanted:
        return cactus
    interpreter = python312()
    if interpreter is None:
        raise RuntimeError("cactus-client needs Python >= 3.12 (python3.12 not found)")
    with log.open("a") as out:
        if not (venv / "bin" / "python").exists():
            subprocess.run([interpreter, "-m", "venv", str(venv)], check=True, stdout=out, stderr=out)
        pip = [str(venv / "bin" / "python"), "-m", "pip", "install", "-q", "--disable-pip-version-check"]
        subprocess.run([*pip, *PACKAGES], check=True, stdout=out, stderr=out)
        subprocess.run([*pip, "--no-deps", NOTIFICATIONS], check=True, stdout=out, stderr=out)
        subprocess.run([*pip, "--force-reinstall", "--no-deps", str(PLUGIN)], check=True, stdout=out, stderr=out)
    stamp.write_text(wanted)
    return cactus


def _plugin_digest() -> str:
    digest = hashlib.sha256()
    for path in sorted(PLUGIN.rglob("*")):
        if path.is_file() and "__pycache__" not in path.parts and ".egg-info" not in str(path):
            digest.update(path.read_bytes())
    return digest.hexdigest()[:16]


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


@dataclass
class Harness:
    """amiscen serve (head-end + operator API) and a CACTUS configuration for its clients, in one directory."""

    work: Path
    cactus: Path
    profile: str = "csip-aus"
    server: subprocess.Popen[bytes] | None = None
    notifications: subprocess.Popen[bytes] | None = None

    def __post_init__(self) -> None:
        self.port = free_port()
        self.operator_port = free_port()
        self.notification_port = free_port()
        self.certs = self.work / "certs"
        self.config = self.work / "cactus.yaml"

    @property
    def env(self) -> dict[str, str]:
        env = dict(os.environ)
        env["AMISCEN_OPERATOR_URL"] = f"http://127.0.0.1:{self.operator_port}"
        return env

    def prepare(self) -> None:
        from cryptography import x509
        from cryptography.hazmat.primitives.serialization import Encoding

        from amiscen.pki import fleet as pki
        from amiscen.pki.layout import Layout
        from amiscen.sep.ids import lfdi_from_der, sfdi_from_lfdi

        layout = Layout(self.certs)
        ids = [*DEVICES, AGGREGATOR]
        pki.generate(layout, ids, network_id="CACTUS", hosts=["127.0.0.1"], now=dt.datetime.now(dt.timezone.utc))
        clients = []
        for n, meter in enumerate(ids):
            der = x509.load_pem_x509_certificate(layout.meter_cert(meter).read_bytes()).public_bytes(Encoding.DER)
            lfdi = lfdi_from_der(der)
            kind = "aggregator" if meter == AGGREGATOR else "device"
            if kind == "aggregator":  # the site device it registers: its own LFDI names its virtual EndDevice
                lfdi = hashlib.sha256(b"amiscen cactus site of " + lfdi.encode()).hexdigest()[:40].upper()
            clients.append(
                {
                    "id": f"agg{n - len(DEVICES) + 1}" if kind == "aggregator" else f"dev{n + 1}",
                    "type": kind,
                    "certificate_file": str(layout.meter_cert(meter)),
                    "key_file": str(layout.meter_key(meter)),
                    "lfdi": lfdi,
                    "sfdi": sfdi_from_lfdi(lfdi),
                    "pen": 32473,
                    # a PIN whose check digit both readings agree on (digit sum 0 or 5 mod 10): CACTUS checks
                    # the server's pIN by its own reading (check = digit sum mod 10), FACTS.md by 2030.5's
                    "pin": PINS[n],
                    "max_watts": MAX_WATTS,
                }
            )
        config = {
            "output_dir": str(self.work / "output"),
            "server": {
                "device_capability_uri": f"https://127.0.0.1:{self.port}/dcap",
                "verify_ssl": True,
                "verify_host_name": False,
                "serca_pem_file": str(layout.ca_cert),
                "pen": 32473,
                "notification_uri": f"http://127.0.0.1:{self.notification_port}",
            },
            "clients": clients,
        }
        (self.work / "output").mkdir(parents=True, exist_ok=True)
        self.config.write_text(json.dumps(config, indent=1))  # JSON is YAML

    def start(self, xsd: Path | None = None) -> None:
        log = (self.work / "serve.log").open("ab")
        command = [
            sys.executable, "-m", "amiscen", "serve",
            "--certs", str(self.certs), "--port", str(self.port), "--operator-port", str(self.operator_port),
            "--db", str(self.work / "headend.db"), "--profile", self.profile,
        ]  # fmt: skip
        if xsd is not None:
            command += ["--xsd", str(xsd)]
        self.server = subprocess.Popen(command, stdout=log, stderr=log, start_new_session=True)
        notifications = venv_dir() / "bin" / "python"
        nlog = (self.work / "notifications.log").open("ab")
        nenv = {
            **os.environ,
            "APP_PORT": str(self.notification_port),
            "SERVER_URL": f"http://127.0.0.1:{self.notification_port}",
        }
        launch = (  # aiohttp's run_app would listen on every address; loopback only
            "import sys; from aiohttp import web; from cactus_client_notifications.server.main import app; "
            "web.run_app(app, host='127.0.0.1', port=int(sys.argv[1]))"
        )
        self.notifications = subprocess.Popen(
            [str(notifications), "-c", launch, str(self.notification_port)],
            stdout=nlog,
            stderr=nlog,
            env=nenv,
            start_new_session=True,
        )
        for port, process in ((self.operator_port, self.server), (self.notification_port, self.notifications)):
            _wait_for_port(port, process)

    def stop(self) -> None:
        for process in (self.server, self.notifications):
            if process is not None and process.poll() is None:
                os.killpg(process.pid, signal.SIGTERM)
                try:
                    process.wait(timeout=STOP_GRACE_S)  # then killed: not a failure
                except subprocess.TimeoutExpired:
                    os.killpg(process.pid, signal.SIGKILL)
                    process.wait()

    def clients_for(self, procedure: str) -> list[str]:
        """The configured clients a procedure needs, in its order: aggregators where it asks for one."""
        wanted = _required_clients(self.cactus, procedure)
        devices = iter(("dev1", "dev2"))
        return ["agg1" if c.get("client_type") == "aggregator" else next(devices) for c in wanted]

    def run(self, procedure: str, timeout: int = 900) -> Result:
        started = time.monotonic()
        command = [
            str(self.cactus), "run", "-c", str(self.config), "--headless", "--timeout", str(timeout),
            procedure, *self.clients_for(procedure),
        ]  # fmt: skip
        log = self.work / f"{procedure}.log"
        with log.open("wb") as out:
            try:
                done = subprocess.run(
                    command, stdout=out, stderr=subprocess.STDOUT, env=self.env, timeout=timeout + 120
                )
                code = done.returncode
            except subprocess.TimeoutExpired:
                code = -1
        return Result(procedure, code == 0, code, time.monotonic() - started, log)


@dataclass(frozen=True)
class Result:
    procedure: str
    passed: bool
    code: int
    seconds: float
    log: Path

    def failure(self) -> str:
        """The harness's own words for why the procedure failed: its last failed check or exception."""
        text = self.log.read_text(errors="replace")
        found = [
            line.split("add_log - ", 1)[1]
            for line in text.splitlines()
            if "add_log - " in line
            and ("Check Failure" in line or "Exception raised" in line or "Action failed" in line)
        ]
        if found:
            return found[-1].replace("Exception raised during action/check: ", "")[:300]
        xsd = [line.split("encountered: ", 1)[1] for line in text.splitlines() if "XSD validation error" in line]
        if xsd:
            return f"XSD errors in the head-end's answers: {xsd[-1][:300]}"
        if self.code == -1:
            return "no result: the harness did not end"
        tail = [line.strip() for line in text.splitlines() if line.strip() and "│" not in line]
        return (tail[-1] if tail else f"exit {self.code}")[:300]


def _required_clients(cactus: Path, procedure: str) -> list[dict[str, str]]:
    """The procedure's Preconditions.required_clients, read in the harness's environment (which has PyYAML)."""
    python = cactus.parent / "python"
    out = subprocess.run(
        [
            str(python),
            "-c",
            "import sys, json, yaml, importlib.resources as r; "
            "p = r.files('cactus_test_definitions') / 'server' / 'procedures' / (sys.argv[1] + '.yaml'); "
            "print(json.dumps(yaml.safe_load(p.read_text())['Preconditions']['required_clients']))",
            procedure,
        ],
        check=True,
        capture_output=True,
        text=True,
    ).stdout
    return list(json.loads(out))


def procedures(cactus: Path) -> list[str]:
    python = cactus.parent / "python"
    out = subprocess.run(
        [
            str(python),
            "-c",
            "import importlib.resources as r; "
            "print('\\n'.join(sorted(p.name[:-5] for p in (r.files('cactus_test_definitions') / 'server' / "
            "'procedures').iterdir() if p.name.endswith('.yaml'))))",
        ],
        check=True,
        capture_output=True,
        text=True,
    ).stdout
    return out.split()


def _wait_for_port(port: int, process: subprocess.Popen[bytes]) -> None:
    """Until something listens on the port. No time limit a slow machine could reach: a process that cannot
    listen exits, and that ends the wait at once."""
    while True:
        if process.poll() is not None:
            raise RuntimeError(f"process exited with {process.returncode} before listening on {port}")
        try:
            with socket.create_connection(("127.0.0.1", port), timeout=CONNECT_TRY_S):  # and tried again
                return
        except OSError:
            time.sleep(0.2)
