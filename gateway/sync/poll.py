"""Status and comment poll. Cityworks (CW-UPD-1, CW-ICM-1, CW-IMG-1): each open public request that reached
Cityworks is read back in batches; a closed SR closes the public request, "To SCF:" comments become public
comments once each (never the gateway's own), and attachments whose comment carries the prefix become a
public comment with the image. OpenGov (OG-UPD-1, OG-COM-2, OG-UPD-2): a completed or closed request closes
the public one, public comments (only) come over once each, and comment rules fire once per false -> true."""

from __future__ import annotations

import hashlib
import json
import secrets
from typing import Any

import sqlalchemy as sa
from sqlalchemy.ext.asyncio import AsyncEngine

from ..connectors.http import Http
from ..domain.comments import public_text
from ..domain.media import image_type
from ..domain.rules import rule_holds
from ..domain.status import DEFAULTS, OPEN311, StatusMap
from ..storage import repo
from ..storage import schema as t
from .adapters import REQUESTS
from .vendors import Incomplete, connector, opengov_connector

BATCH = 100


async def poll_status(engine: AsyncEngine, http: Http, integration: dict[str, Any]) -> dict[str, int]:
    if integration["vendor"] == "opengov":
        return await poll_opengov(engine, http, integration)
    cw = connector(http, integration)
    v = t.vendor_records
    counts = {"checked": 0, "closed": 0, "reopened": 0, "comments": 0, "images": 0}
    mapping, unknown = status_map(integration), []
    async with engine.connect() as conn:
        linked = await open_linked(conn, integration["id"])
        known = {
            (rec["kind"], rec["vendor_id"])
            for rec in await repo.many(
                conn,
                sa.select(v.c.kind, v.c.vendor_id).where(
                    v.c.integration_id == integration["id"],
                    v.c.kind.in_(["comment", "imported_comment", "attachment", "imported_attachment"]),
                ),
            )
        }
    by_vendor = {int(x["vendor_id"]): x for x in linked if not x["vendor_id"].startswith("wo:")}
    work_orders = {x["vendor_id"].split(":")[1]: x for x in linked if x["vendor_id"].startswith("wo:")}
    wo_ids = sorted(work_orders)
    for start in range(0, len(wo_ids), BATCH):
        for wo in await cw.call("/Services/Ams/WorkOrder/ByIds", {"WorkOrderIds": wo_ids[start : start + BATCH]}) or []:
            ours = work_orders.get(str(wo["WorkOrderId"]))
            if ours is None:
                continue
            counts["checked"] += 1
            comments = await cw.activity_comments(2, wo["WorkOrderSid"])
            counts["comments"] += await _import_comments(engine, integration, ours, comments, known)
            await _follow_status(engine, mapping, ours, wo.get("Status"), None, unknown, counts)
    ids = sorted(by_vendor)
    for start in range(0, len(ids), BATCH):
        for sr in await cw.requests_by_ids(ids[start : start + BATCH]):
            ours = by_vendor.get(sr["RequestId"])
            if ours is None:
                continue
            counts["checked"] += 1
            comments = await cw.comments(sr["RequestId"])
            counts["comments"] += await _import_comments(engine, integration, ours, comments, known)
            counts["images"] += await _import_images(engine, cw, integration, ours, sr, known)
            await _follow_status(engine, mapping, ours, sr.get("Status"), sr.get("Resolution") or None, unknown, counts)
    if unknown:
        raise Incomplete(unknown, counts)
    return counts


async def open_linked(conn: Any, integration_id: int) -> list[dict[str, Any]]:
    """The open public requests that reached this integration's vendor, with their vendor ids."""
    r, v = t.requests, t.vendor_records
    return await repo.many(
        conn,
        sa.select(r.c.id, r.c.status, r.c.status_detail, v.c.vendor_id)
        .join(v, sa.and_(v.c.local_id == r.c.id, v.c.kind == "request"))
        .where(v.c.integration_id == integration_id, r.c.status == "open"),
    )


def status_map(integration: dict[str, Any]) -> StatusMap:
    stored = integration["status_map"]
    return StatusMap.of(json.loads(stored) if stored else DEFAULTS[integration["vendor"]])


async def _follow_status(
    engine: AsyncEngine,
    mapping: StatusMap,
    ours: dict[str, Any],
    vendor_status: str | None,
    notes: str | None,
    unknown: list[str],
    counts: dict[str, int],
) -> None:
    """The vendor's status through the integration's map; an unknown one is recorded and changes nothing."""
    detail = mapping.to_public(vendor_status)
    if detail is None:
        unknown.append(f"request {ours['vendor_id']}: vendor status {vendor_status!r} is not in the status map")
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
        await _public_comment(engine, integration, ours["id"], text, None, ("imported_comment", cid))
        known.add(("imported_comment", cid))
        imported += 1
    return imported


async def _import_images(
    engine: AsyncEngine, cw: Any, integration: dict, ours: dict, sr: dict, known: set[tuple[str, str]]
) -> int:
    imported = 0
    for attachment in await cw.attachments(sr["RequestId"]):
        aid = str(attachment["Id"])
        if ("attachment", aid) in known or ("imported_attachment", aid) in known:
            continue
        text = public_text(attachment.get("Comments"))
        if text is None:
            continue  # attachments without the prefix stay private
        content = await cw.download_attachment(attachment["Id"])
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
        await _public_comment(engine, integration, ours["id"], text, media, ("imported_attachment", aid))
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
) -> None:
    """The comment, its image, and the record that it was imported: one transaction, so never twice."""
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
                "created_at": now,
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


async def poll_opengov(engine: AsyncEngine, http: Http, integration: dict[str, Any]) -> dict[str, int]:
    og = opengov_connector(http, integration)
    v, cr = t.vendor_records, t.comment_rules
    counts = {"checked": 0, "closed": 0, "reopened": 0, "comments": 0, "rules_fired": 0}
    mapping, unknown = status_map(integration), []
    async with engine.connect() as conn:
        linked = await open_linked(conn, integration["id"])
        known = {
            rec["vendor_id"]
            for rec in await repo.many(
                conn,
                sa.select(v.c.vendor_id).where(
                    v.c.integration_id == integration["id"], v.c.kind.in_(["comment", "imported_comment"])
                ),
            )
        }
        rules = await repo.many(conn, cr.select().where(cr.c.integration_id == integration["id"]).order_by(cr.c.id))
    for ours in linked:
        oid = int(ours["vendor_id"])
        found, _ = await og.records(REQUESTS, filter=f"(([Oid] is equal to {oid}))")
        if not found:
            continue
        record = found[0]
        counts["checked"] += 1
        for comment in await og.children(REQUESTS, oid, og.comment_class):
            cid = str(comment["Oid"])
            if cid in known or not comment.get("PublicField"):
                continue  # ours, imported before, or internal (OG-COM-2: public only)
            text = (comment.get("CommentField") or "").strip()
            if text:
                await _public_comment(engine, integration, ours["id"], text, None, ("imported_comment", cid))
                known.add(cid)
                counts["comments"] += 1
        counts["rules_fired"] += await _apply_rules(engine, rules, ours["id"], record)
        notes = record.get("ResponseNotesField") or None
        await _follow_status(engine, mapping, ours, record.get("StatusField"), notes, unknown, counts)
    if unknown:
        raise Incomplete(unknown, counts)
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
