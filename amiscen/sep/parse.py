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


def _root(body: bytes | str, max_bytes: int | None = MAX_BODY_BYTES) -> Any:
    """A checked body's root element, parsed by expat through ElementTree (C)."""
    raw = body.encode("utf-8") if isinstance(body, str) else body
    _check_raw(raw, max_bytes)
    try:
        return ElementTree.fromstring(raw)  # no DTD or entity declaration gets here (_check_raw)
    except ElementTree.ParseError as exc:
        raise SepParseError(f"malformed XML: {exc}") from None


class _Namer:
    """Element and attribute names as the fields read them: ``local`` in 2030.5's namespace, ``csipaus:local``,
    ``prefix:local`` for other known namespaces, ``{uri}local`` for the rest; ``known`` holds every name met (the
    builders keep their own table from a raw tag to its field, per namer)."""

    def __init__(self, names: dict[str, str | None]) -> None:
        self.names = names
        self.known: dict[str, str] = {}

    def __call__(self, tag: str) -> str:
        known = self.known.get(tag)
        if known is None:
            if tag[:1] == "{":
                uri, _, local = tag[1:].partition("}")
                prefix = self.names.get(uri, uri)
                known = local if prefix is None else f"{prefix}:{local}"
            else:
                known = tag
            self.known[tag] = known
        return known


_NAMES = {NAMESPACE: None, CSIPAUS_NAMESPACE: "csipaus"}
_DOCUMENT = _Namer(_NAMES)
_LEGACY = _Namer({**_NAMES, LEGACY_NAMESPACE: None})
_NOTIFICATION = _Namer({**_NAMES, XSI_NAMESPACE: "xsi"})


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


def _check_depth(element: Any, depth: int) -> None:
    """An element no field reads: refused all the same if it nests beyond reason."""
    if depth > MAX_DEPTH:
        raise SepParseError(f"refused XML: nested more than {MAX_DEPTH} elements deep")
    for child in element:
        _check_depth(child, depth + 1)


def parse_document(body: bytes | str, legacy: bool = False, max_bytes: int | None = MAX_BODY_BYTES) -> Resource:
    """Parse any known top-level resource; the root element decides the type. ``legacy``: also accept the
    2030.5-2013 namespace (the head-end does, for clients built on the 2.0 schema such as EPRI's)."""
    root = _root(body, max_bytes)
    name = _LEGACY if legacy else _DOCUMENT
    tag = name(root.tag)
    if ":" in tag and not tag.startswith("csipaus:"):
        raise SepParseError(f"root element {tag!r} is not in the 2030.5 namespace {NAMESPACE}")
    cls = resource_class(tag.removeprefix("csipaus:"))
    if cls is None:
        raise SepParseError(f"unknown 2030.5 resource <{tag}>")
    return typing.cast(Resource, _record(cls, root, tag, name, 1))


def parse_notification(body: bytes | str) -> tuple[Notification, Resource | None]:
    """A Notification and the resource it carries (``<Resource xsi:type="DERControlList">``), or None when it
    carries none (a cancelled subscription, status 1-4). The Notification's own ``Resource`` field stays None."""
    root = _root(body)
    name = _NOTIFICATION
    if name(root.tag) != "Notification":
        raise SepParseError("expected one <Notification> root element")
    inner = [child for child in root if isinstance(child.tag, str) and name(child.tag) == "Resource"]
    notification: Notification = _record(Notification, root, "Notification", name, 1, skip="Resource")
    if not inner:
        return notification, None
    if len(inner) > 1:
        raise SepParseError("<Notification/Resource> must name its type with xsi:type")
    kind = inner[0].get(f"{{{XSI_NAMESPACE}}}type")
    if not isinstance(kind, str):
        raise SepParseError("<Notification/Resource> must name its type with xsi:type")
    type_name = kind.rsplit(":", 1)[-1]
    cls = resource_class(type_name)
    if cls is None:
        raise SepParseError(f"<Notification/Resource> of unknown type {type_name!r}")
    return notification, typing.cast(Resource, _record(cls, inner[0], type_name, name, 2))


def parse_as(body: bytes | str, cls: type[R], max_bytes: int | None = MAX_BODY_BYTES) -> R:
    """Parse and insist on one resource type (a subclass, e.g. DrResponse for Response, is accepted);
    ``max_bytes`` None: no size limit (a body amiscen made itself)."""
    resource = parse_document(body, max_bytes=max_bytes)
    if not isinstance(resource, cls):
        raise SepParseError(f"expected <{cls.__name__}>, got <{type(resource).__name__}>")
    return resource


class _Field(typing.NamedTuple):
    name: str
    key: str  # as the namer names it: ``name``, ``csipaus:name``, or ``@name`` for an attribute
    kind: str  # how the builder reads it: attribute, int, hex, text, simple, record, records
    convert: Any  # a simple value's converter (None for a record)
    record: type | None  # the dataclass a record field (or each item of a list of records) is built as
    digits: int  # a hex field's most digits (0 for the others)
    required: bool
    default: Any  # dataclasses.MISSING where it has none, or a factory
    factory: Any  # dataclasses.MISSING where it has none


def _fields(cls: type) -> tuple[_Field, ...]:
    hints = typing.get_type_hints(cls, include_extras=True)
    out = []
    for f in dataclasses.fields(cls):
        ns = f.metadata.get("ns")
        key = f"{ns}:{f.name}" if ns else f"@{f.name}" if f.name in ATTRIBUTES else f.name
        hint = hints[f.name]
        base = _unwrap(hint)
        listed = typing.get_origin(base) is list
        item = typing.get_args(base)[0] if listed else base
        record = typing.cast(type, item) if dataclasses.is_dataclass(item) else None
        digits = _hex_digits(hint) or 0
        if key[0] == "@":
            kind = "attribute"
        elif record is not None:
            kind = "records" if listed else "record"
        elif listed:
            kind = "simple"
        elif digits:
            kind = "hex"
        else:
            kind = {int: "int", str: "text"}.get(base, "simple")
        required = f.default is dataclasses.MISSING and f.default_factory is dataclasses.MISSING
        convert = None if record else _converter(hint)
        out.append(_Field(f.name, key, kind, convert, record, digits, required, f.default, f.default_factory))
    return tuple(out)


def _unwrap(annotation: Any) -> Any:
    """An annotation without Annotated and Optional around it."""
    origin = typing.get_origin(annotation)
    if origin is typing.Annotated:
        return _unwrap(typing.get_args(annotation)[0])
    if origin in (Union, UnionType):
        return _unwrap(next(a for a in typing.get_args(annotation) if a is not type(None)))
    return annotation


def _hex_digits(annotation: Any) -> int | None:
    """The most digits of a hexBinary field (its Hex marker), or None for any other."""
    if typing.get_origin(annotation) in (Union, UnionType):
        return _hex_digits(next(a for a in typing.get_args(annotation) if a is not type(None)))
    if typing.get_origin(annotation) is typing.Annotated:
        hexes = [e for e in typing.get_args(annotation)[1:] if isinstance(e, Hex)]
        return hexes[0].digits if hexes else None
    return None


# what an element must be to be read as a record: children, attributes, or no text (an empty one is a record with
# nothing set: envoy sends <DERControlBase/>); the builders inline it (``{e}`` the element), ``_record`` calls it
_RECORD_LIKE = "(len({e}) or {e}.keys() or not ({e}.text or '').strip())"
_record_like = eval(compile(f"lambda e: {_RECORD_LIKE.format(e='e')}", "<record-like>", "eval"))  # our own code


def _record(cls: type, element: Any, where: str, name: _Namer, depth: int, skip: str | None = None) -> Any:
    """A record from its element (the root, a Notification's resource; nested ones are the builders' own)."""
    if not _record_like(element):
        raise SepParseError(f"<{where}> must contain elements, not text")
    return _builder(cls)(element, where, name, depth, skip)


_ABSENT = object()
_INT64 = 2**63


@cache
def _builder(cls: type) -> Any:
    """The function that builds ``cls`` from its element, generated once per resource class (issue #16: the
    head-end's hottest path). It walks the element once: each child and attribute read by the field it names
    (unknown ones ignored, so newer servers still work; ``skip``: a child the caller reads itself); then the
    fields in their declared order, so the first problem told is the same whatever the order of the elements.
    Integers, text and hex read straight from the element's text; anything unusual goes to the converter,
    which accepts it or says what is wrong with it. The record is made without its ``__init__`` (frozen
    dataclasses set each field through ``object.__setattr__``): its defaults, then what was read. A raw tag's
    field is looked up once per namer; a record field's builder once (readings bodies hold thousands of records:
    every call saved is saved per reading)."""
    fields = _fields(cls)
    builders: list[Any] = [None] * len(fields)  # each record field's builder, found when first needed (classes nest)

    def built(i: int) -> Any:
        builder = builders[i] = _builder(fields[i].record)
        return builder

    keys = {f.key: i for i, f in enumerate(fields) if f.kind != "attribute"}
    attributes = {f.key: i for i, f in enumerate(fields) if f.kind == "attribute"}
    defaults = {f.name: f.default for f in fields if f.default is not dataclasses.MISSING}
    factories = {f.name: f.factory for f in fields if f.factory is not dataclasses.MISSING}
    lines = [
        "def build(element, where, name, depth, skip):",
        "    if depth > MAX_DEPTH:",
        "        raise SepParseError(DEEP)",
        f"    held = [ABSENT] * {len(fields)}",
    ]
    if attributes:  # items(), not attrib: an element without attributes is then not given an empty dict
        lines += [
            "    for k, v in element.items():",
            "        i = ATTRIBUTES.get('@' + name(k))",
            "        if i is not None:",
            "            held[i] = v",
        ]
    lines += [
        "    tags = TAGS.get(name)",  # the raw tag's field, per namer: KEYS[name(tag)], or -1 where none
        "    if tags is None:",
        "        tags = TAGS[name] = {}",
        "    for child in element:",
        "        tag = child.tag",
        "        if tag.__class__ is not str:",
        "            continue",
        "        if depth >= MAX_DEPTH:",
        "            raise SepParseError(DEEP)",
        "        if skip is not None and name(tag) == skip:",
        "            continue",
        "        i = tags.get(tag)",
        "        if i is None:",
        "            i = tags[tag] = KEYS.get(name(tag), -1)",
        "        if i < 0:",
        "            check_depth(child, depth + 1)",
        "        elif held[i] is ABSENT:",
        "            held[i] = child",
        "        elif held[i].__class__ is list:",
        "            held[i].append(child)",
        "        else:",
        "            held[i] = [held[i], child]",
        "    made = new(CLS)",
        "    values = made.__dict__",
        "    values.update(DEFAULTS)",
    ]
    for i, f in enumerate(fields):
        at = f"where + '/{f.name}'"
        lines += [f"    x = held[{i}]", "    if x is ABSENT:", *(_missing(f) or ["        pass"])]
        if f.kind == "attribute":
            lines += ["    else:", f"        values[{f.name!r}] = CONVERT[{i}](x, {at})"]
            continue
        if f.kind in ("record", "records"):
            one = f"(BUILD[{i}] or built({i}))(x, {f.name!r}, name, depth + 1, None)"
            text = f"        raise SepParseError('<{f.name}> must contain elements, not text')"
            lines += ["    elif x.__class__ is list:"]
            if f.kind == "record":
                lines += [text, f"    elif not {_RECORD_LIKE.format(e='x')}:", text]
                lines += ["    else:", f"        values[{f.name!r}] = {one}"]
                continue
            lines += [
                f"        b = BUILD[{i}] or built({i})",
                f"        values[{f.name!r}] = [b(e, {f.name!r}, name, depth + 1, None)"
                f" if {_RECORD_LIKE.format(e='e')} else not_text({f.name!r}) for e in x]",
                f"    elif not {_RECORD_LIKE.format(e='x')}:",
                text,
                "    elif len(x) or x.keys():",
                f"        values[{f.name!r}] = [{one}]",
            ]
            missing = _missing(f)
            if missing:
                lines += ["    else:", *missing]
            continue
        lines += [
            "    else:",
            "        if x.__class__ is list:",
            "            v = [content(e, name, depth + 1) for e in x]",
            "        elif len(x) or x.keys():",
            "            v = content(x, name, depth + 1)",
            "        else:",
            "            v = x.text",
            "            v = v.strip() or None if v else None",
            "        if v is None:",
        ]
        lines += [("    " + line) for line in (_missing(f) or ["        pass"])]
        if f.kind == "int":
            lines += [
                "        else:",
                "            try:",
                "                n = int(v) if v.__class__ is str else None",
                "            except ValueError:",
                "                n = None",
                "            if n is not None and -INT64 <= n < INT64:",
                f"                values[{f.name!r}] = n",
                "            else:",
                f"                values[{f.name!r}] = CONVERT[{i}](v, {at})",
            ]
            continue
        elif f.kind == "text":
            lines += ["        elif v.__class__ is str:", f"            values[{f.name!r}] = v"]
        elif f.kind == "hex":
            lines += [
                f"        elif v.__class__ is str and (n := to_hex(v, {16**f.digits})) is not None:",
                f"            values[{f.name!r}] = n",
            ]
        lines += ["        else:", f"            values[{f.name!r}] = CONVERT[{i}](v, {at})"]
    for name_ in factories:
        lines += [f"    if {name_!r} not in values:", f"        values[{name_!r}] = FACTORIES[{name_!r}]()"]
    lines += ["    return made"]
    scope = {
        "MAX_DEPTH": MAX_DEPTH,
        "DEEP": f"refused XML: nested more than {MAX_DEPTH} elements deep",
        "SepParseError": SepParseError,
        "ABSENT": _ABSENT,
        "ATTRIBUTES": attributes,
        "KEYS": keys,
        "TAGS": {},
        "CONVERT": [f.convert for f in fields],
        "RECORD": [f.record for f in fields],
        "BUILD": builders,
        "built": built,
        "not_text": _not_text,
        "content": _content,
        "check_depth": _check_depth,
        "to_hex": _to_hex,
        "INT64": _INT64,
        "DEFAULTS": defaults,
        "FACTORIES": factories,
        "CLS": cls,
        "new": object.__new__,
    }
    exec(compile("\n".join(lines), f"<sep builder {cls.__name__}>", "exec"), scope)  # our own code, from the model
    return scope["build"]


def _missing(f: _Field) -> list[str]:
    """The lines for a field that is absent, or whose element is there but empty (the same): none where it is
    optional, 0 for an uncounted list's all and results, else the error."""
    if f.required and f.key in UNCOUNTED:
        return [f"        values[{f.name!r}] = 0"]
    if f.required:
        what = "attribute" if f.kind == "attribute" else "element"
        return [f"        raise SepParseError(f'<{{where}}> lacks required {what} {f.name}')"]
    return []


def _not_text(where: str) -> Any:
    raise SepParseError(f"<{where}> must contain elements, not text")


_HEXES: dict[tuple[str, int], HexValue] = {}  # hex text read before, and its value (flags repeat: 0001, 0000)


def _to_hex(text: str, bound: int) -> HexValue | None:
    """``text`` as a HexValue when it is an even number of hex digits below ``bound``, else None (the converter
    then says what is wrong). A HexValue is immutable, so one read before is given again."""
    held = _HEXES.get((text, bound))
    if held is not None:
        return held
    if len(text) % 2:
        return None
    try:
        number = int(text, 16)
    except ValueError:
        return None
    if number >= bound:
        return None
    value = HexValue(number, len(text))
    if len(_HEXES) < 4096:
        _HEXES[text, bound] = value
    return value


@cache
def _converter(annotation: Any) -> Any:
    """A function converting a simple element's content (``_content``) for ``annotation`` (records are built by
    ``_builder``'s functions); built once per annotation."""
    origin = typing.get_origin(annotation)
    if origin is typing.Annotated:
        digits = _hex_digits(annotation)
        if digits is not None:
            return lambda value, where: _hex(value, digits, where)
        return _converter(typing.get_args(annotation)[0])
    if origin in (Union, UnionType):
        args = [a for a in typing.get_args(annotation) if a is not type(None)]
        return _converter(args[0])
    if origin is list:
        item = _converter(typing.get_args(annotation)[0])
        return lambda value, where: [item(v, where) for v in (value if isinstance(value, list) else [value])]
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
