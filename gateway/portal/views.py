"""A widget for one citizen: which widgets their dashboard holds (WID-5, WID-16), and one widget's view
fetched from its city API (signed, for the citizen's pseudonym and property) and turned into a view model."""

from __future__ import annotations

import asyncio
import logging
from typing import Any

import sqlalchemy as sa
from aiohttp import web

from contracts.widget_content import content_problems

from ..appkeys import ENGINE
from ..connectors.city_widget import Reply, Unreachable
from ..connectors.guard import Refused
from ..domain.widgets import content_query
from ..storage import repo
from ..storage import schema as t
from . import city, render, store

log = logging.getLogger("civic_harness.gateway.portal")


def state_of(reply: Reply) -> str:
    """What a city's answer means for the citizen (render.STATES)."""
    code = reply.error_code()
    if reply.status == 200:
        return "ok"
    if reply.status == 403 and code == "not_linked":
        return "not_linked"
    if reply.status == 400 and code == "property_required":
        return "property_required"
    return "unavailable"


async def dashboard_widgets(conn: Any, citizen_id: int) -> list[dict[str, Any]]:
    """Published widgets, fixed ones always, the others unless the citizen removed them; oldest first."""
    w, rm = t.widgets, t.dashboard_removals
    removed = sa.select(rm.c.widget_id).where(rm.c.citizen_id == citizen_id)
    query = (
        w.select()
        .where(w.c.published.is_(True), sa.or_(w.c.fixed.is_(True), w.c.id.not_in(removed)))
        .order_by(w.c.fixed.desc(), w.c.id)
    )
    return await repo.many(conn, query)


async def citizen_property(conn: Any, citizen: dict[str, Any]) -> str | None:
    if citizen.get("address_id") is None:
        return None
    return await conn.scalar(sa.select(t.addresses.c.property_id).where(t.addresses.c.id == citizen["address_id"]))


async def widget_view(
    app: web.Application, widget: dict[str, Any], citizen: dict[str, Any], view: str, property_id: str | None
) -> dict[str, Any]:
    """One widget's view model; whatever goes wrong with this widget stays in it (its tile says the information
    is unavailable), so one broken widget never takes down a dashboard."""
    try:
        return await _widget_view(app, widget, citizen, view, property_id)
    except Exception:
        log.exception("widget %s: its %s view failed", widget.get("id"), view)
        return render.unavailable_model(widget, view, "this widget could not be shown")


async def _widget_view(
    app: web.Application, widget: dict[str, Any], citizen: dict[str, Any], view: str, property_id: str | None
) -> dict[str, Any]:
    if widget["property_dependent"] and property_id is None:
        return render.view_model(widget, view, "property_required")
    user = store.pseudonym(await store.user_key(app[ENGINE]), widget["id"], citizen["id"])
    query = content_query(view, user, property_id if widget["property_dependent"] else None)
    try:
        reply = await city.client(app, widget).call("GET", "/v1/content", query=query)
    except (Refused, Unreachable) as err:
        log.warning("widget %s: %s", widget["id"], err)
        return render.unavailable_model(widget, view, "the city's service cannot be reached")
    state = state_of(reply)
    if state != "ok":
        return render.view_model(widget, view, state)
    problems = content_problems(reply.body, view)
    if problems:
        log.warning("widget %s: the city's content breaks the contract: %s", widget["id"], problems[:5])
        return render.view_model(widget, view, "unavailable", message="the city's answer could not be shown")
    return render.view_model(widget, view, "ok", reply.body)


async def dashboard(
    app: web.Application, citizen: dict[str, Any], view: str = "dashboard", expand: int | None = None
) -> list[dict[str, Any]]:
    """Every widget of the citizen's dashboard in `view`; with `expand`, that one widget in its expanded view
    and the others in their dashboard view (the page opens one widget at a time)."""
    async with app[ENGINE].connect() as conn:
        widgets = await dashboard_widgets(conn, citizen["id"])
        property_id = await citizen_property(conn, citizen)

    def view_for(widget: dict[str, Any]) -> str:
        if expand is None:
            return view
        return "expanded" if widget["id"] == expand else "dashboard"

    return list(await asyncio.gather(*(widget_view(app, w, citizen, view_for(w), property_id) for w in widgets)))
