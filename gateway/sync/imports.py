"""Request import (CW-IMP-1): service requests entered in Cityworks itself become public requests, for the
agencies whose importer is on, inside their geography only, never the gateway's own, never twice; work
orders never. Incremental: each run searches from where the last one left off (by creation time, with an
overlap so a request saved late is not missed). An agency whose geography has cutouts is refused with a
recorded error (AGY-3); the others go on."""

from __future__ import annotations

import json
import secrets
from datetime import UTC, datetime, timedelta
from typing import Any

import shapely
import sqlalchemy as sa
from shapely.geometry import shape
from sqlalchemy.ext.asyncio import AsyncEngine

from ..connectors.http import Http
from ..domain.geography import cutout_count
from ..storage import repo
from ..storage import schema as t
from .adapters import APP_NAME
from .vendors import connector

JOB = "import"
OVERLAP = timedelta(minutes=5)
NO_DATE = "0001-01-01"
BATCH = 100


def vendor_time(text: str | None) -> datetime | None:
    """Cityworks dates: local time without an offset, or with Z; 0001-01-01 means none. Read as UTC."""
    if not text or text.startswith(NO_DATE):
        return None
    try:
        moment = datetime.fromisoformat(text.replace("Z", "+00:00"))
    except ValueError:
        return None
    return moment if moment.tzinfo else moment.replace(tzinfo=UTC)


async def import_requests(engine: AsyncEngine, http: Http, integration: dict[str, Any]) -> dict[str, int]:
    cw = connector(http, integration)
    a, g, c, cur = t.agencies, t.geographies, t.categories, t.sync_cursors
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
        cursor = await conn.scalar(
            sa.select(cur.c.value).where(cur.c.job == JOB, cur.c.integration_id == integration["id"])
        )
        categories = {
            r["vendor_id"]: r for r in await repo.many(conn, c.select().where(c.c.integration_id == integration["id"]))
        }
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
            raise ImportRefused(errors, counts)
        return counts
    query: dict[str, Any] = {"Canceled": False}
    if cursor:
        since = datetime.fromisoformat(cursor) - OVERLAP
        query["DateTimeInitBegin"] = since.strftime("%Y-%m-%dT%H:%M:%S")
    ids = await cw.call("/Services/Ams/ServiceRequest/Search", query) or []
    newest = datetime.fromisoformat(cursor) if cursor else None
    for start in range(0, len(ids), BATCH):
        batch = await cw.requests_by_ids(ids[start : start + BATCH])
        for sr in batch:
            counts["seen"] += 1
            stamp = vendor_time(sr.get("DateTimeInit"))
            if stamp is not None and (newest is None or stamp > newest):
                newest = stamp
            outcome = await _import_one(engine, integration, sr, areas, categories)
            counts[outcome] += 1
    if newest is not None:
        async with engine.begin() as conn:
            await conn.execute(cur.delete().where(cur.c.job == JOB, cur.c.integration_id == integration["id"]))
            await conn.execute(cur.insert().values(job=JOB, integration_id=integration["id"], value=newest.isoformat()))
    if errors:
        raise ImportRefused(errors, counts)
    return counts


class ImportRefused(Exception):
    """Some agencies were refused (recorded as the run's errors); the counts say what the others did."""

    def __init__(self, errors: list[str], counts: dict[str, int]) -> None:
        super().__init__("; ".join(errors))
        self.errors, self.counts = errors, counts


async def _import_one(
    engine: AsyncEngine, integration: dict[str, Any], sr: dict[str, Any], areas: list, categories: dict
) -> str:
    v = t.vendor_records
    if sr.get("InitiatedByApp") == APP_NAME or sr.get("OtherSystemId"):
        return "ours"  # the gateway's own (or another integration's) request, never imported back
    async with engine.connect() as conn:
        known = await conn.scalar(
            sa.select(v.c.id).where(
                v.c.integration_id == integration["id"], v.c.kind == "request", v.c.vendor_id == str(sr["RequestId"])
            )
        )
    if known is not None:
        return "known"
    x, y = sr.get("SRX"), sr.get("SRY")
    agency = next((a for a, geom in areas if x is not None and y is not None and shapely.contains_xy(geom, x, y)), None)
    if agency is None:
        return "outside"
    category = categories.get(str(sr.get("ProblemSid")))
    if category is None:
        return "no_category"
    stamp = vendor_time(sr.get("DateTimeInit")) or repo.now()
    now = repo.now()
    async with engine.begin() as conn:
        created = await repo.insert(
            conn,
            t.requests,
            {
                "public_id": secrets.token_hex(6),
                "category_id": category["id"],
                "agency_id": agency["id"],
                "status": "closed" if sr.get("IsClosed") else "open",
                "description": (sr.get("Details") or sr.get("Description") or "")[:4000],
                "lat": y,
                "long": x,
                "address": sr.get("ProbAddress") or None,
                "zipcode": sr.get("ProbZip") or None,
                "token": secrets.token_hex(8),
                "requested_at": stamp,
                "updated_at": now,
            },
        )
        await repo.insert(
            conn,
            v,
            {
                "integration_id": integration["id"],
                "kind": "request",
                "local_id": created["id"],
                "vendor_id": str(sr["RequestId"]),
                "created_at": now,
            },
        )
    return "imported"
