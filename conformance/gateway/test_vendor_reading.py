"""The gateway reads the vendors as they write (issue 21): each Cityworks answer format becomes the right
question and the citizen's answer goes back as the answer they chose (CW-QA-1, CW-SUB-1); an imported comment
carries the vendor's own time, read in the vendor's zone (CW-ICM-1, OG-COM-2); the public record shows the
address the gateway holds (GEO-5)."""

from __future__ import annotations

import json
from datetime import UTC, datetime
from xml.etree import ElementTree
from zoneinfo import ZoneInfo

import pytest

from .client import Gateway
from .helpers import INSIDE, any_answer, deliver_all, delivered_request, sim, submit, synced, vendor_requests
from .test_opengov_delivery import og_request, post

pytestmark = pytest.mark.cityworks_version("15.4")


async def questions(g: Gateway, category: dict) -> dict[str, dict]:
    return {q["text"]: q for q in (await g.ok("GET", f"/categories/{category['id']}/questions"))["items"]}


async def public_record(g: Gateway, rid: str) -> dict:
    status, _, text = await g.open311("GET", f"/requests/{rid}.json", params={"extensions": "true"})
    assert status == 200, text
    (record,) = json.loads(text)
    return record


@pytest.mark.req("CW-QA-1", "CW-SUB-1")
async def test_each_answer_format_is_asked_and_answered_as_cityworks_means_it(linked):
    g = linked
    cw = g.ids["cityworks"]
    await g.run("category_sync", integration_id=g.ids["integration"])
    category = (await synced(g))[0]
    sid = int(category["vendor_id"])
    asked = {
        "Is it blocking the road?": {"answers": ["Yes", "No"], "formats": ["YES", "NO"]},
        "How many lanes?": {"format": "NUMERIC"},
        "Since when?": {"format": "DATE"},
        "Anything else?": {"format": "FREETEXT"},
        "Who owns it?": {"answers": ["The city", "Someone else"], "formats": ["THISTEXT", "FREETEXT"]},
        "Repair cost": {"format": "CALCULATED"},
    }
    for text, answers in asked.items():
        await sim(g.http, cw, "add-question", ProblemSid=sid, Question=text, **answers)
    await g.run("question_sync", integration_id=g.ids["integration"])
    mine = await questions(g, category)
    blocking = mine["Is it blocking the road?"]
    assert blocking["datatype"] == "singlevaluelist", "a Yes/No question is a choice, not free text"
    assert [c["name"] for c in blocking["choices"]] == ["Yes", "No"]
    assert mine["How many lanes?"]["datatype"] == "number"
    assert mine["Since when?"]["datatype"] == "datetime"
    assert mine["Anything else?"]["datatype"] == "text" and not mine["Anything else?"]["choices"]
    assert [c["name"] for c in mine["Who owns it?"]["choices"]] == ["The city", "Someone else"]
    assert "Repair cost" not in mine, "Cityworks calculates it: nobody is asked"

    no = next(c["key"] for c in blocking["choices"] if c["name"] == "No")
    given = {
        "Is it blocking the road?": no,
        "How many lanes?": "4",
        "Since when?": "2024-03-05T10:00:00-07:00",  # the site's zone is UTC unless the integration says
        "Anything else?": "Behind the bus stop,\nnear the bench",
        "Who owns it?": next(c["key"] for c in mine["Who owns it?"]["choices"] if c["name"] == "The city"),
    }
    form = {"api_key": g.api_key, "service_code": category["code"], **INSIDE}
    for text, q in mine.items():
        form[f"attribute[{q['code']}]"] = given.get(text) or any_answer(q)
    async with g.http.post(f"{g.url}/open311/v2/requests.json", data=form) as resp:
        assert resp.status == 201, await resp.text()
        rid = (await resp.json())[0]["service_request_id"]
    await deliver_all(g)
    (found,) = await vendor_requests(g.http, cw, rid)
    stored = (await sim(g.http, cw, "get-request", RequestId=found["RequestId"]))["answers"]
    by_question: dict[str, list[dict]] = {}
    for answer in stored:
        by_question.setdefault(answer["Question"], []).append(answer)
    assert [a["Answer"] for a in by_question["Is it blocking the road?"]] == ["No"], "the citizen said No"
    assert [a["AnswerValue"] for a in by_question["How many lanes?"]] == ["4"]
    assert [a["AnswerValue"] for a in by_question["Since when?"]] == ["2024-03-05T17:00:00"], "site time"
    assert [a["AnswerValue"] for a in by_question["Anything else?"]] == ["Behind the bus stop,\nnear the bench"]
    assert [a["Answer"] for a in by_question["Who owns it?"]] == ["The city"]
    assert "Repair cost" not in by_question


@pytest.mark.req("CW-ICM-1")
async def test_a_cityworks_comment_carries_the_time_cityworks_gave_it(linked):
    g = linked
    cw = g.ids["cityworks"]
    rid, found = await delivered_request(g)
    sr = found["RequestId"]
    await sim(g.http, cw, "add-comment", RequestId=sr, text="Patched.", to_scf=True, DateCreated="2024-03-05T09:15:00")
    await sim(g.http, cw, "add-comment", RequestId=sr, text="Undated.", to_scf=True, DateCreated="0001-01-01T00:00:00")
    await g.run("status_poll", integration_id=g.ids["integration"])
    record = await public_record(g, rid)
    times = {c["description"]: c["datetime"] for c in record["extended_attributes"]["comments"]}
    assert times["Patched."] == "2024-03-05T09:15:00Z", "the site's zone is UTC unless the integration says"
    # No date at Cityworks: the time it was seen, never year 1.
    assert datetime.fromisoformat(times["Undated."].replace("Z", "+00:00")) >= datetime.fromisoformat(
        record["requested_datetime"].replace("Z", "+00:00")
    )
    # Cityworks writes the site's local time with no offset; a site in Denver: 09:15 in March is 16:15 UTC.
    status, refused = await g.admin("PATCH", f"/integrations/{g.ids['integration']}", json={"timezone": "Mars/Base"})
    assert status == 422 and "timezone" in json.dumps(refused), refused
    await g.ok("PATCH", f"/integrations/{g.ids['integration']}", json={"timezone": "America/Denver"})
    await sim(
        g.http, cw, "add-comment", RequestId=sr, text="In Denver.", to_scf=True, DateCreated="2024-03-06T09:15:00"
    )
    await g.run("status_poll", integration_id=g.ids["integration"])
    record = await public_record(g, rid)
    times = {c["description"]: c["datetime"] for c in record["extended_attributes"]["comments"]}
    assert times["In Denver."] == "2024-03-06T16:15:00Z" and times["Patched."] == "2024-03-05T09:15:00Z"
    status, _, text = await g.open311("GET", f"/requests/{rid}/comments.json")
    assert status == 200, text
    assert {c["description"]: c["datetime"] for c in json.loads(text)}["In Denver."] == "2024-03-06T16:15:00Z"


@pytest.mark.req("OG-COM-2")
async def test_an_opengov_comment_carries_the_time_opengov_gave_it(og_linked):
    g = og_linked
    og = g.ids["opengov"]
    zone = "Asia/Kolkata"  # +05:30: the vendor's own time can never pass for the poll's
    await g.ok("PATCH", f"/integrations/{g.ids['integration']}", json={"timezone": zone})
    await g.run("category_sync", integration_id=g.ids["integration"])
    rid = await post(g, (await synced(g))[0]["code"])
    await deliver_all(g)
    (record,) = await og_request(g, rid)
    comment = await sim(g.http, og, "add-comment", Oid=record["Oid"], text="Crew booked.", public=True)
    await g.run("status_poll", integration_id=g.ids["integration"])
    written = datetime.fromisoformat(comment["EntryDateField"]).replace(tzinfo=ZoneInfo(zone), microsecond=0)
    expected = written.astimezone(UTC).isoformat(timespec="seconds").replace("+00:00", "Z")
    status, _, text = await g.open311("GET", f"/requests/{rid}/comments.json")
    assert status == 200, text
    assert {c["description"]: c["datetime"] for c in json.loads(text)}["Crew booked."] == expected


@pytest.mark.req("GEO-5")
async def test_the_public_record_shows_the_address_the_gateway_holds(linked):
    g = linked
    await g.run("category_sync", integration_id=g.ids["integration"])
    code = (await synced(g))[0]["code"]
    only_point = await submit(g, code, photo=False)
    with_text = await submit(g, code, photo=False, address_string="Behind the library", address_id="A-17")
    await deliver_all(g)  # the locator is asked on the way to Cityworks (GEO-3)
    point = await public_record(g, only_point)
    assert point.get("address", "").startswith("1 Civic Center Plaza"), "the locator's address for the point"
    both = await public_record(g, with_text)
    assert both["address"].startswith("1 Civic Center Plaza"), "the validated address wins over the typed one"
    assert both["address_id"] == "A-17"
    status, _, text = await g.open311("GET", f"/requests/{only_point}.xml")
    assert status == 200
    (request,) = ElementTree.fromstring(text).findall("request")
    assert (request.findtext("address") or "").startswith("1 Civic Center Plaza")
