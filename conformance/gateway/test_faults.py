"""Every fault kind, once, on the call that creates the vendor record, and on Cityworks' comment and attachment
calls: afterwards there is still exactly one vendor record per public request (CW-SUB-1, OG-REQ-1) and one
comment and one attachment (CW-COM-1, CW-COM-2). A fault that certainly changed nothing is retried; one that
may have changed something is looked up first."""

from __future__ import annotations

import pytest

from harness.sim_control import SimControl

from .helpers import cityworks_call, deliver_all, fault, submit, synced, vendor_comments, vendor_requests
from .test_opengov_delivery import AUTH, og_request, post

FAULTS = {
    "error-500": {"kind": "error", "status": 500},
    "error-503": {"kind": "error", "status": 503},
    "rate-limit": {"kind": "rate_limit", "retry_after": 1},
    "reset": {"kind": "reset"},
    "timeout": {"kind": "timeout", "timeout_s": 10},
    "malformed": {"kind": "malformed"},
    "apply-then-reset": {"kind": "apply_then_fail", "then": "reset"},
    "apply-then-502": {"kind": "apply_then_fail", "then": "status", "status": 502},
    "late-answer": {"kind": "latency", "latency_ms": 2500, "after": True},
}


@pytest.mark.req("CW-SUB-1")
@pytest.mark.parametrize("name", list(FAULTS))
async def test_one_cityworks_request_whatever_the_fault(linked, name):
    g = linked
    await g.run("category_sync", integration_id=g.ids["integration"])
    code = (await synced(g))[0]["code"]
    await fault(g.http, g.ids["cityworks"], **FAULTS[name], path="/Services/Ams/ServiceRequest/Create", count=1)
    rid = await submit(g, code, photo=False)
    await deliver_all(g, rounds=8)
    assert len(await vendor_requests(g.http, g.ids["cityworks"], rid)) == 1


@pytest.mark.req("OG-REQ-1")
@pytest.mark.parametrize("name", list(FAULTS))
async def test_one_opengov_request_whatever_the_fault(og_linked, name):
    g = og_linked
    await g.run("category_sync", integration_id=g.ids["integration"])
    code = (await synced(g))[0]["code"]
    rule = {**FAULTS[name], "method": "POST", "path": "/api/v1/classes/cgRequestsClass", "count": 1}
    await fault(g.http, g.ids["opengov"], **rule)
    rid = await post(g, code)
    await deliver_all(g, rounds=8)
    assert len(await og_request(g, rid)) == 1


async def photo_and_comment_under_fault(
    g, vendor: str, name: str, photo_call: dict, comment_call: dict, text: str
) -> str:
    """A report with a photo whose upload call fails once (fault `name`), delivered; then a comment whose
    call fails once the same way, delivered; every fault fired. Returns the report's id."""
    await g.run("category_sync", integration_id=g.ids["integration"])
    await fault(g.http, vendor, **FAULTS[name], **photo_call, count=1)
    rid = await submit(g, (await synced(g))[0]["code"], photo=True)
    await deliver_all(g, rounds=8)
    await fault(g.http, vendor, **FAULTS[name], **comment_call, count=1)
    status, _, body = await g.open311(
        "POST", f"/requests/{rid}/comments.json", data={"api_key": g.api_key, "description": text}
    )
    assert status == 201, body
    await deliver_all(g, rounds=8)
    rules = await SimControl(g.http, vendor).faults()
    assert rules == [], f"a fault never fired (a one-shot fault is gone once it fired): {rules}"
    return rid


@pytest.mark.req("CW-COM-1", "CW-COM-2")
@pytest.mark.parametrize("name", list(FAULTS))
async def test_one_cityworks_comment_and_attachment_whatever_the_fault(linked, name):
    """The comment and the photo calls each fail once, the same way: still one of each at the vendor."""
    g = linked
    cw = g.ids["cityworks"]
    text = f"Still there after {name}?"
    rid = await photo_and_comment_under_fault(
        g,
        cw,
        name,
        {"path": "/Services/Ams/Attachments/AddRequestAttachment"},
        {"path": "/Services/Ams/ServiceRequest/AddComments"},
        text,
    )
    (sr,) = await vendor_requests(g.http, cw, rid)
    comments = await vendor_comments(g.http, cw, sr["RequestId"])
    assert [c["Comments"] for c in comments].count(text) == 1, comments
    attachments = await cityworks_call(
        g.http, cw, "/Services/Ams/Attachments/RequestAttachments", {"RequestIds": [sr["RequestId"]]}
    )
    assert len(attachments) == 1, attachments


@pytest.mark.req("OG-COM-1", "OG-REQ-1")
@pytest.mark.parametrize("name", list(FAULTS))
async def test_one_opengov_comment_and_attachment_whatever_the_fault(og_linked, name):
    """OpenGov's child-record and upload calls each fail once, the same way: still one of each."""
    g = og_linked
    og = g.ids["opengov"]
    rid = await photo_and_comment_under_fault(
        g,
        og,
        name,
        {"method": "POST", "path": "/api/v1/attachments/*"},
        {"method": "POST", "path": "/api/v1/classes/*/*/*"},
        f"After {name}",
    )
    (record,) = await og_request(g, rid)
    children = {}
    for child in ("cgRequests_cgCommentsClass", "cgRequests_cgAttachmentsClass"):
        async with g.http.get(f"{og}/api/v1/classes/cgRequestsClass/{record['Oid']}/{child}", headers=AUTH) as resp:
            children[child] = (await resp.json())[child]
    assert [c["CommentField"] for c in children["cgRequests_cgCommentsClass"]] == [f"After {name}"]
    assert len(children["cgRequests_cgAttachmentsClass"]) == 1, children
