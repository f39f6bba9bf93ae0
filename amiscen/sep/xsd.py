"""Validate 2030.5 documents against the user's copy of the IEEE schema (sep.xsd, never shipped).

lxml is an optional extra (``pip install amiscen[xsd]``); the schema path comes from an option or
AMISCEN_SEP_XSD.
"""

from __future__ import annotations

import os
from functools import lru_cache
from pathlib import Path
from typing import Any

from amiscen.errors import UsageError
from amiscen.sep.constants import CSIPAUS_NAMESPACE, NAMESPACE

ENV_VAR = "AMISCEN_SEP_XSD"
HOW_TO_GET = (
    "amiscen does not ship the IEEE 2030.5 schema (IEEE copyright). Get sep.xsd from the IEEE 2030.5 "
    "standard's schema download, then pass --xsd PATH or set AMISCEN_SEP_XSD=PATH"
)


def schema_path(explicit: str | os.PathLike[str] | None = None) -> Path | None:
    """The schema to use: an explicit path, else $AMISCEN_SEP_XSD, else none."""
    candidate = explicit or os.environ.get(ENV_VAR)
    return Path(candidate) if candidate else None


class SchemaValidator:
    """A loaded sep.xsd; ``errors(body)`` lists what is wrong with a document (empty when valid)."""

    def __init__(self, path: Path) -> None:
        try:
            from lxml import etree
        except ImportError:
            raise UsageError("schema validation needs lxml", hint="pip install 'amiscen[xsd]'") from None
        if not path.is_file():
            raise UsageError(f"{path}: no such schema file", hint=HOW_TO_GET)
        try:
            self._schema = etree.XMLSchema(etree.parse(str(path), etree.XMLParser(resolve_entities=False)))
        except (etree.XMLSchemaParseError, etree.XMLSyntaxError) as exc:
            raise UsageError(f"{path}: not a usable XML schema ({exc})") from None
        self._parser = etree.XMLParser(resolve_entities=False, no_network=True, huge_tree=False)
        self._etree: Any = etree
        self.path = path

    def errors(self, body: bytes | str, received: bool = False) -> list[str]:
        """What is wrong with the document's 2030.5 part. Elements of a profile's extension namespace (csipaus)
        are taken out first: sep.xsd does not know them, and they are checked apart (``extensions``).
        ``received``: a body a client sent (POST, PUT), where a List's ``all`` and ``results`` are "Required on
        a response to a GET, ignored otherwise" (sep.xsd's own words): their absence is not an error there."""
        raw = body.encode("utf-8") if isinstance(body, str) else body
        try:
            document = self._etree.fromstring(raw, self._parser)
        except self._etree.XMLSyntaxError as exc:
            return [f"not well-formed: {exc}"]
        if document.tag.startswith("{" + CSIPAUS_NAMESPACE + "}"):
            return []  # a whole extension document (csipaus:ConnectionPoint): nothing of 2030.5's to check
        for element in list(document.iter("{" + CSIPAUS_NAMESPACE + "}*")):
            element.getparent().remove(element)
        if received:
            for element in document.iter("{" + NAMESPACE + "}*"):
                if element.tag.endswith("List"):
                    for attribute in ("all", "results"):
                        if element.get(attribute) is None:
                            element.set(attribute, "0")
        if self._schema.validate(document):
            return []
        return [f"line {e.line}: {e.message}" for e in self._schema.error_log]

    def extensions(self, body: bytes | str) -> list[str]:
        """The extension elements (csipaus:NAME) a document carries, in document order."""
        raw = body.encode("utf-8") if isinstance(body, str) else body
        try:
            document = self._etree.fromstring(raw, self._parser)
        except self._etree.XMLSyntaxError:
            return []
        prefix = "{" + CSIPAUS_NAMESPACE + "}"
        return [
            "csipaus:" + e.tag[len(prefix) :]
            for e in document.iter()
            if isinstance(e.tag, str) and e.tag.startswith(prefix)
        ]


@lru_cache(maxsize=4)
def validator(path: Path) -> SchemaValidator:
    return SchemaValidator(path)
