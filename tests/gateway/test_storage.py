"""Storage on both databases: the migrations build exactly the schema the code uses, SQLite runs in WAL mode,
and a public write and its outbox row commit together or not at all."""

from __future__ import annotations

import json

import pytest
import sqlalchemy as sa
from alembic.autogenerate import compare_metadata
from alembic.migration import MigrationContext

from gateway.appkeys import ENGINE
from gateway.storage import schema as t
from gateway.storage.engine import make_engine, migrate
from gateway.storage.health import head_revision

from .conftest import API_KEY, start_gateway
from .test_open311 import INSIDE


async def test_migrations_build_exactly_the_schema(database_url):
    engine = make_engine(database_url)
    try:
        await migrate(engine)
        await migrate(engine)  # applying again is a no-op

        def diff(connection: sa.Connection) -> list:
            context = MigrationContext.configure(connection, opts={"compare_type": True})
            return compare_metadata(context, t.metadata)

        async with engine.connect() as conn:
            assert await conn.run_sync(diff) == []
            version = await conn.scalar(sa.text("SELECT version_num FROM alembic_version"))
        assert version == head_revision() == "0007"
    finally:
        await engine.dispose()


@pytest.mark.parametrize("database_url", ["sqlite"], indirect=True)
async def test_sqlite_runs_in_wal_mode_with_foreign_keys(database_url):
    engine = make_engine(database_url)
    try:
        async with engine.connect() as conn:
            assert (await conn.scalar(sa.text("PRAGMA journal_mode"))).lower() == "wal"
            assert await conn.scalar(sa.text("PRAGMA foreign_keys")) == 1
    finally:
        await engine.dispose()


async def test_a_request_and_its_outbox_row_commit_together(city_gw):
    form = {"api_key": API_KEY, "service_code": "POT", **INSIDE, "attribute[size]": "small"}
    async with city_gw.http.post(f"{city_gw.url}/open311/v2/requests.json", data=form) as resp:
        assert resp.status == 201
        rid = (await resp.json())[0]["service_request_id"]
    engine = city_gw.stack.app("gateway")[ENGINE]
    async with engine.connect() as conn:
        rows = (await conn.execute(sa.select(t.outbox.c.kind, t.outbox.c.payload, t.outbox.c.delivered_at))).all()
    assert [(kind, json.loads(payload), done) for kind, payload, done in rows] == [
        ("create_request", {"public_id": rid}, None)
    ]


async def test_a_failure_mid_write_leaves_nothing(database_url):
    """Break the outbox insert (the last step): the request, its answers and media roll back with it."""
    async for g in start_gateway(database_url):
        from .conftest import demo_city

        await demo_city(g)
        engine = g.stack.app("gateway")[ENGINE]
        async with engine.begin() as conn:  # a constraint the outbox row cannot meet
            if engine.dialect.name == "sqlite":
                await conn.execute(
                    sa.text("CREATE TRIGGER no_outbox BEFORE INSERT ON outbox BEGIN SELECT RAISE(ABORT, 'down'); END")
                )
            else:
                await conn.execute(sa.text("ALTER TABLE outbox ADD CONSTRAINT no_outbox CHECK (attempts < 0)"))
        form = {"api_key": API_KEY, "service_code": "POT", **INSIDE, "attribute[size]": "small"}
        async with g.http.post(f"{g.url}/open311/v2/requests.json", data=form) as resp:
            assert resp.status == 400  # Open311's "general service error"
            body = await resp.json()
        assert body == [{"code": 400, "description": "General service error"}], "no internals leak"
        async with engine.connect() as conn:
            for table in (t.requests, t.answers, t.media, t.outbox):
                assert await conn.scalar(sa.select(sa.func.count()).select_from(table)) == 0
