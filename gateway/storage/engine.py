"""The async engine for a DATABASE_URL (SQLite file in WAL mode by default, PostgreSQL through asyncpg),
and `migrate()`, which applies the versioned migrations on start."""

from __future__ import annotations

import asyncio
import contextlib
from collections.abc import AsyncIterator
from pathlib import Path
from typing import Any

import sqlalchemy as sa
from alembic import command
from alembic.config import Config
from sqlalchemy.ext.asyncio import AsyncConnection, AsyncEngine, create_async_engine

from . import outage
from .outage import DatabaseUnavailable

MIGRATIONS = Path(__file__).resolve().parent / "migrations"


def normalise_url(url: str) -> str:
    """`postgresql://` and `sqlite:///` as people write them -> the async drivers the gateway uses."""
    if url.startswith(("postgres://", "postgresql://")):
        return "postgresql+asyncpg://" + url.split("://", 1)[1]
    if url.startswith("sqlite:///"):
        return "sqlite+aiosqlite:///" + url.removeprefix("sqlite:///")
    return url


# Tables whose rows decide what a citizen may report, and where: read from memory on the hot path
# (gateway/catalog.py), so a committed change to any of them must be noticed.
CATALOG_TABLES = frozenset({"categories", "questions", "category_agencies", "agencies", "geographies"})
_CATALOG_WRITTEN = "civic_harness_catalog_written"


class GatewayConnection(AsyncConnection):
    """A connection whose network failures say what they are: the driver hands a refused or reset connect
    and a query past its timeout on as bare OSError / TimeoutError, which would read as a bug (a 500)."""

    async def start(self, is_ctxmanager: bool = False) -> AsyncConnection:
        try:
            return await super().start(is_ctxmanager)
        except (OSError, TimeoutError) as exc:
            raise DatabaseUnavailable(f"cannot connect to the database: {exc.__class__.__name__}") from exc

    async def __aexit__(self, type_: Any, value: Any, traceback: Any) -> None:
        await super().__aexit__(type_, value, traceback)
        if isinstance(value, OSError | TimeoutError):  # a query (or its rollback) past the timeout
            raise DatabaseUnavailable(f"the database did not answer: {value.__class__.__name__}") from value


class GatewayEngine(AsyncEngine):
    """The async engine with two additions the gateway relies on.

    `catalog_version` goes up each time a transaction of this process that wrote a catalog table has
    ended, so in-memory copies of the catalog know they are stale (another instance's changes are seen
    by age: see gateway/catalog.py).

    On SQLite, write transactions take turns on an asyncio lock: SQLite has one writer at a time, and a
    writer that finds the lock taken sleeps in SQLite's busy handler (1 ms, then 2, 5, 10 ... up to 100 ms
    a try) while the event loop idles; waiting on the lock costs nothing and ends the moment the previous
    writer commits. Reads (`connect()`) never wait: WAL readers see the last commit. Other processes on
    the same file still meet the busy timeout."""

    __slots__ = ("_holder", "_writer", "catalog_version")
    _connection_cls = GatewayConnection

    def __init__(self, sync_engine: sa.Engine, *, one_writer: bool) -> None:
        super().__init__(sync_engine)
        self._writer = asyncio.Lock() if one_writer else None
        self._holder: asyncio.Task[Any] | None = None
        self.catalog_version = 0
        sa.event.listen(sync_engine, "after_execute", _note_catalog_write)

    @contextlib.asynccontextmanager
    async def begin(self) -> AsyncIterator[AsyncConnection]:
        async with self._turn():
            info: dict[Any, Any] = {}
            try:
                async with super().begin() as conn:
                    info = conn.sync_connection.info if conn.sync_connection is not None else {}
                    yield conn
            finally:  # after the commit (or rollback): a copy loaded from now on sees the change
                if info.pop(_CATALOG_WRITTEN, False):
                    self.catalog_version += 1

    @contextlib.asynccontextmanager
    async def _turn(self) -> AsyncIterator[None]:
        """This process's write transactions one at a time (SQLite), or all at once."""
        if self._writer is None:
            yield
            return
        task = asyncio.current_task()
        if task is not None and task is self._holder:
            raise RuntimeError("a write transaction was begun inside another one (it would wait for itself)")
        async with self._writer:
            self._holder = task
            try:
                yield
            finally:
                self._holder = None


def _note_catalog_write(conn: sa.Connection, clause: Any, *_: Any) -> None:
    if isinstance(clause, sa.sql.dml.UpdateBase) and getattr(clause.table, "name", None) in CATALOG_TABLES:
        conn.info[_CATALOG_WRITTEN] = True


def make_engine(url: str, timeout_s: float = 10.0) -> GatewayEngine:
    """`timeout_s`: how long a connect, a query or a wait for a pooled connection may take on PostgreSQL
    before the caller is told the database is unavailable (storage/outage.py) instead of waiting on a dead
    or stalled connection; pre-ping drops connections a restart or a cut left behind."""
    url = normalise_url(url)
    if url.startswith("sqlite"):
        engine = create_async_engine(url, connect_args={"timeout": 30})

        @sa.event.listens_for(engine.sync_engine, "connect")
        def _pragmas(dbapi_connection: Any, _record: Any) -> None:
            cursor = dbapi_connection.cursor()
            cursor.execute("PRAGMA journal_mode=WAL")  # readers never block the writer
            cursor.execute("PRAGMA foreign_keys=ON")
            cursor.execute("PRAGMA busy_timeout=30000")
            cursor.execute("PRAGMA synchronous=NORMAL")
            cursor.close()

        @sa.event.listens_for(engine.sync_engine, "handle_error")
        def _reopen_read_only(context: sa.engine.ExceptionContext) -> None:
            # SQLite opens a file it may not write read-only and the connection stays so: dropping the pool's
            # connections lets the next one find the file writable again, without a restart.
            if "readonly database" in str(context.original_exception).lower():
                context.is_disconnect = True

        return GatewayEngine(engine.sync_engine, one_writer=True)
    engine = create_async_engine(
        url,
        pool_size=10,
        max_overflow=10,
        pool_pre_ping=True,
        pool_timeout=timeout_s,
        connect_args={"timeout": timeout_s, "command_timeout": timeout_s},
    )

    @sa.event.listens_for(engine.sync_engine, "handle_error")
    def _drop_broken(context: sa.engine.ExceptionContext) -> None:
        # A connection left busy by a query that timed out on a stalled network fails every later use, pre-ping
        # included (which recycles only what it sees as a disconnect): a disconnect it is.
        if outage.connection_broken(context.original_exception):
            context.is_disconnect = True

    return GatewayEngine(engine.sync_engine, one_writer=False)


def alembic_config() -> Config:
    config = Config()
    config.set_main_option("script_location", str(MIGRATIONS))
    return config


async def migrate(engine: AsyncEngine, revision: str = "head") -> None:
    def upgrade(connection: sa.Connection) -> None:
        config = alembic_config()
        config.attributes["connection"] = connection
        command.upgrade(config, revision)

    async with engine.begin() as conn:
        await conn.run_sync(upgrade)
