"""Settings that environment variables and command-line options override, in that order of precedence."""

from __future__ import annotations

import copy
from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any

# name of the environment variable -> the scenario keys it sets (the original deployment's variables)
ENVIRONMENT: dict[str, tuple[tuple[str, ...], ...]] = {
    "API_GATEWAY_URL": (("gateway", "url"),),
    "AMI_NETWORK_ID": (("network", "id"),),
    "TLS_VERSION": (("gateway", "tls", "version"),),
    "POLLING_INTERVAL": (
        ("function_sets", "demand_response", "polling_rate"),
        ("function_sets", "der", "polling_rate"),
    ),
}

# the same settings as command-line options (name of the option -> environment variable it shadows)
OPTIONS = {
    "--gateway": "API_GATEWAY_URL",
    "--network-id": "AMI_NETWORK_ID",
    "--tls-version": "TLS_VERSION",
    "--polling-interval": "POLLING_INTERVAL",
}


@dataclass(frozen=True)
class Override:
    """One setting that came from outside the file."""

    keys: tuple[str, ...]
    value: Any
    origin: str  # "environment variable API_GATEWAY_URL" or "option --gateway"


def _coerce(text: str) -> Any:
    """Environment values are text; a bare number of seconds stays a number."""
    stripped = text.strip()
    if stripped.isdigit():
        return int(stripped)
    return stripped


def collect(environ: Mapping[str, str], options: Mapping[str, str | None]) -> list[Override]:
    """The overrides in force: options win over environment variables for the same setting."""
    found: dict[tuple[str, ...], Override] = {}
    for variable, targets in ENVIRONMENT.items():
        if environ.get(variable, "").strip():
            for keys in targets:
                found[keys] = Override(keys, _coerce(environ[variable]), f"environment variable {variable}")
    for option, variable in OPTIONS.items():
        value = options.get(option)
        if value is not None and str(value).strip():
            for keys in ENVIRONMENT[variable]:
                found[keys] = Override(keys, _coerce(str(value)), f"option {option}")
    return list(found.values())


def apply(data: dict[str, Any], overrides: list[Override]) -> dict[str, Any]:
    """A copy of the plain scenario data with each override set (creating sections that are absent)."""
    result = copy.deepcopy(data)
    for override in overrides:
        node = result
        for key in override.keys[:-1]:
            child = node.get(key)
            if not isinstance(child, dict):
                child = {}
                node[key] = child
            node = child
        node[override.keys[-1]] = override.value
    return result
