"""WID-15: the `widget_notifications` job. For every subscription to a published widget with notifications
on, it asks the city for the subscriber's dashboard content with the ETag it holds (the contract's change
detection): 304 costs nothing; a new ETag after a known one is a change, recorded as one notification. The
first check only learns the ETag. A unique key on (citizen, widget, etag) makes "once per change" hold across
retries and several gateway instances."""

from __future__ import annotations

import logging
from typing import Any

import sqlalchemy as sa
from aiohttp import web
from sqlalchemy.exc import IntegrityError

from ..appkeys import ENGINE
from ..connectors.city_widget import Unreachable
from ..connectors.guard import Refused
from ..domain.widgets import content_query
from ..storage import repo
from ..storage import schema as t
from . import city, store, views

log = logging.getLogger("civic_harness.gateway.portal")


async def check_subscriptions(app: web.Application) -> dict[str, int]:
    engine = app[ENGINE]
    s, w, c = t.subscriptions, t.widgets, t.citizens
    counts = {"checked": 0, "unchanged": 0, "changed": 0, "notified": 0, "first_seen": 0, "failed": 0}
    async with engine.connect() as conn:
        rows = await repo.many(
            conn,
            sa.select(s.c.citizen_id, s.c.widget_id, s.c.etag, c.c.address_id)
            .join(w, w.c.id == s.c.widget_id)
            .join(c, c.c.id == s.c.citizen_id)
            .where(w.c.published.is_(True), w.c.notifications.is_(True))
            .order_by(s.c.widget_id, s.c.citizen_id),
        )
        widgets = {
            x["id"]: x for x in await repo.many(conn, w.select().where(w.c.id.in_({r["widget_id"] for r in rows})))
        }
    key = await store.user_key(engine)
    for row in rows:
        widget = widgets[row["widget_id"]]
        counts["checked"] += 1
        property_id = None
        if widget["property_dependent"]:
            async with engine.connect() as conn:
                property_id = await views.citizen_property(conn, {"address_id": row["address_id"]})
            if property_id is None:
                continue
        query = content_query("dashboard", store.pseudonym(key, widget["id"], row["citizen_id"]), property_id)
        try:
            reply = await city.client(app, widget).call("GET", "/v1/content", query=query, etag=row["etag"])
        except (Refused, Unreachable):
            counts["failed"] += 1
            continue
        except Exception:  # one widget's failure is that widget's: the job goes on with the others
            log.exception("widget %s: the notification check failed", widget["id"])
            counts["failed"] += 1
            continue
        if reply.status == 304:
            counts["unchanged"] += 1
            continue
        etag = reply.headers.get("ETag")
        if reply.status != 200 or not etag:
            counts["failed"] += 1
            continue
        if etag == row["etag"]:
            counts["unchanged"] += 1  # a city that ignores If-None-Match but keeps its ETag
            continue
        notified = row["etag"] is not None
        async with engine.begin() as conn:
            await conn.execute(
                s.update()
                .where(s.c.citizen_id == row["citizen_id"], s.c.widget_id == widget["id"])
                .values(etag=etag, checked_at=repo.now())
            )
        counts["changed" if notified else "first_seen"] += 1
        if notified and await _record(engine, row["citizen_id"], widget, etag):
            counts["notified"] += 1
    return counts


async def _record(engine: Any, citizen_id: int, widget: dict[str, Any], etag: str) -> bool:
    try:
        async with engine.begin() as conn:
            await conn.execute(
                t.notifications.insert().values(
                    citizen_id=citizen_id,
                    widget_id=widget["id"],
                    etag=etag[:200],
                    message=f"{widget['name']} has new information for you."[:500],
                    created_at=repo.now(),
                )
            )
    except IntegrityError:
        return False  # recorded already (another instance, or a retry)
    return True
