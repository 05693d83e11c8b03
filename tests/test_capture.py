"""`civic-harness capture`: a scenario read from a server with read-only calls, personal data scrubbed.
Captured from a simulator seeded one way and loaded into one seeded another, the configuration digests of
`/_sim/state` agree; the captured simulator's journal shows reads only and its state is unchanged."""

from __future__ import annotations

import asyncio
import json
import time
from urllib.parse import urlencode

import aiohttp
import pytest
import requests
import yaml

from contracts.scenario import loads
from contracts.widget_signing import sign
from harness.capture import scrub
from harness.cli import main
from harness.stack import Stack
from simulators.city_api import WIDGETS, CityApiConfig, CityState
from simulators.city_api.seed import seed_state
from simulators.cityworks import CityworksConfig
from simulators.opengov import OpengovConfig

# What capture may call: sign-ins and reads (operationIds of the vendor contracts).
READS = {
    "cityworks": {
        "General_Authentication_Authenticate",
        "Authentication_Authenticate",
        "Ams_ServiceRequest_Problems",
        "Ams_ServiceRequest_QA",
        "Ams_ServiceRequest_Statuses",
        "Ams_WorkOrder_Templates",
        "Ams_ServiceRequest_Search",
        "Ams_ServiceRequest_ByIds",
        "Ams_Comment_ByActivitySids",
    },
    "opengov": {"classMetaSlash", "classMeta", "listRecords", "listChildren"},
}


async def _get(http: aiohttp.ClientSession, url: str, path: str) -> dict:
    async with http.get(f"{url}/_sim/{path}") as resp:
        assert resp.status == 200
        return await resp.json()


@pytest.mark.req("H-SCN-5")
@pytest.mark.parametrize(
    ("vendor", "config"),
    [("cityworks", CityworksConfig), ("opengov", OpengovConfig)],
)
async def test_capture_round_trips_and_only_reads(vendor, config, tmp_path, capsys):
    out = tmp_path / f"{vendor}.yaml"
    async with (
        Stack({vendor: config(seed=1)}) as source,
        Stack({vendor: config(seed=2)}) as target,
        aiohttp.ClientSession() as http,
    ):
        before = await _get(http, source.url(vendor), "state")
        args = ["capture", vendor, "--url", source.url(vendor), "-o", str(out), "--max-records", "50"]
        assert await asyncio.to_thread(main, args) == 0
        printed = capsys.readouterr().out
        assert printed.startswith("read ") and "read-only calls; wrote" in printed, printed

        entries = (await _get(http, source.url(vendor), "journal?source=client&limit=10000"))["entries"]
        assert {e["operation"] for e in entries} <= READS[vendor], "capture never writes"
        assert all(e["method"] in ("GET", "POST") for e in entries)
        assert await _get(http, source.url(vendor), "state") == before, "the captured server is unchanged"

        text = out.read_text()
        assert "@example.org" not in text, "e-mail addresses are scrubbed"
        target_before = await _get(http, target.url(vendor), "state")
        assert target_before["configuration_digest"] != before["configuration_digest"], "seeded differently"
        async with http.post(
            f"{target.url(vendor)}/_sim/scenario", data=text, headers={"Content-Type": "application/yaml"}
        ) as resp:
            assert resp.status == 200, await resp.text()
        loaded = await _get(http, target.url(vendor), "state")
        assert loaded["configuration_digest"] == before["configuration_digest"]
        document = yaml.safe_load(text)
        records = "requests"
        assert len(document["vendors"][vendor][records]) == 50


def test_scrubbing_is_deterministic_and_keeps_the_public_prefix():
    assert scrub.name("Ana Diaz") == scrub.name("Ana Diaz") != scrub.name("Bo Li")
    assert scrub.email("Ana@Example.org") == scrub.email("ana@example.org")
    assert scrub.email("ana@example.org").endswith("@example.invalid")
    assert scrub.phone("919-555-1234").startswith("555-01")
    assert scrub.free_text("  To SCF: call me at 919-555-1234").startswith("  To SCF: Text ")
    assert "919" not in scrub.free_text("call me at 919-555-1234")
    assert scrub.free_text("") == ""
    assert scrub.name(scrub.name("Ana Diaz")) == scrub.name("Ana Diaz"), "a stand-in stays: re-capture is a fixpoint"
    assert scrub.account_number("lnk_a", "0042").endswith("-0042")
    assert scrub.account_number("lnk_a", "0042") != scrub.account_number("lnk_b", "0042")
    assert scrub.verification("lnk_a") == scrub.verification("lnk_a") != scrub.verification("lnk_b")


def test_opengov_personal_fields_are_scrubbed_whatever_their_type_and_an_oid_is_kept():
    from harness.capture.opengov import _scrubbed

    record = {"Oid": 7, "PrimaryPhoneField": 9195551234, "EmailField": {"home": "ana@example.org"},
              "RequesterField": 42, "RequesterOidField": 5, "requester_oid": 6, "CityField": "Raleigh"}  # fmt: skip
    out = _scrubbed(record)
    assert out["PrimaryPhoneField"] == scrub.phone("9195551234"), "a phone sent as a number is scrubbed as its text"
    assert out["EmailField"].endswith("@example.invalid") and "ana" not in json.dumps(out)
    assert out["RequesterField"].startswith("Person ")
    assert (out["RequesterOidField"], out["requester_oid"]) == (5, 6), "an Oid is a reference, not a person"
    assert out["CityField"] == "Raleigh" and "Oid" not in out


# -- the city widget API: no listing call, so what a signed client sees ------------------------------------------

CITY_READS = {"describeWidget", "getContent", "listLinks"}
SECRET = "capture-test-secret-5b1e"
CITIZEN = "citizen-7"


def _signed(base: str, method: str, target: str, payload: dict | None = None) -> requests.Response:
    """One call signed with the widget's own key id (the path's first segment), as a portal makes it."""
    body = json.dumps(payload).encode() if payload is not None else b""
    headers = sign(target.split("/")[1], SECRET, method, target, body, time.time())
    if payload is not None:
        headers["Content-Type"] = "application/json"
    return requests.request(method, base + target, data=body or None, headers=headers, timeout=30)


def _city_set_up(url: str) -> tuple[list[str], dict[str, str]]:
    """Properties to capture (City Hall by address, two by parcel id) and a citizen who linked two accounts, one
    at a parcel not asked for (its property is read through its service address). -> (properties, {number: holder})."""
    seeded = CityState(CityApiConfig(seed=1))
    seed_state(seeded, 1, CityState.seed_sizes)
    parcels = list(seeded.properties)
    holders = {"UT-CAP-0001": "Ana Diaz", "UT-CAP-0002": "Bo Li"}
    for (number, holder), parcel in zip(holders.items(), (parcels[1], parcels[3]), strict=True):
        usage = [["2025-11", 4100], ["2025-12", 3900]]
        act = {"account_number": number, "verification": "2468", "holder": holder, "parcel_id": parcel, "usage": usage}
        assert requests.post(f"{url}/_sim/actions/create-account", json=act, timeout=30).status_code == 200
        for _ in range(2):
            bill = requests.post(f"{url}/_sim/actions/issue-bill", json={"account_number": number}, timeout=30)
            assert bill.status_code == 200
        link = {"user": CITIZEN, "account_number": number, "verification": "2468"}
        assert _signed(url, "POST", "/utilities/v1/links", link).status_code == 201
    paid = requests.post(f"{url}/_sim/actions/record-payment", json={"account_number": "UT-CAP-0001"}, timeout=30)
    assert paid.status_code == 200
    return ["1 Civic Center Plaza", parcels[1], parcels[2]], holders


def _capture(url: str, out, properties: list[str], *extra: str) -> int:
    asked = [a for p in properties[:2] for a in ("--property", p)]
    listed = out.with_suffix(".txt")
    listed.write_text(f"# one a line\n{properties[2]}\n")
    args = ["capture", "city-api", "--url", url, *asked, "--properties-file", str(listed), "--user", CITIZEN]
    return main([*args, "-o", str(out), *extra])


def _content_calls(entries: list[dict]) -> list[str]:
    return [
        e["path"] + "?" + urlencode(e["query"])
        for e in entries
        if e["operation"] == "getContent" and e["status"] == 200
    ]


@pytest.mark.req("H-SCN-5")
async def test_city_api_capture_round_trips_and_only_reads(tmp_path, capsys, monkeypatch):
    secrets = tuple((w, SECRET) for w in WIDGETS)
    out, again = tmp_path / "city.yaml", tmp_path / "again.yaml"
    monkeypatch.setenv("CIVIC_HARNESS_WID_SECRET", SECRET)  # the secret as an operator passes it
    async with (
        Stack({"city-api": CityApiConfig(seed=1, secrets=secrets)}) as source,
        Stack({"city-api": CityApiConfig(seed=2, secrets=secrets)}) as target,
        aiohttp.ClientSession() as http,
    ):
        url, loaded_url = source.url("city-api"), target.url("city-api")
        properties, holders = await asyncio.to_thread(_city_set_up, url)
        before = await _get(http, url, "state")
        mark = max(e["id"] for e in (await _get(http, url, "journal?limit=10000"))["entries"])
        assert await asyncio.to_thread(_capture, url, out, properties) == 0
        printed = capsys.readouterr().out
        assert printed.startswith(
            "read 6 widgets, 71 listings, 4 properties, 2 accounts (numbers and PINs are stand-ins)"
        )
        assert printed.rstrip().endswith(f"read-only calls; wrote {out}"), printed

        entries = [e for e in (await _get(http, url, "journal?limit=10000"))["entries"] if e["id"] > mark]
        assert {e["operation"] for e in entries} <= CITY_READS, "capture never writes"
        assert {e["method"] for e in entries} == {"GET"}
        assert await _get(http, url, "state") == before, "the captured server is unchanged"

        text = out.read_text()
        assert SECRET not in text and "2468" not in text, "no secret, no verification value"
        for number, holder in holders.items():
            assert number not in text and holder not in text, "account numbers and holders are stand-ins"
        document = yaml.safe_load(text)["vendors"]["city-api"]
        assert [a["number"][-4:] for a in document["accounts"]] == ["0001", "0002"], "the last four are kept"

        assert (await _get(http, loaded_url, "state"))["configuration_digest"] != before["configuration_digest"]
        async with http.post(
            f"{loaded_url}/_sim/scenario", data=text, headers={"Content-Type": "application/yaml"}
        ) as resp:
            assert resp.status == 200, await resp.text()
        assert (await _get(http, loaded_url, "state"))["configuration_digest"] == before["configuration_digest"]

        # Every content call the capture made answers the same from both: the same version, except where the
        # capture wrote stand-ins (utilities: the account number and holder, swapped back here).
        swap = {a["holder"]: holders[n] for a, n in zip(document["accounts"], holders, strict=True)}
        swap.update({a["number"]: n for a, n in zip(document["accounts"], holders, strict=True)})
        calls = _content_calls(entries)
        assert len(calls) == 4 + 4 + 2, calls  # listings, properties (one by its service address), linked accounts
        for call in calls:
            original = await asyncio.to_thread(_signed, url, "GET", call)
            loaded = await asyncio.to_thread(_signed, loaded_url, "GET", call)
            assert original.status_code == loaded.status_code == 200, (call, loaded.text[:300])
            if call.startswith("/utilities/"):
                body = json.dumps(loaded.json())
                for stand_in, real in swap.items():
                    body = body.replace(stand_in, real)
                assert {**json.loads(body), "version": ""} == {**original.json(), "version": ""}, call
            else:
                assert loaded.json()["version"] == original.json()["version"], call

        assert await asyncio.to_thread(_capture, loaded_url, again, properties) == 0
        assert again.read_text() == text, "capturing the loaded simulator writes the same file"


@pytest.mark.req("H-SCN-5")
async def test_city_api_capture_refuses_a_wrong_secret_without_quoting_it(tmp_path, capsys):
    out = tmp_path / "city.yaml"
    async with Stack({"city-api": CityApiConfig(seed=1, secrets=tuple((w, SECRET) for w in WIDGETS))}) as source:
        url = source.url("city-api")
        wrong = "not-the-secret-9f3a"
        code = await asyncio.to_thread(main, ["capture", "city-api", "--url", url, "--secret", wrong, "-o", str(out)])
        said = capsys.readouterr()
        assert code == 2 and not out.exists()
        assert "401" in said.err and wrong not in said.err + said.out and SECRET not in said.err + said.out
        assert len(said.err.strip().splitlines()) == 1, said.err
    # the server is gone now: unreachable, one sentence
    code = await asyncio.to_thread(main, ["capture", "city-api", "--url", url, "--secret", SECRET, "-o", str(out)])
    said = capsys.readouterr().err
    assert code == 2 and f"{url} is unreachable: ConnectionError" in said and len(said.strip().splitlines()) == 1, said


@pytest.mark.req("H-SCN-5")
async def test_city_api_capture_keeps_the_citys_own_html_and_the_widgets_it_offers(tmp_path, capsys, monkeypatch):
    offered = ("utilities", "programs", "engagement")
    secrets = tuple((w, SECRET) for w in offered)
    own = '<div class="ours"><p>Our <b>own</b> page</p><a href="https://city.example/meet">Meet</a></div>'
    out = tmp_path / "city.yaml"
    monkeypatch.setenv("CIVIC_HARNESS_WID_SECRET", SECRET)
    async with Stack({"city-api": CityApiConfig(seed=1, widgets=offered, secrets=secrets)}) as source:
        url = source.url("city-api")
        html = await asyncio.to_thread(requests.post, f"{url}/_sim/actions/set-html", json={"html": own}, timeout=30)
        assert html.status_code == 200
        before = await asyncio.to_thread(requests.get, f"{url}/_sim/state", timeout=30)
        assert await asyncio.to_thread(main, ["capture", "city-api", "--url", url, "-o", str(out)]) == 0
        assert capsys.readouterr().out.startswith("read 3 widgets, 30 listings, 1 engagement HTML fragment in ")
        engagement = await asyncio.to_thread(_signed, url, "GET", "/engagement/v1/content?view=expanded")
    text = out.read_text()
    section = yaml.safe_load(text)["vendors"]["city-api"]
    assert section["widgets"] == list(offered) and section["engagement_html"] == own
    assert list(section["listings"]) == ["programs"]

    # Another set of widgets is a start-up setting: the file is played from the start.
    async with (
        Stack({"city-api": CityApiConfig(seed=2, secrets=secrets)}, scenario=loads(text)) as target,
        aiohttp.ClientSession() as http,
    ):
        loaded_url = target.url("city-api")
        loaded = await _get(http, loaded_url, "state")
        assert loaded["configuration_digest"] == before.json()["configuration_digest"]
        again = await asyncio.to_thread(_signed, loaded_url, "GET", "/engagement/v1/content?view=expanded")
        assert again.json()["version"] == engagement.json()["version"] and again.json()["html"] == own
        assert (await asyncio.to_thread(_signed, loaded_url, "GET", "/jobs/v1/widget")).status_code == 404
        bad = "version: 1\nname: x\nvendors: {city-api: {widgets: [utilities, programs, engagement], %s}}"
        async with http.post(
            f"{loaded_url}/_sim/scenario", data=bad % "links: [{user: u1, account_number: NO-1}]"
        ) as r:
            assert r.status == 422
            assert (await r.json())["error"]["details"] == [
                "$.vendors.city-api.links[0].account_number: no account 'NO-1'"
            ]


def test_city_api_content_of_another_shape_is_one_sentence_not_a_traceback():
    from harness.capture import city_api, city_api_content

    rows = {"blocks": [{"type": "table", "title": "Open positions", "columns": [], "rows": [{"title": "Clerk"}]}]}
    with pytest.raises(city_api.CaptureError, match=r"^the jobs widget's content cannot be read back .*'apply'"):
        city_api._read_back("jobs", city_api_content.jobs, rows)
    assert city_api_content.engagement({"html": "<p>Our own page</p>"}) is None, "kept as the city's own HTML"


@pytest.mark.parametrize(
    ("years", "dues", "expected"),
    [
        ((2024, 2025), ("2024-12-31", "2025-12-31"), "2024-12-31"),  # due in its own tax year, not the next
        ((2019, 2020), ("2020-01-05", "2021-01-05"), "2020-01-05"),  # due the year after
        ((2022, 2023), ("2023-02-28", "2024-02-29"), "2023-02-28"),  # 29 February only in a leap year
        ((2019, 2023), ("2020-02-29", "2024-02-29"), "2020-02-29"),
    ],
)
def test_city_api_capture_dates_an_earlier_tax_bill_as_the_latest_one_is_dated(years, dues, expected):
    """Content shows only the latest bill's due date: an earlier one is as far from its tax year, on that day,
    so the property renders again with the same content."""
    from harness.capture.city_api_content import property_record
    from simulators.city_api.content import property_taxes

    bills = [{"year": y, "amount": "100.00", "paid": "0.00", "due": d} for y, d in zip(years, dues, strict=True)]
    prop = {"parcel_id": "P-1", "address": "1 Elm St", "assessed": [[2024, "1000.00"]], "bills": bills}
    read = property_record(property_taxes(prop, "expanded"))
    assert [b["due"] for b in read["bills"]] == [expected, dues[1]]


def test_city_api_capture_refuses_tax_bills_without_a_due_date_in_one_sentence():
    from harness.capture import city_api, city_api_content
    from simulators.city_api.content import property_taxes

    bills = [{"year": 2024, "amount": "1.00", "paid": "0.00", "due": "2025-01-05"}] * 2
    body = property_taxes({"parcel_id": "P-1", "address": "1 Elm St", "assessed": [[2024, "9.00"]], "bills": bills},
                          "expanded")  # fmt: skip
    body["items"] = [i for i in body["items"] if i["label"] != "Due date"]
    with pytest.raises(city_api.CaptureError, match=r"^the property-taxes widget's .* due date '' is not a date"):
        city_api._read_back("property-taxes", city_api_content.property_record, body)


@pytest.mark.req("H-SCN-5")
@pytest.mark.parametrize(
    "links",
    [
        {"links": [{"id": "lnk_1", "account": {"number": "••••0042"}}]},  # other member names
        {"links": [{"link_id": "lnk_1", "account": "••••0042", "method": "pin", "linked_at": "2026-01-01"}]},
        {"links": ["lnk_1"]},
    ],
    ids=["other-names", "account-as-text", "ids-only"],
)
async def test_city_api_capture_of_links_of_another_shape_is_one_sentence(links, tmp_path, capsys):
    """A city whose `/utilities/v1/links` answers otherwise than the contract's `Link`: capture says so in one
    sentence and writes nothing (a real server on loopback, offering the utilities widget only)."""
    from harness.mutate.proxy import ThreadedApp

    async def widget(request: aiohttp.web.Request) -> aiohttp.web.Response:
        if request.match_info["widget"] != "utilities":
            return aiohttp.web.json_response({"error": {"code": "not_found", "message": "no such widget"}}, status=404)
        return aiohttp.web.json_response({"id": "utilities", "title": "Utilities"})

    async def answer(_: aiohttp.web.Request) -> aiohttp.web.Response:
        return aiohttp.web.json_response(links)

    app = aiohttp.web.Application()
    app.router.add_get("/{widget}/v1/widget", widget)
    app.router.add_get("/utilities/v1/links", answer)
    out = tmp_path / "city.yaml"
    with ThreadedApp(app) as server:
        args = ["capture", "city-api", "--url", server.url, "--secret", SECRET, "--user", CITIZEN, "-o", str(out)]
        code = await asyncio.to_thread(main, args)
    said = capsys.readouterr().err
    assert code == 2 and not out.exists(), said
    assert said.startswith("civic-harness: the utilities widget's links cannot be read back into records"), said
    assert len(said.strip().splitlines()) == 1 and "Traceback" not in said, said


@pytest.mark.req("H-SCN-5")
async def test_city_api_capture_keeps_one_account_that_two_citizens_linked(tmp_path, capsys, monkeypatch):
    secrets = tuple((w, SECRET) for w in WIDGETS)
    out, again = tmp_path / "city.yaml", tmp_path / "again.yaml"
    monkeypatch.setenv("CIVIC_HARNESS_WID_SECRET", SECRET)
    async with (
        Stack({"city-api": CityApiConfig(seed=1, secrets=secrets)}) as source,
        Stack({"city-api": CityApiConfig(seed=2, secrets=secrets)}) as target,
    ):
        url, loaded_url = source.url("city-api"), target.url("city-api")
        properties, _ = await asyncio.to_thread(_city_set_up, url)
        link = {"user": "citizen-8", "account_number": "UT-CAP-0001", "verification": "2468"}
        assert (await asyncio.to_thread(_signed, url, "POST", "/utilities/v1/links", link)).status_code == 201
        assert await asyncio.to_thread(_capture, url, out, properties, "--user", "citizen-8") == 0
        assert "2 accounts (numbers and PINs are stand-ins)" in capsys.readouterr().out
        section = yaml.safe_load(out.read_text())["vendors"]["city-api"]
        numbers = [a["number"] for a in section["accounts"]]
        assert [n[-4:] for n in numbers] == ["0001", "0002"], "one account, however many citizens linked it"
        by_user = {(lk["user"], lk["account_number"]) for lk in section["links"]}
        assert by_user == {(CITIZEN, numbers[0]), (CITIZEN, numbers[1]), ("citizen-8", numbers[0])}
        loaded = await asyncio.to_thread(
            requests.post, f"{loaded_url}/_sim/scenario", data=out.read_text(),
            headers={"Content-Type": "application/yaml"}, timeout=30,
        )  # fmt: skip
        assert loaded.status_code == 200, loaded.text
        assert await asyncio.to_thread(_capture, loaded_url, again, properties, "--user", "citizen-8") == 0
        assert again.read_text() == out.read_text(), "the loaded simulator captures to the same file"


# -- OpenGov paging, records deleted meanwhile, credentials and errors (a new user's walk-through) ---------------


def _total(url: str, class_name: str) -> int:
    """What the server says it holds (`_metadata.totalCount`), read as a client would."""
    resp = requests.get(f"{url}/api/v1/classes/{class_name}", params={"limit": "1"}, auth=("harness", "harness"))
    return resp.json()["_metadata"]["totalCount"]


@pytest.mark.req("H-SCN-5")
async def test_opengov_capture_reads_every_record_of_a_server_that_caps_its_pages(tmp_path, capsys):
    """A server answering three records a page, whatever `limit` asks: capture pages on Oid to the end (it read
    the first page only, paging by offset and stopping on a page shorter than it asked for)."""
    out = tmp_path / "og.yaml"
    async with Stack({"opengov": OpengovConfig(seed=1, page_limit=3)}) as stack:
        url = stack.url("opengov")
        args = ["capture", "opengov", "--url", url, "--password", "harness", "-o", str(out)]
        assert await asyncio.to_thread(main, args) == 0
        said = capsys.readouterr()
        totals = {c: await asyncio.to_thread(_total, url, c) for c in ("cgRequestIssuesClass", "cgRequestersClass",
                                                                          "cgRequestsClass")}  # fmt: skip
    section = yaml.safe_load(out.read_text())["vendors"]["opengov"]
    read = [len(section["issues"]), len(section["requesters"]), len(section["requests"])]
    assert read == list(totals.values()) == [60, 100, 300], read
    assert said.out.startswith("read 60 request issues, 100 requesters, 300 requests, "), said.out
    assert "warning" not in said.err, said.err


def test_opengov_paging_ends_at_the_count_a_short_page_or_an_empty_one_and_refuses_a_page_that_does_not_move():
    from contracts import opengov_paging as paging

    page = [{"Oid": 4}, {"Oid": 9}]
    assert paging.params(None) == {"limit": "1000", "sort": "Oid:asc"}
    assert (
        paging.params(9, "(([X] is equal to 1))")["filter"] == "((([X] is equal to 1)) AND ([Oid] is greater than 9))"
    )
    assert paging.next_after("C", [], {"totalCount": 5}, None) is None, "an empty page ends it"
    assert paging.next_after("C", page, {"totalCount": 2}, None) is None, "all that is left"
    assert paging.next_after("C", page, {"totalCount": 7}, None) == 9, "more left: after the last Oid"
    assert paging.next_after("C", page, {"limit": 3}, None) is None, "shorter than the server's cap"
    assert paging.next_after("C", page, {"limit": 2}, None) == 9, "a full capped page: on"
    with pytest.raises(paging.NoProgress, match="after Oid 9 ends at Oid 9"):
        paging.next_after("C", page, {"limit": 2}, 9)
    with pytest.raises(paging.NoOid):
        paging.next_after("C", [{"Oid": "4"}, {"Oid": 5}], {"limit": 2}, None)


DELETED_MIDWAY = """
version: 1
name: deleted-while-captured
vendors:
  opengov:
    page_limit: 3
    issues: [{IssueField: Pothole, CodeField: RI1, PublicField: true, InactiveField: false}]
    requests:
      - {IssueField: Pothole, StatusField: Open, DescriptionField: one, lat: 35.78, long: -78.64}
      - {IssueField: Pothole, StatusField: Open, DescriptionField: two, lat: 35.78, long: -78.64}
      - {IssueField: Pothole, StatusField: Open, DescriptionField: three, lat: 35.78, long: -78.64,
         comments: [{text: Seen, public: true}]}
      - {IssueField: Pothole, StatusField: Open, DescriptionField: four, lat: 35.78, long: -78.64}
timeline:
  - name: staff delete a request the capture has just listed
    vendor: opengov
    when: {listed: {class: cgRequestsClass}, page: 1}
    action: delete-request                  # the page's first record ("one")
  - name: and enter one
    vendor: opengov
    when: {listed: {class: cgRequestsClass}, page: 1}
    action: create-request
    payload: {IssueField: Pothole, StatusField: Open, DescriptionField: five}
"""


@pytest.mark.req("H-SCN-5")
async def test_opengov_capture_skips_a_request_deleted_while_it_reads_and_says_so(tmp_path, capsys):
    out = tmp_path / "og.yaml"
    async with Stack({"opengov": OpengovConfig(seed=1)}, scenario=loads(DELETED_MIDWAY)) as stack:
        url = stack.url("opengov")
        args = ["capture", "opengov", "--url", url, "--password", "harness", "-o", str(out)]
        code = await asyncio.to_thread(main, args)
        said = capsys.readouterr()
        state = (await asyncio.to_thread(requests.get, f"{url}/_sim/scenario", timeout=30)).json()
    assert code == 0, said.err
    assert [s["state"] for s in state["steps"]] == ["done", "done"], state  # both happened, after page 1
    requests_read = yaml.safe_load(out.read_text())["vendors"]["opengov"]["requests"]
    texts = [r["DescriptionField"] for r in requests_read]
    assert texts == [scrub.free_text(t) for t in ("two", "three", "four", "five")], "the new one read on page 2"
    assert ", 4 requests, 1 comment, 1 request deleted while reading, skipped in " in said.out, said.out
    assert said.err == (
        "civic-harness: warning: read 5 cgRequestsClass records where OpenGov counted 4 (records written while "
        "reading?)\n"
    ), said.err


@pytest.mark.req("H-SCN-5")
async def test_capture_warns_when_it_tries_the_simulators_default_credentials(tmp_path, capsys, monkeypatch):
    """No password, no secret: the simulators' defaults are tried, and said (certify's warning); a secret given
    is never printed. One property read is "1 property"."""
    for env in ("CIVIC_HARNESS_CW_PASSWORD", "CIVIC_HARNESS_OG_PASSWORD", "CIVIC_HARNESS_WID_SECRET"):
        monkeypatch.delenv(env, raising=False)
    configs = {
        "cityworks": CityworksConfig(seed=1),
        "opengov": OpengovConfig(seed=1),
        "city-api": CityApiConfig(seed=1),
    }
    async with Stack(configs) as stack:
        for vendor, env in (("cityworks", "CIVIC_HARNESS_CW_PASSWORD"), ("opengov", "CIVIC_HARNESS_OG_PASSWORD")):
            args = ["capture", vendor, "--url", stack.url(vendor), "--max-records", "0", "-o", str(tmp_path / "x.yaml")]
            assert await asyncio.to_thread(main, args) == 0
            assert capsys.readouterr().err == (
                f"civic-harness: no password given (--password or {env}): trying 'harness', the simulators' default\n"
            )
        monkeypatch.setenv("CIVIC_HARNESS_OG_PASSWORD", "harness")
        args = ["capture", "opengov", "--url", stack.url("opengov"), "--max-records", "0", "-o", str(tmp_path / "x")]
        assert await asyncio.to_thread(main, args) == 0
        assert capsys.readouterr().err == "", "a password given: no warning"

        city = ["capture", "city-api", "--url", stack.url("city-api"), "--property", "1 Civic Center Plaza"]
        assert await asyncio.to_thread(main, [*city, "-o", str(tmp_path / "c.yaml")]) == 0
        said = capsys.readouterr()
        assert said.err == (
            "civic-harness: no signing secret given (--secret or CIVIC_HARNESS_WID_SECRET): trying "
            "'harness-widget-secret', the simulators' default\n"
        )
        assert ", 1 property in " in said.out, said.out
        given = "harness-widget-secret"  # the simulator's, given this time: never echoed
        assert await asyncio.to_thread(main, [*city, "--secret", given, "-o", str(tmp_path / "c.yaml")]) == 0
        said = capsys.readouterr()
        assert given not in said.err + said.out


def _one_sentence(capsys) -> str:
    said = capsys.readouterr()
    assert len(said.err.strip().splitlines()) == 1 and "Traceback" not in said.err, said.err
    return said.err.strip().removeprefix("civic-harness: ")


@pytest.mark.req("H-SCN-5")
async def test_capture_says_what_is_wrong_with_the_url_the_password_or_the_output_in_one_sentence(
    tmp_path, capsys, monkeypatch
):
    monkeypatch.setenv("CIVIC_HARNESS_WID_SECRET", "harness-widget-secret")
    out = str(tmp_path / "x.yaml")
    configs = {
        "cityworks": CityworksConfig(seed=1),
        "opengov": OpengovConfig(seed=1),
        "city-api": CityApiConfig(seed=1),
    }
    async with Stack(configs) as stack, aiohttp.ClientSession() as http:
        urls = {v: stack.url(v) for v in configs}

        async def capture(vendor: str, url: str, *extra: str, to: str = out) -> str:
            args = ["capture", vendor, "--url", url, "--password", "harness", "-o", to, *extra]
            assert await asyncio.to_thread(main, args) == 2
            return _one_sentence(capsys)

        for vendor in configs:
            assert await capture(vendor, "http://127.0.0.1:1") == "http://127.0.0.1:1 is unreachable: ConnectionError"
            bare = urls[vendor].removeprefix("http://")
            assert await capture(vendor, bare) == f"--url must be an http:// or https:// URL, got {bare!r}"
        # Another vendor's site: where certify's pre-flight would say the same.
        assert await capture("city-api", urls["cityworks"]) == (
            f"{urls['cityworks']}/property-taxes/v1/widget answers HTTP 404 without the contract's error: is --url "
            "the city API's root (the part before /{widget})?"
        )
        said = await capture("cityworks", urls["opengov"])
        assert said.startswith(f"{urls['opengov']}/Services/General/Authentication/Authenticate answers "), said
        assert said.endswith("404: is --url the site root (the part before /Services)?"), said
        said = await capture("opengov", urls["cityworks"])
        assert said.startswith(f"{urls['cityworks']}/api/v1/meta/Classes answers "), said
        assert said.endswith("404: is --url the site root (the part before /api/v1)?"), said
        # A wrong password: the vendor's own words (certify's sentence).
        said = await capture("cityworks", urls["cityworks"], "--password", "WrongPassw0rd!")
        assert said.startswith("Cityworks answered Status ") and "to signing in as 'harness': " in said, said
        assert "WrongPassw0rd!" not in said
        assert await capture("opengov", urls["opengov"], "--password", "WrongPassw0rd!") == (
            "OpenGov answered HTTP 401 to 'harness': wrong user name or password (--username, and --password or "
            "CIVIC_HARNESS_OG_PASSWORD)"
        )
        # An -o that cannot be written: said before anything is read.
        missing = tmp_path / "no-such-dir" / "x.yaml"
        for vendor, url in urls.items():
            mark = (await _get(http, url, "journal?source=client&limit=10000"))["entries"]
            assert (
                await capture(vendor, url, to=str(missing)) == f"-o {missing}: there is no directory {missing.parent}"
            )
            after = (await _get(http, url, "journal?source=client&limit=10000"))["entries"]
            assert after == mark, "nothing read"
        assert await capture("opengov", urls["opengov"], to=str(tmp_path)) == (
            f"-o {tmp_path} is a directory: give the scenario file to write"
        )


@pytest.mark.req("H-SCN-5")
async def test_city_api_capture_of_a_citizen_without_links_is_a_usage_error(tmp_path, capsys, monkeypatch):
    monkeypatch.setenv("CIVIC_HARNESS_WID_SECRET", "harness-widget-secret")
    out = tmp_path / "c.yaml"
    async with Stack({"city-api": CityApiConfig(seed=1)}) as stack:
        args = ["capture", "city-api", "--url", stack.url("city-api"), "--user", "nobody", "-o", str(out)]
        assert await asyncio.to_thread(main, args) == 2
    assert _one_sentence(capsys) == "citizen 'nobody' has linked no accounts" and not out.exists()
