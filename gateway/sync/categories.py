"""Category sync (CW-CAT-1, OG-CAT-1): the vendor's public categories (Cityworks problem types, OpenGov
request issues) become the integration's categories; names follow the vendor, one that disappears (or turns
private or inactive) is retired, one that comes back is revived. OpenGov is paged to exhaustion (AGY-4)."""

from __future__ import annotations

import re
from typing import Any

import sqlalchemy as sa
from sqlalchemy.ext.asyncio import AsyncEngine

from ..storage import repo
from ..storage import schema as t
from ..vendors import VendorSide


def category_code(integration_id: int, vendor_code: str) -> str:
    """Open311 service codes are global; prefix with the integration so two vendors never collide."""
    cleaned = re.sub(r"[^A-Za-z0-9_-]", "_", vendor_code)[:50] or "X"
    return f"I{integration_id}-{cleaned}"


async def sync_categories(engine: AsyncEngine, vendor: VendorSide, integration: dict[str, Any]) -> dict[str, int]:
    """One transaction, written in bulk: new categories in one multi-row insert (and their agencies in
    another), renames, revivals and retirements as one update each per kind of change."""
    upstream = await vendor.categories()
    c, a, ca = t.categories, t.agencies, t.category_agencies
    counts = {"created": 0, "updated": 0, "retired": 0, "unchanged": 0}
    now = repo.now()
    mode = vendor.category_mode
    async with engine.begin() as conn:
        ours = {
            r["vendor_id"]: r
            for r in await repo.many(
                conn,
                sa.select(c.c.id, c.c.vendor_id, c.c.name, c.c.active).where(c.c.integration_id == integration["id"]),
            )
        }
        agency_ids = [
            r["id"] for r in await repo.many(conn, sa.select(a.c.id).where(a.c.integration_id == integration["id"]))
        ]
        new, renamed = [], []
        for sid, (vendor_code, vendor_name) in upstream.items():
            name = (vendor_name or vendor_code or sid)[:200]
            current = ours.get(sid)
            if current is None:
                new.append(
                    {
                        "code": category_code(integration["id"], vendor_code),
                        "name": name,
                        "description": "",
                        "group_name": "",
                        "keywords": "",
                        "public": True,
                        "active": True,
                        "integrated": True,
                        "vendor_id": sid,
                        "integration_id": integration["id"],
                        "mode": mode,
                        "auto_sync_questions": True,
                        "created_at": now,
                        "updated_at": now,
                    }
                )
            elif current["name"] != name or not current["active"]:
                renamed.append({"key": current["id"], "new_name": name})
            else:
                counts["unchanged"] += 1
        retired = [cur["id"] for sid, cur in ours.items() if sid not in upstream and cur["active"]]
        for chunk in repo.chunks(new, CHUNK):
            await conn.execute(c.insert(), chunk)
        if new and agency_ids:
            created = await _created_since(conn, integration["id"], ours)
            rows = [{"category_id": r["id"], "agency_id": agency} for r in created for agency in agency_ids]
            for chunk in repo.chunks(rows, CHUNK):
                await conn.execute(ca.insert(), chunk)
        if renamed:
            await conn.execute(
                c.update()
                .where(c.c.id == sa.bindparam("key"))
                .values(name=sa.bindparam("new_name"), active=True, updated_at=now),
                renamed,
            )
        for chunk in repo.chunks(retired, CHUNK):
            await conn.execute(c.update().where(c.c.id.in_(chunk)).values(active=False, updated_at=now))
    counts.update(created=len(new), updated=len(renamed), retired=len(retired))
    return counts


CHUNK = 500


async def _created_since(conn: Any, integration_id: int, before: dict[str, Any]) -> list[dict[str, Any]]:
    """The integration's categories that were not there before this sync (one query, however many)."""
    c = t.categories
    rows = await repo.many(conn, sa.select(c.c.id, c.c.vendor_id).where(c.c.integration_id == integration_id))
    return [r for r in rows if r["vendor_id"] not in before]
