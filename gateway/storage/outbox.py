"""The one door to the outbox and to vendor records: every row written, claimed, finished, failed or read
by its state goes through here, so the rules of a row (what "pending" and "due" mean, what a new row holds,
how a claim is committed) are stated once.

- An outbox row is one effect to bring about at the vendor (`Kind`), for one public request, delivered in
  order with the request's other rows; pending until delivered or dead.
- A vendor record links something of ours (`Record`) to the vendor's id for it: what the gateway sent, and
  what it imported (so nothing comes back, and nothing is imported twice)."""

from __future__ import annotations

import json
from collections.abc import Sequence
from datetime import datetime, timedelta
from enum import StrEnum
from typing import Any

import sqlalchemy as sa

from . import repo
from . import schema as t

o, v = t.outbox, t.vendor_records


class Kind(StrEnum):
    CREATE_REQUEST = "create_request"  # payload: {"public_id"}
    ADD_COMMENT = "add_comment"  # payload: {"comment_id"}
    ADD_ATTACHMENT = "add_attachment"  # payload: {"media_id"}


class Record(StrEnum):
    REQUEST = "request"
    COMMENT = "comment"  # a comment the gateway delivered
    ATTACHMENT = "attachment"  # a photo the gateway delivered
    IMPORTED_COMMENT = "imported_comment"  # a vendor comment the gateway made public
    IMPORTED_ATTACHMENT = "imported_attachment"  # a vendor image the gateway made public


PAYLOAD_KEY = {Kind.CREATE_REQUEST: "public_id", Kind.ADD_COMMENT: "comment_id", Kind.ADD_ATTACHMENT: "media_id"}


def new_row(kind: Kind, request_id: int, subject: Any, at: datetime, traceparent: str | None = None) -> dict[str, Any]:
    """A row due at once: `subject` is the request's public id, the comment's or the media's id;
    `traceparent` the W3C trace context of the public write that made it (its delivery joins that trace)."""
    return {
        "kind": kind.value,
        "request_id": request_id,
        "payload": payload(kind, subject),
        "created_at": at,
        "attempts": 0,
        "next_attempt_at": at,
        "traceparent": traceparent,
    }


def payload(kind: Kind, subject: Any) -> str:
    return json.dumps({PAYLOAD_KEY[kind]: subject})


async def add(conn: Any, rows: Sequence[dict[str, Any]]) -> None:
    """New rows (from `new_row`), in the caller's transaction: a public write and its rows commit together."""
    if rows:
        await conn.execute(o.insert(), list(rows))


# -- states ----------------------------------------------------------------------------------------

PENDING = sa.and_(o.c.delivered_at.is_(None), o.c.dead_at.is_(None))
STATES = {"pending": PENDING, "dead": o.c.dead_at.is_not(None), "delivered": o.c.delivered_at.is_not(None)}


def due(now: datetime) -> sa.ColumnElement[bool]:
    return sa.and_(PENDING, o.c.next_attempt_at <= now)


async def due_rows(conn: Any, after: int, limit: int) -> list[dict[str, Any]]:
    """Rows due now with an id above `after`, oldest first."""
    return await repo.many(conn, o.select().where(due(repo.now()), o.c.id > after).order_by(o.c.id).limit(limit))


async def pending_by_request(conn: Any, request_ids: Sequence[int], upto: int) -> dict[int, set[int]]:
    """Per request, the ids of its pending rows up to `upto` (due or waiting for a retry)."""
    out: dict[int, set[int]] = {r: set() for r in request_ids}
    rows = await conn.execute(
        sa.select(o.c.request_id, o.c.id).where(o.c.request_id.in_(list(request_ids)), o.c.id <= upto, PENDING)
    )
    for request_id, ident in rows:
        out[request_id].add(ident)
    return out


async def pending_subjects(conn: Any) -> set[tuple[str, int, str]]:
    """(kind, request id, payload) of every pending row: what is already on its way."""
    rows = await repo.many(conn, sa.select(o.c.kind, o.c.request_id, o.c.payload).where(PENDING))
    return {(r["kind"], r["request_id"], r["payload"]) for r in rows}


async def figures(conn: Any) -> tuple[dict[tuple[str, str], int], float]:
    """(undelivered rows by (state, kind) — pending or dead —, age in seconds of the oldest pending row or 0):
    what the metrics show. Only rows not delivered are counted (the pending index holds them), so a scrape
    costs what the backlog holds, not the outbox's whole history; delivered rows are a counter's business."""
    state = sa.case((o.c.dead_at.is_not(None), "dead"), else_="pending")
    counted = await conn.execute(
        sa.select(state, o.c.kind, sa.func.count()).where(o.c.delivered_at.is_(None)).group_by(state, o.c.kind)
    )
    rows = {(str(s), str(k)): int(n) for s, k, n in counted}
    oldest = await conn.scalar(sa.select(sa.func.min(o.c.created_at)).where(PENDING))
    age = (repo.now() - repo.aware(oldest)).total_seconds() if oldest is not None else 0.0
    return rows, max(0.0, age)


# -- one delivery attempt --------------------------------------------------------------------------


async def claim(conn: Any, row_ids: Sequence[int], hold_s: float) -> dict[int, int]:
    """Claim due rows before the vendor is called (attempts + 1, held for `hold_s`): row id -> its attempt
    number, for the rows claimed (another instance has the others, or they are done)."""
    now = repo.now()
    result = await conn.execute(
        o.update()
        .where(o.c.id.in_(list(row_ids)), o.c.delivered_at.is_(None), o.c.next_attempt_at <= now)
        .values(attempts=o.c.attempts + 1, next_attempt_at=now + timedelta(seconds=hold_s))
        .returning(o.c.id, o.c.attempts)
    )
    return dict(result.all())


async def finish(conn: Any, row_ids: Sequence[int], note: str | None) -> None:
    """Rows done; `note` says why one was not sent."""
    await conn.execute(o.update().where(o.c.id.in_(list(row_ids))).values(delivered_at=repo.now(), last_error=note))


async def fail(conn: Any, row_id: int, error: str, retry_at: datetime | None) -> None:
    """A failed attempt: tried again at `retry_at`, or a dead letter when None."""
    values: dict[str, Any] = {"last_error": error[:2000]}
    if retry_at is None:
        values["dead_at"] = repo.now()
    else:
        values["next_attempt_at"] = retry_at
    await conn.execute(o.update().where(o.c.id == row_id).values(**values))


# -- vendor records --------------------------------------------------------------------------------


def record(integration_id: int, kind: Record, local_id: int, vendor_id: Any) -> dict[str, Any]:
    return {
        "integration_id": integration_id,
        "kind": kind.value,
        "local_id": local_id,
        "vendor_id": str(vendor_id),
        "created_at": repo.now(),
    }


async def link(conn: Any, records: Sequence[dict[str, Any]]) -> int:
    """Vendor records (from `record`), each once: one already held is left as it is. How many were new."""
    if not records:
        return 0
    held = await conn.execute(
        sa.select(v.c.integration_id, v.c.kind, v.c.local_id).where(
            v.c.local_id.in_(list({rec["local_id"] for rec in records}))
        )
    )
    seen = {tuple(x) for x in held}
    fresh = []
    for rec in records:
        key = (rec["integration_id"], rec["kind"], rec["local_id"])
        if key not in seen:
            seen.add(key)
            fresh.append(rec)
    if fresh:
        await conn.execute(v.insert(), fresh)
    return len(fresh)


async def seen_modified(conn: Any, record_id: int, modified: str) -> None:
    """The vendor's modification stamp last followed for a linked request (the poll skips it unchanged)."""
    await conn.execute(v.update().where(v.c.id == record_id).values(vendor_modified=modified))


async def vendor_id(conn: Any, integration_id: int, kind: Record, local_id: int) -> str | None:
    found = await conn.scalar(
        sa.select(v.c.vendor_id).where(v.c.integration_id == integration_id, v.c.kind == kind, v.c.local_id == local_id)
    )
    return None if found is None else str(found)


async def linked(conn: Any, integration_id: int, kinds: Sequence[Record] | None = None) -> set[tuple[str, int]]:
    """(kind, local id) of this integration's records."""
    query = sa.select(v.c.kind, v.c.local_id).where(v.c.integration_id == integration_id)
    if kinds is not None:
        query = query.where(v.c.kind.in_([k.value for k in kinds]))
    return {(r["kind"], r["local_id"]) for r in await repo.many(conn, query)}


async def vendor_ids(conn: Any, integration_id: int, kinds: Sequence[Record]) -> set[tuple[str, str]]:
    """(kind, vendor id) of this integration's records of these kinds."""
    query = sa.select(v.c.kind, v.c.vendor_id).where(
        v.c.integration_id == integration_id, v.c.kind.in_([k.value for k in kinds])
    )
    return {(r["kind"], r["vendor_id"]) for r in await repo.many(conn, query)}


# -- one request's trail ---------------------------------------------------------------------------


def state_of(row: dict[str, Any]) -> str:
    return "dead" if row["dead_at"] is not None else "delivered" if row["delivered_at"] is not None else "pending"


async def rows_of(conn: Any, request_id: int) -> list[dict[str, Any]]:
    """Every outbox row of a request, oldest first."""
    return await repo.many(conn, o.select().where(o.c.request_id == request_id).order_by(o.c.id))


async def records_of(conn: Any, request_id: int) -> list[dict[str, Any]]:
    """The vendor records of a request and of its comments and photos, sent or imported, oldest first."""
    c, m = t.comments, t.media
    comments = sa.select(c.c.id).where(c.c.request_id == request_id)
    media = sa.select(m.c.id).where(m.c.request_id == request_id)
    of_kind = {
        Record.REQUEST: v.c.local_id == request_id,
        Record.COMMENT: v.c.local_id.in_(comments),
        Record.IMPORTED_COMMENT: v.c.local_id.in_(comments),
        Record.ATTACHMENT: v.c.local_id.in_(media),
        Record.IMPORTED_ATTACHMENT: v.c.local_id.in_(comments),  # an imported image is recorded by its comment
    }
    query = v.select().where(sa.or_(*(sa.and_(v.c.kind == kind.value, cond) for kind, cond in of_kind.items())))
    return await repo.many(conn, query.order_by(v.c.id))
