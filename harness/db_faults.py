"""The database half of the fault campaign: a PostgreSQL server of the campaign's own behind a TCP fault
proxy (the gateway's DATABASE_URL names the proxy), restarted at set points of the delivery and its network
failed at random a few times a minute. Also what the campaign reads straight from the database it owns: who
holds the delivery lease, and the delivery runs (which must never overlap)."""

from __future__ import annotations

import asyncio
import contextlib
import random
from collections import Counter
from collections.abc import Awaitable, Callable
from datetime import UTC, datetime
from typing import Any

import sqlalchemy as sa

from gateway.storage import schema as t
from gateway.storage.engine import make_engine

from .fault_proxy import FaultProxy
from .pg_server import PrivatePostgres

DB_FAULTS = ("restart", "cut", "stall", "latency")
DATABASE = "campaign"


class DatabaseFaults:
    """`async with DatabaseFaults(kinds, seed)` -> a fresh database; `gateway_url` for the gateway,
    `direct_url` for the campaign's own reads. `restart()` when the campaign says; `network(stop)` fails the
    network every `every_s` (on average) until `stop` is set."""

    def __init__(self, kinds: tuple[str, ...], seed: int, every_s: float = 10.0, stall_s: float = 3.0) -> None:
        unknown = set(kinds) - set(DB_FAULTS)
        if unknown:
            raise ValueError(f"unknown database faults: {', '.join(sorted(unknown))}")
        self.kinds, self.every_s, self.stall_s = kinds, every_s, stall_s
        self.rng = random.Random(seed)
        self.counts: Counter[str] = Counter()
        self.pg: PrivatePostgres | None = None
        self.proxy: FaultProxy | None = None
        self.down = asyncio.Event()  # set while the server is stopped

    @property
    def gateway_url(self) -> str:
        assert self.proxy is not None
        return f"postgresql://postgres@{self.proxy.address}/{DATABASE}"

    @property
    def direct_url(self) -> str:
        assert self.pg is not None
        return f"postgresql://postgres@127.0.0.1:{self.pg.port}/{DATABASE}"

    async def __aenter__(self) -> DatabaseFaults:
        import asyncpg

        self.pg = PrivatePostgres()
        await self.pg.start()
        admin = await asyncpg.connect(self.pg.url)
        try:
            await admin.execute(f'CREATE DATABASE "{DATABASE}"')
        finally:
            await admin.close()
        self.proxy = await FaultProxy(self.pg.port).start()
        return self

    async def __aexit__(self, *_: object) -> None:
        if self.proxy is not None:
            await self.proxy.close()
        if self.pg is not None:
            await asyncio.to_thread(self.pg.destroy)

    async def restart(self) -> None:
        """A crash of the server (immediate stop, recovery on start), down for one to three seconds."""
        assert self.pg is not None
        if "restart" not in self.kinds:
            return
        self.down.set()
        try:
            await self.pg.restart(down_s=self.rng.uniform(1.0, 3.0), crash=True)
        finally:
            self.down.clear()
        self.counts["database restarts"] += 1

    async def network(self, stop: asyncio.Event) -> None:
        kinds = [k for k in self.kinds if k != "restart"]
        assert self.proxy is not None
        while kinds and not stop.is_set():
            with contextlib.suppress(TimeoutError):
                await asyncio.wait_for(stop.wait(), self.rng.uniform(0.5, 1.5) * self.every_s)
            if stop.is_set():
                return
            kind = self.rng.choice(kinds)
            if kind == "cut":
                self.counts["database connections cut"] += self.proxy.cut()
                self.counts["database cuts"] += 1
            elif kind == "stall":
                await self.proxy.stall(self.rng.uniform(0.5, 1.5) * self.stall_s)
                self.counts["database stalls"] += 1
            else:
                self.proxy.latency_s = self.rng.uniform(0.02, 0.1)
                await asyncio.sleep(self.every_s / 2)
                self.proxy.latency_s = 0.0
                self.counts["database latency spells"] += 1


async def _read(url: str, query: Callable[[Any], Awaitable[Any]]) -> Any:
    engine = make_engine(url)
    try:
        async with engine.connect() as conn:
            return await query(conn)
    finally:
        await engine.dispose()


async def lease_holders(url: str, job: str = "deliver_outbox") -> set[str]:
    """The holders (`host:pid`) of the job's live leases."""
    leases = t.job_leases

    async def q(conn: Any) -> set[str]:
        rows = await conn.execute(sa.select(leases.c.holder, leases.c.expires_at).where(leases.c.job.like(f"{job}:%")))
        now = datetime.now(UTC)
        return {h for h, e in rows if (e if e.tzinfo else e.replace(tzinfo=UTC)) > now}

    return await _read(url, q)


LOST = "lease was lost"  # how a delivery run that lost its lease says so (gateway/sync/delivery.py)


async def overlapping_runs(url: str, job: str = "deliver_outbox") -> tuple[list[str], list[float]]:
    """Finished runs of the job that overlapped in time: (the overlaps no lost lease explains — a broken lease
    — as text, and the seconds by which a run that had lost its lease, and stopped taking rows, overlapped the
    next while its deliveries under way finished)."""
    r = t.job_runs

    async def q(conn: Any) -> list[tuple[datetime, datetime, str]]:
        query = sa.select(r.c.started_at, r.c.finished_at, r.c.errors).where(
            r.c.job == job, r.c.finished_at.is_not(None)
        )
        return [(s, f, e) for s, f, e in await conn.execute(query.order_by(r.c.started_at))]

    broken: list[str] = []
    tails: list[float] = []
    latest: tuple[datetime, datetime, bool] | None = None  # the run that finishes last so far
    for started, finished, errors in await _read(url, q):
        if latest is not None and started < latest[1]:
            if latest[2]:
                tails.append((latest[1] - started).total_seconds())
            else:
                broken.append(f"{latest[0]} - {latest[1]} overlaps {started} - {finished}")
        if latest is None or finished > latest[1]:
            latest = (started, finished, LOST in errors)
    return broken, tails
