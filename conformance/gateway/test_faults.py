"""Every fault kind, once, on the call that creates the vendor record: afterwards there is still exactly one
vendor record per public request (CW-SUB-1, OG-REQ-1). A fault that certainly changed nothing is retried;
one that may have changed something is looked up first."""

from __future__ import annotations

import pytest

from .helpers import deliver_all, fault, submit, synced, vendor_requests
from .test_opengov_delivery import og_request, post

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
