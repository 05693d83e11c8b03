"""What readiness asks of the store: can the database be read, and is its schema at the newest migration."""

from __future__ import annotations

from functools import cache

import sqlalchemy as sa
from alembic.script import ScriptDirectory
from sqlalchemy.ext.asyncio import AsyncEngine

from .engine import alembic_config


@cache
def head_revision() -> str | None:
    """The newest migration this code knows (read from the migration scripts once per process)."""
    return ScriptDirectory.from_config(alembic_config()).get_current_head()


async def schema_revision(engine: AsyncEngine) -> str | None:
    """The migration the database is at (raises when the database cannot be read)."""
    async with engine.connect() as conn:
        return await conn.scalar(sa.text("SELECT version_num FROM alembic_version"))
