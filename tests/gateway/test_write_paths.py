"""The gateway's write paths under concurrency: group commit (one transaction for the writes waiting
together, each caller answered only once its write is committed, one bad item failing alone), one writer at a
time on SQLite, and the in-memory catalog noticing every committed change."""

from __future__ import annotations

import asyncio
import json

import pytest
import sqlalchemy as sa

from gateway.appkeys import CATALOG, ENGINE, JOBS
from gateway.storage import schema as t
from gateway.storage.engine import make_engine, migrate
from gateway.storage.group_commit import GroupCommit

from .conftest import API_KEY
from .test_open311 import INSIDE, OUTSIDE

NOTES = sa.Table(
    "group_commit_notes",
    sa.MetaData(),
    sa.Column("id", sa.Integer, primary_key=True),
    sa.Column("text", sa.String(20), nullable=False),
)


async def insert_notes(conn, texts):
    result = await conn.execute(
        NOTES.insert().returning(NOTES.c.id, NOTES.c.text, sort_by_parameter_order=True), [{"text": x} for x in texts]
    )
    return [tuple(r) for r in result]


@pytest.fixture
async def notes_engine(database_url):
    engine = make_engine(database_url)
    await migrate(engine)
    async with engine.begin() as conn:
        await conn.run_sync(NOTES.metadata.create_all)
    yield engine
    await engine.dispose()


async def all_notes(engine) -> list[str]:
    async with engine.connect() as conn:
        return [r.text for r in await conn.execute(sa.select(NOTES.c.text).order_by(NOTES.c.id))]


async def test_callers_waiting_together_share_one_transaction_and_each_gets_its_own_result(notes_engine):
    group = GroupCommit(notes_engine, insert_notes)
    texts = [f"note {i}" for i in range(20)]
    results = await asyncio.gather(*(group(x) for x in texts))
    assert [text for _, text in results] == texts  # each caller's own row, in its own order
    assert len({ident for ident, _ in results}) == 20
    assert group.transactions == 1
    assert await all_notes(notes_engine) == texts  # committed before anyone was answered


async def test_one_bad_item_fails_its_own_caller_only(notes_engine):
    group = GroupCommit(notes_engine, insert_notes)
    texts = ["first", "second", None, "fourth"]  # None breaks NOT NULL: the batch's transaction rolls back
    results = await asyncio.gather(*(group(x) for x in texts), return_exceptions=True)
    assert isinstance(results[2], sa.exc.IntegrityError)
    assert [r[1] for i, r in enumerate(results) if i != 2] == ["first", "second", "fourth"]
    assert await all_notes(notes_engine) == ["first", "second", "fourth"]  # once each, the bad one never
    assert group.transactions == 3  # the failed batch, then each good item alone


async def test_later_callers_are_written_in_the_next_transaction(notes_engine):
    group = GroupCommit(notes_engine, insert_notes)
    first = await asyncio.gather(*(group(f"a{i}") for i in range(3)))
    second = await asyncio.gather(*(group(f"b{i}") for i in range(3)))
    assert [x for _, x in first + second] == ["a0", "a1", "a2", "b0", "b1", "b2"]
    assert group.transactions == 2


@pytest.mark.parametrize("database_url", ["sqlite"], indirect=True)
async def test_a_write_transaction_inside_another_is_refused_rather_than_waiting_forever(database_url):
    engine = make_engine(database_url)
    try:
        async with engine.begin():
            with pytest.raises(RuntimeError, match="inside another"):
                async with engine.begin():
                    pass
        async with engine.begin() as conn:  # the lock was released
            assert await conn.scalar(sa.text("SELECT 1")) == 1
    finally:
        await engine.dispose()


@pytest.mark.parametrize("database_url", ["sqlite"], indirect=True)
async def test_sqlite_writers_take_turns(notes_engine):
    inside, most = 0, 0

    async def writer(i: int) -> None:
        nonlocal inside, most
        async with notes_engine.begin() as conn:
            inside += 1
            most = max(most, inside)
            await conn.execute(NOTES.insert().values(text=f"w{i}"))
            await asyncio.sleep(0.01)  # another writer would get in here if it could
            inside -= 1

    await asyncio.gather(*(writer(i) for i in range(8)))
    assert most == 1
    assert sorted(await all_notes(notes_engine)) == sorted(f"w{i}" for i in range(8))


async def test_the_catalog_version_moves_only_when_a_catalog_table_is_written(notes_engine):
    start = notes_engine.catalog_version
    async with notes_engine.begin() as conn:
        await conn.execute(NOTES.insert().values(text="not the catalog"))
    assert notes_engine.catalog_version == start
    async with notes_engine.begin() as conn:
        await conn.execute(t.categories.update().where(t.categories.c.id == -1).values(active=False))
    assert notes_engine.catalog_version == start + 1


async def report(gw) -> int:
    form = {"api_key": API_KEY, "service_code": "POT", **INSIDE, "attribute[size]": "small"}
    async with gw.http.post(f"{gw.url}/open311/v2/requests.json", data=form) as resp:
        return resp.status


async def test_a_catalog_change_through_the_admin_api_is_seen_by_the_next_report(city_gw):
    assert await report(city_gw) == 201  # the service is now held in memory
    await city_gw.ok("PATCH", f"/categories/{city_gw.ids['pothole']}", json={"public": False})
    assert await report(city_gw) == 404
    await city_gw.ok("PATCH", f"/categories/{city_gw.ids['pothole']}", json={"public": True})
    assert await report(city_gw) == 201


async def test_a_change_made_by_another_instance_is_seen_once_the_copy_is_old(city_gw, database_url):
    catalog = city_gw.stack.app("gateway")[CATALOG]
    catalog.max_age_s = 0.5
    assert await report(city_gw) == 201
    other = make_engine(database_url)  # another instance's connection to the same database
    try:
        async with other.begin() as conn:
            await conn.execute(t.categories.update().where(t.categories.c.code == "POT").values(active=False))
    finally:
        await other.dispose()
    await asyncio.sleep(0.6)
    assert await report(city_gw) == 404
    engine = city_gw.stack.app("gateway")[ENGINE]
    async with engine.connect() as conn:
        assert await conn.scalar(sa.select(sa.func.count()).select_from(t.requests)) == 1


async def test_a_delivery_run_out_of_time_says_so_and_the_scheduler_goes_on_at_once(city_gw):
    delivery = city_gw.stack.app("gateway")[JOBS].delivery
    for _ in range(3):
        assert await report(city_gw) == 201
    assert await delivery.run(budget_s=0) == {"delivered": 0, "skipped": 0, "retry": 0, "dead": 0}
    assert delivery.cut_short  # rows may be due: the scheduler does not wait a tick before the next run
    counts = await delivery.run(budget_s=20)
    assert counts["skipped"] == 3  # the demo category is not integrated: recorded as not sent
    assert not delivery.cut_short  # drained: the scheduler waits for its next tick
    assert (await city_gw.ok("GET", "/outbox?state=pending"))["items"] == []


async def test_the_services_listing_comes_from_memory_and_shows_an_admin_change_at_once(city_gw):
    engine = city_gw.stack.app("gateway")[ENGINE]

    async def codes(params: dict[str, str] | None = None) -> list[str]:
        status, _, text = await city_gw.open311("GET", "/services.json", params=params)
        assert status == 200
        return [s["service_code"] for s in json.loads(text)]

    everywhere, here, elsewhere = await codes(), await codes(INSIDE), await codes(OUTSIDE)  # loads the copy
    assert "POT" in everywhere and "POT" in here and "POT" not in elsewhere
    statements: list[str] = []

    def count(conn, cursor, statement, *args):
        statements.append(statement)

    sa.event.listen(engine.sync_engine, "before_cursor_execute", count)
    try:
        assert (await codes(), await codes(INSIDE), await codes(OUTSIDE)) == (everywhere, here, elsewhere)
    finally:
        sa.event.remove(engine.sync_engine, "before_cursor_execute", count)
    assert statements == []  # steady state: nothing read

    await city_gw.ok("PATCH", f"/categories/{city_gw.ids['pothole']}", json={"public": False})
    assert "POT" not in await codes() and "POT" not in await codes(INSIDE)
    await city_gw.ok("PATCH", f"/categories/{city_gw.ids['pothole']}", json={"public": True})
    assert await codes() == everywhere and await codes(INSIDE) == here
