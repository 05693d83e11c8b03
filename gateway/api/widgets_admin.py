"""The admin API of integration widgets (`/admin/v1`): link accounts, the city's address setup, widgets
(WID-1, WID-4..8, WID-10..16) and the Test API (WID-9). Bodies are checked against contracts/gateway.yaml,
then by gateway.domain.widgets; a refusal names its field and saves nothing."""

from __future__ import annotations

import json
from typing import Any

import sqlalchemy as sa
from aiohttp import web

from ..appkeys import ENGINE
from ..domain import DomainError
from ..domain import widgets as rules
from ..portal import diagnose, render, store
from ..storage import repo
from ..storage import schema as t
from .admin import handler
from .jsonapi import ApiError, body, deleter, fetch, key, must_exist, reader, stamp, view_of

DEFAULTS: dict[str, Any] = {
    "type": "formatted",  # WID-4
    "fixed": False,
    "colour": "#1F6FEB",
    "icon": {"library": "bill"},
    "property_dependent": False,
    "endpoint": None,
    "key_id": None,
    "secret": None,
    "layout": {
        "template": "form",
        "key_width": None,
        "value_width": None,
        "dashboard_items": 3,
        "tables": True,
        "charts": True,
    },
    "texts": {
        "no_account": None,
        "link_instructions": None,
        "unlink_instructions": None,
        "dashboard": None,
        "expanded": None,
        "use_dashboard_text_for_expanded": False,
    },
    "link_account_id": None,
    "notifications": False,
    "published": False,
}


def widget_out(w: dict[str, Any]) -> dict[str, Any]:
    out = stamp(render.widget_settings({k: v for k, v in w.items() if k != "secret"}))
    out["has_secret"] = bool(w["secret"])  # the secret itself is write-only
    return out


async def _save(conn: Any, current: dict[str, Any] | None, values: dict[str, Any]) -> dict[str, Any]:
    """Merge (layout and texts key by key), check every rule on the result, then write it."""
    base = DEFAULTS if current is None else render.widget_settings(current)
    merged = {**base, **values}
    for name in ("layout", "texts"):
        merged[name] = {**base[name], **values.get(name, {})}
    await must_exist(conn, t.link_accounts, merged.get("link_account_id"), "link_account_id")
    rules.check_widget(merged, await store.address_setup_complete(conn), before=current)
    if merged["published"] and merged["endpoint"] and not merged["secret"]:
        raise DomainError("a published widget calls its endpoint signed: it needs its secret", "secret")
    row = {**merged, **{k: json.dumps(merged[k]) for k in render.JSON_COLUMNS}, "updated_at": repo.now()}
    if current is None:
        return await repo.insert(conn, t.widgets, {**row, "version": 1, "created_at": row["updated_at"]})
    row["version"] = current["version"] + 1
    return await repo.update(conn, t.widgets, current["id"], row) or {}


@handler
async def create_widget(request: web.Request) -> web.Response:
    values = await body(request, "WidgetInput")
    async with request.app[ENGINE].begin() as conn:
        created = await _save(conn, None, values)
    return web.json_response(widget_out(created), status=201)


@handler
async def update_widget(request: web.Request) -> web.Response:
    values = await body(request, "WidgetPatch")
    async with request.app[ENGINE].begin() as conn:
        current = await fetch(conn, t.widgets, key(request))
        updated = await _save(conn, current, values)
    return web.json_response(widget_out(updated))


@handler
async def test_widget(request: web.Request) -> web.Response:
    options = await body(request, "WidgetTestInput", optional=True)
    async with request.app[ENGINE].connect() as conn:
        widget = await fetch(conn, t.widgets, key(request))
    if not widget["endpoint"]:
        raise ApiError(422, "invalid", "the widget has no API endpoint to test", "endpoint")
    return web.json_response(await diagnose.run(request.app, widget, options))


@handler
async def preview_widget(request: web.Request) -> web.Response:
    """The admin preview: the Test API's render of a widget as a page (the view in `?view=`)."""
    view = view_of(request)
    async with request.app[ENGINE].connect() as conn:
        widget = await fetch(conn, t.widgets, key(request))
    if not widget["endpoint"]:
        raise ApiError(422, "invalid", "the widget has no API endpoint to preview", "endpoint")
    report = await diagnose.run(request.app, widget, {"view": view})
    model = (report["preview"] or {}).get("model") or render.unavailable_model(
        widget, view, report["refused"] or report["error"] or "unavailable"
    )
    html = render.html_page(f"Preview: {widget['name']}", [model], problems=report["violations"])
    return web.Response(text=html, content_type="text/html", headers={"Content-Security-Policy": render.CSP})


# -- link accounts ---------------------------------------------------------------------------------


@handler
async def create_link_account(request: web.Request) -> web.Response:
    values = await body(request, "LinkAccountInput")
    async with request.app[ENGINE].begin() as conn:
        created = await repo.insert(conn, t.link_accounts, {**values, "created_at": repo.now()})
    return web.json_response(stamp(created), status=201)


# -- the city's address setup ----------------------------------------------------------------------


async def _setup(conn: Any) -> dict[str, Any]:
    count = await conn.scalar(sa.select(sa.func.count()).select_from(t.addresses))
    return {"complete": await store.address_setup_complete(conn), "addresses": int(count or 0)}


@handler
async def add_addresses(request: web.Request) -> web.Response:
    values = await body(request, "AddressesInput")
    seen: set[str] = set()
    for i, item in enumerate(values["addresses"]):
        if item["property_id"] in seen:
            raise DomainError(f"property id {item['property_id']!r} appears twice", f"addresses.{i}.property_id")
        seen.add(item["property_id"])
    async with request.app[ENGINE].begin() as conn:
        existing = {
            r["property_id"]: r["id"]
            for r in await repo.many(conn, sa.select(t.addresses.c.id, t.addresses.c.property_id))
        }
        now = repo.now()
        for item in values["addresses"]:
            if item["property_id"] in existing:
                await repo.update(conn, t.addresses, existing[item["property_id"]], {"line": item["line"]})
            else:
                await repo.insert(conn, t.addresses, {**item, "created_at": now})
        return web.json_response(await _setup(conn))


@handler
async def list_addresses(request: web.Request) -> web.Response:
    async with request.app[ENGINE].connect() as conn:
        found = await repo.many(conn, t.addresses.select().order_by(t.addresses.c.id))
    return web.json_response({"items": [{k: a[k] for k in ("id", "property_id", "line")} for a in found]})


@handler
async def get_address_setup(request: web.Request) -> web.Response:
    async with request.app[ENGINE].connect() as conn:
        return web.json_response(await _setup(conn))


@handler
async def set_address_setup(request: web.Request) -> web.Response:
    values = await body(request, "AddressSetupInput")
    async with request.app[ENGINE].begin() as conn:
        if values["complete"] and not (await _setup(conn))["addresses"]:
            raise DomainError("add the city's addresses before marking the setup complete", "complete")
        await store.set_setting(conn, store.ADDRESS_SETUP, "true" if values["complete"] else "false")
        return web.json_response(await _setup(conn))


get_widget, list_widgets = reader(t.widgets, widget_out, handler)
get_link_account, list_link_accounts = reader(t.link_accounts, stamp, handler)
delete_widget = deleter(t.widgets, handler)
delete_link_account = deleter(t.link_accounts, handler)
