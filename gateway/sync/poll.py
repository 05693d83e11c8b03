"""Status and comment poll. Cityworks (CW-UPD-1, CW-ICM-1, CW-IMG-1): each open public request that reached
Cityworks is read back in batches (its API cannot filter by modification time); a closed SR closes the public
request, "To SCF:" comments become public comments once each (never the gateway's own), and attachments whose
comment carries the prefix become a public comment with the image. OpenGov (OG-UPD-1, OG-COM-2, OG-UPD-2): a
completed or closed request closes the public one, public comments (only) come over once each, and comment
rules fire once per false -> true; OpenGov is read incrementally, by modification time since a cursor."""

from __future__ import annotations

import hashlib
import json
import secrets
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Any

import sqlalchemy as sa
from sqlalchemy.ext.asyncio import AsyncEngine

from ..connectors.http import Http
from ..connectors.opengov import PAGE
from ..domain.comments import public_text
from ..domain.media import image_type
from ..domain.rules import rule_holds
from ..domain.status import DEFAULTS, OPEN311, StatusMap
from ..domain.vendor_time import VendorClock
from ..storage import repo
from ..storage import schema as t
from . import cursors
from .adapters import REQUESTS
from .vendors import Incomplete, connector, opengov_connector

BATCH = 100
JOB = "status_poll"


@dataclass(frozen=True, slots=True)
class Cadence:
    """How the poll reads: incrementally by the vendor's modification time where the vendor can filter by it
    (OpenGov), with a full read of every open request every `full_every` polls (a safety net for changes a
    modification time misses), re-reading `overlap` before the cursor (vendor clocks and late commits)."""

    full_every: int = 12
    overlap: timedelta = timedelta(seconds=60)


async def poll_status(
    engine: AsyncEngine,
    http: Http,
    integration: dict[str, Any],
    cadence: Cadence | None = None,
    *,
    everything: bool = False,
) -> dict[str, int]:
    """`everything` (the reconcile job): every linked request, open or closed here, read in full, and each
    comment the gateway delivered checked to be still at the vendor."""
    if integration["vendor"] == "opengov":
        return await poll_opengov(engine, http, integration, cadence or Cadence(), everything)
    return await poll_cityworks(engine, http, integration, everything)


async def poll_cityworks(
    engine: AsyncEngine, http: Http, integration: dict[str, Any], everything: bool = False
) -> dict[str, int]:
    """Cityworks' search has no modification-time filter, so every open request is read back, but in batches:
    per hundred open requests one ByIds, one Comment/ByActivitySids and one RequestAttachments call, and a
    download only for a new "To SCF:" image."""
    cw = connector(http, integration)
    counts = {"checked": 0, "closed": 0, "reopened": 0, "comments": 0, "images": 0, "vendor_calls": 0}
    mapping, problems = status_map(integration), []
    async with engine.connect() as conn:
        linked = await linked_requests(conn, integration["id"], open_only=not everything)
        delivered = await _delivered(conn, integration["id"]) if everything else None
        known = await _known(
            conn, integration["id"], ["comment", "imported_comment", "attachment", "imported_attachment"]
        )
    by_vendor = {int(x["vendor_id"]): x for x in linked if not x["vendor_id"].startswith("wo:")}
    work_orders = {x["vendor_id"].split(":")[1]: x for x in linked if x["vendor_id"].startswith("wo:")}
    for batch in repo.chunks(sorted(work_orders), BATCH):
        found = [
            wo
            for wo in await cw.call("/Services/Ams/WorkOrder/ByIds", {"WorkOrderIds": batch}) or []
            if str(wo["WorkOrderId"]) in work_orders
        ]
        counts["vendor_calls"] += 1
        if not found:
            continue
        comments = await cw.comments_of(2, [wo["WorkOrderSid"] for wo in found])
        counts["vendor_calls"] += 1
        for wo in found:
            ours = work_orders[str(wo["WorkOrderId"])]
            counts["checked"] += 1
            mine = comments.get(str(wo["WorkOrderSid"]), [])
            _audit(delivered, ours, {str(c["CommentId"]) for c in mine}, problems)
            counts["comments"] += await _import_comments(engine, integration, ours, mine, known)
            await _follow_status(engine, mapping, ours, wo.get("Status"), None, problems, counts)
    for batch in repo.chunks(sorted(by_vendor), BATCH):
        found = [sr for sr in await cw.requests_by_ids(batch) if sr["RequestId"] in by_vendor]
        counts["vendor_calls"] += 1
        if not found:
            continue
        present = [sr["RequestId"] for sr in found]
        comments = await cw.comments_of(1, present)
        attachments: dict[int, list[dict[str, Any]]] = {}
        for attachment in await cw.attachments_of(present):
            attachments.setdefault(int(attachment["RequestId"]), []).append(attachment)
        counts["vendor_calls"] += 2
        for sr in found:
            ours = by_vendor[sr["RequestId"]]
            counts["checked"] += 1
            mine = comments.get(str(sr["RequestId"]), [])
            _audit(delivered, ours, {str(c["CommentId"]) for c in mine}, problems)
            counts["comments"] += await _import_comments(engine, integration, ours, mine, known)
            counts["images"] += await _import_images(
                engine, cw, integration, ours, attachments.get(sr["RequestId"], []), known, counts
            )
            await _follow_status(
                engine, mapping, ours, sr.get("Status"), sr.get("Resolution") or None, problems, counts
            )
    if problems:
        raise Incomplete(problems, counts)
    return counts


async def _known(conn: Any, integration_id: int, kinds: list[str]) -> set[tuple[str, str]]:
    """(kind, vendor id) of every comment and attachment the gateway sent or imported for this integration."""
    v = t.vendor_records
    rows = await repo.many(
        conn,
        sa.select(v.c.kind, v.c.vendor_id).where(v.c.integration_id == integration_id, v.c.kind.in_(kinds)),
    )
    return {(rec["kind"], rec["vendor_id"]) for rec in rows}


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
        .where(v.c.integration_id == integration_id, v.c.kind == "comment"),
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
    return StatusMap.of(json.loads(stored) if stored else DEFAULTS[integration["vendor"]])


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
    engine: AsyncEngine, integration: dict, ours: dict, comments: list[dict[str, Any]], known: set[tuple[str, str]]
) -> int:
    """CW-ICM-1: "To SCF:" comments of an SR or a work order, once each, never the gateway's own."""
    imported = 0
    for comment in comments:
        cid = str(comment["CommentId"])
        if ("comment", cid) in known or ("imported_comment", cid) in known:
            continue  # the gateway's own comment, or one imported before
        text = public_text(comment.get("Comments"))
        if text is None:
            continue
        when = VendorClock.of(integration).utc(comment.get("DateCreated"))  # the vendor's time, not the poll's
        await _public_comment(engine, integration, ours["id"], text, None, ("imported_comment", cid), when)
        known.add(("imported_comment", cid))
        imported += 1
    return imported


async def _import_images(
    engine: AsyncEngine,
    cw: Any,
    integration: dict,
    ours: dict,
    attachments: list[dict[str, Any]],
    known: set[tuple[str, str]],
    counts: dict[str, int],
) -> int:
    imported = 0
    for attachment in attachments:
        aid = str(attachment["Id"])
        if ("attachment", aid) in known or ("imported_attachment", aid) in known:
            continue
        text = public_text(attachment.get("Comments"))
        if text is None:
            continue  # attachments without the prefix stay private
        content = await cw.download_attachment(attachment["Id"])
        counts["vendor_calls"] += 1
        kind = image_type(content)
        if kind is None:
            continue  # not an image: nothing the public side can show
        media = {
            "public_id": secrets.token_hex(8),
            "filename": (attachment.get("Attachment") or "image").rsplit("/", 1)[-1][-255:],
            "content_type": kind,
            "size": len(content),
            "sha256": hashlib.sha256(content).hexdigest(),
            "content": content,
            "created_at": repo.now(),
        }
        when = VendorClock.of(integration).utc(attachment.get("DateTimeAttached"))
        await _public_comment(engine, integration, ours["id"], text, media, ("imported_attachment", aid), when)
        known.add(("imported_attachment", aid))
        imported += 1
    return imported


async def _public_comment(
    engine: AsyncEngine,
    integration: dict,
    request_id: int,
    text: str,
    media: dict[str, Any] | None,
    record: tuple[str, str],
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
        await repo.insert(
            conn,
            t.vendor_records,
            {
                "integration_id": integration["id"],
                "kind": record[0],
                "local_id": comment["id"],
                "vendor_id": record[1],
                "created_at": now,
            },
        )
        await repo.update(conn, t.requests, request_id, {"updated_at": now})


async def poll_opengov(
    engine: AsyncEngine, http: Http, integration: dict[str, Any], cadence: Cadence, everything: bool = False
) -> dict[str, int]:
    """Incremental: the requests modified since the cursor (the newest vendor modification time seen, less an
    overlap), of which the open linked ones are followed; every `full_every` polls, and on the first, every
    open linked request is read by Oid in batches instead."""
    og = opengov_connector(http, integration)
    clock = VendorClock.of(integration)
    cr = t.comment_rules
    counts = {"checked": 0, "closed": 0, "reopened": 0, "comments": 0, "rules_fired": 0, "vendor_calls": 0}
    mapping, problems = status_map(integration), []
    async with engine.connect() as conn:
        linked = {
            int(x["vendor_id"]): x for x in await linked_requests(conn, integration["id"], open_only=not everything)
        }
        delivered = await _delivered(conn, integration["id"]) if everything else None
        known = {vid for _, vid in await _known(conn, integration["id"], ["comment", "imported_comment"])}
        rules = await repo.many(conn, cr.select().where(cr.c.integration_id == integration["id"]).order_by(cr.c.id))
        cursor = json.loads(await cursors.read(conn, JOB, integration["id"]) or "{}")
    newest = clock.utc(cursor.get("modified"))
    full = everything or newest is None or cursor.get("polls", 0) + 1 >= cadence.full_every
    if full:
        records = []
        for batch in repo.chunks(sorted(linked), BATCH):
            records += await og.by_oids(REQUESTS, batch)
            counts["vendor_calls"] += 1
    else:
        assert newest is not None
        since = clock.text(newest - cadence.overlap)
        records = await og.modified_since(REQUESTS, since)
        counts["vendor_calls"] += 1 + len(records) // PAGE
    counts["full"] = int(full)
    for record in records:
        seen = clock.utc(record.get("cgLastModifiedField"))
        if seen is not None and (newest is None or seen > newest):
            newest = seen
        ours = linked.get(record["Oid"])
        if ours is None:
            continue  # not an open request of ours: another system's, or closed here already
        modified = record.get("cgLastModifiedField")
        if not full and modified is not None and modified == ours["vendor_modified"]:
            continue  # read again inside the overlap, unchanged since it was followed
        counts["checked"] += 1
        counts["vendor_calls"] += 1
        comments = await og.children(REQUESTS, record["Oid"], og.comment_class)
        _audit(delivered, ours, {str(c["Oid"]) for c in comments}, problems)
        for comment in comments:
            cid = str(comment["Oid"])
            if cid in known or not comment.get("PublicField"):
                continue  # ours, imported before, or internal (OG-COM-2: public only)
            text = (comment.get("CommentField") or "").strip()
            if text:
                when = clock.utc(comment.get("EntryDateField"))  # OG-COM-2: the vendor's time, not the poll's
                await _public_comment(engine, integration, ours["id"], text, None, ("imported_comment", cid), when)
                known.add(cid)
                counts["comments"] += 1
        counts["rules_fired"] += await _apply_rules(engine, rules, ours["id"], record)
        notes = record.get("ResponseNotesField") or None
        await _follow_status(engine, mapping, ours, record.get("StatusField"), notes, problems, counts)
        if modified != ours["vendor_modified"]:
            async with engine.begin() as conn:
                await repo.update(conn, t.vendor_records, ours["record_id"], {"vendor_modified": modified})
    if newest is not None and not everything:
        state = {"modified": newest.isoformat(timespec="seconds"), "polls": 0 if full else cursor.get("polls", 0) + 1}
        await cursors.write(engine, JOB, integration["id"], json.dumps(state))
    if problems:
        raise Incomplete(problems, counts)
    return counts


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
