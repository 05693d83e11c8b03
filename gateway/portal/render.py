"""From a city's content to what a citizen sees: the view model (the portal's JSON) and its HTML.
Pure apart from reading templates. The widget's settings decide the template (WID-10), how many items the
dashboard shows (WID-11), whether tables and charts show (WID-12) and the texts of each state (WID-13); an
HTML widget's fragment passes an allow-list sanitiser (WID-4) and is the only markup ever not escaped."""

from __future__ import annotations

import datetime as dt
import html as htmllib
import json
import logging
import re
from decimal import Decimal, InvalidOperation
from pathlib import Path
from typing import Any

import jinja2
import nh3
from markupsafe import Markup

from ..domain.widgets import COLOUR, dashboard_texts

log = logging.getLogger("civic_harness.gateway.portal")
# What a city's HTML fragment may use: text structure, lists, tables, links and images over http(s) only.
ALLOWED_TAGS = {
    "a", "abbr", "b", "blockquote", "br", "caption", "code", "dd", "div", "dl", "dt", "em", "h3", "h4", "h5",
    "h6", "hr", "i", "img", "li", "ol", "p", "pre", "small", "span", "strong", "sub", "sup", "table", "tbody",
    "td", "tfoot", "th", "thead", "tr", "u", "ul",
}  # fmt: skip
ALLOWED_ATTRIBUTES = {
    "a": {"href", "title"},
    "img": {"src", "alt", "width", "height"},
    "td": {"colspan", "rowspan"},
    "th": {"colspan", "rowspan", "scope"},
    "abbr": {"title"},
}
# The pages run no script at all; a city's sanitised HTML could not run any even if the sanitiser missed it.
CSP = (
    "default-src 'none'; style-src 'unsafe-inline'; img-src https:; form-action 'self'; "
    "base-uri 'none'; frame-ancestors 'none'"
)
STATES = ("ok", "not_linked", "property_required", "unavailable")
TEMPLATES = jinja2.Environment(
    loader=jinja2.FileSystemLoader(Path(__file__).parent / "templates"),
    autoescape=True,
    undefined=jinja2.StrictUndefined,
)


# Built once: ammonia (through nh3) with an allow-list — no script, no event handlers, no style, no URL but
# absolute http(s) and mailto (a relative one would point into the portal itself), rel="noopener noreferrer".
CLEANER = nh3.Cleaner(
    tags=ALLOWED_TAGS,
    attributes=ALLOWED_ATTRIBUTES,
    url_schemes={"http", "https", "mailto"},
    url_relative="deny",
    link_rel="noopener noreferrer",
    strip_comments=True,
)


def sanitise(html: str) -> str:
    return CLEANER.clean(html)


JSON_COLUMNS = ("icon", "layout", "texts")  # of the widgets table


def widget_settings(widget: dict[str, Any]) -> dict[str, Any]:
    """A widget row with its JSON columns read."""
    out = dict(widget)
    for name in JSON_COLUMNS:
        if isinstance(out.get(name), str):
            out[name] = json.loads(out[name])
    return out


def view_model(
    widget: dict[str, Any], view: str, state: str, content: dict[str, Any] | None = None, message: str | None = None
) -> dict[str, Any]:
    """What the portal shows for one widget in one view and state (`STATES`)."""
    w = widget_settings(widget)
    layout, texts = w["layout"], w["texts"]
    model: dict[str, Any] = {
        "widget": {
            "id": w["id"],
            "name": w["name"],
            "colour": w["colour"],
            "icon": w["icon"].get("library"),
            "type": w["type"],
            "fixed": w["fixed"],
            "property_dependent": w["property_dependent"],
        },
        "view": view,
        "state": state,
        "template": layout["template"],
        "key_width": layout.get("key_width"),
        "value_width": layout.get("value_width"),
        "text": None,
        "title": w["name"],
        "paragraphs": [],
        "items": [],
        "more_items": 0,
        "blocks": [],
        "html": None,
        "version": None,
        "message": message,
    }
    if state == "not_linked":
        model["text"] = texts.get("no_account")
        model["link_instructions"] = texts.get("link_instructions")
        return model
    if state != "ok" or content is None:
        return model
    model["text"] = dashboard_texts(texts, view)
    model["unlink_instructions"] = texts.get("unlink_instructions")
    model["title"] = content.get("title") or w["name"]
    model["paragraphs"] = list(content.get("texts", []))
    model["version"] = content.get("version")
    if w["type"] == "html" or content.get("format") == "html":
        model["html"] = without_repeated_title(sanitise(content.get("html", "")), model["title"])
        return model
    items = list(content.get("items", []))
    if view == "dashboard":
        limit = int(layout.get("dashboard_items") or len(items))
        model["items"], model["more_items"] = items[:limit], max(0, len(items) - limit)
    else:
        model["items"] = items
    model["blocks"] = [
        b
        for b in content.get("blocks", [])
        if (b["type"] == "table" and layout.get("tables", True))
        or (b["type"] == "chart" and layout.get("charts", True))
    ]
    return model


def unavailable_model(widget: dict[str, Any], view: str, message: str) -> dict[str, Any]:
    """The "unavailable" tile of a widget, even for a row whose settings cannot be read (written straight into
    the database, or by an older version): then its name and id with the default look."""
    try:
        return view_model(widget, view, "unavailable", message=message)
    except Exception:
        log.exception("widget %s: its settings cannot be read", widget.get("id"))
        colour = widget.get("colour")
        bare = {
            "id": int(widget.get("id") or 0),
            "name": str(widget.get("name") or "Widget"),
            "colour": colour if isinstance(colour, str) and COLOUR.fullmatch(colour) else "#1F6FEB",
            "icon": {},
            "type": "formatted",
            "fixed": bool(widget.get("fixed")),
            "property_dependent": bool(widget.get("property_dependent")),
            "layout": {"template": "form"},
            "texts": {},
        }
        return view_model(bare, view, "unavailable", message=message)


CURRENCY_SIGNS = {"USD": "$", "EUR": "€", "GBP": "£", "CAD": "CA$", "AUD": "A$", "JPY": "¥"}
ISO_DATE = re.compile(r"(\d{4})-(\d{2})-(\d{2})")
DATE_TEXT = re.compile(r"\d{4}-\d{2}-\d{2}(?: (?:to|-|\u2013) \d{4}-\d{2}-\d{2})?")  # a date, or a range of two
MONTH = re.compile(r"(\d{4})-(0[1-9]|1[0-2])")  # a month ("2026-03"), as bills' periods and charts' labels


def money_text(value: Any) -> str:
    """An amount with its currency as people read it: "$802,074.00", "-$5.00", "CHF 12.50"."""
    currency, amount = str(value.get("currency", "")), value.get("amount")
    try:
        number = Decimal(str(amount))
    except (InvalidOperation, ValueError):
        return f"{currency} {amount}".strip()
    digits = f"{abs(number):,.2f}" if currency != "JPY" else f"{abs(number):,.0f}"
    sign = "-" if number < 0 else ""
    symbol = CURRENCY_SIGNS.get(currency)
    return f"{sign}{symbol}{digits}" if symbol else f"{sign}{currency} {digits}".strip()


def date_text(value: Any) -> str:
    """An ISO date as people read it ("6 Dec 2026"); anything else as it came."""
    match = ISO_DATE.fullmatch(str(value))
    if not match:
        return str(value)
    try:
        day = dt.date(*(int(g) for g in match.groups()))
    except ValueError:
        return str(value)
    return f"{day.day} {day:%b %Y}"


def text_text(value: Any) -> str:
    """A text value; one that is only an ISO date or a range of two ("2026-01-12 to 2026-02-16") reads as
    dates too, so a city that sends dates as text does not show raw ISO dates."""
    text = str(value)
    month = MONTH.fullmatch(text)
    if month:
        return f"{dt.date(int(month[1]), int(month[2]), 1):%b %Y}"
    if DATE_TEXT.fullmatch(text):
        return ISO_DATE.sub(lambda m: date_text(m.group(0)), text)
    return text


def value_text(item_type: str, value: Any) -> str:
    """A typed value as plain text (escaped later by the template). The one place money and dates are
    formatted for the pages."""
    if value is None:
        return ""
    if item_type == "money":
        return money_text(value)
    if item_type == "date":
        return date_text(value)
    if item_type == "status":
        return str(value["label"])
    if item_type == "link":
        return str(value["label"])
    return text_text(value)


def chart_empty(block: dict[str, Any]) -> bool:
    """A chart with nothing to draw: no labels, or no value that is a number above zero."""
    values = [v for s in block.get("series", []) for v in s.get("values", []) if isinstance(v, int | float)]
    return not block.get("labels") or not any(v > 0 for v in values)


HEADING = re.compile(r"^\s*(<(?:section|div)>\s*)?<h([3-6])>(.*?)</h\2>", re.S)


def without_repeated_title(fragment: str, title: str) -> str:
    """A city's HTML that opens with a heading saying the card's title again ("Get involved" twice): the
    heading goes, the card's own title stays."""
    match = HEADING.match(fragment)
    if match is None:
        return fragment
    heading = htmllib.unescape(re.sub(r"<[^>]*>", "", match.group(3))).strip()
    if heading.casefold() != title.strip().casefold():
        return fragment
    return (match.group(1) or "") + fragment[match.end() :]


def chart_shapes(block: dict[str, Any], width: int = 320, height: int = 160) -> dict[str, Any]:
    """Bars (or points of a line; a pie draws as bars too: one value per label either way) for inline SVG."""
    series = block["series"]
    labels = block["labels"]
    values = [v for s in series for v in s["values"] if isinstance(v, int | float)]
    top = max([0.0, *values]) or 1.0
    slots = max(1, len(labels))
    # wider (up to MAX_CHART_WIDTH; the page scales it down to its card) when the labels need the room
    width = max(width, min(MAX_CHART_WIDTH, slots * label_width(labels)))
    slot = width / slots
    bars, points = [], []
    per = max(1, len(series))
    for i, label in enumerate(labels):
        for k, s in enumerate(series):
            value = s["values"][i] if i < len(s["values"]) else 0
            h = max(0.0, float(value or 0)) / top * (height - 20)
            x = i * slot + k * (slot / per)
            bars.append(
                {
                    "x": round(x + 2, 1),
                    "y": round(height - h, 1),
                    "w": round(slot / per - 4, 1),
                    "h": round(h, 1),
                    "title": f"{s['name']} {label}: {value}{(' ' + block['unit']) if block.get('unit') else ''}",
                    "series": k,
                }
            )
            points.append((round(x + slot / per / 2, 1), round(height - h, 1)))
    return {"width": width, "height": height, "bars": bars, "labels": axis_labels(labels, slot),
            "line": block["chart"] == "line", "points": " ".join(f"{x},{y}" for x, y in points)}  # fmt: skip


MAX_CHART_WIDTH = 640


def label_width(labels: list[Any]) -> int:
    """About how many pixels a label takes under a bar (~6 px a character at font-size 10, months as "Mar")."""
    return max((3 if MONTH.fullmatch(str(x)) else len(str(x)) for x in labels), default=1) * 6 + 6


def axis_labels(labels: list[Any], slot: float) -> list[dict[str, Any]]:
    """What goes under each bar: months ("2026-03") as "Mar" with the year under the first and each January;
    every label only when there is room for it, else every second, third... one."""
    texts = [str(label) for label in labels]
    out = []
    year = None
    for text in texts:
        month = MONTH.fullmatch(text)
        if month:
            name = f"{dt.date(int(month[1]), int(month[2]), 1):%b}"
            out.append({"text": name, "year": month[1] if month[1] != year else ""})
            year = month[1]
        else:
            out.append({"text": text, "year": ""})
    widest = label_width(texts)
    step = max(1, -(-widest // max(1, int(slot))))
    for i, o in enumerate(out):
        o["show"] = i % step == 0
    return out


EXPANDED_PAGE = 25  # items and table rows on one page of an expanded widget: a long list is pages, not 4,000 px


def paged(model: dict[str, Any], page: int) -> dict[str, Any]:
    """Page `page` (from 1; out of range: the nearest) of an expanded widget's items and table rows; the model
    says `page` and `pages`. A widget in its dashboard view is already cut to its configured item count."""
    if model.get("view") != "expanded" or model.get("state") != "ok" or model.get("html") is not None:
        return model
    tables = [b for b in model["blocks"] if b["type"] == "table"]
    longest = max([len(model["items"]), *(len(b.get("rows") or ()) for b in tables)])
    pages = max(1, -(-longest // EXPANDED_PAGE))
    page = min(max(page, 1), pages)
    cut = slice((page - 1) * EXPANDED_PAGE, page * EXPANDED_PAGE)
    blocks = [{**b, "rows": (b.get("rows") or [])[cut]} if b["type"] == "table" else b for b in model["blocks"]]
    return {**model, "items": model["items"][cut], "blocks": blocks, "page": page, "pages": pages}


def grouped(items: list[dict[str, Any]]) -> list[tuple[str | None, list[dict[str, Any]]]]:
    """Items by their `group` (the city's, e.g. one per linked account), groups in the order they first come;
    items without a group stay together where they first come."""
    groups: dict[str | None, list[dict[str, Any]]] = {}
    for item in items:
        groups.setdefault(item.get("group") or None, []).append(item)
    return list(groups.items())


def html_widget(model: dict[str, Any], links: bool = False) -> str:
    """One card; `links` adds its "Show all" / "Show less" links (the dashboard page, not the admin preview)."""
    return TEMPLATES.get_template("widget.html").render(
        m=model,
        links=links,
        value_text=value_text,
        chart_shapes=chart_shapes,
        chart_empty=chart_empty,
        grouped=grouped,
        trusted=Markup,
    )


def html_page(title: str, cards: list[dict[str, Any]], **context: Any) -> str:
    context = {"citizen": None, "address": None, "problems": [], "sign_out": None, "links": False, **context}
    links = context.pop("links")
    return TEMPLATES.get_template("dashboard.html").render(
        title=title, cards=[Markup(_card(c, links)) for c in cards], **context
    )


def _card(model: dict[str, Any], links: bool = False) -> str:
    """One widget's card; a card that cannot be drawn shows as unavailable, and the page still renders."""
    try:
        return html_widget(model, links)
    except Exception:
        log.exception("widget %s: its card could not be drawn", model.get("widget", {}).get("id"))
        bare = {**model, "state": "unavailable", "message": "this widget could not be shown", "items": [],
                "blocks": [], "html": None, "paragraphs": [], "text": None}  # fmt: skip
        return html_widget(bare, links)
