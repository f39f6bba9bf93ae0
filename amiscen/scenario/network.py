"""Where the fleet connects and how: network identity, gateway, TLS, timeouts, retries, function sets."""

from __future__ import annotations

import re
from datetime import timedelta
from typing import Literal
from urllib.parse import urlsplit

from pydantic import Field, field_validator

from amiscen.scenario.types import Duration, Model

SEP2_CIPHER = "ECDHE-ECDSA-AES128-CCM8"  # the scenario layer imports no protocol code: sep.constants has it too


def network_id_of(name: str) -> str:
    """A scenario's name as a network id: what is not a letter, digit, '_', '.' or '-' becomes '_'."""
    return re.sub(r"[^A-Za-z0-9_.\-]+", "_", name).strip("_")[:64] or "scenario"


class Network(Model):
    """The AMI network's identity."""

    id: str = Field(
        "scenario",
        pattern=r"^[A-Za-z0-9_.\-]{1,64}$",
        description="Network id (AMI_NETWORK_ID), in the CA's name and the meter id patterns; default: the "
        "scenario's name, as an id.",
    )
    pen: int = Field(
        32473,
        ge=1,
        le=0xFFFFFFFF,
        description="IANA Private Enterprise Number carried in the low 32 bits of every mRID "
        "(32473 is the PEN reserved for documentation, RFC 5612).",
    )


class Tls(Model):
    """TLS settings for every meter's connection."""

    version: Literal["1.2", "1.3"] = Field("1.2", description="TLS version (TLS_VERSION); 2030.5 mandates 1.2.")
    ciphers: list[str] = Field(
        default_factory=lambda: [SEP2_CIPHER],
        min_length=1,
        description="OpenSSL cipher names offered for TLS 1.2; the 2030.5 suite is ECDHE-ECDSA-AES128-CCM8. "
        "Add ECDHE-ECDSA-AES128-GCM-SHA256 for servers without CCM8.",
    )
    verify_server: bool = Field(True, description="Verify the head-end's certificate against the scenario CA.")


class Timeouts(Model):
    """Per-request timeouts."""

    connect: Duration = Field(timedelta(seconds=5), description="TCP + TLS connect timeout.")
    read: Duration = Field(timedelta(seconds=15), description="Time to wait for a response.")
    give_up: Duration | None = Field(
        timedelta(minutes=5),
        description="A run in which no meter has connected this long after it began (simulated time) stops with "
        "exit 1 and the reason; null: never give up.",
    )


class RetryPolicy(Model):
    """How transient failures (connect errors, timeouts, 5xx, 429/503) are retried: exponential backoff."""

    max_attempts: int = Field(6, ge=1, le=100, description="Attempts per request before it waits in the outbox.")
    initial_backoff: Duration = Field(timedelta(seconds=1), description="Wait before the first retry.")
    max_backoff: Duration = Field(timedelta(seconds=60), description="Upper bound of one wait.")
    multiplier: float = Field(2.0, ge=1.0, le=10.0, description="Growth factor of the wait per attempt.")
    jitter: Duration = Field(timedelta(milliseconds=500), description="Random extra wait, up to this much.")


class Registration(Model):
    """The out-of-band registration PIN (2030.5 Registration.pIN) and how a meter treats the server's."""

    pin: int | None = Field(
        None,
        ge=0,
        le=999_999,
        description="The PIN the head-end issued for the fleet (one static PIN); a meter's own `pin` overrides it. "
        "Absent: each meter's amiscen PIN, derived from its id (what the embedded head-end issues).",
    )
    pin_policy: Literal["verify", "warn", "off"] = Field(
        "warn",
        description="What a meter does when the server's Registration pIN is not its own: verify (refuse the "
        "server: a 'registration' failure), warn (say so once and go on), off (do not read Registration).",
    )


class Notifications(Model):
    """Where meters that subscribe (function sets with ``updates: subscribe``) receive the head-end's
    Notifications: one HTTPS listener for the run, mutual TLS, a path per meter."""

    host: str = Field("127.0.0.1", description="Address the listener binds (loopback unless the head-end is remote).")
    port: int = Field(0, ge=0, le=65535, description="Port the listener binds; 0: any free port.")
    url: str | None = Field(
        None,
        description="Base URL the head-end is given in each Subscription's notificationURI, when it reaches the "
        "listener another way (NAT, a container); absent: https://HOST:PORT.",
    )
    tls: bool = Field(
        True,
        description="Serve https with a meter certificate, requiring the head-end's certificate (2030.5); false: "
        "plain http, for a head-end that cannot notify over TLS.",
    )


class Gateway(Model):
    """The 2030.5 head-end to play against; without a url, amiscen's embedded head-end."""

    url: str | None = Field(
        None,
        description="Base https URL of the head-end (API_GATEWAY_URL), e.g. https://gw.example:8443. "
        "Absent: the embedded head-end on loopback.",
    )
    profile: Literal["sep2018", "csip", "csip-aus"] = Field(
        "sep2018",
        description="The flavour of 2030.5 both ends speak: sep2018 (IEEE 2030.5-2018), csip (SunSpec CSIP, "
        "California Rule 21) or csip-aus (CSIP-AUS: ConnectionPoint, dynamic operating envelopes).",
    )
    registration: Registration = Field(default_factory=Registration, description="Registration PIN handling.")
    tls: Tls = Field(default_factory=Tls, description="TLS settings.")
    timeouts: Timeouts = Field(default_factory=Timeouts, description="Request timeouts.")
    retry: RetryPolicy = Field(default_factory=RetryPolicy, description="Retry policy for transient failures.")
    notifications: Notifications = Field(
        default_factory=Notifications, description="The listener for Notifications, when meters subscribe."
    )

    @field_validator("url")
    @classmethod
    def _https_url(cls, value: str | None) -> str | None:
        if value is None:
            return None
        parts = urlsplit(value)
        if parts.scheme != "https" or not parts.hostname:
            raise ValueError(f"must be an https URL with a host, e.g. https://gateway:8443 (got {value!r})")
        try:
            port = parts.port
        except ValueError:  # not a number, or past 65535
            port = 0
        if port == 0:
            raise ValueError(f"its port must be a number from 1 to 65535 (got {value!r})")
        return value.rstrip("/")


class FunctionSet(Model):
    """A 2030.5 function set the meters use."""

    enabled: bool = Field(True, description="Whether meters use this function set.")


class PolledFunctionSet(FunctionSet):
    """A function set whose resources the meters poll."""

    polling_rate: Duration = Field(
        timedelta(seconds=60),
        description="How often meters poll it unless the server's pollRate says otherwise (POLLING_INTERVAL).",
    )


class EventFunctionSet(PolledFunctionSet):
    """A function set of event lists (DRLC's EndDeviceControlList, DER's DERControlList) the meters poll or
    subscribe to."""

    updates: Literal["poll", "subscribe"] = Field(
        "poll",
        description="How meters learn of new, changed and cancelled events: poll (read the lists every "
        "polling_rate) or subscribe (2030.5 Subscription to each event list, the head-end POSTs a Notification; "
        "the lists are read again only at each DeviceCapability refresh, in case a notification is lost). A "
        "head-end that offers no SubscriptionListLink or refuses the Subscription is polled.",
    )


class TimeFunctionSet(FunctionSet):
    """Time sync (the /tm resource)."""

    polling_rate: Duration = Field(timedelta(seconds=900), description="Re-sync period for the time offset.")


class MirrorUsagePointSet(FunctionSet):
    """Mirrored metering: how meters report readings."""

    post_rate: Duration = Field(
        timedelta(seconds=60),
        description="How often each meter posts its buffered readings (MirrorUsagePoint.postRate).",
    )


class FunctionSets(Model):
    """The 2030.5 function sets in use, as in the original deployment's ieee2030_5_config.json."""

    device_capability: PolledFunctionSet = Field(
        default_factory=lambda: PolledFunctionSet(polling_rate=timedelta(seconds=900)),
        description="DeviceCapability (/dcap): discovery; default pollRate 900 s.",
    )
    end_device: FunctionSet = Field(default_factory=FunctionSet, description="EndDevice registration.")
    time: TimeFunctionSet = Field(default_factory=TimeFunctionSet, description="Time synchronisation.")
    mirror_usage_point: MirrorUsagePointSet = Field(
        default_factory=MirrorUsagePointSet, description="Mirrored metering (readings)."
    )
    demand_response: EventFunctionSet = Field(
        default_factory=EventFunctionSet, description="Demand response and load control (DRLC)."
    )
    der: EventFunctionSet = Field(default_factory=EventFunctionSet, description="DER control and DER status.")
    flow_reservation: PolledFunctionSet = Field(
        default_factory=PolledFunctionSet, description="Flow reservation (P2P trading requests)."
    )
    log_event: FunctionSet = Field(default_factory=FunctionSet, description="LogEvents (alarms, tamper).")
    response: FunctionSet = Field(default_factory=FunctionSet, description="Responses to events (replyTo).")
