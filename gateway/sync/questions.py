"""Question sync (CW-QA-1..4): each synced SR category's vendor questions become its questions (how Cityworks
QA is read: gateway.vendors.cityworks.questions_from_qa); a category whose auto-sync switch is off is left
exactly as the administrator made it (CW-QA-3)."""

from __future__ import annotations

from typing import Any

import sqlalchemy as sa
from sqlalchemy.ext.asyncio import AsyncEngine

from ..storage import repo
from ..storage import schema as t
from ..vendors import VendorSide


async def sync_questions(engine: AsyncEngine, vendor: VendorSide, integration: dict[str, Any]) -> dict[str, int]:
    c, q = t.categories, t.questions
    counts = {"categories": 0, "skipped": 0, "created": 0, "updated": 0, "removed": 0}
    async with engine.connect() as conn:
        categories = await repo.many(
            conn, c.select().where(c.c.integration_id == integration["id"], c.c.active.is_(True))
        )
    for category in categories:
        if not category["auto_sync_questions"] or (category["mode"] or "sr") != "sr":
            counts["skipped"] += 1  # CW-QA-3: switched off; CW-QA-1: SR only
            continue
        wanted = {row["code"]: row for row in await vendor.questions(category)}
        async with engine.begin() as conn:
            current = {
                r["code"]: r
                for r in await repo.many(
                    conn, q.select().where(q.c.category_id == category["id"], q.c.synced.is_(True))
                )
            }
            for code, row in wanted.items():
                if code not in current:
                    await repo.insert(conn, q, {**row, "category_id": category["id"]})
                    counts["created"] += 1
                elif any(current[code][k] != v for k, v in row.items()):
                    await repo.update(conn, q, current[code]["id"], row)
                    counts["updated"] += 1
            gone = [r["id"] for code, r in current.items() if code not in wanted]
            if gone:
                await conn.execute(q.delete().where(q.c.id.in_(gone)))
                counts["removed"] += len(gone)
            if gone or any(code not in current for code in wanted):
                await repo.update(conn, c, category["id"], {"updated_at": repo.now()})
        counts["categories"] += 1
    return counts


async def answers_of(conn: Any, request_ids: list[int]) -> dict[int, list[dict[str, Any]]]:
    """Each request's answers with what delivery needs of their questions: one query for a batch."""
    an, q = t.answers, t.questions
    out: dict[int, list[dict[str, Any]]] = {i: [] for i in request_ids}
    query = (
        sa.select(an.c.request_id, an.c.value, q.c.vendor_ref, q.c.datatype, q.c.synced, q.c.integration_key)
        .join(q, an.c.question_id == q.c.id)
        .where(an.c.request_id.in_(request_ids))
        .order_by(q.c.position, q.c.id)
    )
    for r in await repo.many(conn, query):
        out[r["request_id"]].append(r)
    return out
