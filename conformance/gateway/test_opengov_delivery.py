"""The gateway and OpenGov EAM in step: request issues as categories (OG-CAT-1), one OpenGov request per public
request with the coordinates, the citizen's and the geocoder's address (OG-REQ-1, GEO-1, GEO-2), requesters
matched or created once with the defaults or keyed answers (OG-RQR-1..3), public comments once (OG-COM-1) —
also when OpenGov applies a call and the answer is lost."""

from __future__ import annotations

import asyncio
import json
from typing import Any

import aiohttp
import pytest

from .client import Gateway
from .helpers import INSIDE, PNG, deliver_all, fault, sim, submit, synced

REQUESTS = "cgRequestsClass"
AUTH = {"Authorization": aiohttp.encode_basic_auth("harness", "harness")}


async def og_records(g: Gateway, class_name: str, filter: str) -> list[dict[str, Any]]:
    async with g.http.get(
        f"{g.ids['opengov']}/api/v1/classes/{class_name}", params={"filter": filter, "limit": "1000"}, headers=AUTH
    ) as resp:
        body = await resp.json()
        assert resp.status == 200, body
        return body[class_name]


async def og_request(g: Gateway, rid: str) -> list[dict[str, Any]]:
    return await og_records(g, REQUESTS, f'(([IntegrationID] is equal to "{rid}"))')


async def post(g: Gateway, code: str, **fields: str) -> str:
    form = {"api_key": g.api_key, "service_code": code, **INSIDE, "address_string": "Near city hall", **fields}
    status, _, text = await g.open311("POST", "/requests.json", data=form)
    assert status == 201, text
    return json.loads(text)[0]["service_request_id"]


@pytest.mark.req("OG-CAT-1")
async def test_request_issues_become_categories(og_linked):
    g = og_linked
    first = await g.run("category_sync", integration_id=g.ids["integration"])
    assert first["status"] == "ok", first
    upstream = await og_records(
        g, "cgRequestIssuesClass", "(([Inactive] is equal to false) AND ([Public] is equal to true))"
    )
    ours = {c["vendor_id"]: c for c in await synced(g)}
    assert set(ours) == {str(i["Oid"]) for i in upstream}
    retired = upstream[0]["Oid"]
    await sim(g.http, g.ids["opengov"], "retire-issue", Oid=retired)
    second = await g.run("category_sync", integration_id=g.ids["integration"])
    assert second["counts"]["retired"] == 1
    _, _, text = await g.open311("GET", "/services.json")
    assert ours[str(retired)]["code"] not in {s["service_code"] for s in json.loads(text)}


@pytest.mark.req("OG-REQ-1", "GEO-1", "GEO-2")
@pytest.mark.parametrize("failing", [None, "apply_then_fail"])
async def test_each_request_reaches_opengov_once_with_both_addresses(og_linked, failing):
    g = og_linked
    await g.run("category_sync", integration_id=g.ids["integration"])
    code = (await synced(g))[0]["code"]
    if failing:
        await fault(
            g.http,
            g.ids["opengov"],
            kind="apply_then_fail",
            method="POST",
            path="/api/v1/classes/cgRequestsClass",
            count=1,
            then="reset",
        )
    rid = await post(g, code, email="ada@example.org")
    await deliver_all(g)
    (record,) = await og_request(g, rid)
    assert record["CgShape"]["Points"][0] == {"Lat": float(INSIDE["lat"]), "Lng": float(INSIDE["long"])}
    assert record["LocationDescriptionField"] == "Near city hall"  # what the citizen typed
    assert record["AddressField"].startswith("1 Civic Center Plaza")  # what the geocoder said (GEO-1)


@pytest.mark.req("OG-REQ-1")
async def test_a_category_without_the_integration_stays_local(og_linked):
    g = og_linked
    code = f"LOCAL{g.ids['tag']}"
    await g.ok("POST", "/categories", json={"code": code, "name": "Local", "agency_ids": [g.ids["agency"]]})
    rid = await post(g, code)
    await deliver_all(g)
    assert await og_request(g, rid) == []


@pytest.mark.req("OG-RQR-1", "OG-RQR-2")
async def test_requesters_are_matched_by_email_and_created_once(og_linked):
    g = og_linked
    await g.run("category_sync", integration_id=g.ids["integration"])
    code = (await synced(g))[0]["code"]
    email = f"grace.{g.ids['tag']}@example.org"
    first = await post(g, code, email=email, first_name="Grace", last_name="Hopper")
    second = await post(g, code, email=email.upper())
    await deliver_all(g)
    people = await og_records(g, "cgRequestersClass", f'(([Email] is equal to "{email}"))')
    assert [(p["FirstNameField"], p["LastNameField"]) for p in people] == [("SeeClickFix", "User")]
    links = {(await og_request(g, rid))[0]["RequesterOidField"] for rid in (first, second)}
    assert links == {people[0]["Oid"]}


@pytest.mark.req("OG-RQR-3")
async def test_keyed_private_answers_fill_the_requester(og_linked):
    g = og_linked
    await g.run("category_sync", integration_id=g.ids["integration"])
    category = (await synced(g))[0]
    question = {
        "code": "first",
        "text": "Your first name",
        "datatype": "string",
        "public": False,
        "integration_key": "FirstNameField",
    }
    await g.ok("POST", f"/categories/{category['id']}/questions", json=question)
    email = f"ada.{g.ids['tag']}@example.org"
    rid = await post(g, category["code"], email=email, **{"attribute[first]": "Ada"})
    await deliver_all(g)
    people = await og_records(g, "cgRequestersClass", f'(([Email] is equal to "{email}"))')
    assert [(p["FirstNameField"], p["LastNameField"]) for p in people] == [("Ada", "User")]
    assert (await og_request(g, rid))[0]["RequesterOidField"] == people[0]["Oid"]


@pytest.mark.req("OG-COM-1")
@pytest.mark.parametrize("failing", [None, "apply_then_fail"])
async def test_each_public_comment_reaches_opengov_once(og_linked, failing):
    g = og_linked
    await g.run("category_sync", integration_id=g.ids["integration"])
    rid = await post(g, (await synced(g))[0]["code"])
    await deliver_all(g)
    if failing:
        await fault(
            g.http,
            g.ids["opengov"],
            kind="apply_then_fail",
            method="POST",
            path="/api/v1/classes/*/*/*",
            count=1,
            then="status",
            status=502,
        )
    for text in ("First note", "Second note"):
        status, _, body = await g.open311(
            "POST", f"/requests/{rid}/comments.json", data={"api_key": g.api_key, "description": text}
        )
        assert status == 201, body
    await deliver_all(g)
    (record,) = await og_request(g, rid)
    async with g.http.get(
        f"{g.ids['opengov']}/api/v1/classes/{REQUESTS}/{record['Oid']}/cgRequests_cgCommentsClass", headers=AUTH
    ) as resp:
        comments = (await resp.json())["cgRequests_cgCommentsClass"]
    assert [(c["CommentField"], c["PublicField"]) for c in comments] == [("First note", True), ("Second note", True)]


@pytest.mark.req("OG-UPD-1", "OG-UPD-3", "OG-COM-2", "OG-UPD-2")
async def test_status_public_comments_and_rules_come_back(og_linked):
    g = og_linked
    og = g.ids["opengov"]
    await g.run("category_sync", integration_id=g.ids["integration"])
    rule = {"field": "TasksField", "operator": ">=", "value": "1", "message": "A work task has been created."}
    await g.ok("POST", f"/integrations/{g.ids['integration']}/comment-rules", json=rule)
    rid = await post(g, (await synced(g))[0]["code"])
    status, _, text = await g.open311(
        "POST", f"/requests/{rid}/comments.json", data={"api_key": g.api_key, "description": "Mine, sent over"}
    )
    assert status == 201, text
    await deliver_all(g)
    (record,) = await og_request(g, rid)
    oid = record["Oid"]
    await sim(g.http, og, "add-comment", Oid=oid, text="We are on it.", public=True)
    await sim(g.http, og, "add-comment", Oid=oid, text="Internal: call the contractor", public=False)

    async def poll() -> dict:
        return await g.run("status_poll", integration_id=g.ids["integration"])  # on demand (OG-UPD-3)

    async def public_comments() -> list[str]:
        _, _, body = await g.open311("GET", f"/requests/{rid}/comments.json")
        return [c["description"] for c in json.loads(body)]

    await sim(g.http, og, "set-fields", Oid=oid, TasksField=1)
    await poll()
    await poll()  # the rule still holds: no second message
    await sim(g.http, og, "set-fields", Oid=oid, TasksField=0)
    await poll()
    await sim(g.http, og, "set-fields", Oid=oid, TasksField=2)
    await poll()  # false -> true again: a second message
    assert await public_comments() == [
        "Mine, sent over",  # ours, never imported back
        "We are on it.",  # public only (OG-COM-2)
        "A work task has been created.",
        "A work task has been created.",
    ]
    await sim(g.http, og, "close-request", Oid=oid)
    await poll()
    _, _, body = await g.open311("GET", f"/requests/{rid}.json")
    assert json.loads(body)[0]["status"] == "closed"


@pytest.mark.req("OG-REQ-2")
async def test_requests_entered_in_opengov_become_public_once(og_linked):
    g = og_linked
    og = g.ids["opengov"]
    await g.run("category_sync", integration_id=g.ids["integration"])
    await g.ok("PATCH", f"/agencies/{g.ids['agency']}", json={"importer_enabled": True})
    category = (await synced(g))[0]
    ours = await post(g, category["code"])
    await deliver_all(g)
    lat, lon = float(INSIDE["lat"]), float(INSIDE["long"])
    issue = category["name"]
    await sim(g.http, og, "create-request", IssueField=issue, DescriptionField="Phoned in", lat=lat, long=lon)
    await sim(g.http, og, "create-request", IssueField=issue, DescriptionField="Elsewhere", lat=35.9, long=-78.9)

    async def public() -> dict[str, dict]:
        _, _, text = await g.open311("GET", "/requests.json", params={"page_size": "1000"})
        return {r["service_request_id"]: r for r in json.loads(text)}

    before = await public()
    first = await g.run("import", integration_id=g.ids["integration"])
    assert first["status"] == "ok", first
    new = [r for rid, r in (await public()).items() if rid not in before]
    descriptions = [r["description"] for r in new]
    assert descriptions.count("Phoned in") == 1 and "Elsewhere" not in descriptions
    assert ours not in {r["service_request_id"] for r in new} and first["counts"]["ours"] >= 1
    second = await g.run("import", integration_id=g.ids["integration"])
    assert second["counts"]["imported"] == 0


@pytest.mark.req("OG-REQ-1")
async def test_a_photo_reaches_opengov_byte_for_byte(og_linked):
    g = og_linked
    await g.run("category_sync", integration_id=g.ids["integration"])
    rid = await submit(g, (await synced(g))[0]["code"])  # with a photo
    await deliver_all(g)
    (record,) = await og_request(g, rid)
    child = "cgRequests_cgAttachmentsClass"
    async with g.http.get(
        f"{g.ids['opengov']}/api/v1/classes/{REQUESTS}/{record['Oid']}/{child}", headers=AUTH
    ) as resp:
        (attachment,) = (await resp.json())[child]
    async with g.http.get(f"{g.ids['opengov']}/api/v1/attachments/{child}/{attachment['Oid']}", headers=AUTH) as resp:
        assert await resp.read() == PNG


@pytest.mark.req("OG-RQR-1")
async def test_concurrent_reports_from_one_address_make_one_requester(og_linked):
    g = og_linked
    await g.run("category_sync", integration_id=g.ids["integration"])
    code = (await synced(g))[0]["code"]
    email = f"many.{g.ids['tag']}@example.org"
    rids = await asyncio.gather(*(post(g, code, email=email if n % 2 else email.upper()) for n in range(8)))
    await asyncio.gather(g.run("deliver_outbox"), g.run("deliver_outbox"), return_exceptions=True)
    await deliver_all(g)
    people = await og_records(g, "cgRequestersClass", f'(([Email] is equal to "{email}"))')
    assert len(people) == 1, f"{len(people)} requesters for one e-mail"
    links = {(await og_request(g, rid))[0]["RequesterOidField"] for rid in rids}
    assert links == {people[0]["Oid"]}
