"""Scenarios: the file (contracts/scenario.schema.json, contracts/scenario.py), a simulator playing one (its
section, its timeline, reset to its start, the same state from the same file and seed), and the library."""

from __future__ import annotations

import asyncio
import base64
import json
import re
from pathlib import Path

import aiohttp
import jsonschema
import pytest
import yaml

from conformance.requirements import load as requirement_catalogue
from contracts.scenario import (
    SCHEMA_PATH,
    ScenarioError,
    demo_city,
    directory_name,
    library,
    load,
    loads,
    parse_duration,
)
from harness.cli import main
from harness.stack import Stack
from simulators.arcgis import ArcgisConfig
from simulators.cityworks import CityworksConfig
from simulators.cityworks import create_app as create_cityworks
from simulators.kit import city as kit_city
from simulators.opengov import OpengovConfig
from simulators.opengov import create_app as create_opengov
from tests.test_cityworks_sim import Client

ROOT = Path(__file__).resolve().parent.parent

SMALL_CITY = """
version: 1
name: small-city
seed: 3
vendors:
  cityworks:
    users: [{login: harness, password: harness}]
    statuses: [{Code: OPEN}, {Code: DISPATCHED, CodeDesc: Crew dispatched}, {Code: CLOSED}, {Code: CANCEL}]
    problems:
      - ProblemCode: POT
        Description: Pothole
        questions:
          - text: Blocking traffic?
            answers: [{text: "Yes", format: "YES", next: 3}, {text: "No", format: "NO"}]
          - text: How big?
            answers: [{format: FREETEXT}]
          - text: Anything else?
            answers: [{format: FREETEXT}]
      - {ProblemCode: INTERNAL, Description: Internal only, public: false}
    templates: [{WOTemplateId: "201", Description: Patch, ApplyToEntity: STREET}]
    requests:
      - {ProblemCode: POT, Address: 1 Main St, OtherSystemId: listed-1, comments: ["To SCF: seen"]}
timeline:
  - name: crew closes the client's request
    vendor: cityworks
    when: {created: {OtherSystemId: "scf-*"}}
    after: {polls: 2}
    action: close-request
  - name: crew comments on it
    vendor: cityworks
    when: {created: {OtherSystemId: "scf-*"}}
    after: {polls: 1}
    action: add-comment
    payload: {text: crew dispatched, to_scf: true}
"""


# -- the file ----------------------------------------------------------------------------------------


@pytest.mark.req("H-SCN-1")
@pytest.mark.parametrize("name", sorted(library()))
def test_every_library_scenario_validates_against_the_schema(name):
    schema = json.loads(SCHEMA_PATH.read_text())
    jsonschema.Draft202012Validator.check_schema(schema)
    document = yaml.safe_load(library()[name].read_text())
    jsonschema.Draft202012Validator(schema).validate(document)  # a second, independent validator agrees
    scenario = load(name)
    assert scenario.name == name
    unknown = set(scenario.requirements) - set(requirement_catalogue())
    assert not unknown, f"{name} names requirements the catalogue lacks: {unknown}"


@pytest.mark.req("H-SCN-1")
@pytest.mark.parametrize(
    ("text", "problem"),
    [
        ("version: 2\nname: x\n", "$.version: 2 is not a version this reader knows (1)"),
        ("name: x\n", '$: "version" is a required property'),
        ("version: 1\nname: X Y\n", "$.name:"),
        ("version: 1\nname: x\ntimeline: [{vendor: cityworks, at: 3x, action: close-request}]\n", "$.timeline[0].at:"),
        (
            "version: 1\nname: x\ntimeline: [{vendor: cityworks, at: 3s}]\n",
            "$.timeline[0]: give exactly one of action, fault, expire_sessions and clock",
        ),
        (
            "version: 1\nname: x\ntimeline: [{vendor: cityworks, at: 3s, when: {created: {A: 1}}, action: x}]\n",
            "$.timeline[0]: give exactly one of at (a time) and when (what the client did)",
        ),
        (
            "version: 1\nname: x\nvendors: {cityworks: {problems: [{ProblemCode: P}]}}\n",
            "$.vendors.cityworks.problems[0]:",
        ),
        (
            "version: 1\nname: x\ncity: {name: c, boundary: [[0, 0], [1, 0], [1, 1], [0, 1]]}\n",
            "$.city.boundary: a closed ring",
        ),
        (
            "version: 1\nname: x\ntimeline: [{vendor: opengov, when: {created: {A: 1}, listed: {class: C}}, "
            "action: x}]\n",
            "$.timeline[0].when: give exactly one of created (a record) and listed (a page of a listing)",
        ),
        (
            "version: 1\nname: x\ntimeline: [{vendor: opengov, when: {created: {A: 1}, page: 2}, action: x}]\n",
            "$.timeline[0].when: page counts pages of a listing: give it with listed",
        ),
        (
            "version: 1\nname: x\ntimeline: [{vendor: opengov, when: {listed: {class: C}}, after: {polls: 1}, "
            "action: x}]\n",
            "$.timeline[0].after: a listed page is its own moment",
        ),
        (
            "version: 1\nname: x\ntimeline: [{vendor: opengov, when: {listed: {class: C}, page: 0}, action: x}]\n",
            "$.timeline[0].when.page:",
        ),
        ("version: 1\nname: x\nvendors: {opengov: {page_limit: 0}}\n", "$.vendors.opengov.page_limit:"),
        (
            "version: 1\nname: x\nvendors: {city-api: {listings: {jobs: [%s, %s]}}}\n"
            % (("{id: J1, title: T, department: D, salary: S, closes: '2026-02-01'}",) * 2),
            "$.vendors.city-api.listings.jobs[1].id: 'J1' is also id of [0]",
        ),
        (
            "version: 1\nname: x\nvendors: {city-api: {engagement_html: <p>x</p>, listings: {engagement: "
            "[{id: E1, title: T, place: P, date: '2026-02-01'}]}}}\n",
            "$.vendors.city-api.engagement_html: give the engagement widget's HTML or its listings, not both",
        ),
        (
            "version: 1\nname: x\nvendors: {city-api: {widgets: [utilities, parking]}}\n",
            "$.vendors.city-api.widgets[1]:",
        ),
        ("version: 1\nname: [unclosed\n", "$: not YAML (line"),
        ("- a list\n", "$: a scenario is a mapping"),
    ],
)
def test_a_malformed_scenario_is_refused_with_the_json_path_of_each_problem(text, problem):
    with pytest.raises(ScenarioError) as caught:
        loads(text)
    assert any(p.startswith(problem) for p in caught.value.problems), caught.value.problems


def test_durations():
    assert parse_duration("30s") == 30 and parse_duration("2m") == 120 and parse_duration("1h30m") == 5400
    assert parse_duration("500ms") == 0.5 and parse_duration(7) == 7.0
    assert parse_duration("-1h", signed=True) == -3600
    for bad in ("", "3x", "1h 30m", "-5s", True):
        with pytest.raises(ValueError):
            parse_duration(bad)


@pytest.mark.req("H-SCN-4")
def test_the_demo_city_is_the_library_scenario_the_kit_reads():
    city = demo_city()
    assert (city.name, city.point()) == (kit_city.NAME, kit_city.SAMPLE_POINT)
    assert list(kit_city.BOUNDARY.exterior.coords) == list(city.boundary)
    assert kit_city.contains(city.point()["long"], city.point()["lat"])


def test_a_directory_is_one_city_and_a_vendor_may_not_repeat(tmp_path):
    (tmp_path / "cityworks.yaml").write_text("version: 1\nname: mine\nvendors: {cityworks: {generate: {}}}\n")
    (tmp_path / "opengov.yaml").write_text(
        "version: 1\nname: mine-og\nvendors: {opengov: {generate: {}}}\n"
        "timeline: [{vendor: opengov, at: 1s, expire_sessions: true}]\n"
    )
    merged = load(tmp_path)
    assert set(merged.vendors) == {"cityworks", "opengov"} and len(merged.timeline) == 1
    assert merged.name == directory_name(tmp_path) != "mine"  # the city's directory, not its first file
    city = tmp_path / "My City_2"
    city.mkdir()
    (city / "a.yaml").write_text("version: 1\nname: captured-city-api\nvendors: {cityworks: {generate: {}}}\n")
    assert load(city).name == "my-city-2"
    (tmp_path / "again.yaml").write_text("version: 1\nname: again\nvendors: {opengov: {generate: {}}}\n")
    with pytest.raises(ScenarioError, match=r"\$\.vendors\.opengov: in both"):
        load(tmp_path)


# -- a simulator playing one -------------------------------------------------------------------------


async def _post(http: aiohttp.ClientSession, url: str, body: str) -> tuple[int, dict]:
    async with http.post(f"{url}/_sim/scenario", data=body, headers={"Content-Type": "application/yaml"}) as resp:
        return resp.status, await resp.json()


async def _get(http: aiohttp.ClientSession, url: str, path: str) -> dict:
    async with http.get(f"{url}/_sim/{path}") as resp:
        assert resp.status == 200
        return await resp.json()


@pytest.mark.req("H-SCN-1", "H-SCN-2")
async def test_a_scenario_the_simulator_cannot_play_is_refused_whole_and_changes_nothing():
    async with Stack({"cityworks": CityworksConfig(seed=1)}) as stack, aiohttp.ClientSession() as http:
        url = stack.url("cityworks")
        before = await _get(http, url, "state")
        journal = (await _get(http, url, "journal"))["total"]
        bad = SMALL_CITY + (
            "  - {vendor: cityworks, at: 1s, action: close-everything}\n"
            "  - {vendor: cityworks, at: 1s, fault: {kind: eror}}\n"
        )
        bad = bad.replace("generate: {}", "generate: {potholes: 3}")
        status, body = await _post(http, url, bad)
        assert status == 422 and body["error"]["code"] == "invalid_scenario"
        assert any(p.startswith("$.timeline[2].action: cityworks has no action") for p in body["error"]["details"])
        assert any(p.startswith("$.timeline[3].fault: kind") for p in body["error"]["details"])
        listed = "version: 1\nname: x\nvendors: {cityworks: {problems: [{ProblemCode: P, Description: P}], %s}}"
        status, body = await _post(http, url, listed % "requests: [{ProblemCode: P}, {ProblemCode: Q}]")
        assert status == 422 and body["error"]["details"] == [
            "$.vendors.cityworks.requests[1].ProblemCode: no problem type 'Q'"
        ]
        branching = "questions: [{text: A, answers: [{format: 'YES', next: 1}]}]"
        status, body = await _post(http, url, listed.replace("Description: P", f"Description: P, {branching}") % "")
        assert status == 422 and body["error"]["details"][0].startswith(
            "$.vendors.cityworks.problems[0].questions[0].answers[0].next: 1 must name a later question"
        )
        status, body = await _post(http, url, "version: 1\nname: x\nvendors: {cityworks: {generate: {potholes: 3}}}")
        assert status == 422 and body["error"]["details"][0].startswith("$.vendors.cityworks.generate.potholes")
        status, body = await _post(
            http, url, "version: 1\nname: x\nvendors: {cityworks: {users: [{login: other, password: p}]}}"
        )
        assert status == 422 and "users" in body["error"]["message"]  # a setting only a restart can change
        assert await _get(http, url, "state") == before
        assert (await _get(http, url, "journal"))["total"] == journal
        assert (await _get(http, url, "scenario"))["scenario"] is None


@pytest.mark.req("H-SCN-2")
async def test_the_same_file_and_seed_give_the_same_state_and_reset_returns_to_the_start():
    scenario = loads(SMALL_CITY)
    configs = {"cityworks": CityworksConfig(seed=0)}
    async with (
        Stack(configs, scenario=scenario) as a,
        Stack(configs, scenario=scenario) as b,
        aiohttp.ClientSession() as http,
    ):
        first = await _get(http, a.url("cityworks"), "state")
        assert first == await _get(http, b.url("cityworks"), "state")
        assert first["counts"]["problems"] == 2 and first["counts"]["public_problems"] == 1
        assert first["counts"]["requests"] == 1 and first["counts"]["comments"] == 1
        async with http.post(f"{a.url('cityworks')}/_sim/actions/close-request", json={"RequestId": 1}) as r:
            assert r.status == 200
        assert (await _get(http, a.url("cityworks"), "state")) != first
        async with http.post(f"{a.url('cityworks')}/_sim/reset") as r:
            assert (await r.json())["scenario"] == "small-city"
        assert await _get(http, a.url("cityworks"), "state") == first
        qa = (await _get(http, a.url("cityworks"), "state"))["counts"]
        assert qa["templates"] == 1


@pytest.mark.req("H-SCN-2", "H-SCN-4")
async def test_the_demo_city_scenario_is_the_seeded_demo_data():
    configs = {"cityworks": CityworksConfig(seed=5), "opengov": OpengovConfig(seed=5)}
    async with (
        Stack(configs) as plain,
        Stack(configs, scenario=load("demo-city")) as played,
        aiohttp.ClientSession() as http,
    ):
        for name in configs:
            assert await _get(http, plain.url(name), "state") == await _get(http, played.url(name), "state")


@pytest.mark.req("H-SCN-3")
async def test_a_step_keyed_to_what_the_client_did_fires_after_its_polls():
    async with (
        Stack({"cityworks": CityworksConfig(seed=0)}, scenario=loads(SMALL_CITY)) as stack,
        aiohttp.ClientSession() as http,
    ):
        url = stack.url("cityworks")
        cw = Client(http, url)
        await cw.login()
        statuses = (await cw.call("Ams/ServiceRequest/Statuses", {}))["Value"]
        assert [s["Code"] for s in statuses] == ["OPEN", "DISPATCHED", "CLOSED", "CANCEL"], "the city's own statuses"
        problems = (await cw.call("Ams/ServiceRequest/Problems", {}))["Value"]
        await cw.call("Ams/ServiceRequest/Create", {"ProblemSid": problems[0]["ProblemSid"], "OtherSystemId": "other"})
        steps = (await _get(http, url, "scenario"))["steps"]
        assert [s["state"] for s in steps] == ["waiting", "waiting"], "a request not matching the step's fields"
        created = await cw.call(
            "Ams/ServiceRequest/Create", {"ProblemSid": problems[0]["ProblemSid"], "OtherSystemId": "scf-9"}
        )
        rid = created["Value"]["RequestId"]
        steps = (await _get(http, url, "scenario"))["steps"]
        assert [s["state"] for s in steps] == ["triggered", "triggered"]

        async def poll() -> dict:
            return (await cw.call("Ams/ServiceRequest/ByIds", {"RequestIds": [rid]}))["Value"][0]

        assert (await poll())["Status"] != "CLOSED"  # poll 1: the comment step fires after it
        comments = (await cw.call("Ams/ServiceRequest/Comments", {"RequestId": rid}))["Value"]
        assert "To SCF: crew dispatched" in [c["Comments"] for c in comments]
        assert (await poll())["Status"] != "CLOSED"  # poll 2: the close fires after it
        assert (await poll())["Status"] == "CLOSED"  # poll 3 sees it
        steps = (await _get(http, url, "scenario"))["steps"]
        assert [s["state"] for s in steps] == ["done", "done"] and steps[0]["target"] == {"RequestId": rid}
        operator = (await _get(http, url, "journal?source=operator"))["entries"]
        assert [e["operation"] for e in operator] == ["action:add-comment", "action:close-request"]


PAGED_CITY = """
version: 1
name: paged-city
vendors:
  opengov:
    page_limit: 2
    issues: [{IssueField: A}, {IssueField: B}, {IssueField: C}, {IssueField: D}, {IssueField: E}]
timeline:
  - name: the first record of page 2 is retired
    vendor: opengov
    when: {listed: {class: cgRequestIssuesClass, filter: ""}, page: 2}
    action: retire-issue
"""


@pytest.mark.req("H-SCN-3", "OG-PAGE-1")
async def test_a_step_on_a_page_of_a_listing_fires_before_the_client_reads_the_next():
    configs = {"opengov": OpengovConfig(seed=0)}
    async with Stack(configs, scenario=loads(PAGED_CITY)) as stack, aiohttp.ClientSession() as http:
        url = stack.url("opengov")
        auth = {"Authorization": aiohttp.encode_basic_auth("harness", "harness")}

        async def page(offset: int, **more: str) -> dict:
            params = {"limit": "1000", "offset": str(offset), **more}
            async with http.get(f"{url}/api/v1/classes/cgRequestIssuesClass", params=params, headers=auth) as r:
                assert r.status == 200
                return await r.json()

        async def step() -> dict:
            return (await _get(http, url, "scenario"))["steps"][0]

        first = await page(0)
        # the server's page limit: two records, whatever limit asks, and _metadata says so
        assert [r["Oid"] for r in first["cgRequestIssuesClass"]] == [1, 2]
        assert first["_metadata"] == {"totalCount": 5, "offset": 0, "limit": 2}
        await page(0, filter="([Oid] is greater than 0)")  # another listing (a filter): not counted
        assert (await step())["state"] == "waiting" and (await step())["pages"] == 1
        second = await page(2)  # page 2 is answered as it was, then the step fires on its first record
        assert [(r["Oid"], r["InactiveField"]) for r in second["cgRequestIssuesClass"]] == [(3, False), (4, False)]
        done = await step()
        assert done["state"] == "done" and done["target"] == {"Oid": 3} and done["pages"] == 2
        assert done["when"] == {"listed": {"class": "cgRequestIssuesClass", "filter": ""}, "page": 2}
        third = await page(4)
        assert [r["Oid"] for r in third["cgRequestIssuesClass"]] == [5]
        again = await page(2)
        assert [(r["Oid"], r["InactiveField"]) for r in again["cgRequestIssuesClass"]] == [(3, True), (4, False)]
        operator = (await _get(http, url, "journal?source=operator"))["entries"]
        assert [e["operation"] for e in operator] == ["action:retire-issue"]


@pytest.mark.req("H-SCN-1", "H-SCN-3")
async def test_a_simulator_that_pages_no_listing_refuses_a_listed_step():
    async with Stack({"cityworks": CityworksConfig(seed=0)}) as stack, aiohttp.ClientSession() as http:
        text = "version: 1\nname: x\ntimeline: [{vendor: cityworks, when: {listed: {a: b}}, action: close-request}]"
        status, body = await _post(http, stack.url("cityworks"), text)
        assert status == 422
        assert body["error"]["details"] == ["$.timeline[0].when.listed: the cityworks simulator pages no listing"]
    async with Stack({"opengov": OpengovConfig(seed=0)}) as stack, aiohttp.ClientSession() as http:
        status, body = await _post(
            http, stack.url("opengov"), "version: 1\nname: x\nvendors: {opengov: {page_limit: 2}}"
        )
        assert status == 422 and "page_limit" in body["error"]["message"]  # a setting only a restart can change


@pytest.mark.req("H-SCN-3")
async def test_timed_steps_open_a_fault_window_and_expire_the_sessions():
    scenario = loads(
        """
version: 1
name: window
timeline:
  - name: maintenance
    vendor: cityworks
    at: 1s
    fault: {kind: error, status: 503, path: /Services/Ams/ServiceRequest/Problems}
    for: 1s
  - {name: tokens expire, vendor: cityworks, at: 3s, expire_sessions: true}
"""
    )
    async with (
        Stack({"cityworks": CityworksConfig(seed=0)}, scenario=scenario) as stack,
        aiohttp.ClientSession() as http,
    ):
        url = stack.url("cityworks")
        cw = Client(http, url)
        await cw.login()
        form = {"data": json.dumps({"ForPublicOnly": True})}
        headers = {"Authorization": f"cityworks {cw.token}"}
        problems = f"{url}/Services/Ams/ServiceRequest/Problems"

        async def status() -> tuple[int, int]:
            async with http.post(problems, data=form, headers=headers) as resp:
                return resp.status, (await resp.json()).get("Status", -1)

        async def until(ready) -> None:
            for _ in range(200):
                if ready(await _get(http, url, "scenario"), await _get(http, url, "faults")):
                    return
                await asyncio.sleep(0.02)
            raise AssertionError("the timeline did not move")

        assert await status() == (200, 0)
        await until(lambda sc, _: sc["steps"][0]["state"] == "done")
        assert (await status())[0] == 503  # the maintenance window
        await until(lambda _, faults: not faults["faults"])
        assert await status() == (200, 0)  # the window closed; the token still works
        await until(lambda sc, _: sc["steps"][1]["state"] == "done")
        assert (await status())[1] != 0  # the token no longer works: Unauthorized in the envelope
        steps = (await _get(http, url, "scenario"))["steps"]
        assert [s["state"] for s in steps] == ["done", "done"]


@pytest.mark.req("H-SCN-2")
def test_sim_refuses_a_scenario_it_cannot_play_with_the_path(tmp_path, capsys):
    bad = tmp_path / "bad.yaml"
    bad.write_text("version: 1\nname: bad\ntimeline: [{vendor: cityworks, at: 1s, action: close-everything}]\n")
    assert main(["sim", "cityworks", "--scenario", str(bad)]) == 2
    err = capsys.readouterr().err
    assert "$.timeline[0].action: cityworks has no action 'close-everything'" in err
    assert "Traceback" not in err
    assert main(["sim", "cityworks", "--scenario", "no-such-scenario"]) == 2
    assert "no library scenario of that name (library: " in capsys.readouterr().err


@pytest.mark.req("H-SCN-4")
async def test_a_scenario_check_failure_names_the_scenario_and_the_step():
    from conformance.gateway.scenarios import play

    async with Stack({"cityworks": CityworksConfig(seed=0)}) as stack, aiohttp.ClientSession() as http:
        played = await play(http, stack.url("cityworks"), "dst-change")
        with pytest.raises(AssertionError) as caught:  # no client ever created a request: the step waits
            await played.reached("crew note after spring forward", timeout_s=0.2)
    assert str(caught.value).startswith(
        "scenario dst-change, timeline[3] 'crew note after spring forward' (action add-comment): never reached done"
    )


@pytest.mark.slow
@pytest.mark.req("H-SCN-2", "H-SCN-4")
async def test_the_large_city_is_generated_at_size_and_the_same_each_time():
    scenario = load("large-city")
    configs = {"cityworks": CityworksConfig(seed=0), "opengov": OpengovConfig(seed=0)}
    async with Stack(configs, scenario=scenario) as a, aiohttp.ClientSession() as http:
        for name in configs:
            state = await _get(http, a.url(name), "state")
            if name == "cityworks":
                assert state["counts"]["problems"] == 2000 and state["counts"]["requests"] == 55_000
            else:
                assert state["counts"]["cgRequestIssuesClass"] == 2000 and state["counts"]["cgRequestsClass"] == 55_000
            async with http.post(f"{a.url(name)}/_sim/reset") as resp:
                assert resp.status == 200
            assert await _get(http, a.url(name), "state") == state, f"{name}: reset returns to the same large city"


@pytest.mark.req("H-SCN-3")
async def test_a_clock_step_moves_the_sites_local_time_across_the_change():
    scenario = loads(
        """
version: 1
name: clock
vendors: {cityworks: {timezone: America/New_York, problems: [{ProblemCode: P, Description: P}],
                      requests: [{ProblemCode: P}]}}
timeline:
  - {name: set, vendor: cityworks, at: 0s, clock: {set: "2026-03-08T01:59:30"}}
  - {name: jump, vendor: cityworks, at: 0.1s, clock: {jump: 1m}}
"""
    )
    async with (
        Stack({"cityworks": CityworksConfig(seed=0)}, scenario=scenario) as stack,
        aiohttp.ClientSession() as http,
    ):
        url = stack.url("cityworks")
        for _ in range(100):
            if [s["state"] for s in (await _get(http, url, "scenario"))["steps"]] == ["done", "done"]:
                break
            await asyncio.sleep(0.02)
        async with http.post(f"{url}/_sim/actions/add-comment", json={"RequestId": 1, "text": "x"}) as resp:
            written = (await resp.json())["result"]["DateCreated"]
        assert written.startswith("2026-03-08T03:00:3"), f"01:59:30 EST plus a minute is 03:00:30 EDT, got {written}"
        refused = "version: 1\nname: x\ntimeline: [{vendor: arcgis, at: 1s, clock: {jump: 1h}}]\n"
    async with Stack({"arcgis": ArcgisConfig(seed=0)}) as geo, aiohttp.ClientSession() as http:
        status, body = await _post(http, geo.url("arcgis"), refused)
        assert status == 422 and body["error"]["details"] == [
            "$.timeline[0].clock: the arcgis simulator keeps no clock of its own"
        ]


OG_AUTH = {"Authorization": aiohttp.encode_basic_auth("harness", "harness")}


async def _og_create(http: aiohttp.ClientSession, url: str, issue: str) -> dict:
    body = {"cgRequestsClass": [{"IssueField": issue}]}
    async with http.post(f"{url}/api/v1/classes/cgRequestsClass", json=body, headers=OG_AUTH) as resp:
        assert resp.status == 200, await resp.text()
        return (await resp.json())["cgRequestsClass"][0]


@pytest.mark.req("H-SCN-3", "H-SCN-7")
async def test_an_opengov_clock_step_moves_its_local_time_across_the_fall_back_change():
    """The OpenGov server writes its local time without an offset, to the millisecond, as before; a clock step
    moves it, and a request modified after the clock fell back reads as earlier text than one before."""
    scenario = loads(
        """
version: 1
name: og-clock
vendors: {opengov: {timezone: America/New_York, issues: [{IssueField: Pothole}]}}
timeline:
  - {name: set, vendor: opengov, at: 0s, clock: {set: "2026-11-01T01:59:30"}}
  - {name: fall back, vendor: opengov, when: {created: {IssueField: Pothole}}, clock: {jump: 1m}}
"""
    )
    async with (
        Stack({"opengov": OpengovConfig(seed=0)}, scenario=scenario) as stack,
        aiohttp.ClientSession() as http,
    ):
        url = stack.url("opengov")
        for _ in range(100):
            if (await _get(http, url, "scenario"))["steps"][0]["state"] == "done":
                break
            await asyncio.sleep(0.02)
        before = await _og_create(http, url, "Pothole")
        assert re.fullmatch(r"2026-11-01T01:59:3\d\.\d{3}", before["EntryDateField"]), before["EntryDateField"]
        for _ in range(100):
            if [s["state"] for s in (await _get(http, url, "scenario"))["steps"]] == ["done", "done"]:
                break
            await asyncio.sleep(0.02)
        after = await _og_create(http, url, "Pothole")
        # 01:59:3x EDT and a minute is 01:00:3x EST: the text goes back, the moment on
        assert re.fullmatch(r"2026-11-01T01:00:3\d\.\d{3}", after["EntryDateField"]), after["EntryDateField"]
        assert after["cgLastModifiedField"] == after["EntryDateField"]


ZONED = {
    "opengov": """
version: 1
name: zoned
vendors:
  opengov:
%s
    generate: {request_issues: 3, requests: 4, requesters: 2, comments: 3, open_requests: 0}
    requests: [{DescriptionField: Phoned in}]
""",
    "cityworks": """
version: 1
name: zoned
vendors:
  cityworks:
%s
    generate: {problems: 3, requests: 4}
    problems: [{ProblemCode: P, Description: P}]
    requests: [{ProblemCode: P, comments: [Phoned in]}]
""",
}
ZONE_CONFIGS = {"opengov": OpengovConfig, "cityworks": CityworksConfig}
ZONE_APPS = {"opengov": create_opengov, "cityworks": create_cityworks}


@pytest.mark.req("H-SCN-2", "H-SCN-7")
@pytest.mark.parametrize("vendor", ["opengov", "cityworks"])
@pytest.mark.parametrize("how", ["started", "loaded"])
async def test_a_scenarios_timezone_writes_the_same_records_as_the_option(vendor, how):
    """A section's `timezone` is the zone the generated and listed records are written in, as `--timezone` is:
    the same city either way, whether the simulator starts with the scenario or loads it while running."""
    zoned = loads(ZONED[vendor] % "    timezone: America/New_York")
    plain = loads(ZONED[vendor] % "")
    config = ZONE_CONFIGS[vendor]
    async with (
        Stack({vendor: config(seed=0, timezone="America/New_York")}, scenario=plain) as by_option,
        Stack({vendor: config(seed=0)}, scenario=zoned if how == "started" else None) as by_scenario,
        aiohttp.ClientSession() as http,
    ):
        if how == "loaded":
            status, body = await _post(http, by_scenario.url(vendor), json.dumps(zoned.document))
            assert status == 200, body
        expected = await _get(http, by_option.url(vendor), "state")
        assert await _get(http, by_scenario.url(vendor), "state") == expected, f"{vendor}: another city"
        if vendor == "opengov":  # listed records carry a fixed moment, written in the server's zone
            url = f"{by_scenario.url(vendor)}/api/v1/classes/cgRequestsClass?filter=%s&limit=1"
            async with http.get(url % '([Description] is equal to "Phoned in")', headers=OG_AUTH) as resp:
                (listed,) = (await resp.json())["cgRequestsClass"]
            assert listed["EntryDateField"] == "2025-12-31T19:00:00.000", "2026-01-01 00:00 UTC in New York"


@pytest.mark.req("H-SCN-1", "H-SCN-7")
@pytest.mark.parametrize("vendor", ["opengov", "cityworks"])
async def test_an_unknown_zone_in_a_scenario_is_refused_by_the_simulators_one_check(vendor):
    text = ZONED[vendor] % "    timezone: Nowhere/Land"
    problem = f"$.vendors.{vendor}.timezone: unknown time zone 'Nowhere/Land'; an IANA name such as America/New_York"
    with pytest.raises(ScenarioError) as refused:  # started with it (sim VENDOR --scenario FILE)
        ZONE_APPS[vendor](ZONE_CONFIGS[vendor](seed=0), scenario=loads(text))
    assert refused.value.problems == [problem]
    async with Stack({vendor: ZONE_CONFIGS[vendor](seed=0)}) as stack, aiohttp.ClientSession() as http:
        before = await _get(http, stack.url(vendor), "state")
        status, body = await _post(http, stack.url(vendor), text)
        assert status == 422 and body["error"]["details"] == [problem], body
        assert await _get(http, stack.url(vendor), "state") == before, "a refused scenario changes nothing"


PAGED = """
version: 1
name: paged
vendors:
  opengov:
    issues: [{IssueField: Pothole}]
    requests:
      - {IssueField: Pothole, StatusField: Open, DescriptionField: one}
      - {IssueField: Pothole, StatusField: Open, DescriptionField: two}
      - {IssueField: Pothole, StatusField: Open, DescriptionField: three}
timeline:
"""


async def _og_page(http: aiohttp.ClientSession, url: str, **query: str) -> list[int]:
    async with http.get(f"{url}/api/v1/classes/cgRequestsClass", params=query, headers=OG_AUTH) as resp:
        assert resp.status == 200, await resp.text()
        return [r["Oid"] for r in (await resp.json())["cgRequestsClass"]]


@pytest.mark.req("H-SCN-3")
async def test_a_listed_step_acts_on_the_page_the_client_got_when_another_step_fires_on_the_same_call():
    """A created record's poll step earlier in the timeline closes the record on the very listing call a listed
    step waits for: the listed step's target is still the first record the client received, not the first of
    the window cut again afterwards."""
    scenario = loads(
        PAGED
        + """
  - {name: closed at once, vendor: opengov, when: {created: {DescriptionField: mine}},
     after: {polls: 1, poll: listRecords}, action: close-request}
  - {name: note on the page, vendor: opengov, when: {listed: {class: cgRequestsClass}},
     action: add-comment, payload: {text: Seen.}}
"""
    )
    async with (
        Stack({"opengov": OpengovConfig(seed=0)}, scenario=scenario) as stack,
        aiohttp.ClientSession() as http,
    ):
        url = stack.url("opengov")
        async with http.post(
            f"{url}/api/v1/classes/cgRequestsClass",
            json={"cgRequestsClass": [{"IssueField": "Pothole", "StatusField": "Open", "DescriptionField": "mine"}]},
            headers=OG_AUTH,
        ) as resp:
            assert resp.status == 200, await resp.text()
            mine = (await resp.json())["cgRequestsClass"][0]["Oid"]
        got = await _og_page(http, url, filter='([Status] is equal to "Open")', sort="Oid:desc", limit="2")
        assert got[0] == mine, got
        closed, noted = (await _get(http, url, "scenario"))["steps"]
        assert closed["state"] == "done" and closed["target"] == {"Oid": mine}, closed
        assert noted["target"] == {"Oid": got[0]}, f"the client read {got}; the step acted on {noted['target']}"
        assert noted["state"] == "done", noted


@pytest.mark.req("H-SCN-3")
async def test_an_empty_answer_is_no_page_of_a_listing():
    """`page: 2` is the second page with records on it: the empty answer a client reads at a listing's end is
    not counted (a client stopping at a short page never reads it) and never fires a step without a target."""
    scenario = loads(
        PAGED
        + """
  - {name: on page two, vendor: opengov, when: {listed: {class: cgRequestsClass}, page: 2},
     action: add-comment, payload: {text: Seen.}}
"""
    )
    async with (
        Stack({"opengov": OpengovConfig(seed=0)}, scenario=scenario) as stack,
        aiohttp.ClientSession() as http,
    ):
        url = stack.url("opengov")
        assert await _og_page(http, url, sort="Oid:asc", limit="2")
        assert await _og_page(http, url, sort="Oid:asc", limit="2", offset="50") == []
        (step,) = (await _get(http, url, "scenario"))["steps"]
        assert step["state"] == "waiting" and step["pages"] == 1 and "target" not in step, step
        second = await _og_page(http, url, sort="Oid:asc", limit="2", offset="2")
        (step,) = (await _get(http, url, "scenario"))["steps"]
        assert step["state"] == "done" and step["pages"] == 2 and step["target"] == {"Oid": second[0]}, step


@pytest.mark.req("H-SCN-2")
def test_up_refuses_a_scenario_a_simulator_cannot_play(tmp_path, capsys):
    (tmp_path / "cityworks.yaml").write_text(
        "version: 1\nname: mine\ntimeline: [{name: crew, vendor: cityworks, at: 1s, action: close-everything}]\n"
    )
    assert main(["up", "--scenario", str(tmp_path)]) == 2
    err = capsys.readouterr().err
    assert "$.timeline[0].action: cityworks has no action 'close-everything'" in err
    assert "Traceback" not in err


@pytest.mark.req("H-SCN-2")
def test_every_simulators_problems_are_named_in_one_run(tmp_path, capsys):
    """A refused setting (an unknown zone) does not hide the same simulator's timeline problems, and one
    simulator's problems do not hide another's: `up` and `sim` name them all at once."""
    (tmp_path / "cityworks.yaml").write_text(
        "version: 1\nname: mine\ntimeline: [{vendor: cityworks, at: 1s, action: close-everything}]\n"
    )
    (tmp_path / "opengov.yaml").write_text(
        "version: 1\nname: mine\nvendors: {opengov: {timezone: Mars/Olympus}}\n"
        "timeline: [{vendor: opengov, at: 1s, action: close-everything}]\n"
    )
    assert main(["up", "--scenario", str(tmp_path)]) == 2
    err = capsys.readouterr().err
    assert "$.timeline[0].action: cityworks has no action 'close-everything'" in err, err
    assert "$.vendors.opengov.timezone: " in err and "$.timeline[1].action: opengov has no action" in err, err
    assert main(["sim", "opengov", "--scenario", str(tmp_path / "opengov.yaml")]) == 2
    err = capsys.readouterr().err
    assert "$.vendors.opengov.timezone: " in err and "$.timeline[0].action: opengov has no action" in err, err


@pytest.mark.req("H-SCN-6")
async def test_a_provider_state_gives_the_site_back_as_it_was():
    """A state played for one check and dropped returns the simulator to what it held: the scenario it was started
    with (a captured city) and the records clients wrote since, not the plain seeded data; reset still returns to
    that scenario's start."""
    auth = {"Authorization": "Basic " + base64.b64encode(b"harness:harness").decode()}
    async with (
        Stack({"opengov": OpengovConfig(seed=0)}, scenario=load("paging-reorder")) as stack,
        aiohttp.ClientSession() as http,
    ):
        url = stack.url("opengov")
        made = {"cgRequestsClass": [{"IssueField": "Graffiti", "DescriptionField": "Written before the state"}]}
        async with http.post(f"{url}/api/v1/classes/cgRequestsClass", json=made, headers=auth) as resp:
            assert resp.status in (200, 201), await resp.text()
            oid = (await resp.json())["cgRequestsClass"][0]["Oid"]
        before = await _get(http, url, "state")
        state = load("opengov-request-catalogue")
        status, body = await _post(http, url, yaml.safe_dump(state.document))
        assert status == 200, body
        assert (await _get(http, url, "state"))["digest"] != before["digest"], "the state is played"
        async with http.delete(f"{url}/_sim/scenario") as resp:
            assert resp.status == 200 and (await resp.json())["scenario"] == "paging-reorder"
        assert await _get(http, url, "state") == before, "the site as it was, the record written before included"
        assert (await _get(http, url, "scenario"))["scenario"] == "paging-reorder"
        async with http.get(f"{url}/api/v1/classes/cgRequestsClass/{oid}", headers=auth) as resp:
            assert resp.status == 200
        async with http.post(f"{url}/_sim/reset") as resp:
            assert (await resp.json())["scenario"] == "paging-reorder"
        async with http.get(f"{url}/api/v1/classes/cgRequestsClass/{oid}", headers=auth) as resp:
            assert resp.status == 404, "reset: the scenario's start, without what clients wrote"
