"""The scenario library's timelines (contracts/scenarios/), each played on the simulator the gateway is linked
to: at Cityworks a maintenance window, a token lapsing mid-batch and comments across the daylight-saving
changes; at OpenGov a request closed after the server's clock fell back (the large city is played in
tests/test_scenarios.py, marked slow). Each check names the requirements it exercises; a failure names the
scenario and the timeline step (`Played.says`)."""

from __future__ import annotations

import json
from datetime import datetime

import pytest

from harness.sim_control import SimControl

from .helpers import deliver_all, submit, synced, vendor_requests
from .scenarios import play
from .test_polling import AUTH_PATHS
from .test_vendor_reading import public_record


@pytest.mark.req("CW-SUB-1", "H-SCN-4")
async def test_maintenance_window_reports_wait_and_arrive_once(linked):
    g = linked
    cw = g.ids["cityworks"]
    # 60 times faster: the window opens after 0.5 s and lasts 2 s.
    played = await play(g.http, cw, "maintenance-window", speed=60)
    step = "maintenance window"
    await g.run("category_sync", integration_id=g.ids["integration"])
    code = (await synced(g))[0]["code"]
    await played.reached(step)
    rids = [await submit(g, code, photo=False) for _ in range(3)]
    await g.run("deliver_outbox")  # inside the window: Cityworks answers 503
    await played.fault_over(step)
    await deliver_all(g, rounds=8)
    refused = (await SimControl(g.http, cw).journal(source="client", limit=1000))["entries"]
    assert any(e["status"] == 503 for e in refused), played.says(step, "no vendor call met the window")
    for rid in rids:
        found = await vendor_requests(g.http, cw, rid)
        assert len(found) == 1, played.says(step, f"report {rid} is {len(found)} SRs at Cityworks after the window")


@pytest.mark.req("CW-SUB-1", "CW-VER-2", "H-SCN-4")
@pytest.mark.cityworks_version("23")
async def test_token_expiry_mid_batch_costs_one_sign_in_and_no_duplicate(linked):
    g = linked
    cw = g.ids["cityworks"]
    played = await play(g.http, cw, "token-expiry")
    step = "token lapses mid-batch"
    await g.run("category_sync", integration_id=g.ids["integration"])
    code = (await synced(g))[0]["code"]
    rids = [await submit(g, code, photo=False) for _ in range(6)]
    await deliver_all(g, rounds=8)
    await played.reached(step)
    for rid in rids:
        found = await vendor_requests(g.http, cw, rid)
        assert len(found) == 1, played.says(step, f"report {rid} is {len(found)} SRs at Cityworks")
    entries = (await SimControl(g.http, cw).journal(source="client", limit=1000))["entries"]
    sign_ins = [e for e in entries if any(a in e["path"] for a in AUTH_PATHS)]
    # one at the start (category sync), one after the lapse; the vendor sign-in checks of vendor_requests
    # (the suite's own calls) come after the batch and are not the gateway's
    creates = [e for e in entries if e["path"].lower().endswith("/servicerequest/create")]
    last_create = max(e["id"] for e in creates)
    gateway_sign_ins = [e for e in sign_ins if e["id"] < last_create]
    assert len(gateway_sign_ins) == 2, played.says(
        step, f"{len(gateway_sign_ins)} sign-ins for one lapse: {[e['path'] for e in gateway_sign_ins]}"
    )


@pytest.mark.req("CW-ICM-1", "H-SCN-3", "H-SCN-4")
@pytest.mark.cityworks_version("23")
async def test_dst_change_comments_keep_their_true_moments(linked):
    g = linked
    cw = g.ids["cityworks"]
    played = await play(g.http, cw, "dst-change")
    assert played.scenario.city is not None
    await g.ok("PATCH", f"/integrations/{g.ids['integration']}", json={"timezone": played.scenario.city.timezone})
    await played.reached("the night of the change")
    await g.run("category_sync", integration_id=g.ids["integration"])
    rid = await submit(g, (await synced(g))[0]["code"], photo=False)
    await deliver_all(g)
    for _ in range(3):  # each poll reads the request back; the later steps come after the first and second
        run = await g.run("status_poll", integration_id=g.ids["integration"])
        assert run["status"] == "ok", run
    for step in ("crew note before spring forward", "clocks spring forward", "crew note after spring forward"):
        await played.reached(step)
    await played.reached("crew note in the repeated hour")
    record = await public_record(g, rid)
    times = {c["description"]: c["datetime"] for c in record["extended_attributes"]["comments"]}

    def moment(text: str, step: str) -> datetime:
        assert text in times, played.says(step, f"the comment never reached the public record: {sorted(times)}")
        return datetime.fromisoformat(times[text].replace("Z", "+00:00"))

    before = moment("Crew on site.", "crew note before spring forward")
    after = moment("Patched.", "crew note after spring forward")
    assert before.isoformat().startswith("2026-03-08T06:58"), played.says(
        "crew note before spring forward", f"written 01:58 EST (06:58 UTC), shown at {times['Crew on site.']}"
    )
    gap = (after - before).total_seconds()
    assert 170 <= gap <= 240, played.says(
        "crew note after spring forward", f"three minutes after the first on the site's clock, shown {gap:.0f} s after"
    )
    repeated = moment("Inspected (01:30, first pass).", "crew note in the repeated hour")
    assert repeated.isoformat().startswith("2026-11-01T05:30"), played.says(
        "crew note in the repeated hour", f"01:30 EDT (05:30 UTC), shown at {repeated.isoformat()}"
    )
    status, _, body = await g.open311("GET", f"/requests/{rid}/comments.json")
    assert status == 200, body
    listed = [c["description"] for c in json.loads(body)]
    assert listed.index("Crew on site.") < listed.index("Patched."), played.says(
        "crew note after spring forward", f"out of order: {listed}"
    )


@pytest.mark.req("OG-UPD-1", "H-SCN-3", "H-SCN-4", "H-SCN-7")
async def test_opengov_dst_change_the_poll_misses_no_status_change(og_linked):
    """The OpenGov server's clock falls back between two status changes of the client's request: the close is
    written as earlier text (01:01) than the change before it (01:58). The poll reads by modification time
    (OG-UPD-1) with an overlap; with the integration set to the city's zone it must still see the close, on
    an incremental poll (a full read would hide a miss)."""
    g = og_linked
    og = g.ids["opengov"]
    played = await play(g.http, og, "opengov-dst-change")
    section = played.scenario.section("opengov")
    assert section is not None
    await g.ok("PATCH", f"/integrations/{g.ids['integration']}", json={"timezone": section["timezone"]})
    await played.reached("the night of the change")
    await g.run("category_sync", integration_id=g.ids["integration"])
    rid = await submit(g, (await synced(g))[0]["code"], photo=False)
    await deliver_all(g)

    async def poll() -> dict:
        run = await g.run("status_poll", integration_id=g.ids["integration"])
        assert run["status"] == "ok", run
        return run["counts"]

    async def status() -> str:
        return (await public_record(g, rid))["status"]

    await poll()  # the first read is a full one; the crew's change follows it
    await played.reached("crew starts work before fall back")
    await poll()  # incremental: sees the crew's change; the clock falls back and the request is closed after it
    assert await status() == "open", played.says("crew starts work before fall back", "closed before the close")
    await played.reached("clocks fall back")
    await played.reached("request closed in the repeated hour")
    counts = await poll()
    assert counts.get("full") == 0, played.says(
        "request closed in the repeated hour", f"the poll after the change read everything, proving nothing: {counts}"
    )
    assert await status() == "closed", played.says(
        "request closed in the repeated hour",
        "closed at OpenGov after its clock fell back (written 01:01 EST, after 01:58 EDT), still open here after "
        "the next poll: the poll asked for changes since a time the vendor's text had already passed",
    )
