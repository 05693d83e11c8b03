"""Job leases in the database: one holder at a time across every gateway instance sharing the store."""

from __future__ import annotations

from datetime import timedelta
from typing import Any

import sqlalchemy as sa
from sqlalchemy.exc import IntegrityError
from sqlalchemy.ext.asyncio import AsyncEngine

from ..storage import repo
from ..storage import schema as t


async def acquire(engine: AsyncEngine, job: str, holder: str, ttl_s: float) -> bool:
    now = repo.now()
    expires = now + timedelta(seconds=ttl_s)
    leases = t.job_leases
    try:
        async with engine.begin() as conn:
            await conn.execute(leases.insert().values(job=job, holder=holder, expires_at=expires))
        return True
    except IntegrityError:
        pass
    async with engine.begin() as conn:  # taken: take it over only if it lapsed (its holder died)
        result = await conn.execute(
            leases.update()
            .where(leases.c.job == job, sa.or_(leases.c.expires_at < now, leases.c.holder == holder))
            .values(holder=holder, expires_at=expires)
        )
        return result.rowcount == 1


async def release(engine: AsyncEngine, job: str, holder: str) -> None:
    leases = t.job_leases
    async with engine.begin() as conn:
        await conn.execute(leases.delete().where(leases.c.job == job, leases.c.holder == holder))


async def renew(engine: AsyncEngine, job: str, holder: str, ttl_s: float) -> bool:
    leases = t.job_leases
    async with engine.begin() as conn:
        result = await conn.execute(
            leases.update()
            .where(leases.c.job == job, leases.c.holder == holder)
            .values(expires_at=repo.now() + timedelta(seconds=ttl_s))
        )
    return result.rowcount == 1


async def holders(conn: Any) -> list[tuple[str, str]]:
    """(job key, holder) of every lease not yet lapsed."""
    leases = t.job_leases
    rows = await conn.execute(sa.select(leases.c.job, leases.c.holder).where(leases.c.expires_at >= repo.now()))
    return [(str(job), str(holder)) for job, holder in rows]
