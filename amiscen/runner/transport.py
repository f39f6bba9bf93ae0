"""The one transport boundary: each meter's HTTPS session (mutual TLS, 2030.5 suite), one attempt per call,
every failure classified with a suggested fix, and the retry backoff policy (tenacity's wait strategies).

Retries are scheduled by the caller in simulated time (so a backoff costs no wall time in fast pace), using
``RetrySchedule``; a request that has used its attempts waits in the durable outbox, never dropped.
"""

from __future__ import annotations

import random
import ssl
import time
from dataclasses import dataclass
from email.utils import parsedate_to_datetime
from pathlib import Path
from typing import Any, Literal, Protocol

import requests
import tenacity
from requests.adapters import HTTPAdapter

from amiscen.sep.constants import MEDIA_TYPE

FailureClass = Literal[
    "tls", "connect", "timeout", "http_4xx", "http_5xx", "http_429", "protocol", "registration", "internal"
]

FIXES: dict[str, str] = {
    "tls": "certificate or cipher rejected: run `amiscen certs list`, check the gateway trusts certs/ca.pem and "
    "offers the 2030.5 suite (or add ECDHE-ECDSA-AES128-GCM-SHA256 to gateway.tls.ciphers)",
    "connect": "cannot connect: is the gateway running at that URL and port? (`amiscen test --gateway URL`)",
    "timeout": "the gateway did not answer in time: raise gateway.timeouts.read or check its load",
    "http_4xx": "the gateway refused the request: see its <Error> body in ieee2030_5.log",
    "http_5xx": "the gateway failed: see its logs; amiscen retries with backoff",
    "http_429": "the gateway asks to slow down: amiscen honours Retry-After",
    "protocol": "the gateway's answer is not valid 2030.5 or lacks what the protocol needs (a link, a Location): "
    "see ieee2030_5.log",
    "registration": "the server's Registration pIN is not the meter's: set gateway.registration.pin (or the meter's "
    "pin) to what the head-end issued, or gateway.registration.pin_policy: warn",
    "internal": "amiscen itself failed (a bug, not the gateway): please report it with ami_simulator.log",
}


@dataclass(frozen=True)
class TlsSettings:
    version: str = "1.2"
    ciphers: tuple[str, ...] = ("ECDHE-ECDSA-AES128-CCM8",)
    verify_server: bool = True


@dataclass(frozen=True)
class Credentials:
    cert: Path
    key: Path
    ca: Path


@dataclass(frozen=True)
class Exchange:
    """One HTTP exchange as it happened: for logs, the record, and the caller. Header names are kept in lower
    case: they are case-insensitive (RFC 9110 section 5.1), and servers differ (uvicorn sends ``location``)."""

    method: str
    url: str
    status: int | None  # None when no response arrived
    request_body: bytes
    response_body: bytes
    headers: dict[str, str]
    elapsed: float
    failure: FailureClass | None = None
    detail: str = ""
    retry_after: float | None = None

    def __post_init__(self) -> None:
        if any(not k.islower() for k in self.headers):
            object.__setattr__(self, "headers", {k.lower(): v for k, v in self.headers.items()})

    def header(self, name: str) -> str | None:
        """A response header by name, whatever its case on the wire."""
        return self.headers.get(name.lower())

    @property
    def ok(self) -> bool:
        return self.status is not None and 200 <= self.status < 300

    @property
    def transient(self) -> bool:
        """Worth retrying: everything but an explicit 4xx refusal (a TLS or protocol failure may be a restart,
        a misconfiguration being fixed: the data waits in the outbox with backoff, it is never dropped)."""
        return self.failure is not None and self.failure != "http_4xx"


class Session(Protocol):
    """What a meter needs from its connection: one attempt per ``send``, classified."""

    def send(self, method: str, path: str, body: bytes = b"", params: dict[str, Any] | None = None) -> Exchange: ...

    def close(self) -> None: ...


def classify(status: int) -> FailureClass | None:
    if status == 429:
        return "http_429"
    if status >= 500:
        return "http_5xx"
    if status >= 400:
        return "http_4xx"
    return None


def client_context(creds: Credentials, tls: TlsSettings, present_certificate: bool = True) -> ssl.SSLContext:
    """The meter's TLS settings; without ``present_certificate``, the same client with no certificate to show (a
    probe of whether the server refuses it)."""
    ctx = ssl.create_default_context(cafile=str(creds.ca))
    if present_certificate:
        ctx.load_cert_chain(str(creds.cert), str(creds.key))
    ctx.minimum_version = ssl.TLSVersion.TLSv1_2
    ctx.maximum_version = ssl.TLSVersion.TLSv1_2 if tls.version == "1.2" else ssl.TLSVersion.TLSv1_3
    ctx.set_ciphers(":".join(tls.ciphers) + ":@SECLEVEL=0")  # CCM8 is below OpenSSL 3's default level
    if not tls.verify_server:
        ctx.check_hostname = False
        ctx.verify_mode = ssl.CERT_NONE
    return ctx


class _TlsAdapter(HTTPAdapter):
    def __init__(self, context: ssl.SSLContext) -> None:
        self._context = context
        super().__init__(pool_connections=1, pool_maxsize=2, max_retries=0)

    def init_poolmanager(self, *args: Any, **kwargs: Any) -> None:
        kwargs["ssl_context"] = self._context
        super().init_poolmanager(*args, **kwargs)


def retry_after(value: str | None) -> float | None:
    if not value:
        return None
    try:
        return max(0.0, float(value))
    except ValueError:
        try:
            return max(0.0, parsedate_to_datetime(value).timestamp() - time.time())
        except (TypeError, ValueError):
            return None


class MeterSession:
    """One meter's connection to the head-end: keep-alive, its own certificate, one attempt per ``send``."""

    def __init__(
        self, base_url: str, creds: Credentials, tls: TlsSettings, connect_timeout: float, read_timeout: float
    ) -> None:
        self.base_url = base_url.rstrip("/")
        self._session = requests.Session()
        self.context = client_context(creds, tls)
        self._session.mount("https://", _TlsAdapter(self.context))
        self._session.headers.update({"Accept": MEDIA_TYPE, "User-Agent": "amiscen"})
        # Trust the scenario's CA only. Left at True, requests loads the public CA bundle into the meter's context on
        # every new connection (a meter would trust any public CA; each handshake pays for parsing the bundle).
        self._session.verify = str(creds.ca) if tls.verify_server else False
        # Proxies from the environment are read once here, not scanned again on every request (requests' default);
        # nor does REQUESTS_CA_BUNDLE or .netrc change what a meter trusts or sends.
        self._session.trust_env = False
        self._session.proxies = dict(requests.utils.get_environ_proxies(self.base_url))
        self._timeout = (connect_timeout, read_timeout)

    def url(self, path: str) -> str:
        return path if path.startswith("https://") else self.base_url + path

    def send(self, method: str, path: str, body: bytes = b"", params: dict[str, Any] | None = None) -> Exchange:
        url = self.url(path)
        headers = {"Content-Type": MEDIA_TYPE} if body else {}
        started = time.perf_counter()
        try:
            response = self._session.request(
                method, url, data=body or None, params=params, headers=headers, timeout=self._timeout
            )
        except requests.exceptions.SSLError as exc:
            # an EOF or reset during the handshake is the connection dropping, not a refusal of our certificate
            text = str(exc)
            dropped = "EOF" in text or "reset" in text.lower() or "Connection aborted" in text
            return self._failed(method, url, body, started, "connect" if dropped else "tls", exc)
        except requests.exceptions.ConnectTimeout as exc:
            return self._failed(method, url, body, started, "timeout", exc)
        except requests.exceptions.ReadTimeout as exc:
            return self._failed(method, url, body, started, "timeout", exc)
        except requests.exceptions.ConnectionError as exc:
            kind: FailureClass = "tls" if "SSL" in str(exc) or "certificate" in str(exc).lower() else "connect"
            return self._failed(method, url, body, started, kind, exc)
        except requests.exceptions.RequestException as exc:
            return self._failed(method, url, body, started, "protocol", exc)
        status = response.status_code
        failure = classify(status)
        return Exchange(
            method,
            url,
            status,
            body,
            response.content,
            dict(response.headers),
            time.perf_counter() - started,
            failure,
            "" if failure is None else f"HTTP {status}",
            retry_after(response.headers.get("Retry-After")),
        )

    def _failed(
        self, method: str, url: str, body: bytes, started: float, kind: FailureClass, exc: Exception
    ) -> Exchange:
        detail = str(exc).splitlines()[0][:300] if str(exc) else type(exc).__name__
        return Exchange(method, url, None, body, b"", {}, time.perf_counter() - started, kind, detail)

    def close(self) -> None:
        self._session.close()


class RetrySchedule:
    """Exponential backoff with jitter (tenacity's strategy) for attempt n, honouring Retry-After."""

    def __init__(
        self, max_attempts: int, initial: float, maximum: float, multiplier: float, jitter: float, seed: int
    ) -> None:
        self.max_attempts = max_attempts
        self._wait = tenacity.wait_exponential(multiplier=initial, exp_base=multiplier, max=maximum)
        self._jitter = jitter
        self._random = random.Random(seed)

    def delay(self, attempt: int, retry_after: float | None = None) -> float:
        """Seconds to wait after failed attempt number ``attempt`` (1-based); past ``max_attempts`` the data
        waits the longest backoff each time (it stays in the outbox, it is never dropped)."""
        state = tenacity.RetryCallState(retry_object=tenacity.Retrying(), fn=None, args=(), kwargs={})
        state.attempt_number = attempt if attempt <= self.max_attempts else 10_000
        wait = float(self._wait(state)) + self._random.uniform(0, self._jitter)
        return max(wait, retry_after or 0.0)
