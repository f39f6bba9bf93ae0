"""The scenario language: models, loading with line:col diagnostics, and cross-field rules."""

from amiscen.scenario.load import Loaded, load_scenario
from amiscen.scenario.model import MeterSpec, Scenario, meters

__all__ = ["Loaded", "MeterSpec", "Scenario", "load_scenario", "meters"]
