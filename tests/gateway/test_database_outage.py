"""The gateway's database goes away (H-REL-5): on a PostgreSQL server of the test's own, reached through a
TCP fault proxy, the server stopped, new connections refused, open ones cut or stalled. Every write gets a
503 in its API's own format within the database timeout — never a 500, never a hang — nothing of it is
kept, and the same gateway process serves again once the database is back."""

from __future__ import annotations

import asyncio
import json
import time
from collections.abc import AsyncIterator, Iterator
from typing import Any

import asyncpg
import pytest

from conformance.gateway.helpers import INSIDE
from harness.fault_proxy import FaultProxy
from harness.pg_server import PrivatePostgres

from .conftest import API_KEY, Gateway, demo_city, start_gateway

TIMEOUT_S = 1.0  # the gateway's database timeout in these tests


@pytest.fixture(scope="module")
def private_pg() -> Iterator[PrivatePostgres]:
    with PrivatePostgres() as pg:
        yield pg


@pytest.fixture
async def outage_gw(private_pg: PrivatePostgres) -> AsyncIterator[tuple[Gateway, FaultProxy, PrivatePostgres]]:
    async with FaultProxy(private_pg.port) as proxy:
        name = f"outage_{time.monotonic_ns()}"
        admin = await asyncpg.connect(private_pg.url)
        await admin.execute(f'CREATE DATABASE "{name}"')
        await admin.close()
        async for g in start_gateway(f"postgresql://postgres@{proxy.address}/{name}", database_timeout_s=TIMEOUT_S):
            await demo_city(g)
            yield g, proxy, private_pg


async def report(g: Gateway, text: str) -> tuple[int, str, Any]:
    form = {"api_key": API_KEY, "service_code": "SL", **INSIDE, "description": text}
    async with g.http.post(f"{g.url}/open311/v2/requests.json", data=form) as resp:
        return resp.status, resp.headers.get("Retry-After", ""), await resp.text()


async def stored(g: Gateway, text: str) -> int:
    status, _, body = await g.open311("GET", "/requests.json")
    assert status == 200, body
    return sum(1 for r in json.loads(body) if r.get("description") == text)


def assert_open311_unavailable(status: int, retry_after: str, body: str) -> None:
    assert status == 503, body
    assert retry_after.isdigit(), "a 503 says when to try again"
    errors = json.loads(body)
    assert isinstance(errors, list) and errors[0]["code"] == 503 and "unavailable" in errors[0]["description"]


@pytest.mark.req("H-REL-5")
async def test_a_write_while_the_database_is_unreachable_is_a_503_and_then_goes_through(outage_gw):
    g, proxy, _ = outage_gw
    proxy.cut()
    proxy.refuse(30)  # every new connection reset: what a stopped server or a failover looks like
    assert_open311_unavailable(*await report(g, "while down"))
    async with g.http.post(f"{g.url}/admin/v1/agencies", json={"name": "X"}, headers=g.admin_headers) as resp:
        assert resp.status == 503
        assert (await resp.json())["error"]["code"] == "unavailable"
    async with g.http.get(f"{g.url}/portal/v1/me", headers={"Authorization": "Bearer nobody"}) as resp:
        assert resp.status == 503 and (await resp.json())["error"]["code"] == "unavailable"
    page = f"{g.url}/portal/dashboard"
    async with g.http.get(page, cookies={"civic_portal": "x"}, allow_redirects=False) as resp:
        assert resp.status == 503 and resp.content_type == "text/html"
        assert "try again" in (await resp.text()).lower()
    proxy.refuse(0)
    status, _, body = await report(g, "after")  # the same process, no restart
    assert status == 201, body
    assert await stored(g, "while down") == 0 and await stored(g, "after") == 1


@pytest.mark.req("H-REL-5")
async def test_a_stalled_connection_is_a_503_within_the_timeout_not_a_hang(outage_gw):
    g, proxy, _ = outage_gw
    stall = asyncio.create_task(proxy.stall(30))
    await asyncio.sleep(0.05)
    started = time.monotonic()
    assert_open311_unavailable(*await report(g, "stalled"))
    assert time.monotonic() - started < 8 * TIMEOUT_S, "a stalled database must not hold a citizen's request"
    stall.cancel()
    await asyncio.sleep(0.1)
    proxy.cut()  # whatever the stall left half-done
    status, _, body = await report(g, "after the stall")
    assert status == 201, body
    assert await stored(g, "after the stall") == 1


@pytest.mark.req("H-REL-5")
async def test_a_restarted_server_is_used_again_without_restarting_the_gateway(outage_gw):
    g, _, pg = outage_gw
    assert (await report(g, "before"))[0] == 201
    await pg.stop(crash=True)
    try:
        assert_open311_unavailable(*await report(g, "during"))
    finally:
        await pg.start()
    status, _, body = await report(g, "after the restart")  # pooled connections died with the server
    assert status == 201, body
    assert await stored(g, "during") == 0
