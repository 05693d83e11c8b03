"""OpenGov EAM (Cartegraph) wire facts (docs/WIRE-NOTES.md, WF-OG-*): each test sends one public client's exact
request shape to the simulator and asserts the answer that client relies on, with no strict-mode violation.

Field sets are a site's configuration (Pittsburgh's BuildingNameField, DepartmentField...), not wire facts: the
tests keep each client's shape (method, path, headers, body encoding) and use fields the simulator seeds.
"""

from __future__ import annotations

import base64
import json
from typing import Any

import aiohttp
import pytest
from yarl import URL

from simulators.opengov import OpengovConfig

from .wire_facts import assert_no_violation, running

pytestmark = pytest.mark.req("H-SIM-5")

BASIC = {"Authorization": "Basic " + base64.b64encode(b"harness:harness").decode()}
BROWSER_STRING_BODY = "text/plain;charset=UTF-8"  # what fetch() declares for a string body with no Content-Type
PNG = base64.b64decode("iVBORw0KGgoAAAANSUhEUgAAAAEAAAABCAIAAACQd1PeAAAADElEQVR4nGP4z8AAAAMBAQDJ/pLvAAAAAElFTkSuQmCC")


async def body_of(resp: aiohttp.ClientResponse, *statuses: int) -> Any:
    text = await resp.text()
    assert resp.status in statuses, (resp.status, text[:500])
    return json.loads(text)


class Site:
    def __init__(self, url: str, http: aiohttp.ClientSession) -> None:
        self.url, self.http = url, http
        self.api = f"{url}/api/v1"

    async def sign_in(self) -> None:
        """VertiGIS CartegraphSignIn's call; the cookie stays in the session's jar."""
        body = json.dumps({"userName": "harness", "password": "harness"})
        headers = {"Accept": "application/json", "Content-Type": "application/json"}
        async with self.http.post(f"{self.api}/authenticate", data=body, headers=headers) as resp:
            await body_of(resp, 200)

    async def new_task(self) -> int:
        """A task created with the documented shape (the seed has none)."""
        body = json.dumps({"cgTasksClass": [{"ActivityField": "Inspect", "StatusField": "Planned"}]})
        headers = {**BASIC, "Content-Type": "application/json"}
        async with self.http.post(f"{self.api}/classes/cgTasksClass", data=body, headers=headers) as resp:
            return (await body_of(resp, 200, 201))["cgTasksClass"][0]["Oid"]

    async def some_oid(self, class_name: str) -> int:
        async with self.http.get(f"{self.api}/classes/{class_name}?limit=1", headers=BASIC) as resp:
            return (await body_of(resp, 200))[class_name][0]["Oid"]


@pytest.fixture
async def og():
    async with running("opengov", OpengovConfig(seed=3)) as (url, http):
        yield Site(url, http)


def raw(payload: Any) -> bytes:
    return json.dumps(payload).encode()


# -- vertigis/workflow-activities-cartegraph (src/activities/*.ts, f2ac17b) ---------------------------------


async def test_wf_og_01_sign_in_posts_json_and_keeps_the_cookie(og):
    """CartegraphSignIn: POST `api/v1/authenticate`, JSON `{userName, password}` (isInternalRequest omitted when
    unset), Content-Type and Accept application/json, credentials "include"; reads the JSON, keeps the cookie."""
    body = raw({"userName": "harness", "password": "harness"})
    headers = {"Accept": "application/json", "Content-Type": "application/json"}
    async with og.http.post(f"{og.api}/authenticate", data=body, headers=headers) as resp:
        reply = await body_of(resp, 200)
    assert reply["LogOnStatus"] == 0 and og.http.cookie_jar.filter_cookies(URL(og.url))
    await assert_no_violation(og.http, og.url, "api/v1/authenticate")


async def test_wf_og_02_session_info_has_a_truthy_cookie_once_signed_in(og):
    """GetCartegraphSessionInfo: GET `api/v1/authenticate` with the session cookie; signed in = truthy `Cookie`."""
    await og.sign_in()
    async with og.http.get(f"{og.api}/authenticate") as resp:
        reply = await body_of(resp, 200)
    assert reply["Cookie"]
    await assert_no_violation(og.http, og.url, "api/v1/authenticate")


async def test_wf_og_03_sign_out_is_a_bodyless_post(og):
    """CartegraphSignOut: POST `api/v1/authenticate/signout`, no body, no Content-Type; success = response.ok."""
    await og.sign_in()
    async with og.http.post(f"{og.api}/authenticate/signout") as resp:
        assert resp.ok, await resp.text()
    await assert_no_violation(og.http, og.url, "authenticate/signout")


async def test_wf_og_04_create_sends_json_as_text_plain(og):
    """CreateCartegraphRecord: fetch POST `api/v1/classes/{class}` with body JSON.stringify(content) and no
    Content-Type, so the browser declares text/plain;charset=UTF-8; reads the JSON answer."""
    await og.sign_in()
    body = raw({"cgRequestsClass": [{"DescriptionField": "Streetlight out", "StatusField": "Open"}]})
    headers = {"Content-Type": BROWSER_STRING_BODY}
    async with og.http.post(f"{og.api}/classes/cgRequestsClass", data=body, headers=headers) as resp:
        reply = await body_of(resp, 200, 201)
    assert reply["cgRequestsClass"][0]["Oid"]
    await assert_no_violation(og.http, og.url, "classes/cgRequestsClass")


async def test_wf_og_05_update_sends_json_as_text_plain_to_the_record_path(og):
    """UpdateCartegraphRecord: fetch PUT `api/v1/classes/{class}/{id}`, JSON string body, no Content-Type."""
    await og.sign_in()
    oid = await og.some_oid("cgRequestsClass")
    body = raw({"cgRequestsClass": [{"Oid": oid, "ResponseNotesField": "Crew scheduled"}]})
    headers = {"Content-Type": BROWSER_STRING_BODY}
    async with og.http.put(f"{og.api}/classes/cgRequestsClass/{oid}", data=body, headers=headers) as resp:
        reply = await body_of(resp, 200)
    assert reply["cgRequestsClass"][0]["ResponseNotesField"] == "Crew scheduled"
    await assert_no_violation(og.http, og.url, f"classes/cgRequestsClass/{oid}")


async def test_wf_og_06_delete_by_oid_reads_the_deleted_count(og):
    """DeleteCartegraphRecord: DELETE `api/v1/classes/{class}/{id}`; reads `{"DeletedRecordCount": n}`."""
    await og.sign_in()
    oid = await og.new_task()
    async with og.http.delete(f"{og.api}/classes/cgTasksClass/{oid}") as resp:
        reply = await body_of(resp, 200)
    assert reply == {"DeletedRecordCount": 1}
    await assert_no_violation(og.http, og.url, f"classes/cgTasksClass/{oid}")


async def test_wf_og_07_discover_lists_classes_by_area(og):
    """GetCartegraphDiscoverInfo: GET `api/v1/discover` with the cookie; `{Area: [{SingularName, PluralName,
    ClassName}]}`, the request class under `Request`."""
    await og.sign_in()
    async with og.http.get(f"{og.api}/discover") as resp:
        reply = await body_of(resp, 200)
    assert "cgRequestsClass" in [c["ClassName"] for c in reply["Request"]]
    await assert_no_violation(og.http, og.url, "api/v1/discover")


async def test_wf_og_08_user_info(og):
    """GetCartegraphUserInfo: GET `api/v1/user`; `{UserName, FirstName, LastName, Email, Role, IdentityLevel}`."""
    await og.sign_in()
    async with og.http.get(f"{og.api}/user") as resp:
        reply = await body_of(resp, 200)
    assert reply["UserName"] == "harness" and "IdentityLevel" in reply
    await assert_no_violation(og.http, og.url, "api/v1/user")


async def test_wf_og_09_records_query_with_lower_case_boolean_flags(og):
    """GetCartegraphRecords: GET with `fields`, `filter`, `sort`, `limit`, `offset`, and the booleans as
    `true`/`false` (JavaScript toString); reads `{class: [...], _metadata}`."""
    await og.sign_in()
    query = {
        "fields": "Oid,IDField,StatusField",
        "filter": '(([Status] is equal to "Open"))',
        "sort": "IDField:asc",
        "limit": "5",
        "offset": "0",
        "bypassRoleBasedFiltering": "false",
        "ignoreNullFields": "true",
    }
    async with og.http.get(f"{og.api}/classes/cgRequestsClass", params=query) as resp:
        reply = await body_of(resp, 200)
    assert all(r["StatusField"] == "Open" for r in reply["cgRequestsClass"]) and "_metadata" in reply
    await assert_no_violation(og.http, og.url, "classes/cgRequestsClass")


async def test_wf_og_10_errors_are_json_message_with_a_json_content_type(og):
    """getResponseError: on !response.ok it parses the body only if Content-Type contains application/json,
    then reads `Message` (and `Errors[]` when present)."""
    await og.sign_in()
    async with og.http.get(f"{og.api}/classes/cgNoSuchClass") as resp:
        assert not resp.ok and "application/json" in resp.headers["Content-Type"]
        assert (await resp.json())["Message"]


# -- ssskram/DPW-maintenance-request (C# HttpClient, Controllers/Requests.cs at 086869e) ---------------------


async def test_wf_og_11_dpw_create_single_quoted_json_odata_type_and_x_http_method(og):
    """POST `api/v1/Classes/cgRequestsClass` (capital C), Basic key, `X-HTTP-Method: POST`, a `ContentLength`
    header (not Content-Length), Content-Type `application/json;odata=verbose`, a body with single quotes;
    EnsureSuccessStatusCode (any 2xx)."""
    body = (
        "{ 'cgRequestsClass' : [ { 'IssueField' : 'Leak' , 'DescriptionField' : 'Roof leak', "
        "'LocationDescriptionField' : 'Room 4' } ] }"
    )
    headers = {
        **BASIC,
        "X-HTTP-Method": "POST",
        "ContentLength": str(len(body)),
        "Content-Type": "application/json;odata=verbose",
    }
    async with og.http.post(f"{og.api}/Classes/cgRequestsClass", data=body.encode(), headers=headers) as resp:
        assert 200 <= resp.status < 300, await resp.text()
    await assert_no_violation(og.http, og.url, "Classes/cgRequestsClass")


async def test_wf_og_12_dpw_list_with_a_single_paren_filter_on_entered_by(og):
    """GET `Classes/cgRequestsClass?fields=...&filter=([EnteredBy] is equal to "APIAdmin")`: one pair of
    parentheses, the system field EnteredBy; reads the class array."""
    url = f"{og.api}/Classes/cgRequestsClass"
    query = {"fields": "Oid,LocationDescriptionField,DescriptionField,EntryDateField,StatusField,IssueField"}
    query["filter"] = '([EnteredBy] is equal to "harness")'
    async with og.http.get(url, params=query, headers=BASIC) as resp:
        reply = await body_of(resp, 200)
    assert isinstance(reply["cgRequestsClass"], list)
    await assert_no_violation(og.http, og.url, "Classes/cgRequestsClass")


# -- ssskram/cart-api (node-fetch, routes/maintenanceRequests.js at 23985ef) ---------------------------------


async def test_wf_og_13_cart_api_create_reads_the_first_oid(og):
    """POST `Classes/cgTasksClass`, Basic, Content-Type `application/json;odata=verbose`, JSON wrapper body;
    reads `data.cgTasksClass[0].Oid`."""
    body = raw(
        {"cgTasksClass": [{"ActivityField": "Repair", "StatusField": "Planned", "TaskDescriptionField": "Door"}]}
    )
    headers = {**BASIC, "Content-Type": "application/json;odata=verbose"}
    async with og.http.post(f"{og.api}/Classes/cgTasksClass", data=body, headers=headers) as resp:
        reply = await body_of(resp, 200, 201)
    assert reply["cgTasksClass"][0]["Oid"]
    await assert_no_violation(og.http, og.url, "Classes/cgTasksClass")


async def test_wf_og_14_cart_api_list_with_limit_10000_and_an_and_filter(og):
    """GET `classes/...?filter=(([A] is equal to true AND [B] is equal to false))&limit=10000&offset=0`
    (a limit above the default 1000) and `fields=`; reads the class array."""
    query = {
        "fields": "Oid,IssueField,InternalRequestCategoryField,InactiveField",
        "filter": "(([Public] is equal to true AND [Inactive] is equal to false))",
        "limit": "10000",
        "offset": "0",
    }
    async with og.http.get(f"{og.api}/Classes/cgRequestIssuesClass", params=query, headers=BASIC) as resp:
        reply = await body_of(resp, 200)
    assert reply["cgRequestIssuesClass"] and all(r["InactiveField"] is False for r in reply["cgRequestIssuesClass"])
    await assert_no_violation(og.http, og.url, "Classes/cgRequestIssuesClass")


async def test_wf_og_15_cart_api_upload_streams_the_raw_body_to_a_trailing_slash_path(og):
    """POST `attachments/{class}/{oid}/{Parent_cgAttachmentsClass}/?fileName=x` (slash before `?`), Basic, the
    raw bytes as the body with no Content-Type; reads the JSON answer."""
    oid = await og.some_oid("cgRequestsClass")
    url = f"{og.api}/attachments/cgRequestsClass/{oid}/cgRequests_cgAttachmentsClass/?fileName=photo.png"
    async with og.http.post(url, data=PNG, headers=BASIC, skip_auto_headers={"Content-Type"}) as resp:
        reply = await body_of(resp, 200, 201)
    assert reply["cgRequests_cgAttachmentsClass"][0]["Oid"]
    await assert_no_violation(og.http, og.url, "cgRequests_cgAttachmentsClass")


# -- CityofPittsburgh/caRtegraph (R httr, R/postData.R and R/getData.R at 7d7b67f) ---------------------------


async def test_wf_og_16_caRtegraph_post_json_declared_as_a_form_and_expects_200(og):
    """cgPost: httr::POST(body = <JSON string>) sets no type, so libcurl declares
    application/x-www-form-urlencoded (inferred from httr/libcurl); success only if the status is exactly 200."""
    body = raw({"cgRequestsClass": [{"DescriptionField": "Sign down", "StatusField": "Open"}]})
    headers = {**BASIC, "Content-Type": "application/x-www-form-urlencoded"}
    async with og.http.post(f"{og.api}/classes/cgRequestsClass", data=body, headers=headers) as resp:
        reply = await body_of(resp, 200)
    assert reply["cgRequestsClass"][0]["Oid"]
    await assert_no_violation(og.http, og.url, "classes/cgRequestsClass")


async def test_wf_og_17_caRtegraph_put_to_the_class_path_with_oids_in_the_items(og):
    """cgPut: PUT `api/v1/classes/{class}` (no oid in the path), each item carrying `Oid`; 200 expected."""
    oid = await og.some_oid("cgRequestsClass")
    body = raw({"cgRequestsClass": [{"Oid": oid, "StatusField": "Closed"}]})
    headers = {**BASIC, "Content-Type": "application/x-www-form-urlencoded"}
    async with og.http.put(f"{og.api}/classes/cgRequestsClass", data=body, headers=headers) as resp:
        reply = await body_of(resp, 200)
    assert reply["cgRequestsClass"][0]["StatusField"] == "Closed"
    await assert_no_violation(og.http, og.url, "classes/cgRequestsClass")


async def test_wf_og_18_caRtegraph_paging_with_a_lower_case_shape_field(og):
    """cgDf/cgPoints: GET `?limit=1000&offset=0&fields=...,cgShape` (the field is CgShape: field ids are
    case-insensitive); reads `_metadata.totalCount`, `.offset`, `.limit` and pages by offset + limit."""
    query = {"limit": "1000", "offset": "0", "fields": "Oid,StatusField,cgShape"}
    async with og.http.get(f"{og.api}/classes/cgRequestsClass", params=query, headers=BASIC) as resp:
        reply = await body_of(resp, 200)
    meta = reply["_metadata"]
    assert meta["totalCount"] >= len(reply["cgRequestsClass"]) and (meta["offset"], meta["limit"]) == (0, 1000)
    assert "CgShape" in reply["cgRequestsClass"][0]
    await assert_no_violation(og.http, og.url, "classes/cgRequestsClass")


async def test_wf_og_19_caRtegraph_delete_expects_200(og):
    """cgDelete: DELETE `api/v1/classes/{class}/{oid}` with Basic; success only if the status is 200."""
    oid = await og.new_task()
    async with og.http.delete(f"{og.api}/classes/cgTasksClass/{oid}", headers=BASIC) as resp:
        assert resp.status == 200, await resp.text()
    await assert_no_violation(og.http, og.url, f"classes/cgTasksClass/{oid}")


async def test_wf_og_20_caRtegraph_class_meta(og):
    """cgMeta: GET `api/v1/meta/Classes?classNames=a,b` and `api/v1/meta/Classes/{class}` with Basic."""
    url = f"{og.api}/meta/Classes?classNames=cgRequestsClass,cgTasksClass"
    async with og.http.get(url, headers=BASIC) as resp:
        await body_of(resp, 200)
    await assert_no_violation(og.http, og.url, "meta/Classes")
    async with og.http.get(f"{og.api}/meta/Classes/cgRequestsClass", headers=BASIC) as resp:
        await body_of(resp, 200)
    await assert_no_violation(og.http, og.url, "meta/Classes/cgRequestsClass")


# -- CityofPittsburgh/data-rivers (requests, gcs_loaders/cartegraph_tasks_gcs.py at d8ea4fd) ----------------


async def test_wf_og_21_data_rivers_full_scan_sorted_by_entry_date(og):
    """requests.get(params={fields, sort: EntryDateField:asc, limit: 1000, offset}), HTTPBasicAuth; reads
    `cgTasksClass` and `_metadata.totalCount`."""
    for _ in range(3):
        await og.new_task()
    query = {
        "fields": "Oid,ActivityField,StatusField,EntryDateField,TaskDescriptionField,NotesField,CgShape",
        "sort": "EntryDateField:asc",
        "limit": "1000",
        "offset": "0",
    }
    async with og.http.get(f"{og.api}/classes/cgTasksClass", params=query, headers=BASIC) as resp:
        reply = await body_of(resp, 200)
    dates = [t["EntryDateField"] for t in reply["cgTasksClass"]]
    assert dates == sorted(dates) and int(reply["_metadata"]["totalCount"]) >= len(dates)
    await assert_no_violation(og.http, og.url, "classes/cgTasksClass")
