"""Integration widget rules (WID-4..8, WID-10..16): what a widget's settings must be, and the icon check.
Pure: the admin API calls these after the contract's schema check, so each refusal names its field."""

from __future__ import annotations

import re
import xml.etree.ElementTree as ET
from collections.abc import Mapping
from typing import Any

from . import DomainError

COLOUR = re.compile(r"^#[0-9A-Fa-f]{6}$")
MAX_ICON_BYTES = 5 * 1024  # WID-7: "a .svg file that is less than 5KB"
TEMPLATES = ("form", "row", "table")
TYPES = ("formatted", "html")
# The built-in icon library (WID-7 "select icon from library"); names only, the portal draws them.
LIBRARY = (
    "bill", "calendar", "droplet", "briefcase", "hand-heart", "home", "leaf", "megaphone", "receipt", "recycle",
    "ticket", "trash", "tree", "users", "zap",
)  # fmt: skip
TEXTS = ("no_account", "link_instructions", "unlink_instructions", "dashboard", "expanded")
SVG_NS = "http://www.w3.org/2000/svg"
XLINK_NS = "http://www.w3.org/1999/xlink"
# Elements that run code, embed other documents or pull from elsewhere; nothing an icon needs.
FORBIDDEN = {"script", "foreignobject", "iframe", "embed", "object", "audio", "video", "image", "feimage", "use",
             "animate", "set", "animatemotion", "animatetransform", "handler", "listener", "style", "a"}  # fmt: skip
URL_IN_VALUE = re.compile(r"url\s*\(\s*['\"]?\s*(?!#)", re.IGNORECASE)
SCRIPTY = re.compile(r"^\s*(javascript|data|vbscript):", re.IGNORECASE)


def check_colour(value: str) -> None:
    if not COLOUR.fullmatch(value):
        raise DomainError(f"colour must be a hex code #XXXXXX, not {value[:20]!r}", "colour")


def check_icon(icon: Mapping[str, Any]) -> None:
    """WID-7: a library icon by name, or an uploaded SVG under 5 KB with no script, no event handlers and no
    references to anything outside itself."""
    if icon.get("library") is not None:
        if icon["library"] not in LIBRARY:
            raise DomainError(f"no library icon {icon['library']!r}; the library: {', '.join(LIBRARY)}", "icon.library")
        return
    svg = icon.get("svg")
    if not isinstance(svg, str):
        raise DomainError("an icon is a library name or an uploaded SVG", "icon")
    problem = svg_problem(svg)
    if problem:
        raise DomainError(problem, "icon.svg")


def svg_problem(svg: str) -> str | None:
    """Why an uploaded SVG icon is refused, or None."""
    size = len(svg.encode("utf-8"))
    if size >= MAX_ICON_BYTES:
        return f"the icon is {size} bytes; an SVG icon must be under {MAX_ICON_BYTES} bytes"
    if re.search(r"<!DOCTYPE|<!ENTITY", svg, re.IGNORECASE):
        return "the icon declares a DOCTYPE or entities; an SVG icon may not"
    try:
        root = ET.fromstring(svg)
    except ET.ParseError as err:
        return f"the icon is not well-formed SVG: {err}"
    if _local(root.tag) != "svg" or _namespace(root.tag) not in ("", SVG_NS):
        return "the icon's root element must be <svg>"
    for element in root.iter():
        if not isinstance(element.tag, str):
            continue  # a comment or processing instruction
        name = _local(element.tag).lower()
        if name in FORBIDDEN:
            return f"the icon may not contain <{_local(element.tag)}>"
        for attribute, value in element.attrib.items():
            attr = _local(attribute).lower()
            if attr.startswith("on"):
                return f"the icon may not carry event handlers ({attr} on <{name}>)"
            if attr == "href" and not value.strip().startswith("#"):
                return f"the icon may not refer to anything outside itself ({attr} on <{name}>)"
            if SCRIPTY.match(value) or URL_IN_VALUE.search(value):
                return f"the icon may not refer to anything outside itself ({attr} on <{name}>)"
    return None


def _local(tag: str) -> str:
    return tag.rsplit("}", 1)[-1]


def _namespace(tag: str) -> str:
    return tag[1:].split("}", 1)[0] if tag.startswith("{") else ""


def check_widget(widget: Mapping[str, Any], address_setup_complete: bool) -> None:
    """The rules across fields, on the widget as it would be saved (after a create or a patch)."""
    if not str(widget.get("name") or "").strip():
        raise DomainError("a widget needs a name", "name")
    check_colour(widget["colour"])
    check_icon(widget["icon"])
    if widget["property_dependent"] and not address_setup_complete:
        raise DomainError(
            "a property-dependent widget needs the city's address setup to be completed first "
            "(POST /admin/v1/addresses, then mark the setup complete)",
            "property_dependent",
        )
    layout = widget["layout"]
    if layout["template"] == "table":
        widths = (layout.get("key_width"), layout.get("value_width"))
        if None in widths:
            raise DomainError("the table template needs key_width and value_width", "layout.key_width")
        if sum(widths) != 100:  # type: ignore[arg-type]
            total = sum(widths)  # type: ignore[arg-type]
            raise DomainError(f"key and value column widths must add up to 100, not {total}", "layout")
    if widget.get("endpoint") is None and widget.get("published"):
        raise DomainError("a published widget needs its API endpoint", "endpoint")


def content_query(view: str, user: str, property_id: str | None = None) -> dict[str, str]:
    """The query of a city API's `GET /v1/content`: the view, the citizen's pseudonym and, for a
    property-dependent widget, the property (WID-8)."""
    query = {"view": view, "user": user}
    if property_id:
        query["property_id"] = property_id
    return query


def dashboard_texts(texts: Mapping[str, Any], view: str) -> str | None:
    """WID-13: the text above the items of a view; the expanded view may reuse the dashboard's."""
    if view == "expanded" and texts.get("use_dashboard_text_for_expanded"):
        return texts.get("dashboard")
    return texts.get(view)
