"""Open311's XML, the spec's required format: the JSON structure rendered with the Spark convention (a list
becomes repeated elements named in the singular), UTF-8 with its declaration, no namespace."""

from __future__ import annotations

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


def _text(value: Any) -> str:
    if isinstance(value, bool):
        return "true" if value else "false"
    return str(value)


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
