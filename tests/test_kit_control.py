"""The /_sim control plane of the kit: reset, seed determinism, state, actions (H-SIM-1)."""

from __future__ import annotations

import aiohttp
import pytest

from harness.stack import Stack
from simulators.kit import SimConfig

from .conftest import KIT_SIM, start_sim

pytestmark = pytest.mark.req("H-SIM-1")


async def test_same_seed_gives_identical_data_and_another_seed_does_not(kit_sim):
    status, first = await kit_sim.control("POST", "seed", json={"seed": 7, "items": 40})
    assert status == 200 and first["counts"] == {"items": 40}
    digest_7 = await kit_sim.digest()

    await kit_sim.control("POST", "seed", json={"seed": 8, "items": 40})
    assert await kit_sim.digest() != digest_7

    await kit_sim.control("POST", "seed", json={"seed": 7, "items": 40})
    assert await kit_sim.digest() == digest_7
    async with kit_sim.http.get(f"{kit_sim.url}/api/items", params={"limit": 100}) as resp:
        items = (await resp.json())["items"]
    assert len(items) == 40 and len({i["title"] for i in items}) > 1


async def test_two_simulators_with_one_seed_agree_byte_for_byte():
    digests = []
    for _ in range(2):
        async for sim in start_sim(SimConfig(seed=42)):
            digests.append(await sim.digest())
    assert digests[0] == digests[1]


@pytest.mark.parametrize(
    "payload, problem",
    [
        ({"seed": 1, "widgets": 3}, "widgets: unknown size"),
        ({"seed": 1, "items": -1}, "items: must be an integer"),
        ({"seed": 1, "items": "many"}, "items: must be an integer"),
        ({"seed": "x"}, "seed: must be an integer"),
        ([1, 2], "body must be a JSON object"),
    ],
)
async def test_bad_seed_request_is_refused_and_changes_nothing(kit_sim, payload, problem):
    before = await kit_sim.digest()
    status, body = await kit_sim.control("POST", "seed", json=payload)
    assert status == 422
    assert body["error"]["code"] == "invalid_seed" and problem in body["error"]["message"]
    assert await kit_sim.digest() == before


async def test_control_plane_answers_bad_json_in_its_own_error_shape(kit_sim):
    status, body = await kit_sim.control(
        "POST", "faults", data=b"{not json", headers={"Content-Type": "application/json"}
    )
    assert status == 400 and body["error"]["code"] == "invalid_json"


async def test_reset_returns_to_the_start_state_and_clears_faults_and_journal(kit_sim):
    start = await kit_sim.digest()
    async with kit_sim.http.post(f"{kit_sim.url}/api/items", json={"title": "pothole"}) as resp:
        assert resp.status == 201
    await kit_sim.control("POST", "faults", json={"kind": "error", "path": "/api/nothing"})
    assert await kit_sim.digest() != start

    status, body = await kit_sim.control("POST", "reset")
    assert status == 200 and body["counts"] == {"items": 20}
    assert await kit_sim.digest() == start
    assert (await kit_sim.control("GET", "faults"))[1]["faults"] == []
    assert await kit_sim.journal() == []


async def test_info_describes_the_simulator_without_passwords():
    async for sim in start_sim(SimConfig(users=(("clerk", "s3cret-pw"),))):
        status, body = await sim.control("GET", "")
        assert status == 200
        assert body["simulator"] == "kit-test" and body["config"]["users"] == ["clerk"]
        assert "s3cret-pw" not in str(body)
        assert body["actions"] == ["rename-item"] and body["seed_sizes"] == {"items": 20}


async def test_operator_action_changes_state_and_is_journaled(kit_sim):
    status, body = await kit_sim.control("POST", "actions/rename-item", json={"id": 3, "title": "Renamed by a clerk"})
    assert status == 200 and body["result"]["title"] == "Renamed by a clerk"
    async with kit_sim.http.get(f"{kit_sim.url}/api/items/3") as resp:
        assert (await resp.json())["title"] == "Renamed by a clerk"
    entries = await kit_sim.journal(source="operator")
    assert [e["operation"] for e in entries] == ["action:rename-item"]
    assert entries[0]["body"] == {"id": 3, "title": "Renamed by a clerk"} and entries[0]["status"] == 200


@pytest.mark.parametrize(
    "name, payload, status, code",
    [
        ("rename-item", {"id": 3}, 422, "invalid_payload"),
        ("rename-item", {"id": "3", "title": "x"}, 422, "invalid_payload"),
        ("rename-item", {"id": 999, "title": "x"}, 404, "not_found"),
        ("explode", {}, 404, "no_such_action"),
    ],
)
async def test_bad_operator_actions_are_refused_and_change_nothing(kit_sim, name, payload, status, code):
    before = await kit_sim.digest()
    got, body = await kit_sim.control("POST", f"actions/{name}", json=payload)
    assert (got, body["error"]["code"]) == (status, code)
    assert await kit_sim.digest() == before


async def test_actions_are_listed_with_their_payload_schema(kit_sim):
    status, body = await kit_sim.control("GET", "actions")
    assert status == 200
    (action,) = body["actions"]
    assert action["name"] == "rename-item" and action["schema"]["required"] == ["id", "title"]


@pytest.mark.parametrize("name", [KIT_SIM, "cityworks", "opengov"])  # routes by path; one catch-all vendor route
async def test_control_paths_no_route_takes_get_the_control_planes_404_and_405(name):
    async with Stack({name: None}) as stack, aiohttp.ClientSession() as http:
        base = stack.url(name)
        async with http.get(f"{base}/_sim/no-such-thing") as resp:
            assert resp.status == 404  # a catch-all vendor route took this once and failed with a 500
            assert (await resp.json())["error"]["code"] == "not_found"
        async with http.get(f"{base}/_sim") as resp:
            assert resp.status == 404 and (await resp.json())["error"]["code"] == "not_found"
        async with http.put(f"{base}/_sim/faults") as resp:
            assert resp.status == 405 and resp.headers["Allow"] == "DELETE,GET,HEAD,POST"
            assert (await resp.json())["error"]["code"] == "method_not_allowed"
        assert len(stack.journal(name)) == 0  # control calls are not vendor traffic
        async with http.get(f"{base}/_simulated") as resp:  # not the control plane: a vendor path
            assert resp.status == 404
        assert [e.path for e in stack.journal(name).select()] == ["/_simulated"]


async def test_a_call_no_route_takes_is_answered_like_the_router_in_the_vendor_format_and_journaled():
    async for sim in start_sim(SimConfig(seed=1, strict=False)):  # lenient: the call reaches the router's verdict
        async with sim.http.put(f"{sim.url}/api/items") as resp:
            assert resp.status == 405
            assert (await resp.json())["error"]["code"] == "method_not_allowed"
        async with sim.http.get(f"{sim.url}/api/nothing/here\nat-all") as resp:
            assert resp.status == 404
            assert (await resp.json())["error"]["code"] == "not_found"
        entries = sim.stack.journal(KIT_SIM).select()
        assert [(e.method, e.status) for e in entries] == [("PUT", 405), ("GET", 404)]
        assert all(e.violations for e in entries)  # each noted as outside the contract
