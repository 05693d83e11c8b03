"""Category sync (CW-CAT-1, OG-CAT-1): the vendor's public categories (Cityworks problem types, OpenGov
request issues) become the integration's categories; names follow the vendor, one that disappears (or turns
private or inactive) is retired, one that comes back is revived. OpenGov is paged to exhaustion (AGY-4)."""

from __future__ import annotations

import re
from typing import Any

import sqlalchemy as sa
from sqlalchemy.ext.asyncio import AsyncEngine

from ..connectors.http import Http
from ..storage import repo
from ..storage import schema as t
from .vendors import connector, opengov_connector


def category_code(integration_id: int, vendor_code: str) -> str:
    """Open311 service codes are global; prefix with the integration so two vendors never collide."""
    cleaned = re.sub(r"[^A-Za-z0-9_-]", "_", vendor_code)[:50] or "X"
    return f"I{integration_id}-{cleaned}"


async def upstream_categories(http: Http, integration: dict[str, Any]) -> dict[str, tuple[str, str]]:
    """vendor id -> (vendor code, name) of the public, active categories."""
    if integration["vendor"] == "opengov":
        og = opengov_connector(http, integration)
        issues = await og.all_records(
            "cgRequestIssuesClass", filter="(([Inactive] is equal to false) AND ([Public] is equal to true))"
        )
        return {str(i["Oid"]): (i.get("CodeField") or str(i["Oid"]), i.get("IssueField") or "") for i in issues}
    cw = connector(http, integration)
    if integration["default_mode"] == "wo":  # CW-MODE-1: the Work Order Basic API's public templates
        return {
            f"wo:{t['WOTemplateId']}": (f"WO-{t['WOTemplateId']}", t.get("Description") or "")
            for t in await cw.templates()
        }
    return {
        str(p["ProblemSid"]): (p.get("ProblemCode") or str(p["ProblemSid"]), p.get("Description") or "")
        for p in await cw.problems()
    }


async def sync_categories(engine: AsyncEngine, http: Http, integration: dict[str, Any]) -> dict[str, int]:
    upstream = await upstream_categories(http, integration)
    c, a = t.categories, t.agencies
    counts = {"created": 0, "updated": 0, "retired": 0, "unchanged": 0}
    now = repo.now()
    async with engine.begin() as conn:
        ours = {
            r["vendor_id"]: r for r in await repo.many(conn, c.select().where(c.c.integration_id == integration["id"]))
        }
        agency_ids = [
            r["id"] for r in await repo.many(conn, sa.select(a.c.id).where(a.c.integration_id == integration["id"]))
        ]
        for sid, (vendor_code, vendor_name) in upstream.items():
            name = (vendor_name or vendor_code or sid)[:200]
            current = ours.get(sid)
            if current is None:
                created = await repo.insert(
                    conn,
                    c,
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
                        "mode": (integration["default_mode"] if integration["vendor"] == "cityworks" else None),
                        "auto_sync_questions": True,
                        "created_at": now,
                        "updated_at": now,
                    },
                )
                await repo.set_category_agencies(conn, created["id"], agency_ids)
                counts["created"] += 1
            elif current["name"] != name or not current["active"]:
                await repo.update(conn, c, current["id"], {"name": name, "active": True, "updated_at": now})
                counts["updated"] += 1
            else:
                counts["unchanged"] += 1
        for sid, current in ours.items():
            if sid not in upstream and current["active"]:
                await repo.update(conn, c, current["id"], {"active": False, "updated_at": now})
                counts["retired"] += 1
    return counts
