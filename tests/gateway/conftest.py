"""The reference gateway over real loopback HTTP, on a real SQLite file and a real PostgreSQL database
(every storage-touching test runs on both)."""

from __future__ import annotations

import os
import uuid
from collections.abc import AsyncIterator
from typing import Any

import aiohttp
import asyncpg
import pytest

from conformance.gateway.client import Gateway, city_geojson
from gateway.settings import Settings
from harness.stack import Stack

# The local PostgreSQL (trust auth); each test gets a database of its own, dropped afterwards.
PG_ADMIN_URL = os.environ.get("CIVIC_HARNESS_TEST_PG", "postgresql://postgres@127.0.0.1:5432/test")
ADMIN_TOKEN = "test-admin-token-0123456789"
API_KEY = "test-api-key-0001"
BACKENDS = ["sqlite", "postgres"]


async def fresh_postgres() -> AsyncIterator[str]:
    name = f"civic_test_{uuid.uuid4().hex[:12]}"
    admin = await asyncpg.connect(PG_ADMIN_URL)
    try:
        await admin.execute(f'CREATE DATABASE "{name}"')
    finally:
        await admin.close()
    base = PG_ADMIN_URL.rsplit("/", 1)[0]
    yield f"{base}/{name}"
    admin = await asyncpg.connect(PG_ADMIN_URL)
    try:
        await admin.execute(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')
    finally:
        await admin.close()


@pytest.fixture(params=BACKENDS)
async def database_url(request: pytest.FixtureRequest, tmp_path: Any) -> AsyncIterator[str]:
    if request.param == "sqlite":
        yield f"sqlite:///{tmp_path / 'gateway.db'}"
        return
    async for url in fresh_postgres():
        yield url


async def start_gateway(database_url: str, **options: Any) -> AsyncIterator[Gateway]:
    # Jobs run when a test says so (the scheduler has its own test), so nothing races a test's own calls.
    options = {"scheduler_tick_s": 0, **options}
    settings = Settings(database_url=database_url, admin_token=ADMIN_TOKEN, api_keys=(API_KEY,), **options)
    async with Stack({}, gateway=settings) as stack, aiohttp.ClientSession() as http:
        gateway = Gateway(stack.url("gateway"), http, settings.admin_token, API_KEY)
        gateway.stack = stack  # type: ignore[attr-defined]  # tests reach into the running app
        yield gateway


@pytest.fixture
async def gw(database_url: str) -> AsyncIterator[Gateway]:
    async for g in start_gateway(database_url):
        yield g


async def demo_city(g: Gateway) -> Gateway:
    """Harnessville with one agency, a pothole category (a public list question, a private e-mail question)
    and a streetlight category."""
    status, geography = await g.upload_geography("Harnessville", "city.geojson", city_geojson())
    assert status == 201, geography
    agency = await g.ok("POST", "/agencies", json={"name": "Public Works", "geography_id": geography["id"]})
    pothole = await g.ok(
        "POST", "/categories", json={"code": "POT", "name": "Pothole", "group": "Streets", "agency_ids": [agency["id"]]}
    )
    light = await g.ok(
        "POST", "/categories", json={"code": "SL", "name": "Streetlight out", "agency_ids": [agency["id"]]}
    )
    size = {
        "code": "size",
        "text": "How big is it?",
        "datatype": "singlevaluelist",
        "required": True,
        "choices": [{"key": "small", "name": "Small"}, {"key": "large", "name": "Large"}],
    }
    await g.ok("POST", f"/categories/{pothole['id']}/questions", json=size)
    private = {"code": "contact", "text": "Your e-mail for updates?", "datatype": "string", "public": False}
    await g.ok("POST", f"/categories/{pothole['id']}/questions", json=private)
    g.ids.update(geography=geography["id"], agency=agency["id"], pothole=pothole["id"], light=light["id"])
    return g


@pytest.fixture
async def city_gw(gw: Gateway) -> Gateway:
    return await demo_city(gw)


__all__ = ["API_KEY", "Gateway", "city_geojson", "demo_city"]
