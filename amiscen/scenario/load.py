"""Load a scenario: read, apply overrides, validate, check cross-field rules; every problem at once."""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

from pydantic import ValidationError

from amiscen.diagnostics import Diagnostic, closest
from amiscen.errors import ScenarioError
from amiscen.scenario import overrides as ov
from amiscen.scenario.locate import locate
from amiscen.scenario.messages import got, message_for
from amiscen.scenario.model import SCHEMA_VERSION, Scenario
from amiscen.scenario.rules import check
from amiscen.scenario.site import DEFAULT_ZONE
from amiscen.scenario.source import Source, SourceError, read_source


@dataclass(frozen=True)
class Loaded:
    """A valid scenario with where it came from, its warnings and the overrides applied."""

    scenario: Scenario
    source: Source
    warnings: list[Diagnostic] = field(default_factory=list)
    overrides: list[ov.Override] = field(default_factory=list)

    def origin_of(self, keys: tuple[str, ...]) -> str:
        """Where an overridable setting's effective value comes from."""
        for override in self.overrides:
            if override.keys == keys:
                return override.origin
        node: Any = self.source.tree
        for key in keys:
            if not isinstance(node, dict) or key not in node:
                return "default"
            parent, node = node, node[key]
        line, col = parent.lc.value(keys[-1])  # type: ignore[attr-defined]  # ruamel CommentedMap
        return f"{self.source.file}:{line + 1}:{col + 1}"


def _diagnostic(
    source: Source,
    loc: tuple[str | int, ...],
    message: str,
    severity: str = "error",
    origins: Mapping[tuple[str, ...], str] | None = None,
    at_key: bool = False,
) -> Diagnostic:
    for keys, origin in (origins or {}).items():
        if tuple(loc[: len(keys)]) == keys:
            return Diagnostic(origin, 0, 0, ".".join(map(str, keys)), message, severity)  # type: ignore[arg-type]
    line, col, path = locate(source.tree, loc, at_key=at_key)
    return Diagnostic(source.file, line, col, path, message, severity)  # type: ignore[arg-type]


def _schema_version(source: Source) -> list[Diagnostic]:
    """Checked first: a scenario for another version of the language is not read further."""
    if "schema_version" not in source.data:
        misspelt = closest("schema_version", list(source.data))
        line, col, _ = locate(source.tree, (misspelt,) if misspelt else (), at_key=True)
        hint = f"; '{misspelt}' looks like a misspelling of it" if misspelt else ""
        return [
            Diagnostic(
                source.file,
                line,
                col,
                "schema_version",
                f"is required (this amiscen reads schema_version: {SCHEMA_VERSION}){hint}",
            )
        ]
    value = source.data["schema_version"]
    if value != SCHEMA_VERSION or isinstance(value, bool):
        line, col, path = locate(source.tree, ("schema_version",))
        return [
            Diagnostic(
                source.file,
                line,
                col,
                path,
                f"unsupported version {got(value)}; this amiscen reads schema_version: {SCHEMA_VERSION}",
            )
        ]
    return []


def validate_source(source: Source, overrides: list[ov.Override] | None = None) -> Loaded:
    """Validate parsed data; raise ScenarioError carrying every problem, sorted by position."""
    overrides = overrides or []
    problems = _schema_version(source)
    if problems:
        raise ScenarioError(problems)
    origins = {o.keys: o.origin for o in overrides}
    data = ov.apply(source.data, overrides)
    try:
        # a weather file is named relative to the scenario file; times without an offset are the site's clock
        context = {"base_dir": Path(source.file).parent, "timezone": _site_zone(data)}
        scenario = Scenario.model_validate(data, context=context)
    except ValidationError as exc:
        diagnostics = [
            _diagnostic(
                source,
                tuple(err["loc"]),
                message_for(err, Scenario),
                origins=origins,
                at_key=err["type"] == "extra_forbidden",
            )
            for err in exc.errors(include_url=False)
        ]
        raise ScenarioError(_unique_sorted(diagnostics)) from None
    findings = check(scenario)
    diagnostics = [_diagnostic(source, tuple(f.loc), f.message, f.severity, origins, f.at_key) for f in findings]
    errors = [d for d in diagnostics if d.severity == "error"]
    if errors:
        raise ScenarioError(_unique_sorted(diagnostics))
    warnings = _unique_sorted(diagnostics)
    return Loaded(scenario=scenario, source=source, warnings=warnings, overrides=overrides)


def _site_zone(data: Mapping[str, Any]) -> str | None:
    """The time zone the scenario names (its default when it names none), if it is one; else None (its error is
    reported on its own, and times without an offset are then refused)."""
    site = data.get("site")
    zone = site.get("timezone", DEFAULT_ZONE) if isinstance(site, Mapping) else DEFAULT_ZONE
    try:
        ZoneInfo(zone)
    except (ZoneInfoNotFoundError, ValueError, TypeError):
        return None
    return str(zone)


def _unique_sorted(diagnostics: list[Diagnostic]) -> list[Diagnostic]:
    return sorted(dict.fromkeys(diagnostics), key=Diagnostic.sort_key)


def load_scenario(
    path: str | Path,
    environ: Mapping[str, str] | None = None,
    options: Mapping[str, str | None] | None = None,
) -> Loaded:
    """Read and validate a scenario file with environment and option overrides applied."""
    try:
        source = read_source(path)
    except SourceError as exc:
        raise ScenarioError([exc.diagnostic]) from None
    return validate_source(source, ov.collect(environ or {}, options or {}))
