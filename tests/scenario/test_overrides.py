"""Environment variables override the scenario; command-line options override both."""

from __future__ import annotations

from pathlib import Path

from amiscen.scenario import load_scenario

CAMPUS = Path(__file__).resolve().parents[2] / "scenarios" / "campus_utcc.yaml"


def test_environment_overrides_the_file() -> None:
    env = {
        "API_GATEWAY_URL": "https://gw.example:8443/",
        "AMI_NETWORK_ID": "NET_2",
        "TLS_VERSION": "1.3",
        "POLLING_INTERVAL": "30",
    }
    loaded = load_scenario(CAMPUS, environ=env)
    s = loaded.scenario
    assert s.gateway.url == "https://gw.example:8443"
    assert s.network.id == "NET_2"
    assert s.gateway.tls.version == "1.3"
    assert s.function_sets.demand_response.polling_rate.total_seconds() == 30
    assert s.function_sets.der.polling_rate.total_seconds() == 30
    assert loaded.origin_of(("gateway", "url")) == "environment variable API_GATEWAY_URL"


def test_options_override_the_environment() -> None:
    env = {"AMI_NETWORK_ID": "FROM_ENV", "POLLING_INTERVAL": "30"}
    loaded = load_scenario(CAMPUS, environ=env, options={"--network-id": "FROM_OPTION", "--polling-interval": "2m"})
    assert loaded.scenario.network.id == "FROM_OPTION"
    assert loaded.scenario.function_sets.der.polling_rate.total_seconds() == 120
    assert loaded.origin_of(("network", "id")) == "option --network-id"


def test_file_values_name_their_position() -> None:
    loaded = load_scenario(CAMPUS)
    assert loaded.origin_of(("network", "id")).startswith(f"{CAMPUS}:")
    assert loaded.origin_of(("gateway", "url")) == "default"
