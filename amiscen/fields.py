"""HTTP/1.1 header sections read line by line into (name, value) pairs, without the email package: what both
http.server (a request's fields) and http.client (a response's) otherwise hand to ``email.parser``, at about a
sixth of its cost (issue #16: 12 % of the head-end's CPU in a realtime fleet; 24 us of every meter's response).

The reading is the email parser's (the ``compat32`` policy http.client and http.server use): a field's name is
what comes before its colon (printable ASCII but the colon), its value the rest with leading blanks and the line's
end taken off; a line that starts with a blank continues the field before it (kept with its line break, as the
email parser keeps it); a line that is no field ends the fields (the email parser takes the rest for a body).
The limits are http.client's: a line of 65,536 bytes, 100 lines with the empty line that ends them.
"""

from __future__ import annotations

import re
from collections.abc import Callable

MAX_FIELD_LINE = 65536
MAX_FIELD_LINES = 100
FIELD_NAME = re.compile(r"([\041-\071\073-\176]*):")  # what the email parser takes for a field's name


class FieldsTooLarge(Exception):
    """A header section over the limits: ``line`` (a line too long) or ``lines`` (too many lines)."""

    def __init__(self, what: str, detail: str) -> None:
        super().__init__(detail)
        self.what = what


def read_fields(readline: Callable[[int], bytes]) -> list[tuple[str, str]]:
    """The fields of one header section, in order (a name may repeat), read up to and with its empty line."""
    fields: list[list[str]] = []
    ignoring = False  # past a line that is no field: the rest is not read as fields (as the email parser)
    count = 0
    while True:
        line = readline(MAX_FIELD_LINE + 1)
        if len(line) > MAX_FIELD_LINE:
            raise FieldsTooLarge("line", f"got more than {MAX_FIELD_LINE} bytes when reading header line")
        count += 1
        if count > MAX_FIELD_LINES:
            raise FieldsTooLarge("lines", f"got more than {MAX_FIELD_LINES} headers")
        if line in (b"\r\n", b"\n", b""):
            break
        if ignoring:
            continue
        text = str(line, "iso-8859-1")
        if text[0] in " \t":  # a folded continuation of the field before
            if fields:
                fields[-1][1] += text
            continue
        match = FIELD_NAME.match(text)
        if match is None:
            ignoring = True
            continue
        fields.append([match.group(1), text[match.end() :].lstrip(" \t")])
    return [(name, value.rstrip("\r\n")) for name, value in fields]


class Fields:
    """A header section's fields by case-insensitive name: ``get`` gives a repeated field's first value (as
    ``email.message.Message`` does), ``items`` every field in order with its name as sent. What http.server's
    handler and http.client's response read of their headers (``get``, ``get_all``, ``items``), no more."""

    __slots__ = ("_first", "_pairs")

    def __init__(self, pairs: list[tuple[str, str]]) -> None:
        self._pairs = pairs
        self._first: dict[str, str] = {}
        for name, value in pairs:
            self._first.setdefault(name.lower(), value)

    def get(self, name: str, default: str | None = None) -> str | None:
        return self._first.get(name.lower(), default)

    def get_all(self, name: str, default: list[str] | None = None) -> list[str] | None:
        key = name.lower()
        found = [value for n, value in self._pairs if n.lower() == key]
        return found or default

    def items(self) -> list[tuple[str, str]]:
        return list(self._pairs)
