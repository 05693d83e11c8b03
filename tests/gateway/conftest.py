"""The reference gateway over real loopback HTTP, on a real SQLite file and a real PostgreSQL database
(every storage-touching test runs on both)."""

from __future__ import annotations

import json
import os
import uuid
from collections.abc import AsyncIterator
from dataclasses import dataclass, field
from typing import Any

import aiohttp
import asyncpg
import pytest
from shapely.geometry import mapping

from gateway.settings import Settings
from harness.stack import Stack
from simulators.kit import city

# The local PostgreSQL (trust auth); each test gets a database of its own, dropped afterwards.
PG_ADMIN_URL = os.environ.get("CIVIC_HARNESS_TEST_PG", "postgresql://postgres@127.0.0.1:5432/test")
ADMIN_TOKEN = "test-admin-token-0123456789"
API_KEY = "test-api-key-0001"
BACKENDS = ["sqlite", "postgres"]


@pytest.fixture(params=BACKENDS)
async def database_url(request: pytest.FixtureRequest, tmp_path: Any) -> AsyncIterator[str]:
    if request.param == "sqlite":
        yield f"sqlite:///{tmp_path / 'gateway.db'}"
        return
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


@dataclass
class Gateway:
    url: str
    http: aiohttp.ClientSession
    settings: Settings
    stack: Stack
    ids: dict[str, Any] = field(default_factory=dict)

    @property
    def admin_headers(self) -> dict[str, str]:
        return {"Authorization": f"Bearer {self.settings.admin_token}"}

    async def admin(self, method: str, path: str, **kwargs: Any) -> tuple[int, Any]:
        headers = {**self.admin_headers, **kwargs.pop("headers", {})}
        async with self.http.request(method, f"{self.url}/admin/v1{path}", headers=headers, **kwargs) as resp:
            text = await resp.text()
            return resp.status, (json.loads(text) if text else None)

    async def ok(self, method: str, path: str, **kwargs: Any) -> Any:
        status, body = await self.admin(method, path, **kwargs)
        assert status in (200, 201, 204), (status, body)
        return body

    async def upload_geography(self, name: str, filename: str, data: bytes) -> tuple[int, Any]:
        form = aiohttp.FormData()
        form.add_field("name", name)
        form.add_field("file", data, filename=filename)
        return await self.admin("POST", "/geographies", data=form)

    async def open311(self, method: str, path: str, **kwargs: Any) -> tuple[int, str, str]:
        async with self.http.request(method, f"{self.url}/open311/v2{path}", **kwargs) as resp:
            return resp.status, resp.content_type, await resp.text()


def city_geojson() -> bytes:
    return json.dumps({"type": "Feature", "properties": {}, "geometry": mapping(city.BOUNDARY)}).encode()


async def start_gateway(database_url: str, **options: Any) -> AsyncIterator[Gateway]:
    # Jobs run when a test says so (the scheduler has its own test), so nothing races a test's own calls.
    options = {"scheduler_tick_s": 0, **options}
    settings = Settings(database_url=database_url, admin_token=ADMIN_TOKEN, api_keys=(API_KEY,), **options)
    async with Stack({}, gateway=settings) as stack, aiohttp.ClientSession() as http:
        yield Gateway(stack.url("gateway"), http, settings, stack)


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
