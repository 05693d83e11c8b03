"""Every fault kind of the kit over real loopback HTTP (H-SIM-2), including apply-then-fail."""

from __future__ import annotations

import asyncio
import json
import time

import aiohttp
import pytest

from simulators.kit import SimConfig

from .conftest import start_sim

pytestmark = pytest.mark.req("H-SIM-2")


async def add_fault(sim, **rule) -> dict:
    status, body = await sim.control("POST", "faults", json=rule)
    assert status == 201, body
    return body["faults"][0]


async def get_items(sim, **kwargs) -> aiohttp.ClientResponse:
    return await sim.http.get(f"{sim.url}/api/items", **kwargs)


async def item_total(sim) -> int:
    async with sim.http.get(f"{sim.url}/api/items") as resp:
        return (await resp.json())["total"]


async def test_error_fault_answers_in_the_vendor_envelope_for_the_next_n_calls(kit_sim):
    await add_fault(kit_sim, kind="error", status=503, count=2, path="/api/items", message="maintenance")
    statuses = []
    for _ in range(3):
        async with await get_items(kit_sim) as resp:
            statuses.append(resp.status)
            body = await resp.json()
    assert statuses == [503, 503, 200]
    assert "items" in body
    entries = await kit_sim.journal()
    assert [e["fault"]["kind"] if e["fault"] else None for e in entries] == ["error", "error", None]
    assert entries[0]["response_body"] == {"error": {"code": "fault", "message": "maintenance"}}
    assert (await kit_sim.control("GET", "faults"))[1]["faults"] == []  # used up


async def test_fault_scope_is_one_route_method_and_path(kit_sim):
    await add_fault(kit_sim, kind="error", method="POST", path="/api/items")
    async with await get_items(kit_sim) as resp:
        assert resp.status == 200
    async with kit_sim.http.get(f"{kit_sim.url}/api/items/1") as resp:
        assert resp.status == 200
    async with kit_sim.http.post(f"{kit_sim.url}/api/items", json={"title": "t"}) as resp:
        assert resp.status == 500
    await kit_sim.control("DELETE", "faults")
    await add_fault(kit_sim, kind="error", operation="GETITEM")  # operationIds match whatever their case
    async with kit_sim.http.get(f"{kit_sim.url}/api/items/2") as resp:
        assert resp.status == 500
    async with await get_items(kit_sim) as resp:
        assert resp.status == 200


async def test_global_fault_hits_every_route_but_not_the_control_plane(kit_sim):
    await add_fault(kit_sim, kind="error", status=500)
    for path in ("/api/items", "/api/items/1", "/api/broken"):
        async with kit_sim.http.get(kit_sim.url + path) as resp:
            assert resp.status == 500
    status, _ = await kit_sim.control("GET", "state")
    assert status == 200


async def outcome_sequence(sim, n: int) -> list[int]:
    out = []
    for _ in range(n):
        async with await get_items(sim) as resp:
            out.append(resp.status)
    return out


async def test_probability_faults_are_reproducible_from_the_seed():
    runs = []
    for _ in range(2):
        async for sim in start_sim(SimConfig(seed=5)):
            await add_fault(sim, kind="error", probability=0.5)
            runs.append(await outcome_sequence(sim, 60))
    assert runs[0] == runs[1]
    assert 10 < runs[0].count(500) < 50  # it really is random, not all or nothing


async def test_rate_limit_sends_429_with_retry_after(kit_sim):
    await add_fault(kit_sim, kind="rate_limit", retry_after=7, count=1)
    async with await get_items(kit_sim) as resp:
        assert resp.status == 429
        assert resp.headers["Retry-After"] == "7"
        assert (await resp.json())["error"]["code"] == "rate_limited"


async def test_malformed_fault_sends_a_body_that_is_not_json(kit_sim):
    await add_fault(kit_sim, kind="malformed", count=1)
    async with await get_items(kit_sim) as resp:
        assert resp.status == 200 and resp.content_type == "application/json"
        text = await resp.text()
    with pytest.raises(json.JSONDecodeError):
        json.loads(text)


async def test_reset_fault_drops_the_connection_with_a_tcp_reset(kit_sim):
    await add_fault(kit_sim, kind="reset", count=1)
    host, port = kit_sim.url.removeprefix("http://").split(":")
    reader, writer = await asyncio.open_connection(host, int(port))
    writer.write(f"GET /api/items HTTP/1.1\r\nHost: {host}\r\n\r\n".encode())
    await writer.drain()
    with pytest.raises(ConnectionResetError):
        await reader.read()
    writer.close()
    (entry,) = await kit_sim.journal()
    assert entry["status"] is None and entry["fault"]["kind"] == "reset"


async def test_reset_fault_before_the_handler_changes_nothing(kit_sim):
    before = await item_total(kit_sim)
    await add_fault(kit_sim, kind="reset", method="POST", count=1)
    with pytest.raises(aiohttp.ClientConnectionError):
        async with kit_sim.http.post(f"{kit_sim.url}/api/items", json={"title": "never stored"}) as resp:
            await resp.read()
    assert await item_total(kit_sim) == before


async def test_timeout_fault_never_answers_until_the_client_gives_up(kit_sim):
    await add_fault(kit_sim, kind="timeout", count=1, timeout_s=30)
    with pytest.raises(asyncio.TimeoutError):
        async with await get_items(kit_sim, timeout=aiohttp.ClientTimeout(total=0.5)) as resp:
            await resp.read()
    # The simulator notices the client left and journals the call without an answer.
    for _ in range(100):
        entries = await kit_sim.journal()
        if entries:
            break
        await asyncio.sleep(0.05)
    assert entries[0]["status"] is None and entries[0]["fault"]["kind"] == "timeout"
    async with await get_items(kit_sim) as resp:  # the next call is served normally
        assert resp.status == 200


async def test_latency_fault_delays_at_least_the_injected_time(kit_sim):
    await add_fault(kit_sim, kind="latency", latency_ms=300, path="/api/items")
    started = time.perf_counter()
    async with await get_items(kit_sim) as resp:
        assert resp.status == 200
    assert time.perf_counter() - started >= 0.3
    (entry,) = await kit_sim.journal()
    assert entry["fault"] == {"kind": "latency", "rules": [1], "added_latency_ms": 300.0}


async def test_latency_range_combines_with_a_terminal_fault(kit_sim):
    await add_fault(kit_sim, kind="latency", latency_ms=[10, 20])
    await add_fault(kit_sim, kind="error", status=502, count=1)
    async with await get_items(kit_sim) as resp:
        assert resp.status == 502
    (entry,) = await kit_sim.journal()
    assert entry["fault"]["kind"] == "error" and 10 <= entry["fault"]["added_latency_ms"] <= 20


async def test_injected_latency_does_not_block_the_event_loop(kit_sim):
    """300 concurrent calls held 1 s each finish in far less than 300 s: the waits overlap."""
    await add_fault(kit_sim, kind="latency", latency_ms=1000, path="/api/items")
    connector = aiohttp.TCPConnector(limit=0)
    async with aiohttp.ClientSession(connector=connector) as http:

        async def one() -> int:
            async with http.get(f"{kit_sim.url}/api/items") as resp:
                await resp.read()
                return resp.status

        started = time.perf_counter()
        statuses = await asyncio.gather(*(one() for _ in range(300)))
        elapsed = time.perf_counter() - started
    assert statuses == [200] * 300
    assert elapsed < 300 * 1.0 / 10  # serial would be 300 s; overlapped it is about 1 s


@pytest.mark.parametrize("then, expect_status", [("reset", None), ("status", 502)])
async def test_apply_then_fail_commits_the_effect_but_loses_the_answer(kit_sim, then, expect_status):
    before = await item_total(kit_sim)
    await add_fault(kit_sim, kind="apply_then_fail", method="POST", path="/api/items", then=then, count=1)
    if expect_status is None:
        with pytest.raises(aiohttp.ClientConnectionError):
            async with kit_sim.http.post(f"{kit_sim.url}/api/items", json={"title": "lost answer"}) as resp:
                await resp.read()
    else:
        async with kit_sim.http.post(f"{kit_sim.url}/api/items", json={"title": "lost answer"}) as resp:
            assert resp.status == expect_status
            assert "error" in await resp.json()
    assert await item_total(kit_sim) == before + 1  # the item was created all the same
    entry = (await kit_sim.journal(method="POST"))[0]
    assert entry["fault"]["kind"] == "apply_then_fail" and entry["status"] == expect_status


@pytest.mark.parametrize(
    "rule, problem",
    [
        ({"kind": "explode"}, "kind"),
        ({"kind": "latency"}, "latency_ms: required"),
        ({"kind": "latency", "latency_ms": [50, 10]}, "min <= max"),
        ({"kind": "error", "probability": 2}, "probability"),
        ({"kind": "error", "probability": 0.5, "count": 3}, "fault"),
        ({"kind": "error", "status": 99}, "status"),
        ({"kind": "error", "colour": "red"}, "colour"),
        # a rule scoped to an operation the contract lacks could never fire
        ({"kind": "error", "operation": "getItems"}, "'getItems' is no operationId of the kit-test contract"),
        ({"kind": "error", "operation": "getItems"}, "did you mean getItem"),
    ],
)
async def test_invalid_fault_rules_are_refused_and_nothing_is_added(kit_sim, rule, problem):
    status, body = await kit_sim.control("POST", "faults", json=rule)
    assert status == 422 and body["error"]["code"] == "invalid_fault"
    assert problem in body["error"]["message"]
    assert (await kit_sim.control("GET", "faults"))[1]["faults"] == []


async def test_several_rules_are_added_all_or_none_and_removed_one_by_one(kit_sim):
    status, _ = await kit_sim.control("POST", "faults", json=[{"kind": "error"}, {"kind": "nope"}])
    assert status == 422
    assert (await kit_sim.control("GET", "faults"))[1]["faults"] == []
    status, body = await kit_sim.control("POST", "faults", json=[{"kind": "error", "path": "/a"}, {"kind": "reset"}])
    assert status == 201 and len(body["faults"]) == 2
    first = body["faults"][0]["id"]
    assert (await kit_sim.control("DELETE", f"faults/{first}"))[0] == 200
    assert [f["kind"] for f in (await kit_sim.control("GET", "faults"))[1]["faults"]] == ["reset"]
    assert (await kit_sim.control("DELETE", f"faults/{first}"))[0] == 404


async def test_latency_after_the_handler_commits_first_and_answers_late(kit_sim):
    before = await item_total(kit_sim)
    await add_fault(kit_sim, kind="latency", latency_ms=800, after=True, method="POST", path="/api/items", count=1)
    call = asyncio.create_task(kit_sim.http.post(f"{kit_sim.url}/api/items", json={"title": "late answer"}))
    for _ in range(50):  # the item shows while its answer is still on the way
        if await item_total(kit_sim) == before + 1:
            break
        await asyncio.sleep(0.01)
    assert await item_total(kit_sim) == before + 1 and not call.done()
    async with await call as resp:
        assert resp.status in (200, 201)
    entry = (await kit_sim.journal(method="POST"))[0]
    assert entry["fault"]["added_latency_ms"] == 800.0


async def test_only_latency_can_come_after_the_handler(kit_sim):
    status, body = await kit_sim.control("POST", "faults", json={"kind": "error", "after": True})
    assert status == 422 and "after" in json.dumps(body)
