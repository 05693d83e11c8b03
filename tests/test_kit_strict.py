"""Strict mode (H-SIM-3): requests checked against the contract, rejected in the vendor's error format,
journaled as violations; the simulator's own answers checked too."""

from __future__ import annotations

import hashlib
import json

import aiohttp
import pytest

from simulators.kit import SimConfig

from .conftest import start_sim

pytestmark = pytest.mark.req("H-SIM-3")


async def item_total(sim) -> int:
    async with sim.http.get(f"{sim.url}/api/items") as resp:
        return (await resp.json())["total"]


@pytest.mark.parametrize(
    "body, location",
    [
        ({}, "body"),
        ({"title": ""}, "body.title"),
        ({"title": 5}, "body.title"),
        ({"title": "ok", "tags": [1]}, "body.tags[0]"),
        ({"title": "ok", "colour": "red"}, "body"),
    ],
)
async def test_a_body_that_breaks_the_contract_is_rejected_and_changes_nothing(kit_sim, body, location):
    before = await item_total(kit_sim)
    async with kit_sim.http.post(f"{kit_sim.url}/api/items", json=body) as resp:
        assert resp.status == 400
        error = (await resp.json())["error"]
    assert error["code"] == "invalid_request" and location in error["message"]
    assert await item_total(kit_sim) == before
    (entry,) = await kit_sim.journal(violations=True)
    assert entry["operation"] == "createItem"
    assert entry["violations"][0]["where"] == "request" and entry["violations"][0]["location"].startswith(location)


async def test_a_body_that_is_not_json_is_rejected(kit_sim):
    headers = {"Content-Type": "application/json"}
    async with kit_sim.http.post(f"{kit_sim.url}/api/items", data=b"{'title': ", headers=headers) as resp:
        assert resp.status == 400
        assert "not valid JSON" in (await resp.json())["error"]["message"]


async def test_wrong_content_type_is_rejected(kit_sim):
    async with kit_sim.http.post(f"{kit_sim.url}/api/items", data={"title": "form"}) as resp:
        assert resp.status == 400
        assert (
            "content type 'application/x-www-form-urlencoded' not accepted" in (await resp.json())["error"]["message"]
        )


@pytest.mark.parametrize("query", [{"limit": "abc"}, {"limit": "0"}, {"offset": "-1"}])
async def test_query_parameters_are_checked_against_their_schema(kit_sim, query):
    async with kit_sim.http.get(f"{kit_sim.url}/api/items", params=query) as resp:
        assert resp.status == 400
    (entry,) = await kit_sim.journal(violations=True)
    assert entry["violations"][0]["location"].startswith("query.")


async def test_a_repeated_check_gives_the_same_verdict_every_time(kit_sim):
    # Results of checks are remembered per input text; each call must still be judged, and journaled alone.
    for _ in range(3):
        async with kit_sim.http.get(f"{kit_sim.url}/api/items", params={"limit": "abc"}) as resp:
            assert resp.status == 400
        async with kit_sim.http.get(f"{kit_sim.url}/api/items", params={"limit": "5"}) as resp:
            assert resp.status == 200
        async with kit_sim.http.get(f"{kit_sim.url}/api/broken") as resp:
            assert resp.status == 200
    entries = await kit_sim.journal(violations=True)
    assert [e["path"] for e in entries] == ["/api/items", "/api/broken"] * 3
    assert [len(e["violations"]) for e in entries] == [len(entries[0]["violations"]), len(entries[1]["violations"])] * 3
    assert all(e["violations"] for e in entries)


async def test_path_parameters_are_checked(kit_sim):
    async with kit_sim.http.get(f"{kit_sim.url}/api/items/first") as resp:
        assert resp.status == 400
        assert "path.item_id" in (await resp.json())["error"]["message"]


async def test_unknown_route_gets_the_vendor_not_found_and_a_violation(kit_sim):
    async with kit_sim.http.get(f"{kit_sim.url}/api/nothing-here") as resp:
        assert resp.status == 404
        assert (await resp.json())["error"]["code"] == "not_found"
    async with kit_sim.http.delete(f"{kit_sim.url}/api/items") as resp:
        assert resp.status == 404
    entries = await kit_sim.journal(violations=True)
    assert "no such operation" in entries[0]["violations"][0]["message"]
    assert "method not allowed" in entries[1]["violations"][0]["message"]


async def test_json_inside_a_form_field_is_checked_against_its_content_schema(kit_sim):
    async with kit_sim.http.post(f"{kit_sim.url}/api/login", data={"data": json.dumps({"LoginName": "a"})}) as resp:
        assert resp.status == 400
    async with kit_sim.http.post(f"{kit_sim.url}/api/login", data={"data": "{nope"}) as resp:
        assert resp.status == 400
    good = {"data": json.dumps({"LoginName": "a", "Password": "b"})}
    async with kit_sim.http.post(f"{kit_sim.url}/api/login", data=good) as resp:
        assert resp.status == 200
    entries = await kit_sim.journal(violations=True)
    assert [v["location"] for e in entries for v in e["violations"]] == ["body.data$", "body.data"]


async def test_lenient_mode_passes_bad_requests_through_but_still_journals_them():
    async for sim in start_sim(SimConfig(strict=False)):
        async with sim.http.post(f"{sim.url}/api/items", json={"title": "ok", "colour": "red"}) as resp:
            assert resp.status == 201
        (entry,) = await sim.journal(violations=True)
        assert entry["status"] == 201 and "colour" in entry["violations"][0]["message"]


async def test_a_response_that_breaks_the_contract_is_caught(kit_sim):
    async with kit_sim.http.get(f"{kit_sim.url}/api/broken") as resp:
        assert resp.status == 200
    (entry,) = await kit_sim.journal(violations=True)
    assert {v["where"] for v in entry["violations"]} == {"response"}


async def test_multipart_upload_arrives_byte_exact_and_is_journaled_as_a_summary(kit_sim):
    payload = bytes(range(256)) * 400
    form = aiohttp.FormData()
    form.add_field("note", "photo of the pothole")
    form.add_field("file", payload, filename="pothole.jpg", content_type="image/jpeg")
    async with kit_sim.http.post(f"{kit_sim.url}/api/upload", data=form) as resp:
        assert resp.status == 200
        assert await resp.json() == {"size": len(payload), "sha256": hashlib.sha256(payload).hexdigest()}
    (entry,) = await kit_sim.journal(method="POST")
    assert entry["body"] == {"note": "photo of the pothole", "file": "<file 'pothole.jpg', image/jpeg>"}
    assert entry["body_size"] > len(payload)


async def test_a_multipart_upload_without_its_required_file_is_rejected(kit_sim):
    form = aiohttp.FormData()
    form.add_field("note", "no photo")
    form.add_field("other", b"x", filename="x.bin")
    async with kit_sim.http.post(f"{kit_sim.url}/api/upload", data=form) as resp:
        assert resp.status == 400
        assert "file" in (await resp.json())["error"]["message"]


async def test_an_oversized_body_is_refused_in_the_vendor_format_and_journaled():
    async for sim in start_sim(SimConfig(max_body_bytes=1024)):
        before = await item_total(sim)
        async with sim.http.post(f"{sim.url}/api/items", json={"title": "x" * 5000}) as resp:
            assert resp.status == 413
            assert (await resp.json())["error"]["code"] == "too_large"
        assert await item_total(sim) == before
        (entry,) = await sim.journal(violations=True)
        assert entry["status"] == 413 and entry["body_size"] > 5000
