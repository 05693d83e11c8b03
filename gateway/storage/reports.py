"""A citizen's report as written: the request, its answers, its media and its first outbox row, in one
transaction (all or nothing), for many reports at once (see group_commit)."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any

from sqlalchemy.ext.asyncio import AsyncConnection

from . import outbox, repo
from . import schema as t


@dataclass(frozen=True, slots=True)
class NewRequest:
    request: dict[str, Any]
    answers: dict[int, str]
    uploads: Sequence[dict[str, Any]]
    traceparent: str | None = None  # the report's trace, carried by its outbox row to the delivery


async def create_requests(conn: AsyncConnection, new: Sequence[NewRequest]) -> list[dict[str, Any]]:
    """Multi-row statements, so a group of citizens' reports costs what one did."""
    result = await conn.execute(repo.insert_returning(t.requests), [n.request for n in new])
    stored = [dict(r._mapping) for r in result]
    answers = [
        {"request_id": s["id"], "question_id": q, "value": v}
        for n, s in zip(new, stored, strict=True)
        for q, v in n.answers.items()
    ]
    if answers:
        await conn.execute(t.answers.insert(), answers)
    media = [{**u, "request_id": s["id"]} for n, s in zip(new, stored, strict=True) for u in n.uploads]
    if media:
        await conn.execute(t.media.insert(), media)
    rows = [
        outbox.new_row(outbox.Kind.CREATE_REQUEST, s["id"], s["public_id"], s["requested_at"], n.traceparent)
        for n, s in zip(new, stored, strict=True)
    ]
    await outbox.add(conn, rows)
    return stored
