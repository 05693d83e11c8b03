"""Open311's XML, the spec's required format: the JSON structure rendered with the Spark convention (a list
becomes repeated elements named in the singular), UTF-8 with its declaration, no namespace.

XML 1.0 cannot carry every character a JSON string can: C0 controls other than tab, LF and CR, U+FFFE,
U+FFFF and lone surrogates are not allowed even as character references. They are dropped from the XML
text (the JSON answer keeps them, escaped): a record stored with them, from a citizen or imported from a
vendor, must not make the whole list unreadable for every XML client."""

from __future__ import annotations

import re
from typing import Any
from xml.etree.ElementTree import Element, SubElement, tostring

SINGULAR = {
    "services": "service",
    "attributes": "attribute",
    "values": "value",
    "service_requests": "request",
    "errors": "error",
    "endpoints": "endpoint",
    "formats": "format",
    "comments": "comment",
    "media_urls": "media_url",
}


NOT_XML = re.compile("[\x00-\x08\x0b\x0c\x0e-\x1f\ud800-\udfff\ufffe\uffff]")


def xml_text(text: str) -> str:
    """The text with the characters XML 1.0 does not allow removed."""
    return NOT_XML.sub("", text)


def _text(value: Any) -> str:
    if isinstance(value, bool):
        return "true" if value else "false"
    return xml_text(str(value))


def _fill(element: Element, value: Any) -> None:
    if isinstance(value, dict):
        for key, item in value.items():
            if item is None:
                continue
            _fill(SubElement(element, key), item)
    elif isinstance(value, list):
        name = SINGULAR.get(element.tag, "item")
        for item in value:
            _fill(SubElement(element, name), item)
    else:
        element.text = _text(value)


def render(root: str, value: Any) -> bytes:
    element = Element(root)
    _fill(element, value)
    return b'<?xml version="1.0" encoding="UTF-8"?>\n' + tostring(element, encoding="unicode").encode("utf-8")
