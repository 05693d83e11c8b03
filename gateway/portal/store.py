"""Portal-wide stored settings: the address setup switch (WID-8) and the key behind citizens' pseudonymous
ids (kept in the database so ids, and the links a city keeps by them, survive restarts and other instances)."""

from __future__ import annotations

import hashlib
import hmac
import secrets
from typing import Any

import sqlalchemy as sa
from sqlalchemy.exc import IntegrityError

from ..storage import schema as t

ADDRESS_SETUP = "address_setup_complete"
USER_KEY = "citizen_id_key"


async def get_setting(conn: Any, name: str) -> str | None:
    return await conn.scalar(sa.select(t.portal_settings.c.value).where(t.portal_settings.c.name == name))


async def set_setting(conn: Any, name: str, value: str) -> None:
    await conn.execute(t.portal_settings.delete().where(t.portal_settings.c.name == name))
    await conn.execute(t.portal_settings.insert().values(name=name, value=value))


async def address_setup_complete(conn: Any) -> bool:
    return await get_setting(conn, ADDRESS_SETUP) == "true"


async def user_key(engine: Any) -> str:
    """The key of citizens' pseudonymous ids, made once (the first instance to store it wins)."""
    return await stored_key(engine, USER_KEY)


async def stored_key(engine: Any, name: str) -> str:
    """A random key (hex) kept under `name`, made once (the first instance to store it wins)."""
    async with engine.connect() as conn:
        found = await get_setting(conn, name)
    if found is not None:
        return found
    try:
        async with engine.begin() as conn:
            await conn.execute(t.portal_settings.insert().values(name=name, value=secrets.token_hex(32)))
    except IntegrityError:
        pass  # another instance stored it first
    async with engine.connect() as conn:
        return await get_setting(conn, name) or ""


def pseudonym(key: str, widget_id: int, citizen_id: int) -> str:
    """What a city knows a citizen as (contract `User`): stable per widget, unlinkable across widgets."""
    digest = hmac.new(key.encode(), f"{widget_id}:{citizen_id}".encode(), hashlib.sha256).hexdigest()
    return f"u-{digest[:32]}"
