"""Integration widget rules (WID-4..9, WID-10..16): what a widget's settings must be, the icon check and what
makes an endpoint a URL the gateway can call. Pure: the admin API calls these after the contract's schema
check, so each refusal names its field; the city connector applies the same endpoint rule to every call and
every redirect hop, so a row stored before the rule existed fails inside its own widget."""

from __future__ import annotations

import ipaddress
import re
import unicodedata
import xml.etree.ElementTree as ET
from collections.abc import Mapping
from typing import Any
from urllib.parse import urlsplit

from yarl import URL

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


# -- the endpoint: a URL that can be called (WID-9) -------------------------------------------------------

MAX_HOST = 253  # a DNS name, without its trailing dot (RFC 1035)
MAX_LABEL = 63
HOST_LABEL = re.compile(r"[A-Za-z0-9_-]{1,63}")  # after IDNA encoding; underscores for internal service names


def _shown(text: str, limit: int = 80) -> str:
    return repr(text if len(text) <= limit else text[:limit] + "…")


def url_problem(url: URL) -> str | None:
    """Why a parsed URL is not one the gateway calls, or None: http or https, absolute, no user information,
    a host that is an IP address literal or a DNS name (IDNA-encoded labels of letters, digits, hyphens and
    underscores, each 1..63 characters, at most 253 in all), and a port in 1..65535. Every redirect hop is
    held to this too."""
    if url.scheme not in ("http", "https"):
        scheme = f"{url.scheme}:" if url.scheme else "a URL without a scheme"
        return f"only http and https URLs are called, not {scheme}"
    if "@" in (url.raw_authority or ""):
        return "the URL may not carry a user name or password (user information before an @)"
    host = url.raw_host or ""
    if not host:
        return "the URL has no host"
    if url.explicit_port is not None and not 1 <= url.explicit_port <= 65535:
        return f"the port must be 1..65535, not {url.explicit_port}"
    try:
        literal = ipaddress.ip_address(host)
    except ValueError:
        literal = None
    if literal is not None:
        if "%" in host:
            return "an IPv6 address with a zone id cannot be called"
        return None
    name = host[:-1] if host.endswith(".") else host
    if len(name) > MAX_HOST:
        return f"the host name is {len(name)} characters long; at most {MAX_HOST}"
    for label in name.split("."):
        if len(label) > MAX_LABEL:
            return f"the host name has a label of {len(label)} characters; at most {MAX_LABEL} each"
        if not HOST_LABEL.fullmatch(label):
            return f"the host name {_shown(host)} is not a DNS name (letters, digits, hyphens; no empty labels)"
    try:
        host.encode("idna")  # what the resolver will do with it
    except UnicodeError as err:
        return f"the host name {_shown(host)} cannot be encoded for DNS ({err})"
    return None


def parse_endpoint(text: str) -> URL:
    """A widget's endpoint as the URL the gateway calls, or a DomainError naming the field `endpoint`: the
    rules of `url_problem`, and no backslash, whitespace or control character anywhere (the parsers of the
    gateway, the city and any proxy between must not disagree on what it means). A query or fragment in the
    endpoint is ignored: each call sets its own path (after the endpoint's) and query."""
    for ch in text:
        if ch == "\\" or ch.isspace() or unicodedata.category(ch) in ("Cc", "Cs"):
            raise DomainError(
                f"the endpoint may not contain {_shown(ch)} (no backslash, space or control character)", "endpoint"
            )
    try:
        url = URL(text)
    except (ValueError, TypeError) as err:  # UnicodeError (an IDNA failure) is a ValueError too
        raise DomainError(f"the endpoint is not a URL that can be called: {str(err)[:200]}", "endpoint") from None
    problem = url_problem(url)
    if problem is None and "@" in urlsplit(text).netloc:  # an empty one (`http://@host/`) too, which yarl drops
        problem = "the URL may not carry a user name or password (user information before an @)"
    if problem is not None:
        raise DomainError(problem, "endpoint")
    return url


def check_widget(
    widget: Mapping[str, Any], address_setup_complete: bool, before: Mapping[str, Any] | None = None
) -> None:
    """The rules across fields, on the widget as it would be saved (after a create or, with the stored widget
    as `before`, a patch). The endpoint is checked when it is set or changed, and when the widget is being
    published: a row stored before the endpoint rule can still be renamed or unpublished (its calls fail
    inside its own widget meanwhile)."""
    if not str(widget.get("name") or "").strip():
        raise DomainError("a widget needs a name", "name")
    endpoint = widget.get("endpoint")
    if endpoint is not None and (
        before is None
        or endpoint != before.get("endpoint")
        or (widget.get("published") and not before.get("published"))
    ):
        parse_endpoint(endpoint)
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
