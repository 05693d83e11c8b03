"""Where an incremental job left off, per job and integration (a short JSON-able string)."""

from __future__ import annotations

import sqlalchemy as sa
from sqlalchemy.ext.asyncio import AsyncConnection, AsyncEngine

from ..storage import schema as t


async def read(conn: AsyncConnection, job: str, integration_id: int) -> str | None:
    cur = t.sync_cursors
    return await conn.scalar(sa.select(cur.c.value).where(cur.c.job == job, cur.c.integration_id == integration_id))


async def write(engine: AsyncEngine, job: str, integration_id: int, value: str) -> None:
    cur = t.sync_cursors
    async with engine.begin() as conn:
        await conn.execute(cur.delete().where(cur.c.job == job, cur.c.integration_id == integration_id))
        await conn.execute(cur.insert().values(job=job, integration_id=integration_id, value=value))
