"""The reconcile job: compares every integrated public request with what the vendor holds and repairs what
the outbox can repair — a request missing at the vendor (its create dead-lettered or lost) is linked if the
vendor has it under the gateway's reference, else queued again; public comments and photos that never
arrived are queued again. Then the other way, for every linked request, closed here or not: the vendor's
status through the status map (open here but closed there, or reopened there), vendor comments and images
not yet here, and comments the gateway delivered that the vendor no longer has (reported, never re-sent).
Its counts say what it found and did; what it cannot repair is in the run's errors."""

from __future__ import annotations

from typing import Any

import sqlalchemy as sa
from sqlalchemy.ext.asyncio import AsyncEngine

from ..storage import outbox, repo
from ..storage import schema as t
from ..storage.outbox import Kind, Record
from ..vendors import VendorSide
from .incomplete import Incomplete
from .poll import poll_status


async def reconcile(engine: AsyncEngine, vendor: VendorSide, integration: dict[str, Any]) -> dict[str, int]:
    r, c, a, cm, m = t.requests, t.categories, t.agencies, t.comments, t.media
    counts = {"checked": 0, "linked": 0, "requeued_requests": 0, "requeued_comments": 0, "requeued_photos": 0}
    async with engine.connect() as conn:
        requests = await repo.many(
            conn,
            sa.select(r, c.c.vendor_id.label("category_vendor_id"), c.c.code.label("category_code"))
            .join(c, r.c.category_id == c.c.id)
            .join(a, r.c.agency_id == a.c.id)
            .where(a.c.integration_id == integration["id"], c.c.integrated.is_(True)),
        )
        linked = await outbox.linked(conn, integration["id"])
        waiting = await outbox.pending_subjects(conn)  # (kind, request, payload) of rows still to be delivered
    for request in requests:
        counts["checked"] += 1
        category = {"vendor_id": request["category_vendor_id"], "code": request["category_code"]}
        if (Record.REQUEST, request["id"]) not in linked:
            if any(k == Kind.CREATE_REQUEST and rid == request["id"] for k, rid, _ in waiting):
                continue  # on its way
            found = await vendor.find_request(request, category)
            if found is not None:
                await _link(engine, integration, request["id"], found)
                counts["linked"] += 1
            else:
                await _queue(engine, request["id"], Kind.CREATE_REQUEST, request["public_id"])
                counts["requeued_requests"] += 1
            continue  # its comments and photos follow once it is there
        async with engine.connect() as conn:
            every = await repo.many(conn, cm.select().where(cm.c.request_id == request["id"]))
            photos = await repo.many(conn, sa.select(m.c.id).where(m.c.request_id == request["id"]))
        comments = [c for c in every if c["public"] and c["author"] == "citizen"]
        # an image imported from the vendor is recorded by the comment it came with, not by its own id
        from_vendor = {c["media_id"] for c in every if (Record.IMPORTED_ATTACHMENT, c["id"]) in linked}
        for comment in comments:
            on_its_way = (Kind.ADD_COMMENT, request["id"], outbox.payload(Kind.ADD_COMMENT, comment["id"]))
            if (Record.COMMENT, comment["id"]) in linked or on_its_way in waiting:
                continue
            await _queue(engine, request["id"], Kind.ADD_COMMENT, comment["id"])
            counts["requeued_comments"] += 1
        for photo in photos:
            on_its_way = (Kind.ADD_ATTACHMENT, request["id"], outbox.payload(Kind.ADD_ATTACHMENT, photo["id"]))
            if (Record.ATTACHMENT, photo["id"]) in linked or on_its_way in waiting:
                continue
            if photo["id"] in from_vendor:
                continue  # it came from the vendor: never sent back
            await _queue(engine, request["id"], Kind.ADD_ATTACHMENT, photo["id"])
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
        await outbox.link(conn, [outbox.record(integration["id"], Record.REQUEST, request_id, vendor_id)])


async def _queue(engine: AsyncEngine, request_id: int, kind: Kind, subject: Any) -> None:
    async with engine.begin() as conn:
        await outbox.add(conn, [outbox.new_row(kind, request_id, subject, repo.now())])
