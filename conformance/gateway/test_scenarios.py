"""The scenario library's timelines (contracts/scenarios/), each played on the simulator the gateway is linked
to: on Cityworks a maintenance window, a token lapsing mid-batch and comments across the daylight-saving changes;
on OpenGov other users writing between the pages of the gateway's catalogue sync, import and poll, and a request
closed after the server's clock fell back (the large city is played in tests/test_scenarios.py, marked slow).
Cityworks is not paged (Search answers every id, then ByIds in batches), so paging-reorder is OpenGov's alone.
Each check names the requirements it exercises; a failure names the scenario and the timeline step
(`Played.says`)."""

from __future__ import annotations

import json
from datetime import datetime

import pytest

from contracts.scenario import library_scenario
from harness.sim_control import SimControl

from .conftest import link_opengov
from .helpers import deliver_all, sim, submit, synced, vendor_requests
from .scenarios import Played, play
from .test_opengov_delivery import AUTH, og_request, post
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


OFFERED = "(([Inactive] is equal to false) AND ([Public] is equal to true))"  # what the catalogue offers


@pytest.mark.req("OG-CAT-1", "AGY-4", "H-SCN-4")
async def test_large_city_catalogue_arrives_whole(gw):
    """large-city: OpenGov with 2,000 request issues (and 55,000 requests) at the city's own page size: the
    catalogue sync pages through every issue and offers exactly the public, active ones."""
    async with link_opengov(gw, library_scenario("large-city")) as g:
        run = await g.run("category_sync", integration_id=g.ids["integration"])
        assert run["status"] == "ok", f"scenario large-city: the catalogue sync failed: {run}"
        upstream = sorted(r["Oid"] for r in await og_all(g, "cgRequestIssuesClass", OFFERED))
        offered = sorted(int(c["vendor_id"]) for c in await synced(g) if c["active"])
        assert len(upstream) > 1000, f"scenario large-city: only {len(upstream)} issues offered: no second page"
        missing, extra = sorted(set(upstream) - set(offered)), sorted(set(offered) - set(upstream))
        assert not missing and not extra, (
            f"scenario large-city: the catalogue lacks {len(missing)} of OpenGov's {len(upstream)} offered issues "
            f"(first {missing[:5]}) and offers {len(extra)} it should not (first {extra[:5]})"
        )


@pytest.fixture
async def og_paging(gw):
    """An OpenGov integration to a simulator playing paging-reorder from its start: five records a page, and
    other users writing between the client's pages."""
    async with link_opengov(gw, library_scenario("paging-reorder")) as g:
        yield g


@pytest.mark.req("AGY-4", "OG-CAT-1", "OG-REQ-2", "OG-UPD-1", "OG-PAGE-1", "H-SCN-4")
async def test_paging_under_concurrent_writes_misses_nothing_and_counts_nothing_twice(og_paging):
    """The catalogue sync, the request import and the status poll each page through OpenGov while the timeline
    writes between their pages; each must end with every record that matched throughout, once."""
    g = og_paging
    og = g.ids["opengov"]
    control = SimControl(g.http, og)
    played = Played(library_scenario("paging-reorder"), control)
    integration = g.ids["integration"]
    await control.clear_journal()

    # The catalogue: an issue on page 1 retired, one added, an old one restored before the offset.
    run = await g.run("category_sync", integration_id=integration)
    assert run["status"] == "ok", run
    retire, add, restore = (
        "an issue on the first page is retired",
        "a new issue is added mid-sync",
        "an old issue is restored mid-sync",
    )
    retired = (await played.reached(retire))["target"]["Oid"]
    listed = played.scenario.section("opengov")["issues"]  # Oids 1, 2, ... in the order listed
    offered = {n for n, i in enumerate(listed, 1) if i.get("PublicField") and i.get("InactiveField") is False}
    throughout = offered - {retired}  # public and active before the sync and after it
    vendor_ids = [int(c["vendor_id"]) for c in await synced(g) if c["active"]]
    missing = sorted(throughout - set(vendor_ids))
    assert not missing, played.says(retire, f"issues {missing}, offered throughout the sync, never became categories")
    twice = await read_twice(control, "cgRequestIssuesClass")  # the categories are keyed: count the reads
    assert not twice, played.says(restore, f"the sync read issues {twice} twice")
    for step in (add, restore):  # the sync is over: a step that has not fired never will
        await played.reached(step, timeout_s=1)
    again = await g.run("category_sync", integration_id=integration)
    assert again["status"] == "ok", again
    upstream = sorted(r["Oid"] for r in await og_all(g, "cgRequestIssuesClass", OFFERED))
    now = sorted(int(c["vendor_id"]) for c in await synced(g) if c["active"])
    assert now == upstream, played.says(restore, f"after a second sync the catalogue is {now}, OpenGov's {upstream}")

    # The import: a request on its first page deleted.
    await g.ok("PATCH", f"/agencies/{g.ids['agency']}", json={"importer_enabled": True})
    before = await public_requests(g)
    await control.clear_journal()
    imported = await g.run("import", integration_id=integration)
    assert imported["status"] == "ok", imported
    step = "a request on the import's first page is deleted"
    deleted = (await played.reached(step))["target"]["Oid"]
    new = [r["description"] for rid, r in (await public_requests(g)).items() if rid not in before]
    left = {f"Phoned in {oid - 14}" for oid in range(15, 27) if oid != deleted}  # the requests still at OpenGov
    missing = sorted(left - set(new), key=len)
    assert not missing, played.says(step, f"never imported: {missing}")
    twice = sorted({d for d in new if new.count(d) > 1})
    assert not twice, played.says(step, f"imported twice: {twice}")
    twice = await read_twice(control, "cgRequestsClass")
    assert not twice, played.says(step, f"the import read requests {twice} twice")

    # The poll: its first incremental read pages the requests modified since its cursor, Oid first. After its
    # first page a crew comments on and closes the first request on it (read open), the site's clock runs on
    # five minutes and a clerk enters a request, which the last page shows: the cursor must not pass the close.
    code = next(c["code"] for c in await synced(g) if c["active"])
    rids = [await post(g, code) for _ in range(8)]
    await deliver_all(g)
    first = await g.run("status_poll", integration_id=integration)  # full: sets the cursor
    assert first["status"] == "ok", first
    oids = {rid: (await og_request(g, rid))[0]["Oid"] for rid in rids}
    await sim(g.http, og, "add-task", Oid=oids[rids[0]], activity="Inspect")  # changed, still open: page 1's first
    for rid in rids[1:]:
        await sim(g.http, og, "close-request", Oid=oids[rid])
    step = "a crew note moves a request the poll has read"
    await control.clear_journal()
    second = await g.run("status_poll", integration_id=integration)
    assert second["status"] == "ok", second
    assert (await played.steps())[step]["state"] == "done", played.says(
        step, f"the poll read no page of requests modified since its cursor: {second}"
    )
    still_open = [rid for rid in rids[1:] if (await public_record(g, rid))["status"] != "closed"]
    assert not still_open, played.says(step, f"closed at OpenGov before the poll, still open after it: {still_open}")
    twice = await read_twice(control, "cgRequestsClass")
    assert not twice, played.says(step, f"the poll read requests {twice} twice")
    target = (await played.reached(step))["target"]["Oid"]
    assert target == oids[rids[0]], played.says(step, f"page 1 began with Oid {target}, not the changed request")
    later = "a clerk enters a request phoned in meanwhile"
    await played.reached(later, timeout_s=1)
    third = await g.run("status_poll", integration_id=integration)
    assert third["status"] == "ok" and not third["counts"]["full"], third  # incremental: from the cursor
    status = (await public_record(g, rids[0]))["status"]
    assert status == "closed", played.says(
        later,
        f"closed at OpenGov after the poll read its page, {status} here after the next poll: the cursor "
        "passed the close by a later page's newer change",
    )
    _, _, text = await g.open311("GET", f"/requests/{rids[0]}/comments.json")
    notes = [c["description"] for c in json.loads(text)].count("Crew on site.")
    assert notes == 1, played.says(step, f"the crew note is on the public request {notes} times")


async def read_twice(control: SimControl, class_name: str) -> list[int]:
    """The Oids the client's listings of `class_name` answered more than once since the journal was cleared (a
    keyed result hides a record read twice; the answers do not), and clear it."""
    entries = (await control.journal(source="client", limit=1000))["entries"]
    await control.clear_journal()
    pages = [e for e in entries if e["path"].rstrip("/").endswith(f"/classes/{class_name}")]
    assert not any(e["response_truncated"] for e in pages), "the journal keeps whole answers (link_opengov)"
    oids = [
        record["Oid"]
        for e in entries
        if e["method"] == "GET" and e["path"].rstrip("/").endswith(f"/classes/{class_name}") and e["status"] == 200
        for record in (e["response_body"] or {}).get(class_name, [])
    ]
    return sorted({oid for oid in oids if oids.count(oid) > 1})


async def og_all(g, class_name: str, filter: str) -> list[dict]:
    """Every matching record, read at rest (nothing writes meanwhile) page by page: the server may answer fewer
    than `limit` asks."""
    out: list[dict] = []
    while True:
        async with g.http.get(
            f"{g.ids['opengov']}/api/v1/classes/{class_name}",
            params={"filter": filter, "limit": "1000", "offset": str(len(out)), "sort": "Oid:asc"},
            headers=AUTH,
        ) as resp:
            body = await resp.json()
            assert resp.status == 200, body
        out += body[class_name]
        if not body[class_name] or len(out) >= body["_metadata"]["totalCount"]:
            return out


async def public_requests(g) -> dict[str, dict]:
    _, _, text = await g.open311("GET", "/requests.json", params={"page_size": "1000"})
    return {r["service_request_id"]: r for r in json.loads(text)}
