"""The gateway and Cityworks in step, the other way, and the locator: question sync (CW-QA-1..4), answers and
the locator's address on the SR (CW-SUB-1, GEO-3), a geocoder failure never blocking (GEO-4), status
(CW-UPD-1), "To SCF:" comments (CW-ICM-1) and images (CW-IMG-1) coming back once each."""

from __future__ import annotations

import base64
import hashlib

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from contracts.scenario import demo_city

from .helpers import (
    INSIDE,
    PNG,
    any_answer,
    deliver_all,
    delivered_request,
    fault,
    sim,
    submit,
    synced,
    vendor_requests,
)

pytestmark = pytest.mark.cityworks_version("15.4")


async def questions(g, category: dict) -> list[dict]:
    return (await g.ok("GET", f"/categories/{category['id']}/questions"))["items"]


@pytest.mark.req("CW-QA-1", "CW-QA-2", "CW-QA-3", "CW-QA-4")
async def test_question_sync(linked):
    g = linked
    cw = g.ids["cityworks"]
    await g.run("category_sync", integration_id=g.ids["integration"])
    first, second = (await synced(g))[:2]
    added = await sim(g.http, cw, "add-question", ProblemSid=int(first["vendor_id"]), Question="Your E-MAIL, please?")
    listed = await sim(
        g.http,
        cw,
        "add-question",
        ProblemSid=int(first["vendor_id"]),
        Question="Which side?",
        answers=["North", "South"],
    )
    await g.ok("PATCH", f"/categories/{second['id']}", json={"auto_sync_questions": False})
    manual = await g.ok(
        "POST", f"/categories/{second['id']}/questions", json={"code": "mine", "text": "Phone?", "datatype": "string"}
    )
    outcome = await g.run("question_sync", integration_id=g.ids["integration"])
    assert outcome["status"] == "ok" and outcome["counts"]["skipped"] >= 1
    mine = {q["text"]: q for q in await questions(g, first)}
    assert mine["Your E-MAIL, please?"]["public"] is False  # CW-QA-2
    assert mine["Which side?"]["public"] is True and mine["Which side?"]["datatype"] == "singlevaluelist"
    assert [c["name"] for c in mine["Which side?"]["choices"]] == ["North", "South"]  # CW-QA-1
    assert all(q["required"] and q["synced"] for q in mine.values())  # CW-QA-4
    assert [q["id"] for q in await questions(g, second)] == [manual["id"]], "auto-sync off: untouched (CW-QA-3)"
    # Renamed upstream: the sync follows; run again: nothing changes.
    await sim(g.http, cw, "change-question", QuestionId=listed["QuestionId"], Question="Which side of the street?")
    again = await g.run("question_sync", integration_id=g.ids["integration"])
    assert again["counts"]["updated"] == 1 and again["counts"]["created"] == 0
    assert added["QuestionId"] != listed["QuestionId"]


@pytest.mark.req("CW-SUB-1", "GEO-3")
async def test_answers_and_the_locators_address_reach_the_request(linked):
    g = linked
    cw = g.ids["cityworks"]
    await g.run("category_sync", integration_id=g.ids["integration"])
    category = (await synced(g))[0]
    await sim(g.http, cw, "add-question", ProblemSid=int(category["vendor_id"]), Question="Size?", answers=["S", "L"])
    await g.run("question_sync", integration_id=g.ids["integration"])
    size = next(q for q in await questions(g, category) if q["text"] == "Size?")
    large = next(c["key"] for c in size["choices"] if c["name"] == "L")
    form = {"api_key": g.api_key, "service_code": category["code"], **INSIDE, f"attribute[{size['code']}]": large}
    for q in await questions(g, category):  # every synced question is required: answer the others too
        if q["id"] != size["id"]:
            form[f"attribute[{q['code']}]"] = any_answer(q)
    async with g.http.post(f"{g.url}/open311/v2/requests.json", data=form) as resp:
        assert resp.status == 201, await resp.text()
        rid = (await resp.json())[0]["service_request_id"]
    await deliver_all(g)
    (found,) = await vendor_requests(g.http, cw, rid)
    record = await sim(g.http, cw, "get-request", RequestId=found["RequestId"])
    assert {"AnswerId": int(large)} in [{"AnswerId": a["AnswerId"]} for a in record["answers"]]
    assert found["ProbAddress"].startswith("1 Civic Center Plaza"), "the locator's address for the point"
    assert found["SRX"] == pytest.approx(demo_city().point()["long"])


@pytest.mark.req("GEO-4")
async def test_a_geocoder_failure_never_blocks_submission(linked):
    g = linked
    await g.run("category_sync", integration_id=g.ids["integration"])
    await fault(g.http, g.ids["arcgis"], kind="error", status=500)
    rid = await submit(g, (await synced(g))[0]["code"], photo=False)
    await deliver_all(g)
    (found,) = await vendor_requests(g.http, g.ids["cityworks"], rid)
    assert found["SRY"] == pytest.approx(demo_city().point()["lat"])


@pytest.mark.req("CW-UPD-1", "CW-ICM-1", "CW-IMG-1")
async def test_status_public_comments_and_images_come_back_once(linked):
    g = linked
    cw = g.ids["cityworks"]
    await g.run("category_sync", integration_id=g.ids["integration"])
    rid = await submit(g, (await synced(g))[0]["code"], photo=False)
    async with g.http.post(
        f"{g.url}/open311/v2/requests/{rid}/comments.json",
        data={"api_key": g.api_key, "description": "To SCF: a citizen wrote this prefix themselves"},
    ) as resp:
        assert resp.status == 201
    await deliver_all(g)
    (found,) = await vendor_requests(g.http, cw, rid)
    sr = found["RequestId"]
    await sim(g.http, cw, "add-comment", RequestId=sr, text="Crew scheduled for Monday.", to_scf=True)
    await sim(g.http, cw, "add-comment", RequestId=sr, text="Internal: order asphalt")
    await sim(g.http, cw, "add-comment", RequestId=sr, text="   To SCF:   Leading spaces are fine.")
    await sim(g.http, cw, "add-comment", RequestId=sr, text="to scf: wrong case stays private")
    photo = base64.b64encode(PNG).decode()
    await sim(
        g.http, cw, "attach", RequestId=sr, filename="fixed.png", content_base64=photo, comments="Fixed!", to_scf=True
    )
    await sim(g.http, cw, "attach", RequestId=sr, filename="crew.png", content_base64=photo, comments="crew only")
    await sim(g.http, cw, "close-request", RequestId=sr)
    for _ in range(2):  # a second poll imports nothing again
        await g.run("status_poll", integration_id=g.ids["integration"])
    async with g.http.get(f"{g.url}/open311/v2/requests/{rid}.json", params={"extensions": "true"}) as resp:
        (record,) = await resp.json()
    assert record["status"] == "closed"
    texts = [c["description"] for c in record["extended_attributes"]["comments"]]
    assert texts == [
        "To SCF: a citizen wrote this prefix themselves",  # ours, sent and never imported back
        "Crew scheduled for Monday.",
        "Leading spaces are fine.",
        "Fixed!",
    ]
    image = record["extended_attributes"]["comments"][-1]["media_url"]
    async with g.http.get(image) as resp:
        assert hashlib.sha256(await resp.read()).hexdigest() == hashlib.sha256(PNG).hexdigest()
    runs = [
        r
        for r in (await g.ok("GET", "/jobs/runs?job=status_poll"))["items"]
        if r["integration_id"] == g.ids["integration"]
    ]
    expected = {"checked": 1, "closed": 1, "reopened": 0, "comments": 2, "images": 1}
    assert runs[0]["counts"]["comments"] == 0
    assert {k: runs[1]["counts"].get(k) for k in expected} == expected


PREFIXES = st.sampled_from(["To SCF:", "to scf:", "TO SCF:", "To SCF", "To  SCF:", "ToSCF:", "Note: To SCF:", ""])
PADDING = st.text(alphabet=" \t\n", max_size=3)
WORDS = st.text(alphabet=st.characters(codec="utf-8", exclude_categories=("Cs", "Cc")), min_size=0, max_size=40)


def expected_public(comment: str) -> str | None:
    """The rule, written again independently of any gateway: "To SCF:" after leading whitespace only, exactly
    that case, stripped; an empty rest is nothing to show."""
    rest = comment.lstrip()
    if not rest.startswith("To SCF:"):
        return None
    return rest[len("To SCF:") :].strip() or None


@pytest.mark.req("CW-ICM-1")
async def test_to_scf_prefix_rule_over_generated_comments(linked):
    g = linked
    cw = g.ids["cityworks"]
    rid, found = await delivered_request(g)
    drawn: list[str] = []

    @given(padding=PADDING, prefix=PREFIXES, words=WORDS)
    @settings(max_examples=25, deadline=None, suppress_health_check=list(HealthCheck), database=None)
    def draw(padding: str, prefix: str, words: str) -> None:
        comment = f"{padding}{prefix}{words}"
        if comment.strip():
            drawn.append(comment)

    draw()
    for comment in drawn:
        await sim(g.http, cw, "add-comment", RequestId=found["RequestId"], text=comment)
    await g.run("status_poll", integration_id=g.ids["integration"])
    await g.run("status_poll", integration_id=g.ids["integration"])  # nothing twice
    async with g.http.get(f"{g.url}/open311/v2/requests/{rid}.json", params={"extensions": "true"}) as resp:
        (record,) = await resp.json()
    shown = [c["description"] for c in record["extended_attributes"]["comments"]]
    wanted = [text for text in map(expected_public, drawn) if text is not None]
    assert shown == wanted, list(zip(drawn, map(expected_public, drawn), strict=True))
