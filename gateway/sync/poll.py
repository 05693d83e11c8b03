"""Status and comment poll for Cityworks (CW-UPD-1, CW-ICM-1, CW-IMG-1): each open public request that
reached Cityworks is read back in batches; a closed SR closes the public request, "To SCF:" comments
become public comments once each (never the gateway's own), and attachments whose comment carries the
prefix become a public comment with the image."""

from __future__ import annotations

import hashlib
import secrets
from typing import Any

import sqlalchemy as sa
from sqlalchemy.ext.asyncio import AsyncEngine

from ..connectors.http import Http
from ..domain.comments import public_text
from ..domain.media import image_type
from ..storage import repo
from ..storage import schema as t
from .vendors import connector

BATCH = 100


async def poll_status(engine: AsyncEngine, http: Http, integration: dict[str, Any]) -> dict[str, int]:
    cw = connector(http, integration)
    r, v = t.requests, t.vendor_records
    counts = {"checked": 0, "closed": 0, "reopened": 0, "comments": 0, "images": 0}
    async with engine.connect() as conn:
        linked = await repo.many(
            conn,
            sa.select(r.c.id, r.c.status, v.c.vendor_id)
            .join(v, sa.and_(v.c.local_id == r.c.id, v.c.kind == "request"))
            .where(v.c.integration_id == integration["id"], r.c.status == "open"),
        )
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
    by_vendor = {int(x["vendor_id"]): x for x in linked}
    ids = sorted(by_vendor)
    for start in range(0, len(ids), BATCH):
        for sr in await cw.requests_by_ids(ids[start : start + BATCH]):
            ours = by_vendor.get(sr["RequestId"])
            if ours is None:
                continue
            counts["checked"] += 1
            counts["comments"] += await _import_comments(engine, cw, integration, ours, sr, known)
            counts["images"] += await _import_images(engine, cw, integration, ours, sr, known)
            if sr.get("IsClosed") or sr.get("Cancel"):
                await _set_status(engine, ours["id"], "closed", sr.get("Resolution") or None)
                counts["closed"] += 1
    return counts


async def _set_status(engine: AsyncEngine, request_id: int, status: str, notes: str | None) -> None:
    async with engine.begin() as conn:
        await repo.update(
            conn, t.requests, request_id, {"status": status, "status_notes": notes, "updated_at": repo.now()}
        )


async def _import_comments(
    engine: AsyncEngine, cw: Any, integration: dict, ours: dict, sr: dict, known: set[tuple[str, str]]
) -> int:
    imported = 0
    for comment in await cw.comments(sr["RequestId"]):
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
