"""Options shared by the commands that read a scenario, or that use the certificates."""

from __future__ import annotations

import os
from collections.abc import Callable
from pathlib import Path
from typing import Any, TypeVar

import click

from amiscen.scenario import Loaded, load_scenario

F = TypeVar("F", bound=Callable[..., Any])


def scenario_options(func: F) -> F:
    """SCENARIO plus the options that override the scenario (and the environment)."""
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
    for decorator in reversed(decorators):
        func = decorator(func)
    return func


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


def load(
    scenario: Path,
    gateway: str | None,
    network_id: str | None,
    tls_version: str | None,
    polling_interval: str | None,
) -> Loaded:
    """Load SCENARIO with the environment's and the command line's overrides."""
    options = {
        "--gateway": gateway,
        "--network-id": network_id,
        "--tls-version": tls_version,
        "--polling-interval": polling_interval,
    }
    return load_scenario(scenario, environ=dict(os.environ), options=options)
