"""Status and comment poll, the same for every vendor (gateway.vendors says how each one is read): each open
public request that reached the vendor is read back — every one, in batches, from a vendor that cannot filter
by modification time (Cityworks, CW-UPD-1); only those modified since a cursor from one that can (OpenGov,
OG-UPD-1), with a full read every so often. A closed vendor request closes the public one; the vendor's
public comments (Cityworks' "To SCF:", OpenGov's public flag) come over once each, never the gateway's own
(CW-ICM-1, OG-COM-2); public images with their comment (CW-IMG-1); comment rules fire once per
false -> true (OG-UPD-2)."""

from __future__ import annotations

import hashlib
import json
import secrets
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from typing import Any

import sqlalchemy as sa
from sqlalchemy.ext.asyncio import AsyncEngine

from ..domain.media import image_type
from ..domain.rules import rule_holds
from ..domain.status import OPEN311, StatusMap
from ..storage import outbox, repo
from ..storage import schema as t
from ..storage.outbox import Record
from ..vendors import VendorSide, registry
from ..vendors.side import Comment, Image
from . import cursors
from .incomplete import Incomplete

JOB = "status_poll"
# what the gateway sent or imported: never imported (back) again
KNOWN = [Record.COMMENT, Record.IMPORTED_COMMENT, Record.ATTACHMENT, Record.IMPORTED_ATTACHMENT]


@dataclass(frozen=True, slots=True)
class Cadence:
    """How the poll reads: incrementally by the vendor's modification time where the vendor can filter by it
    (OpenGov), with a full read of every open request every `full_every` polls (a safety net for changes a
    modification time misses), re-reading `overlap` before the cursor (vendor clocks and late commits)."""

    full_every: int = 12
    overlap: timedelta = timedelta(seconds=60)


async def poll_status(
    engine: AsyncEngine,
    vendor: VendorSide,
    integration: dict[str, Any],
    cadence: Cadence | None = None,
    *,
    everything: bool = False,
) -> dict[str, int]:
    """`everything` (the reconcile job): every linked request, open or closed here, read in full, and each
    comment the gateway delivered checked to be still at the vendor."""
    cadence = cadence or Cadence()
    counts = {"checked": 0, "closed": 0, "reopened": 0, "comments": 0, "images": 0, "rules_fired": 0}
    counts["vendor_calls"] = 0
    mapping, problems = status_map(integration), []
    cr = t.comment_rules
    async with engine.connect() as conn:
        linked = {x["vendor_id"]: x for x in await linked_requests(conn, integration["id"], open_only=not everything)}
        delivered = await _delivered(conn, integration["id"]) if everything else None
        known = await outbox.vendor_ids(conn, integration["id"], KNOWN)
        rules = await repo.many(conn, cr.select().where(cr.c.integration_id == integration["id"]).order_by(cr.c.id))
        cursor = json.loads(await cursors.read(conn, JOB, integration["id"]) or "{}") if vendor.incremental else {}
    newest = _utc(cursor.get("modified"))
    full = not vendor.incremental or everything or newest is None or cursor.get("polls", 0) + 1 >= cadence.full_every
    since = None if full else newest - cadence.overlap  # type: ignore[operator]
    started = datetime.now(UTC)
    for seen in await vendor.read_back(sorted(linked), since, counts):
        if seen.modified_at is not None and (newest is None or seen.modified_at > newest):
            newest = seen.modified_at
        ours = linked.get(seen.vendor_id)
        if ours is None:
            continue  # not an open request of ours: another system's, or closed here already
        if not full and seen.modified is not None and seen.modified == ours["vendor_modified"]:
            continue  # read again inside the overlap, unchanged since it was followed
        counts["checked"] += 1
        comments = await vendor.comments(seen, counts)
        _audit(delivered, ours, {c.id for c in comments}, problems)
        counts["comments"] += await _import_comments(engine, integration, ours, comments, known)
        counts["images"] += await _import_images(engine, vendor, integration, ours, seen.images, known, counts)
        if seen.record is not None and rules:
            counts["rules_fired"] += await _apply_rules(engine, rules, ours["id"], seen.record)
        await _follow_status(engine, mapping, ours, seen.status, seen.notes, problems, counts)
        if seen.modified is not None and seen.modified != ours["vendor_modified"]:
            async with engine.begin() as conn:
                await outbox.seen_modified(conn, ours["record_id"], seen.modified)
    if vendor.incremental:
        counts["full"] = int(full)
        if newest is not None and not everything:
            # Not past the read's start: the read pages in Oid order, so a record changed on a page already
            # read while a later page showed a newer change would fall behind the cursor (OG-PAGE-1).
            newest = min(newest, started)
            polls = 0 if full else cursor.get("polls", 0) + 1
            state = {"modified": newest.isoformat(timespec="seconds"), "polls": polls}
            await cursors.write(engine, JOB, integration["id"], json.dumps(state))
    if problems:
        raise Incomplete(problems, counts)
    return counts


def _utc(stamp: str | None) -> datetime | None:
    """The cursor's time, written by this module as an ISO time with its offset."""
    return datetime.fromisoformat(stamp) if stamp else None


async def linked_requests(conn: Any, integration_id: int, open_only: bool = True) -> list[dict[str, Any]]:
    """The (open) public requests that reached this integration's vendor, with their vendor ids."""
    r, v = t.requests, t.vendor_records
    query = (
        sa.select(
            r.c.id,
            r.c.public_id,
            r.c.status,
            r.c.status_detail,
            v.c.vendor_id,
            v.c.id.label("record_id"),
            v.c.vendor_modified,
        )
        .join(v, sa.and_(v.c.local_id == r.c.id, v.c.kind == "request"))
        .where(v.c.integration_id == integration_id)
    )
    return await repo.many(conn, query.where(r.c.status == "open") if open_only else query)


async def _delivered(conn: Any, integration_id: int) -> dict[int, set[str]]:
    """Per public request, the vendor ids of the comments the gateway delivered."""
    v, c = t.vendor_records, t.comments
    rows = await repo.many(
        conn,
        sa.select(c.c.request_id, v.c.vendor_id)
        .join(c, c.c.id == v.c.local_id)
        .where(v.c.integration_id == integration_id, v.c.kind == Record.COMMENT),
    )
    out: dict[int, set[str]] = {}
    for row in rows:
        out.setdefault(row["request_id"], set()).add(row["vendor_id"])
    return out


def _audit(delivered: dict[int, set[str]] | None, ours: dict[str, Any], present: set[str], problems: list[str]) -> None:
    """A delivered comment no longer at the vendor is reported, not sent again: a vendor that hid or deleted it
    on purpose must not get it back."""
    if delivered is None:
        return
    for missing in sorted(delivered.get(ours["id"], set()) - present):
        problems.append(f"request {ours['public_id']}: comment {missing} was delivered but is not at the vendor")


def status_map(integration: dict[str, Any]) -> StatusMap:
    stored = integration["status_map"]
    return StatusMap.of(json.loads(stored) if stored else registry.default_status_map(integration["vendor"]))


async def _follow_status(
    engine: AsyncEngine,
    mapping: StatusMap,
    ours: dict[str, Any],
    vendor_status: str | None,
    notes: str | None,
    problems: list[str],
    counts: dict[str, int],
) -> None:
    """The vendor's status through the integration's map; an unknown one is recorded and changes nothing."""
    detail = mapping.to_public(vendor_status)
    if detail is None:
        problems.append(f"request {ours['vendor_id']}: vendor status {vendor_status!r} is not in the status map")
        counts["unknown_status"] = counts.get("unknown_status", 0) + 1
        return
    status = OPEN311[detail]
    if status == ours["status"] and detail == (ours.get("status_detail") or ours["status"]):
        return
    async with engine.begin() as conn:
        values = {"status": status, "status_detail": detail, "updated_at": repo.now()}
        if status == "closed" and notes:
            values["status_notes"] = notes
        await repo.update(conn, t.requests, ours["id"], values)
    if status != ours["status"]:
        counts["closed" if status == "closed" else "reopened"] += 1


async def _import_comments(
    engine: AsyncEngine, integration: dict, ours: dict, comments: list[Comment], known: set[tuple[str, str]]
) -> int:
    """The vendor's public comments, once each, never the gateway's own."""
    imported = 0
    for comment in comments:
        if (Record.COMMENT, comment.id) in known or (Record.IMPORTED_COMMENT, comment.id) in known:
            continue  # the gateway's own comment, or one imported before
        if comment.text is None:
            continue
        record = (Record.IMPORTED_COMMENT, comment.id)
        await _public_comment(engine, integration, ours["id"], comment.text, None, record, comment.when)
        known.add(record)
        imported += 1
    return imported


async def _import_images(
    engine: AsyncEngine,
    vendor: VendorSide,
    integration: dict,
    ours: dict,
    images: list[Image],
    known: set[tuple[str, str]],
    counts: dict[str, int],
) -> int:
    imported = 0
    for image in images:
        if (Record.ATTACHMENT, image.id) in known or (Record.IMPORTED_ATTACHMENT, image.id) in known:
            continue
        if image.text is None:
            continue  # not public
        content = await vendor.download(image, counts)
        kind = image_type(content)
        if kind is None:
            continue  # not an image: nothing the public side can show
        media = {
            "public_id": secrets.token_hex(8),
            "filename": image.filename,
            "content_type": kind,
            "size": len(content),
            "sha256": hashlib.sha256(content).hexdigest(),
            "content": content,
            "created_at": repo.now(),
        }
        record = (Record.IMPORTED_ATTACHMENT, image.id)
        await _public_comment(engine, integration, ours["id"], image.text, media, record, image.when)
        known.add(record)
        imported += 1
    return imported


async def _public_comment(
    engine: AsyncEngine,
    integration: dict,
    request_id: int,
    text: str,
    media: dict[str, Any] | None,
    record: tuple[Record, str],
    when: datetime | None = None,
) -> None:
    """The comment, its image, and the record that it was imported: one transaction, so never twice. The
    comment carries `when`, the vendor's own time for it (the poll's time only when the vendor gave none)."""
    now = repo.now()
    async with engine.begin() as conn:
        media_id = None
        if media is not None:
            media_id = (await repo.insert(conn, t.media, {**media, "request_id": request_id}))["id"]
        comment = await repo.insert(
            conn,
            t.comments,
            {
                "request_id": request_id,
                "body": text,
                "public": True,
                "author": "vendor",
                "media_id": media_id,
                "created_at": when or now,
            },
        )
        await outbox.link(conn, [outbox.record(integration["id"], record[0], comment["id"], record[1])])
        await repo.update(conn, t.requests, request_id, {"updated_at": now})


async def _apply_rules(engine: AsyncEngine, rules: list[dict[str, Any]], request_id: int, record: dict) -> int:
    """OG-UPD-2: post a rule's message when its condition turns true; again only after it was false."""
    fired = 0
    rs = t.rule_states
    for rule in rules:
        holds = rule_holds(rule["operator"], rule["value"], record.get(rule["field"]))
        async with engine.begin() as conn:
            before = await conn.scalar(
                sa.select(rs.c.holds).where(rs.c.rule_id == rule["id"], rs.c.request_id == request_id)
            )
            if before is None:
                await conn.execute(rs.insert().values(rule_id=rule["id"], request_id=request_id, holds=holds))
            elif bool(before) != holds:
                await conn.execute(
                    rs.update().where(rs.c.rule_id == rule["id"], rs.c.request_id == request_id).values(holds=holds)
                )
            if holds and not before:
                now = repo.now()
                await repo.insert(
                    conn,
                    t.comments,
                    {
                        "request_id": request_id,
                        "body": rule["message"],
                        "public": True,
                        "author": "gateway",
                        "media_id": None,
                        "created_at": now,
                    },
                )
                await repo.update(conn, t.requests, request_id, {"updated_at": now})
                fired += 1
    return fired
