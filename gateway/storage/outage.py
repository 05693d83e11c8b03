"""What counts as "the database is unavailable": an error a citizen is answered 503 for (try again later),
not 500 (a bug). One rule for every API: the database down or restarting, a connection cut or stalled past
its timeout, the connection pool exhausted, SQLite's disk full, its file read-only or locked past the busy
timeout. Nothing of the write is kept when one of these ends a transaction (it rolls back, or never began)."""

from __future__ import annotations

import sqlite3
from collections.abc import Iterator

import sqlalchemy as sa

try:  # the PostgreSQL driver is an extra
    import asyncpg
except ImportError:  # pragma: no cover
    asyncpg = None

# SQLite's words for "not now" (disk full, read-only file or file system, I/O error, locked past the timeout)
SQLITE_OUTAGES = (
    "database or disk is full",
    "readonly database",
    "read-only file system",
    "disk i/o error",
    "unable to open database file",
    "database is locked",
)
# PostgreSQL SQLSTATE classes: 08 connection exception, 53 insufficient resources (disk full, too many
# connections), 57 operator intervention (shutting down, starting up), 58 system error (I/O)
PG_OUTAGE_CLASSES = ("08", "53", "57", "58")


class DatabaseUnavailable(Exception):
    """The network to the database failed (refused, reset, timed out) where the driver does not say so in a
    database error of its own; raised by the engine's connections (storage/engine.py)."""


def _chain(exc: BaseException) -> Iterator[BaseException]:
    seen: set[int] = set()
    todo: list[BaseException | None] = [exc]
    while todo:
        e = todo.pop()
        if e is None or id(e) in seen:
            continue
        seen.add(id(e))
        yield e
        todo.extend([getattr(e, "orig", None), e.__cause__, e.__context__])


def is_outage(exc: BaseException) -> bool:
    for e in _chain(exc):
        if isinstance(e, DatabaseUnavailable | sa.exc.TimeoutError):  # the pool's checkout timed out too
            return True
        if isinstance(e, sa.exc.DBAPIError) and e.connection_invalidated:
            return True
        if isinstance(e, sqlite3.OperationalError) and any(m in str(e).lower() for m in SQLITE_OUTAGES):
            return True
        if asyncpg is None:
            continue
        if isinstance(e, asyncpg.PostgresError) and str(getattr(e, "sqlstate", "") or "")[:2] in PG_OUTAGE_CLASSES:
            return True
    return connection_broken(exc)


# asyncpg's words for a connection that can no longer be used: closed under it, or still busy with a query that
# timed out against a stalled network (its cancel never answered)
BROKEN = ("closed", "another operation is in progress")


def connection_broken(exc: BaseException) -> bool:
    """The connection itself is unusable (not the statement): the pool must drop it (storage/engine.py)."""
    return asyncpg is not None and any(
        isinstance(e, asyncpg.InterfaceError) and any(m in str(e) for m in BROKEN) for e in _chain(exc)
    )
