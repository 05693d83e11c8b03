"""harness.sim_control: the control-plane client the conformance suite, the campaign and the demo city use,
against a running simulator (H-SIM-1)."""

from __future__ import annotations

import pytest

from harness.sim_control import SimControl, SimControlError

pytestmark = pytest.mark.req("H-SIM-1")


async def test_actions_run_and_their_result_comes_back(kit_sim):
    control = SimControl(kit_sim.http, kit_sim.url + "/")  # a trailing slash is tolerated
    item = await control.action("rename-item", id=2, title="Renamed over the client")
    assert item["title"] == "Renamed over the client"
    async with kit_sim.http.get(f"{kit_sim.url}/api/items/2") as resp:
        assert (await resp.json())["title"] == "Renamed over the client"


@pytest.mark.parametrize(
    "name, payload, status, code",
    [
        ("rename-item", {"id": 99999, "title": "x"}, 404, "not_found"),
        ("rename-item", {"id": 2}, 422, "invalid_payload"),
        ("no-such-action", {}, 404, "no_such_action"),
    ],
)
async def test_a_refused_action_raises_with_the_control_planes_code_and_changes_nothing(
    kit_sim, name, payload, status, code
):
    before = await kit_sim.digest()
    with pytest.raises(SimControlError) as refused:
        await SimControl(kit_sim.http, kit_sim.url).action(name, **payload)
    assert (refused.value.status, refused.value.code) == (status, code)
    assert code in str(refused.value) and f"/_sim/actions/{name}" in str(refused.value)
    assert await kit_sim.digest() == before


async def test_faults_are_added_all_or_none_listed_and_cleared(kit_sim):
    control = SimControl(kit_sim.http, kit_sim.url)
    added = await control.add_faults(
        {"kind": "error", "status": 503, "path": "/api/items", "count": 1},
        {"kind": "latency", "latency_ms": 1, "path": "/api/items/1"},
    )
    assert [r["kind"] for r in added] == ["error", "latency"] and all("id" in r for r in added)
    assert [r["id"] for r in await control.faults()] == [r["id"] for r in added]
    with pytest.raises(SimControlError) as refused:  # one bad rule: none of the two is added
        await control.add_faults({"kind": "error", "status": 500}, {"kind": "no-such-kind"})
    assert refused.value.status == 422
    assert len(await control.faults()) == 2
    async with kit_sim.http.get(f"{kit_sim.url}/api/items") as resp:
        assert resp.status == 503  # the one-shot rule fires, then is gone
    assert [r["kind"] for r in await control.faults()] == ["latency"]
    await control.clear_faults()
    assert await control.faults() == []


async def test_journal_filters_travel_as_the_contract_names_them_and_clearing_keeps_the_total(kit_sim):
    control = SimControl(kit_sim.http, kit_sim.url)
    for path in ("/api/items", "/api/items/1", "/api/nowhere"):
        async with kit_sim.http.get(kit_sim.url + path) as resp:
            await resp.read()
    everything = await control.journal(source="client")
    assert [e["path"] for e in everything["entries"]] == ["/api/items", "/api/items/1", "/api/nowhere"]
    bad = await control.journal(violations=True)  # a bool goes as the contract's "true"
    assert [e["path"] for e in bad["entries"]] == ["/api/nowhere"]
    assert [e["path"] for e in (await control.journal(limit=1))["entries"]] == ["/api/nowhere"]
    with pytest.raises(SimControlError) as refused:
        await control.journal(limit=0)
    assert (refused.value.status, refused.value.code) == (400, "invalid_filter")
    await control.clear_journal()
    after = await control.journal()
    assert after["entries"] == [] and after["total"] == everything["total"]


async def test_counts_and_reset(kit_sim):
    control = SimControl(kit_sim.http, kit_sim.url)
    start = await control.counts()
    async with kit_sim.http.post(f"{kit_sim.url}/api/items", json={"title": "one more"}) as resp:
        assert resp.status == 201
    assert (await control.counts())["items"] == start["items"] + 1
    await control.add_faults({"kind": "error", "status": 500, "path": "/api/items"})
    await control.reset()
    assert await control.counts() == start
    assert await control.faults() == [] and (await control.journal())["entries"] == []
