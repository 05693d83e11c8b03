"""The reconcile job: compares every integrated public request with what the vendor holds and repairs what
the outbox can repair — a request missing at the vendor (its create dead-lettered or lost) is linked if the
vendor has it under the gateway's reference, else queued again; public comments and photos that never
arrived are queued again. Then the other way, for every linked request, closed here or not: the vendor's
status through the status map (open here but closed there, or reopened there), vendor comments and images
not yet here, and comments the gateway delivered that the vendor no longer has (reported, never re-sent).
Its counts say what it found and did; what it cannot repair is in the run's errors."""

from __future__ import annotations

import json
from typing import Any

import sqlalchemy as sa
from sqlalchemy.ext.asyncio import AsyncEngine

from ..storage import repo
from ..storage import schema as t
from ..vendors import VendorSide
from .incomplete import Incomplete
from .poll import poll_status


async def reconcile(engine: AsyncEngine, vendor: VendorSide, integration: dict[str, Any]) -> dict[str, int]:
    r, c, a, v, o, cm, m = t.requests, t.categories, t.agencies, t.vendor_records, t.outbox, t.comments, t.media
    counts = {"checked": 0, "linked": 0, "requeued_requests": 0, "requeued_comments": 0, "requeued_photos": 0}
    async with engine.connect() as conn:
        requests = await repo.many(
            conn,
            sa.select(r, c.c.vendor_id.label("category_vendor_id"), c.c.code.label("category_code"))
            .join(c, r.c.category_id == c.c.id)
            .join(a, r.c.agency_id == a.c.id)
            .where(a.c.integration_id == integration["id"], c.c.integrated.is_(True)),
        )
        linked = {
            (rec["kind"], rec["local_id"])
            for rec in await repo.many(
                conn, sa.select(v.c.kind, v.c.local_id).where(v.c.integration_id == integration["id"])
            )
        }
        waiting = {  # outbox rows still to be delivered, by (kind, what they deliver)
            (row["kind"], row["request_id"], row["payload"])
            for row in await repo.many(
                conn,
                sa.select(o.c.kind, o.c.request_id, o.c.payload).where(
                    o.c.delivered_at.is_(None), o.c.dead_at.is_(None)
                ),
            )
        }
    for request in requests:
        counts["checked"] += 1
        category = {"vendor_id": request["category_vendor_id"], "code": request["category_code"]}
        if ("request", request["id"]) not in linked:
            if any(k == "create_request" and rid == request["id"] for k, rid, _ in waiting):
                continue  # on its way
            found = await vendor.find_request(request, category)
            if found is not None:
                await _link(engine, integration, request["id"], found)
                counts["linked"] += 1
            else:
                await _queue(engine, request["id"], "create_request", {"public_id": request["public_id"]})
                counts["requeued_requests"] += 1
            continue  # its comments and photos follow once it is there
        async with engine.connect() as conn:
            comments = await repo.many(
                conn,
                cm.select().where(cm.c.request_id == request["id"], cm.c.public.is_(True), cm.c.author == "citizen"),
            )
            photos = await repo.many(conn, sa.select(m.c.id).where(m.c.request_id == request["id"]))
        for comment in comments:
            payload = {"comment_id": comment["id"]}
            if ("comment", comment["id"]) in linked or ("add_comment", request["id"], json.dumps(payload)) in waiting:
                continue
            await _queue(engine, request["id"], "add_comment", payload)
            counts["requeued_comments"] += 1
        for photo in photos:
            payload = {"media_id": photo["id"]}
            if ("attachment", photo["id"]) in linked or (
                "add_attachment",
                request["id"],
                json.dumps(payload),
            ) in waiting:
                continue
            if ("imported_attachment", photo["id"]) in linked:
                continue  # it came from the vendor
            await _queue(engine, request["id"], "add_attachment", payload)
            counts["requeued_photos"] += 1
    problems: list[str] = []
    try:
        vendor_side = await poll_status(engine, vendor, integration, everything=True)
    except Incomplete as incomplete:
        vendor_side, problems = incomplete.counts, incomplete.errors
    counts.update({f"vendor_{k}": n for k, n in vendor_side.items() if k != "full"})
    if problems:
        raise Incomplete(problems, counts)
    return counts


async def _link(engine: AsyncEngine, integration: dict[str, Any], request_id: int, vendor_id: str) -> None:
    async with engine.begin() as conn:
        await conn.execute(
            t.vendor_records.insert().values(
                integration_id=integration["id"],
                kind="request",
                local_id=request_id,
                vendor_id=vendor_id,
                created_at=repo.now(),
            )
        )


async def _queue(engine: AsyncEngine, request_id: int, kind: str, payload: dict[str, Any]) -> None:
    now = repo.now()
    async with engine.begin() as conn:
        await conn.execute(
            t.outbox.insert().values(
                kind=kind,
                request_id=request_id,
                payload=json.dumps(payload),
                created_at=now,
                attempts=0,
                next_attempt_at=now,
            )
        )
