"""From a city's content to what a citizen sees: the view model (the portal's JSON) and its HTML.
Pure apart from reading templates. The widget's settings decide the template (WID-10), how many items the
dashboard shows (WID-11), whether tables and charts show (WID-12) and the texts of each state (WID-13); an
HTML widget's fragment passes an allow-list sanitiser (WID-4) and is the only markup ever not escaped."""

from __future__ import annotations

import json
import logging
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
        model["html"] = sanitise(content.get("html", ""))
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


def value_text(item_type: str, value: Any) -> str:
    """A typed value as plain text (escaped later by the template)."""
    if value is None:
        return ""
    if item_type == "money":
        return f"{value['currency']} {value['amount']}"
    if item_type == "status":
        return str(value["label"])
    if item_type == "link":
        return str(value["label"])
    return str(value)


def chart_shapes(block: dict[str, Any], width: int = 320, height: int = 160) -> dict[str, Any]:
    """Bars (or points of a line; a pie draws as bars too: one value per label either way) for inline SVG."""
    series = block["series"]
    labels = block["labels"]
    values = [v for s in series for v in s["values"] if isinstance(v, int | float)]
    top = max([0.0, *values]) or 1.0
    slots = max(1, len(labels))
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
    return {"width": width, "height": height, "bars": bars, "labels": labels, "line": block["chart"] == "line",
            "points": " ".join(f"{x},{y}" for x, y in points)}  # fmt: skip


def html_widget(model: dict[str, Any]) -> str:
    return TEMPLATES.get_template("widget.html").render(
        m=model, value_text=value_text, chart_shapes=chart_shapes, trusted=Markup
    )


def html_page(title: str, cards: list[dict[str, Any]], **context: Any) -> str:
    context = {"citizen": None, "address": None, "problems": [], **context}
    return TEMPLATES.get_template("dashboard.html").render(
        title=title, cards=[Markup(_card(c)) for c in cards], **context
    )


def _card(model: dict[str, Any]) -> str:
    """One widget's card; a card that cannot be drawn shows as unavailable, and the page still renders."""
    try:
        return html_widget(model)
    except Exception:
        log.exception("widget %s: its card could not be drawn", model.get("widget", {}).get("id"))
        bare = {**model, "state": "unavailable", "message": "this widget could not be shown", "items": [],
                "blocks": [], "html": None, "paragraphs": [], "text": None}  # fmt: skip
        return html_widget(bare)
