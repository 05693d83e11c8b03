"""Request import (CW-IMP-1, OG-REQ-2): requests entered in Cityworks or OpenGov itself become public
requests, for the agencies whose importer is on, inside their geography only, never the gateway's own,
never twice; Cityworks work orders never. Incremental: each run searches from where the last one left off
(by creation time, with an overlap so a request saved late is not missed). An agency whose geography has
cutouts is refused with a recorded error (AGY-3); the others go on."""

from __future__ import annotations

import json
import secrets
from datetime import datetime, timedelta
from typing import Any

import shapely
import sqlalchemy as sa
from shapely.geometry import shape
from sqlalchemy.ext.asyncio import AsyncEngine

from ..domain.geography import cutout_count
from ..storage import outbox, repo
from ..storage import schema as t
from ..storage.outbox import Record
from ..vendors import VendorSide
from ..vendors.side import Candidate
from . import cursors
from .incomplete import Incomplete

JOB = "import"
OVERLAP = timedelta(minutes=5)


async def import_requests(engine: AsyncEngine, vendor: VendorSide, integration: dict[str, Any]) -> dict[str, int]:
    a, g, c = t.agencies, t.geographies, t.categories
    counts = {"seen": 0, "imported": 0, "ours": 0, "known": 0, "outside": 0, "no_category": 0, "refused_agencies": 0}
    errors: list[str] = []
    async with engine.connect() as conn:
        agencies = await repo.many(
            conn,
            sa.select(
                a.c.id,
                a.c.name,
                g.c.id.label("geography_id"),
                g.c.name.label("geography"),
                g.c.geometry,
                g.c.has_cutouts,
            )
            .join(g, a.c.geography_id == g.c.id)
            .where(a.c.integration_id == integration["id"], a.c.importer_enabled.is_(True)),
        )
        cursor = await cursors.read(conn, JOB, integration["id"])
        synced = await repo.many(conn, c.select().where(c.c.integration_id == integration["id"]))
        categories = {str(r[vendor.category_key]): r for r in synced}
    areas = []
    for agency in agencies:
        if agency["has_cutouts"]:
            counts["refused_agencies"] += 1
            cutouts = cutout_count(json.loads(agency["geometry"]))
            errors.append(
                f"agency {agency['name']}: geography {agency['geography']} has {cutouts} cutout(s); not imported"
            )
            continue
        geom = shape(json.loads(agency["geometry"]))
        shapely.prepare(geom)
        areas.append((agency, geom))
    if not areas:
        if errors:
            raise Incomplete(errors, counts)
        return counts
    newest = datetime.fromisoformat(cursor) if cursor else None
    async with engine.connect() as conn:
        known = {vid for _, vid in await outbox.vendor_ids(conn, integration["id"], [Record.REQUEST])}
    batch: list[tuple[dict[str, Any], str]] = []
    for found in await vendor.candidates(newest - OVERLAP if newest else None):
        counts["seen"] += 1
        if found.created is not None and (newest is None or found.created > newest):
            newest = found.created
        outcome, row = _classify(found, areas, categories, known)
        counts[outcome] += 1
        if row is not None:
            known.add(found.vendor_id)
            batch.append((row, found.vendor_id))
            if len(batch) >= WRITE_BATCH:
                await _write(engine, integration, batch)
                batch = []
    await _write(engine, integration, batch)
    if newest is not None:
        await cursors.write(engine, JOB, integration["id"], newest.isoformat())
    if errors:
        raise Incomplete(errors, counts)
    return counts


WRITE_BATCH = 500


def _classify(found: Candidate, areas: list, categories: dict, known: set[str]) -> tuple[str, dict[str, Any] | None]:
    """What to do with one vendor request, and the public request to write when it is imported."""
    if found.ours:
        return "ours", None  # the gateway's own (or another integration's) request, never imported back
    if found.vendor_id in known:
        return "known", None
    x, y = found.x, found.y
    agency = next((a for a, geom in areas if x is not None and y is not None and shapely.contains_xy(geom, x, y)), None)
    if agency is None:
        return "outside", None
    category = categories.get(found.category)
    if category is None:
        return "no_category", None
    now = repo.now()
    return "imported", {
        "public_id": secrets.token_hex(6),
        "category_id": category["id"],
        "agency_id": agency["id"],
        "status": "closed" if found.closed else "open",
        "status_detail": "closed" if found.closed else "open",
        "description": found.description[:4000],
        "lat": y,
        "long": x,
        "address": found.address,
        "zipcode": found.zipcode,
        "token": secrets.token_hex(8),
        "requested_at": found.created or now,
        "updated_at": now,
    }


async def _write(engine: AsyncEngine, integration: dict[str, Any], batch: list[tuple[dict[str, Any], str]]) -> None:
    """Public requests and the records that they were imported, in one transaction per batch: a request is
    there exactly when its record is, so a crash never leaves one to be imported twice."""
    if not batch:
        return
    r = t.requests
    async with engine.begin() as conn:
        await conn.execute(r.insert(), [row for row, _ in batch])
        ids = {
            x["public_id"]: x["id"]
            for x in await repo.many(
                conn, sa.select(r.c.id, r.c.public_id).where(r.c.public_id.in_([row["public_id"] for row, _ in batch]))
            )
        }
        records = [
            outbox.record(integration["id"], Record.REQUEST, ids[row["public_id"]], vendor_id)
            for row, vendor_id in batch
        ]
        await outbox.link(conn, records)
