"""Parse 2030.5 XML safely into the resource dataclasses.

No DTDs or entities (billion laughs, external entities), a size limit, unknown elements ignored so newer
servers still work, and every malformed body becomes a SepParseError, never a crash.
"""

from __future__ import annotations

import dataclasses
import typing
from functools import cache
from types import UnionType
from typing import Any, TypeVar, Union
from xml.etree import ElementTree

from amiscen.sep.constants import CSIPAUS_NAMESPACE, LEGACY_NAMESPACE, NAMESPACE
from amiscen.sep.model.common import ATTRIBUTES, Hex, HexValue, Resource
from amiscen.sep.model.pubsub import Notification
from amiscen.sep.model.registry import resource_class

MAX_BODY_BYTES = 1024 * 1024
XSI_NAMESPACE = "http://www.w3.org/2001/XMLSchema-instance"
# List.all and List.results: "Required on a response to a GET, ignored otherwise" (sep.xsd). A POSTed list may
# leave them out (CACTUS's client does); read as 0, and a GET answer without them is one page.
UNCOUNTED = frozenset({"@all", "@results"})
R = TypeVar("R", bound=Resource)


class SepParseError(ValueError):
    """A body that is not a usable 2030.5 document; the message says why, in one line."""


def check_body(body: bytes, max_bytes: int | None = MAX_BODY_BYTES) -> None:
    """Refuse what no 2030.5 body is (too large, empty, a DTD or entity declaration), before anything reads it."""
    _check_raw(body, max_bytes)


def _check_raw(body: bytes, max_bytes: int | None = MAX_BODY_BYTES) -> None:
    if max_bytes is not None and len(body) > max_bytes:
        raise SepParseError(f"body of {len(body):,} bytes exceeds the {max_bytes:,}-byte limit")
    head = body.lstrip()[:1]
    if not head:
        raise SepParseError("empty body")
    upper = body.upper()
    if b"<!DOCTYPE" in upper or b"<!ENTITY" in upper:
        raise SepParseError("DTDs and entity declarations are refused")


MAX_DEPTH = 64  # a 2030.5 document nests about 8 deep; deeper is hostile


def _tree(body: bytes | str, namespaces: dict[str, str | None], max_bytes: int | None = MAX_BODY_BYTES) -> Any:
    """A checked body as nested dicts, the shape xmltodict gives (attributes as ``@name``, text beside children as
    ``#text``, a repeated element as a list, an empty one as None): 2030.5's namespace as the default, csipaus as
    its prefix, and ``namespaces`` besides. Parsed by expat through ElementTree (C), then walked once: five times
    faster than a SAX handler in Python, which was a quarter of the head-end's time."""
    raw = body.encode("utf-8") if isinstance(body, str) else body
    _check_raw(raw, max_bytes)
    try:
        root = ElementTree.fromstring(raw)  # no DTD or entity declaration gets here (_check_raw)
    except ElementTree.ParseError as exc:
        raise SepParseError(f"malformed XML: {exc}") from None
    names = {NAMESPACE: None, CSIPAUS_NAMESPACE: "csipaus", **namespaces}
    name = _namer(names)
    return {name(root.tag): _content(root, name, 1)}


def _namer(names: dict[str, str | None]) -> Any:
    cache: dict[str, str] = {}

    def name(tag: str) -> str:
        known = cache.get(tag)
        if known is None:
            if tag[:1] == "{":
                uri, _, local = tag[1:].partition("}")
                prefix = names.get(uri, uri)
                known = local if prefix is None else f"{prefix}:{local}"
            else:
                known = tag
            cache[tag] = known
        return known

    return name


def _content(element: Any, name: Any, depth: int) -> Any:
    if depth > MAX_DEPTH:
        raise SepParseError(f"refused XML: nested more than {MAX_DEPTH} elements deep")
    attributes = element.attrib
    if not len(element):  # a leaf (most elements: a Reading's value, a time): its text, or None when empty
        text = (element.text or "").strip()
        if not attributes:
            return text or None
        out: dict[str, Any] = {f"@{name(k)}": v for k, v in attributes.items()}
        if text:
            out["#text"] = text
        return out
    out = {f"@{name(k)}": v for k, v in attributes.items()} if attributes else {}
    text = element.text or ""
    for child in element:
        if child.tail:
            text += child.tail
        if not isinstance(child.tag, str):  # a comment or processing instruction
            continue
        key = name(child.tag)
        value = _content(child, name, depth + 1)
        held = out.get(key, out)
        if held is out:
            out[key] = value
        elif isinstance(held, list):
            held.append(value)
        else:
            out[key] = [held, value]
    text = text.strip()
    if text:
        out["#text"] = text
    return out


def parse_document(body: bytes | str, legacy: bool = False, max_bytes: int | None = MAX_BODY_BYTES) -> Resource:
    """Parse any known top-level resource; the root element decides the type. ``legacy``: also accept the
    2030.5-2013 namespace (the head-end does, for clients built on the 2.0 schema such as EPRI's)."""
    tree = _tree(body, {LEGACY_NAMESPACE: None} if legacy else {}, max_bytes)
    if not isinstance(tree, dict) or len(tree) != 1:
        raise SepParseError("expected exactly one root element")
    ((tag, content),) = tree.items()
    if ":" in tag and not tag.startswith("csipaus:"):
        raise SepParseError(f"root element {tag!r} is not in the 2030.5 namespace {NAMESPACE}")
    cls = resource_class(tag.removeprefix("csipaus:"))
    if cls is None:
        raise SepParseError(f"unknown 2030.5 resource <{tag}>")
    return typing.cast(Resource, _build(cls, content, tag))


def parse_notification(body: bytes | str) -> tuple[Notification, Resource | None]:
    """A Notification and the resource it carries (``<Resource xsi:type="DERControlList">``), or None when it
    carries none (a cancelled subscription, status 1-4). The Notification's own ``Resource`` field stays None."""
    tree = _tree(body, {XSI_NAMESPACE: "xsi"})
    if not isinstance(tree, dict) or list(tree) != ["Notification"]:
        raise SepParseError("expected one <Notification> root element")
    content = dict(tree["Notification"] or {})
    carries = "Resource" in content
    inner = content.pop("Resource", None)
    notification: Notification = _build(Notification, content, "Notification")
    if not carries:
        return notification, None
    if not isinstance(inner, dict) or not isinstance(inner.get("@xsi:type"), str):
        raise SepParseError("<Notification/Resource> must name its type with xsi:type")
    inner = dict(inner)
    name = inner.pop("@xsi:type").rsplit(":", 1)[-1]
    cls = resource_class(name)
    if cls is None:
        raise SepParseError(f"<Notification/Resource> of unknown type {name!r}")
    return notification, typing.cast(Resource, _build(cls, inner, name))


def parse_as(body: bytes | str, cls: type[R], max_bytes: int | None = MAX_BODY_BYTES) -> R:
    """Parse and insist on one resource type (a subclass, e.g. DrResponse for Response, is accepted);
    ``max_bytes`` None: no size limit (a body amiscen made itself)."""
    resource = parse_document(body, max_bytes=max_bytes)
    if not isinstance(resource, cls):
        raise SepParseError(f"expected <{cls.__name__}>, got <{type(resource).__name__}>")
    return resource


@cache
def _fields(cls: type) -> tuple[tuple[str, str, Any, bool, bool], ...]:
    """(field name, key in the tree's dict, its converter, required, a record) of a resource dataclass, once per
    class (the converter resolved here, not looked up by its type on every field of every request)."""
    hints = typing.get_type_hints(cls, include_extras=True)
    out = []
    for f in dataclasses.fields(cls):
        required = f.default is dataclasses.MISSING and f.default_factory is dataclasses.MISSING
        ns = f.metadata.get("ns")
        key = f"{ns}:{f.name}" if ns else f"@{f.name}" if f.name in ATTRIBUTES else f.name
        out.append((f.name, key, _converter(hints[f.name]), required, _is_record(hints[f.name])))
    return tuple(out)


def _build(cls: type, content: Any, where: str) -> Any:
    if content is None:
        content = {}
    if not isinstance(content, dict):
        raise SepParseError(f"<{where}> must contain elements, not text")
    values: dict[str, Any] = {}
    for name, key, convert, required, record in _fields(cls):
        value = content.get(key)
        # an empty element is a record with nothing set (envoy sends <DERControlBase/>), not a missing one
        if value is None and not (record and key in content):
            if key in UNCOUNTED and required:
                values[name] = 0
                continue
            if required:
                raise SepParseError(f"<{where}> lacks required {'attribute' if key[0] == '@' else 'element'} {name}")
            continue
        values[name] = convert(value, f"{where}/{name}")
    try:
        return cls(**values)
    except TypeError as exc:  # pragma: no cover - guarded by the required check above
        raise SepParseError(f"<{where}>: {exc}") from None


def _is_record(annotation: Any) -> bool:
    """Whether a field holds a nested element with children (a dataclass), not a simple value."""
    origin = typing.get_origin(annotation)
    if origin in (Union, UnionType):
        return any(_is_record(a) for a in typing.get_args(annotation) if a is not type(None))
    return dataclasses.is_dataclass(annotation)


def _convert(annotation: Any, value: Any, where: str) -> Any:
    return _converter(annotation)(value, where)


@cache
def _converter(annotation: Any) -> Any:
    """A function converting the tree's value for ``annotation``; built once per annotation (the hot path of
    every request the head-end parses)."""
    origin = typing.get_origin(annotation)
    if origin is typing.Annotated:
        base, *extras = typing.get_args(annotation)
        hexes = [e for e in extras if isinstance(e, Hex)]
        if hexes:
            digits = hexes[0].digits
            return lambda value, where: _hex(value, digits, where)
        return _converter(base)
    if origin in (Union, UnionType):
        args = [a for a in typing.get_args(annotation) if a is not type(None)]
        return _converter(args[0])
    if origin is list:
        item = _converter(typing.get_args(annotation)[0])
        return lambda value, where: [item(v, where) for v in (value if isinstance(value, list) else [value])]
    if dataclasses.is_dataclass(annotation):
        cls = typing.cast(type, annotation)
        return lambda value, where: _build(cls, value, where.rsplit("/", 1)[-1])
    if annotation is int:
        return _int
    if annotation is bool:
        return _bool
    return _text


def _int(value: Any, where: str) -> int:
    text = _text(value, where)
    try:
        number = int(text)
    except ValueError:
        raise SepParseError(f"<{where}> must be an integer (got {text[:40]!r})") from None
    if not -(2**63) <= number < 2**63:  # the widest 2030.5 integer is 64 bits (UInt64 ids, Int64 registers)
        raise SepParseError(f"<{where}> is out of range (got {text[:40]})")
    return number


def _bool(value: Any, where: str) -> bool:
    text = _text(value, where)
    if text in ("true", "1"):
        return True
    if text in ("false", "0"):
        return False
    raise SepParseError(f"<{where}> must be true or false (got {text[:40]!r})")


def _text(value: Any, where: str) -> str:
    if isinstance(value, dict):
        if "#text" in value:
            return str(value["#text"]).strip()
        raise SepParseError(f"<{where}> must be a simple value")
    if isinstance(value, list):
        raise SepParseError(f"<{where}> appears more than once")
    return str(value).strip()


def _hex(value: Any, digits: int, where: str) -> int:
    text = _text(value, where)
    try:
        number = int(text, 16)
    except ValueError:
        raise SepParseError(f"<{where}> must be hexBinary (got {text[:40]!r})") from None
    if len(text) % 2 or number >= 16**digits:
        raise SepParseError(f"<{where}> must be at most {digits} hex digits, an even number (got {text!r})")
    return HexValue(number, len(text))
