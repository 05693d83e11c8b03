"""Queries the handlers use (the outbox and vendor records have their own door: storage/outbox.py)."""

from __future__ import annotations

import functools
from collections.abc import Iterable, Sequence
from datetime import UTC, datetime
from typing import Any, TypeVar

import sqlalchemy as sa
from sqlalchemy.ext.asyncio import AsyncConnection

from . import schema as t

T = TypeVar("T")


def now() -> datetime:
    """This host's wall clock: for what a person reads (created, updated). Times that instances compare with
    each other — leases, claims, back-off, when a job last ran — are `db_now`'s."""
    return datetime.now(UTC)


async def db_now(conn: AsyncConnection) -> datetime:
    """The database's clock, one for every instance sharing the store, whatever each host's clock says
    (PostgreSQL's server clock; an SQLite file is shared only on one host, whose clock it is)."""
    if conn.dialect.name == "postgresql":
        return aware(await conn.scalar(sa.select(sa.func.clock_timestamp())))
    return now()


def row(r: Any) -> dict[str, Any] | None:
    return None if r is None else dict(r._mapping)


def aware(moment: datetime) -> datetime:
    """SQLite hands back naive datetimes for a timezone-aware column; they were stored in UTC."""
    return moment if moment.tzinfo is not None else moment.replace(tzinfo=UTC)


async def one(conn: AsyncConnection, query: Any) -> dict[str, Any] | None:
    return row((await conn.execute(query)).first())


async def many(conn: AsyncConnection, query: Any) -> list[dict[str, Any]]:
    return [dict(r._mapping) for r in (await conn.execute(query))]


@functools.cache
def insert_returning(table: sa.Table) -> Any:
    # Built once per table, values bound per call: SQLAlchemy's compiled cache then skips the statement's
    # cache key (walking a `.values(...)` dict costs more than the SQLite insert itself).
    return table.insert().returning(*table.c, sort_by_parameter_order=True)  # rows back in the order sent


async def insert(conn: AsyncConnection, table: sa.Table, values: dict[str, Any]) -> dict[str, Any]:
    result = await conn.execute(insert_returning(table), values)
    return dict(result.one()._mapping)


async def update(conn: AsyncConnection, table: sa.Table, key: int, values: dict[str, Any]) -> dict[str, Any] | None:
    if not values:
        return await one(conn, table.select().where(table.c.id == key))
    result = await conn.execute(table.update().where(table.c.id == key).values(**values).returning(*table.c))
    return row(result.first())


async def delete(conn: AsyncConnection, table: sa.Table, key: int) -> bool:
    return (await conn.execute(table.delete().where(table.c.id == key))).rowcount > 0


# -- categories ------------------------------------------------------------------------------------


async def category_agency_ids(conn: AsyncConnection, category_ids: Iterable[int]) -> dict[int, list[int]]:
    ids = list(category_ids)
    out: dict[int, list[int]] = {i: [] for i in ids}
    if not ids:
        return out
    ca = t.category_agencies
    for r in await many(conn, sa.select(ca).where(ca.c.category_id.in_(ids)).order_by(ca.c.agency_id)):
        out[r["category_id"]].append(r["agency_id"])
    return out


async def set_category_agencies(conn: AsyncConnection, category_id: int, agency_ids: Sequence[int]) -> None:
    ca = t.category_agencies
    await conn.execute(ca.delete().where(ca.c.category_id == category_id))
    if agency_ids:
        await conn.execute(ca.insert(), [{"category_id": category_id, "agency_id": a} for a in agency_ids])


def chunks(items: Sequence[T], size: int) -> list[Sequence[T]]:
    """Consecutive slices of at most `size`: batches for vendor calls and for statements with many rows."""
    return [items[i : i + size] for i in range(0, len(items), size)]


async def existing_ids(conn: AsyncConnection, table: sa.Table, ids: Sequence[int]) -> set[int]:
    if not ids:
        return set()
    return {r["id"] for r in await many(conn, sa.select(table.c.id).where(table.c.id.in_(list(ids))))}


async def question_counts(conn: AsyncConnection) -> dict[int, int]:
    q = t.questions
    query = sa.select(q.c.category_id, sa.func.count()).group_by(q.c.category_id)
    return {cid: n for cid, n in (await conn.execute(query)).all()}


async def public_categories(conn: AsyncConnection) -> list[dict[str, Any]]:
    c = t.categories
    query = c.select().where(c.c.public.is_(True), c.c.active.is_(True)).order_by(c.c.group_name, c.c.name)
    return await many(conn, query)


async def agencies_with_geography(conn: AsyncConnection) -> list[dict[str, Any]]:
    """Each agency with a geography and its bounding box (the geometry itself: `geometries`)."""
    a, g = t.agencies, t.geographies
    query = sa.select(
        a.c.id, a.c.name, g.c.id.label("geography_id"), g.c.min_lon, g.c.min_lat, g.c.max_lon, g.c.max_lat
    ).join(g, a.c.geography_id == g.c.id)
    return await many(conn, query)


async def geometries(conn: AsyncConnection, geography_ids: Iterable[int]) -> dict[int, str]:
    g = t.geographies
    rows = await conn.execute(sa.select(g.c.id, g.c.geometry).where(g.c.id.in_(list(geography_ids))))
    return {r.id: r.geometry for r in rows}


# -- requests --------------------------------------------------------------------------------------


async def media_urls(conn: AsyncConnection, request_ids: Sequence[int]) -> dict[int, list[str]]:
    m = t.media
    out: dict[int, list[str]] = {i: [] for i in request_ids}
    if not request_ids:
        return out
    query = sa.select(m.c.request_id, m.c.public_id).where(m.c.request_id.in_(list(request_ids))).order_by(m.c.id)
    for r in await many(conn, query):
        out[r["request_id"]].append(r["public_id"])
    return out
