"""Cityworks calls public clients make around a request (WIRE-NOTES WF-CW-14, WF-CW-16), against the simulator over
loopback: `Ams/Preferences/User` (the site's spatial reference, `{Status, Message, Value}` as the SDK types it),
`Ams/Preferences/UserSave`, and the customer calls of a request (`Ams/CustomerCall/AddToRequest`, read back by
`Ams/CustomerCall/ByRequestId`), with bad input and an unlicensed site."""

from __future__ import annotations

import json
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from typing import Any
from urllib.parse import urlencode

import aiohttp
import pytest

from harness.sim_control import SimControl
from harness.stack import Stack
from simulators.cityworks import CityworksConfig
from simulators.cityworks.state import SITE_WKID

from .wire_facts import assert_no_violation, last_entry

pytestmark = pytest.mark.req("CW-API-6")

CALLS = "Ams/CustomerCall"
PREFS = "Ams/Preferences"
LOGIN = {"LoginName": "harness", "Password": "harness"}


class Site:
    """A 15.x site (token as a parameter), signed in as the harness user."""

    def __init__(self, url: str, http: aiohttp.ClientSession) -> None:
        self.url, self.http, self.token = url, http, ""

    async def post(self, path: str, data: dict[str, Any] | None = None, *, token: bool = True) -> dict[str, Any]:
        form = {"data": json.dumps(data)} if data is not None else {}
        if token:
            form["token"] = self.token
        async with self.http.post(f"{self.url}/Services/{path}", data=form) as resp:
            assert resp.status == 200, await resp.text()
            return json.loads(await resp.text())

    async def value(self, path: str, data: dict[str, Any] | None = None) -> Any:
        reply = await self.post(path, data)
        assert reply["Status"] == 0, reply
        return reply["Value"]

    async def new_request(self, **fields: Any) -> int:
        problems = await self.value("Ams/ServiceRequest/Problems", {"ForPublicOnly": True})
        created = await self.value("Ams/ServiceRequest/Create", {"ProblemSid": problems[0]["ProblemSid"], **fields})
        return created["RequestId"]


@asynccontextmanager
async def signed_in(**options: Any) -> AsyncIterator[Site]:
    config = CityworksConfig(seed=7, version="15.8", **options)
    async with Stack({"cityworks": config}) as stack, aiohttp.ClientSession() as http:
        cw = Site(stack.url("cityworks"), http)
        cw.token = (await cw.value("General/Authentication/Authenticate", LOGIN))["Token"]
        yield cw


@pytest.fixture
async def site() -> AsyncIterator[Site]:
    async with signed_in(check_answer_values=True) as cw:
        yield cw


# -- Preferences/User -------------------------------------------------------------------------------------------


async def test_preferences_with_only_a_token_answer_the_site_wkid_in_the_obsolete_envelope(site):
    """Esri's get_wkid: POST, `token` in the query, no `data`, no body; the answer type derives from the SDK's
    CoreResponseBase_obsolete, so it carries Status, Message and Value only, on 15.x too."""
    async with site.http.post(f"{site.url}/Services/AMS/Preferences/User?{urlencode({'token': site.token})}") as resp:
        reply = json.loads(await resp.text())
    assert set(reply) == {"Status", "Message", "Value"}
    assert reply["Status"] == 0 and reply["Value"]["SpatialReference"] == SITE_WKID == 4326
    assert reply["Value"]["Data"] == [] and reply["Value"]["MapFavorites"] == []
    await assert_no_violation(site.http, site.url, "Preferences/User")


async def test_saved_preferences_list_under_the_user_narrowed_by_category_and_name(site):
    visible = {"Category": "qe-map", "Element": "VisibleQeIds"}
    saved = await site.value(f"{PREFS}/UserSave", {**visible, "DefaultValue": "3"})
    assert saved == {"Category": "qe-map", "DefaultValue": "3", "Element": "VisibleQeIds", "EmployeeSid": 1001}
    await site.value(f"{PREFS}/UserSave", {"Category": "wo", "Element": "DefaultTemplate", "DefaultValue": "101"})
    everything = await site.value(f"{PREFS}/User", {})
    assert [(p["Category"], p["Element"]) for p in everything["Data"]] == [
        ("qe-map", "VisibleQeIds"),
        ("wo", "DefaultTemplate"),
    ]
    narrowed = await site.value(f"{PREFS}/User", {"Categories": ["QE-MAP"], "PreferenceNames": ["visibleqeids"]})
    assert [p["DefaultValue"] for p in narrowed["Data"]] == ["3"]
    await site.value(f"{PREFS}/UserSave", {**visible, "DefaultValue": "4"})
    again = await site.value(f"{PREFS}/User", {"PreferenceNames": ["VisibleQeIds"]})
    assert [p["DefaultValue"] for p in again["Data"]] == ["4"]


async def test_preferences_refuse_a_bad_token_and_bad_input_in_their_own_envelope(site):
    async with site.http.post(f"{site.url}/Services/AMS/Preferences/User?token=not-a-token") as resp:
        unauthorized = json.loads(await resp.text())
    assert set(unauthorized) == {"Status", "Message", "Value"} and unauthorized["Status"] == 2
    wrong = await site.post(f"{PREFS}/User", {"Categories": "qe-map"})
    assert wrong["Status"] == 1 and set(wrong) == {"Status", "Message", "Value"} and "Categories" in wrong["Message"]
    unknown = await site.post(f"{PREFS}/User", {"EmployeeSid": 424242})
    assert unknown["Status"] == 1 and "424242" in unknown["Message"]
    no_element = await site.post(f"{PREFS}/UserSave", {"Category": "qe-map", "DefaultValue": "3"})
    assert no_element["Status"] == 1


async def test_preferences_answer_on_a_site_licensed_for_work_orders_only():
    """A preference is not a service-request feature: a WO-only site still answers (licence inferred)."""
    async with signed_in(licences=frozenset({"wo"})) as cw:
        assert (await cw.value(f"{PREFS}/User"))["SpatialReference"] == SITE_WKID
        refused = await cw.post(f"{CALLS}/ByRequestId", {"RequestId": 1})
        assert refused["Status"] == 2 and refused["ErrorMessages"][0]["Name"] == "NotLicensed"
        refused = await cw.post(f"{CALLS}/AddToRequest", {"RequestId": 1, "Comments": "x"})
        assert refused["Status"] == 2 and refused["ErrorMessages"][0]["Name"] == "NotLicensed"


# -- CustomerCall ---------------------------------------------------------------------------------------------


async def test_a_call_added_to_a_request_reads_back_after_the_requests_own_caller(site):
    rid = await site.new_request(CallerFirstName="Grace", CallerLastName="Hopper", CallerEmail="grace@example.org")
    added = await site.value(
        f"{CALLS}/AddToRequest",
        {
            "RequestId": rid,
            "FirstName": "Ada",
            "LastName": "Lovelace",
            "Email": "ada@example.org",
            "Comments": "Still there",
            "CustCallback": True,
            "Ccx": -78.64,
            "Ccy": 35.78,
            "DateTimeCallback": "2026-01-02T10:00:00Z",
        },
    )
    assert added["RequestId"] == rid and added["Comments"] == "Still there" and added["CustCallback"] is True
    assert (added["CCX"], added["CCY"], added["CCZ"]) == (-78.64, 35.78, -9999.0)
    assert added["DateTimeCallback"] == "2026-01-02T10:00:00" and added["DateTimeContact"] == "0001-01-01T00:00:00"
    assert added["EmployeeSid"] == 1001 and added["Employee"] == "Harness User"
    calls = await site.value(f"{CALLS}/ByRequestId", {"RequestId": rid})
    assert [(c["FirstName"], c["Email"]) for c in calls] == [("Grace", "grace@example.org"), ("Ada", "ada@example.org")]
    assert calls[1] == added and calls[0]["IncidentNum"] < added["IncidentNum"]
    second = await site.value(f"{CALLS}/AddToRequest", {"RequestId": rid, "Comments": "And again"})
    assert [c["Comments"] for c in await site.value(f"{CALLS}/ByRequestId", {"RequestId": rid})] == [
        "",
        "Still there",
        "And again",
    ]
    assert second["IncidentNum"] > added["IncidentNum"]


async def test_esri_copy_comments_shape_is_taken_and_recorded(site):
    """ESRI copy_comments: POST, `data` and `token` in the query, no body; the id as a layer's text and a member
    mapped from Create's names (CallerFirstName), which Json.NET ignores; nulls for empty layer fields."""
    rid = await site.new_request()
    data = {"RequestId": str(rid), "CallerFirstName": "Ada", "Comments": "Still there", "Email": None}
    query = urlencode({"data": json.dumps(data, separators=(",", ":")), "token": site.token})
    async with site.http.post(f"{site.url}/Services/AMS/CustomerCall/AddToRequest?{query}") as resp:
        reply = json.loads(await resp.text())
    assert reply["Status"] == 0, reply
    await assert_no_violation(site.http, site.url, "CustomerCall/AddToRequest")
    entry = await last_entry(site.http, site.url, "CustomerCall/AddToRequest")
    # data in a POST's query (ASP.NET binds it), and the id's text read as Json.NET reads it: served, warned
    assert [w["location"] for w in entry["warnings"]] == ["query.data", "form.data.RequestId"]
    calls = await site.value(f"{CALLS}/ByRequestId", {"RequestId": rid})
    assert [(c["Comments"], c["FirstName"], c["Email"]) for c in calls] == [("Still there", "", "")]


async def test_an_unknown_request_is_refused_and_records_nothing(site):
    control = SimControl(site.http, site.url)
    before = await control.counts()
    for rid in (999_999, "999999"):
        reply = await site.post(f"{CALLS}/AddToRequest", {"RequestId": rid, "Comments": "hello"})
        assert reply["Status"] == 1 and reply["Value"] is None
        assert reply["ErrorMessages"][0]["Code"] == 2 and reply["ErrorMessages"][0]["Name"] == "InvalidRequestId"
    reply = await site.post(f"{CALLS}/ByRequestId", {"RequestId": 999_999})
    assert reply["Status"] == 1 and reply["ErrorMessages"][0]["Code"] == 2
    assert await control.counts() == before


async def test_bad_calls_are_refused_in_the_envelope_never_a_server_error(site):
    rid = await site.new_request()
    control = SimControl(site.http, site.url)
    for data in (
        {},  # no RequestId
        {"RequestId": "twelve"},
        {"RequestId": rid, "CustCallback": "soon"},
        {"RequestId": rid, "Ccx": "east"},
        {"RequestId": rid, "DateTimeCall": "yesterday"},
        {"RequestId": rid, "EmployeeSid": 424242},
        {"RequestId": rid, "Answers": [{"AnswerId": 10**9}]},
    ):
        reply = await site.post(f"{CALLS}/AddToRequest", data)
        assert reply["Status"] == 1, (data, reply)
        assert reply["ErrorMessages"] and reply["ErrorMessages"][0]["MessageType"] == 2
    unsigned = await site.post(f"{CALLS}/AddToRequest", {"RequestId": rid, "Comments": "x"}, token=False)
    assert unsigned["Status"] == 2
    assert await site.value(f"{CALLS}/ByRequestId", {"RequestId": rid}) == []
    assert (await control.counts())["customer_calls"] == 0


async def test_lenient_mode_refuses_what_the_contract_would_in_the_envelope():
    """Without strict checks the backend's own rules answer: an unknown employee, a bad date, a bad id."""
    async with signed_in(strict=False) as cw:
        rid = await cw.new_request()
        cases = {
            "RequiredFields": {"Comments": "x"},
            "InvalidField": {"RequestId": [rid]},
            "ErrorItemNotFound": {"RequestId": rid, "EmployeeSid": 424242},
        }
        for name, data in cases.items():
            reply = await cw.post(f"{CALLS}/AddToRequest", data)
            assert reply["Status"] == 1 and reply["ErrorMessages"][0]["Name"] == name, (data, reply)
        dated = await cw.post(f"{CALLS}/AddToRequest", {"RequestId": rid, "DateTimeCall": "yesterday"})
        assert dated["Status"] == 1 and "DateTimeCall" in dated["Message"]
        names = await cw.post(f"{PREFS}/User", {"PreferenceNames": {"a": 1}})
        assert names["Status"] == 1 and set(names) == {"Status", "Message", "Value"}
        entry = await last_entry(cw.http, cw.url, "Preferences/User")
        assert entry["violations"], "the contract still names what the real server would refuse"
