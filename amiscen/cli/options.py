"""Options shared by the commands that read a scenario, or that use the certificates."""

from __future__ import annotations

import functools
import os
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path
from typing import Any, TypeVar

import click

from amiscen.scenario import Loaded, load_scenario

F = TypeVar("F", bound=Callable[..., Any])


@dataclass(frozen=True)
class ScenarioSource:
    """SCENARIO as given, with the command line's overrides (--gateway, --network-id, --tls-version,
    --polling-interval); the environment's are applied when it is loaded."""

    path: Path
    overrides: dict[str, str | None]

    def load(self) -> Loaded:
        return load_scenario(self.path, environ=dict(os.environ), options=self.overrides)

    def __str__(self) -> str:
        return str(self.path)


def scenario_options(func: F) -> F:
    """SCENARIO plus the options that override the scenario (and the environment), handed to the command as one
    ``scenario: ScenarioSource``."""

    @functools.wraps(func)
    def command(
        *args: Any,
        scenario: Path,
        gateway: str | None,
        network_id: str | None,
        tls_version: str | None,
        polling_interval: str | None,
        **kwargs: Any,
    ) -> Any:
        overrides = {
            "--gateway": gateway,
            "--network-id": network_id,
            "--tls-version": tls_version,
            "--polling-interval": polling_interval,
        }
        return func(*args, scenario=ScenarioSource(scenario, overrides), **kwargs)

    decorators = [
        click.argument("scenario", type=click.Path(path_type=Path)),
        click.option("--gateway", metavar="URL", help="Head-end base URL (overrides API_GATEWAY_URL)."),
        click.option("--network-id", metavar="ID", help="Network id (overrides AMI_NETWORK_ID)."),
        click.option("--tls-version", type=click.Choice(["1.2", "1.3"]), help="TLS version (overrides TLS_VERSION)."),
        click.option(
            "--polling-interval",
            metavar="DURATION",
            help="DR and DER polling rate, e.g. 30s (overrides POLLING_INTERVAL).",
        ),
    ]
    wrapped: Any = command
    for decorator in reversed(decorators):
        wrapped = decorator(wrapped)
    return wrapped


def certs_option(help_text: str) -> Callable[[F], F]:
    """--certs DIR, the PKI directory (default certs)."""
    return click.option(
        "--certs",
        "certs_dir",
        type=click.Path(path_type=Path, file_okay=False),
        default=Path("certs"),
        show_default=True,
        help=help_text,
    )


def junit_option(what: str) -> Callable[[F], F]:
    """--junit FILE."""
    return click.option("--junit", type=click.Path(path_type=Path, dir_okay=False), help=f"Write {what} as JUnit XML.")


def emulate_option(func: F) -> F:
    """--emulate NAME: the embedded head-end behaves as that server does where servers differ."""
    from amiscen.gateway.app import EMULATIONS

    return click.option(
        "--emulate",
        type=click.Choice(sorted(EMULATIONS)),
        default="amiscen",
        show_default=True,
        help="The embedded head-end behaves as this server does where servers differ (header case, PINs, ids, "
        "where DER programs are linked, duplicate and upsert answers, CSIP-AUS elements).",
    )(func)
