"""What a status poll costs at the vendor, read from the simulators' journals: Cityworks requests are read back
in batches, never one call per request (CW-UPD-1); OpenGov is read by modification time, so a poll after
nothing changed reads no request's comments and a change costs that request only (OG-UPD-1)."""

from __future__ import annotations

import json
from collections import Counter

import aiohttp
import pytest

from harness.sim_control import SimControl

from .client import Gateway
from .helpers import INSIDE, deliver_all, sim, submit, synced, vendor_requests
from .test_opengov_delivery import og_request

AUTH_PATHS = ("Authenticate", "/Authentication/")


async def calls(http: aiohttp.ClientSession, base: str) -> Counter[str]:
    """The vendor calls journalled since the journal was last cleared, by path (sign-ins left out), and clear."""
    control = SimControl(http, base)
    entries = (await control.journal(source="client", limit=1000))["entries"]
    await control.clear_journal()
    return Counter(e["path"] for e in entries if not any(a in e["path"] for a in AUTH_PATHS))


@pytest.mark.req("CW-UPD-1")
@pytest.mark.cityworks_version("23")
async def test_cityworks_poll_reads_open_requests_in_batches(linked: Gateway):
    g = linked
    cw = g.ids["cityworks"]
    await g.run("category_sync", integration_id=g.ids["integration"])
    code = (await synced(g))[0]["code"]
    rids = [await submit(g, code, photo=False) for _ in range(5)]
    await deliver_all(g)
    srs = [(await vendor_requests(g.http, cw, rid))[0]["RequestId"] for rid in rids]
    await sim(g.http, cw, "add-comment", RequestId=srs[2], text="On the list.", to_scf=True)
    await calls(g.http, cw)
    run = await g.run("status_poll", integration_id=g.ids["integration"])
    assert run["status"] == "ok", run
    made = await calls(g.http, cw)
    per_request = {p: n for p, n in made.items() if n >= len(srs)}
    assert not per_request, f"one vendor call per open request: {dict(made)}"
    assert sum(made.values()) <= 4, f"five open requests cost {sum(made.values())} calls: {dict(made)}"
    _, _, body = await g.open311("GET", f"/requests/{rids[2]}/comments.json")
    assert [c["description"] for c in json.loads(body)] == ["On the list."]


@pytest.mark.req("OG-UPD-1")
async def test_opengov_poll_costs_what_changed(og_linked: Gateway):
    g = og_linked
    og = g.ids["opengov"]
    await g.run("category_sync", integration_id=g.ids["integration"])
    code = (await synced(g))[0]["code"]
    rids = []
    for _ in range(4):
        form = {"api_key": g.api_key, "service_code": code, **INSIDE, "description": "Bench broken"}
        status, _, text = await g.open311("POST", "/requests.json", data=form)
        assert status == 201, text
        rids.append(json.loads(text)[0]["service_request_id"])
    await deliver_all(g)
    oids = [(await og_request(g, rid))[0]["Oid"] for rid in rids]

    async def poll() -> Counter[str]:
        await calls(g.http, og)
        run = await g.run("status_poll", integration_id=g.ids["integration"])
        assert run["status"] == "ok", run
        return await calls(g.http, og)

    def comment_reads(made: Counter[str]) -> set[int]:
        return {int(p.split("/")[-2]) for p in made if p.endswith("_cgCommentsClass")}

    await poll()  # the first poll may read everything
    quiet = await poll()
    assert comment_reads(quiet) == set(), f"nothing changed, yet comments were read: {dict(quiet)}"
    assert sum(quiet.values()) <= 1, f"nothing changed, yet {sum(quiet.values())} calls: {dict(quiet)}"
    await sim(g.http, og, "add-comment", Oid=oids[1], text="Parts ordered.", public=True)
    await sim(g.http, og, "set-fields", Oid=oids[3], TasksField=1)
    changed = await poll()
    assert comment_reads(changed) <= {oids[1], oids[3]} and oids[1] in comment_reads(changed), dict(changed)
    _, _, body = await g.open311("GET", f"/requests/{rids[1]}/comments.json")
    assert [c["description"] for c in json.loads(body)] == ["Parts ordered."]


@pytest.mark.req("CW-SUB-1", "CW-VER-2")
@pytest.mark.cityworks_version("23")
async def test_delivery_keeps_its_cityworks_session(linked: Gateway):
    """A client that signs in again for every call doubles the vendor's load and its audit log: requests
    delivered over several runs cost one sign-in while the token stays good."""
    g = linked
    cw = g.ids["cityworks"]
    await g.run("category_sync", integration_id=g.ids["integration"])
    code = (await synced(g))[0]["code"]
    await deliver_all(g)
    control = SimControl(g.http, cw)
    await control.clear_journal()
    for _ in range(3):
        for _ in range(2):
            await submit(g, code, photo=False)
        await deliver_all(g)
    paths = [e["path"] for e in (await control.journal(source="client", limit=1000))["entries"]]
    creates = [p for p in paths if p.lower().endswith("/servicerequest/create")]
    sign_ins = [p for p in paths if any(a in p for a in AUTH_PATHS)]
    assert len(creates) == 6, paths
    assert len(sign_ins) <= 1, f"{len(sign_ins)} sign-ins for {len(creates)} deliveries: {paths}"
