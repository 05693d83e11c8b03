"""Cityworks wire facts (docs/WIRE-NOTES.md, WF-CW-*): each test sends one public client's exact request shape
to the simulator and asserts the answer that client relies on, and that strict mode journals no violation.

Setup steps (sign in, find a problem, create a request) use one plain, documented shape; the call under test
uses the client's own shape. No client code is run or copied: the shapes are the facts recorded in the notes.
"""

from __future__ import annotations

import base64
import json
import re
from typing import Any
from urllib.parse import quote, urlencode

import aiohttp
import pytest
from yarl import URL

from simulators.cityworks import CityworksConfig

from .wire_facts import assert_no_violation, running

pytestmark = pytest.mark.req("H-SIM-5")

PNG = base64.b64decode("iVBORw0KGgoAAAANSUhEUgAAAAEAAAABCAIAAACQd1PeAAAADElEQVR4nGP4z8AAAAMBAQDJ/pLvAAAAAElFTkSuQmCC")
FORM = "application/x-www-form-urlencoded"
LOGIN = {"LoginName": "harness", "Password": "harness"}


def form(**fields: str) -> bytes:
    return urlencode(fields).encode()


async def as_json(resp: aiohttp.ClientResponse) -> dict[str, Any]:
    assert resp.status == 200, await resp.text()
    return json.loads(await resp.text())


def ok(reply: dict[str, Any]) -> bool:
    """Cityworks' success: HTTP 200 and `Status` 0 (the reply is shown when it is not)."""
    assert reply["Status"] == 0, reply
    return True


class Site:
    """A running Cityworks simulator of one version family and a documented-shape caller for setup steps."""

    def __init__(self, url: str, http: aiohttp.ClientSession, version: str) -> None:
        self.url, self.http, self.version, self.token = url, http, version, ""

    def services(self, path: str) -> str:
        return f"{self.url}/Services/{path}"

    def auth_header(self) -> dict[str, str]:
        return {"Authorization": f"cityworks {self.token}"} if self.version == "23" else {}

    async def call(self, path: str, data: dict[str, Any] | None = None) -> Any:
        fields = {"data": json.dumps(data or {})}
        if self.token and self.version != "23":
            fields["token"] = self.token
        async with self.http.post(self.services(path), data=fields, headers=self.auth_header()) as resp:
            body = await as_json(resp)
        assert ok(body), body
        return body["Value"]

    async def login(self) -> str:
        self.token = (await self.call("General/Authentication/Authenticate", LOGIN))["Token"]
        return self.token

    async def public_problem(self) -> int:
        return (await self.call("Ams/ServiceRequest/Problems", {"ForPublicOnly": True}))[0]["ProblemSid"]

    async def new_request(self) -> int:
        created = await self.call("Ams/ServiceRequest/Create", {"ProblemSid": await self.public_problem(), "X": 1})
        return created["RequestId"]

    async def new_work_order(self) -> str:
        template = (await self.call("Ams/WorkOrder/Templates", {}))[0]
        created = await self.call(
            "Ams/WorkOrder/Create", {"WOTemplateId": template["WOTemplateId"], "EntityType": template["ApplyToEntity"]}
        )
        return created[0]["WorkOrderId"]


async def start(version: str):
    async with running("cityworks", CityworksConfig(seed=7, version=version)) as (url, http):
        yield Site(url, http, version)


@pytest.fixture
async def cw15():
    async for site in start("15.8"):
        yield site


@pytest.fixture
async def cw23():
    async for site in start("23"):
        yield site


# -- walker/cityworks (npm `cityworks`), src/index.ts runRequest ---------------------------------------------


async def test_wf_cw_01_pre23_every_call_is_a_get_with_a_form_body_on_lowercase_services(cw15):
    """walker, settings.version < 23: method GET, Content-Type form-urlencoded, `data`+`token` in the body,
    path `/{site}/services/...` in lower case."""
    await cw15.login()
    body = form(data=json.dumps({"ForPublicOnly": True}), token=cw15.token)
    url = f"{cw15.url}/services/Ams/ServiceRequest/Problems"
    async with cw15.http.request("GET", url, data=body, headers={"Content-Type": FORM}) as resp:
        reply = await as_json(resp)
    assert ok(reply) and reply["Value"][0]["ProblemSid"]
    await assert_no_violation(cw15.http, cw15.url, "ServiceRequest/Problems")


async def test_wf_cw_02_v23_authenticate_is_a_get_with_a_form_body(cw23):
    """walker, version 23: Authenticate carries no token, so it stays GET with `data=` in a form body."""
    body = form(data=json.dumps(LOGIN))
    url = f"{cw23.url}/services/General/Authentication/Authenticate"
    async with cw23.http.request("GET", url, data=body, headers={"Content-Type": FORM}) as resp:
        reply = await as_json(resp)
    assert ok(reply) and reply["Value"]["Token"]
    await assert_no_violation(cw23.http, cw23.url, "Authentication/Authenticate")


async def test_wf_cw_03_v23_calls_post_a_form_body_with_the_cityworks_authorization_header(cw23):
    """walker, version 23, a call with data: POST, form body `data=` only, `Authorization: cityworks <token>`."""
    await cw23.login()
    rid = await cw23.new_request()
    body = form(data=json.dumps({"RequestId": rid}))
    headers = {"Content-Type": FORM, "Authorization": f"cityworks {cw23.token}"}
    async with cw23.http.post(f"{cw23.url}/services/Ams/ServiceRequest/ById", data=body, headers=headers) as resp:
        reply = await as_json(resp)
    assert ok(reply) and reply["Value"]["RequestId"] == rid
    await assert_no_violation(cw23.http, cw23.url, "ServiceRequest/ById")


async def test_wf_cw_04_v23_calls_without_data_stay_get_with_an_empty_form_body(cw23):
    """walker, version 23, a call with no data (e.g. General/Authentication/User): GET, Content-Type
    form-urlencoded, empty body, the Authorization header."""
    await cw23.login()
    headers = {"Content-Type": FORM, "Authorization": f"cityworks {cw23.token}"}
    async with cw23.http.request("GET", f"{cw23.url}/services/General/Authentication/User", headers=headers) as resp:
        reply = await as_json(resp)
    assert ok(reply) and reply["Value"]["LoginName"] == "harness"
    await assert_no_violation(cw23.http, cw23.url, "Authentication/User")


async def test_wf_cw_05_pre23_upload_is_multipart_data_and_file_with_the_token_in_the_query(cw15):
    """walker, version < 23, a file: multipart fields `data` then `file`, `?token=` on the URL."""
    await cw15.login()
    rid = await cw15.new_request()
    parts = aiohttp.FormData()
    parts.add_field("data", json.dumps({"RequestId": rid}))
    parts.add_field("file", PNG, filename="pothole.png", content_type="image/png")
    url = f"{cw15.url}/services/Ams/Attachments/AddRequestAttachment?token={quote(cw15.token)}"
    async with cw15.http.post(url, data=parts) as resp:
        reply = await as_json(resp)
    assert ok(reply) and reply["Value"]["RequestId"] == rid
    await assert_no_violation(cw15.http, cw15.url, "Attachments/AddRequestAttachment")


async def test_wf_cw_06_v23_upload_without_any_token_is_refused_as_unauthorized(cw23):
    """walker, version 23, a file: the multipart carries `data` and `file` but no token and no Authorization
    header (the client adds neither). Cityworks answers its Unauthorized envelope, HTTP 200 (inferred)."""
    await cw23.login()
    rid = await cw23.new_request()
    parts = aiohttp.FormData()
    parts.add_field("data", json.dumps({"RequestId": rid}))
    parts.add_field("file", PNG, filename="pothole.png", content_type="image/png")
    async with cw23.http.post(f"{cw23.url}/services/Ams/Attachments/AddRequestAttachment", data=parts) as resp:
        reply = await as_json(resp)
    assert reply["Status"] == 2 and reply["Value"] is None


async def test_wf_cw_07_errors_are_http_200_with_status_and_message(cw15):
    """walker and Esri read `Status` (1 Error, 2 Unauthorized, 3 InvalidCredentials) and `Message` from an
    HTTP 200 JSON body; a bad password must not be an HTTP error or HTML."""
    body = form(data=json.dumps({"LoginName": "harness", "Password": "wrong"}))
    url = cw15.services("General/Authentication/Authenticate")
    async with cw15.http.request("GET", url, data=body, headers={"Content-Type": FORM}) as resp:
        reply = await as_json(resp)
        assert resp.content_type == "application/json"
    assert reply["Status"] in (1, 2, 3) and "Message" in reply


# -- vertigis/workflow-activities-cityworks: cw-sdk 15.8.3 browser/http-service.js, activities ---------------


async def test_wf_cw_08_sdk_login_posts_data_and_token_undefined_with_a_trailing_ampersand(cw15):
    """cw-sdk post(): POST, form-urlencoded, `Services/...`, body `data=<json>&token=<token>&` built by hand;
    before login the token is `undefined`, which the SDK encodes as the text `undefined`."""
    raw = f"data={quote(json.dumps(LOGIN), safe='')}&token=undefined&".encode()
    url = cw15.services("General/Authentication/Authenticate")
    async with cw15.http.post(url, data=raw, headers={"Content-Type": FORM}) as resp:
        reply = await as_json(resp)
    assert ok(reply) and reply["Value"]["Token"]
    await assert_no_violation(cw15.http, cw15.url, "Authentication/Authenticate")


async def test_wf_cw_09_sdk_calls_post_data_and_token_with_the_csrf_header(cw15):
    """cw-sdk post(): later calls `data=<json>&token=<token>&`, plus a `cw-csrf` header when the page has the
    `cw-reqtkn` cookie. The dates it parses are `YYYY-MM-DDThh:mm:ss` (local) or ISO with `Z`."""
    await cw15.login()
    rid = await cw15.new_request()
    raw = f"data={quote(json.dumps({'RequestId': rid}), safe='')}&token={quote(cw15.token, safe='')}&".encode()
    headers = {"Content-Type": FORM, "cw-csrf": "0f1e2d3c"}
    async with cw15.http.post(cw15.services("Ams/ServiceRequest/ById"), data=raw, headers=headers) as resp:
        reply = await as_json(resp)
    assert ok(reply) and reply["Value"]["RequestId"] == rid
    date = reply["Value"]["DateTimeInit"]
    assert re.fullmatch(r"\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d(\.\d+Z|Z)?", date), date
    await assert_no_violation(cw15.http, cw15.url, "ServiceRequest/ById")


async def test_wf_cw_10_activity_upload_sends_token_file_then_data(cw15):
    """AddServiceRequestAttachment activity: fetch() POST multipart, fields in the order `token`, `file`,
    `data` (data after the file), data `{RequestId, Comments, Filename}`; reads `Value`, `Status`."""
    await cw15.login()
    rid = await cw15.new_request()
    parts = aiohttp.FormData()
    parts.add_field("token", cw15.token)
    parts.add_field("file", PNG, filename="blob", content_type="image/png")
    parts.add_field("data", json.dumps({"RequestId": rid, "Comments": "from the field", "Filename": "photo.png"}))
    async with cw15.http.post(cw15.services("Ams/Attachments/AddRequestAttachment"), data=parts) as resp:
        reply = await as_json(resp)
    assert ok(reply) and reply["Value"]["RequestId"] == rid
    await assert_no_violation(cw15.http, cw15.url, "Attachments/AddRequestAttachment")


# -- Esri/crowdsource-reporter-scripts: CityworksConnection/connect_to_cityworks.py -------------------------


async def test_wf_cw_11_post_with_data_and_token_in_the_query_and_an_empty_body(cw15):
    """requests.post(url, params=...): POST, `data` (and `token`) in the query string, empty body, no
    Content-Type. Authenticate sends `data` only."""
    query = urlencode({"data": json.dumps(LOGIN, separators=(",", ":"))})
    async with cw15.http.post(f"{cw15.services('General/Authentication/Authenticate')}?{query}") as resp:
        reply = await as_json(resp)
    assert ok(reply) and reply["Value"]["Token"]
    await assert_no_violation(cw15.http, cw15.url, "Authentication/Authenticate")


async def test_wf_cw_12_upper_case_area_and_string_booleans(cw15):
    """Problems at `Services/AMS/...` (area in upper case) with `{"ForPublicOnly":"true"}` (a string);
    reads `Value[].ProblemCode` and `Value[].ProblemSid`."""
    await cw15.login()
    query = urlencode({"data": json.dumps({"ForPublicOnly": "true"}, separators=(",", ":")), "token": cw15.token})
    async with cw15.http.post(f"{cw15.url}/Services/AMS/ServiceRequest/Problems?{query}") as resp:
        reply = await as_json(resp)
    assert ok(reply) and all(p["ProblemCode"] and int(p["ProblemSid"]) for p in reply["Value"])
    await assert_no_violation(cw15.http, cw15.url, "ServiceRequest/Problems")


async def test_wf_cw_13_create_with_string_values_and_float_xy(cw15):
    """Create: every mapped field is `str()` of the layer's value, X/Y floats, ProblemSid an int,
    `InitiatedByApp` "Crowdsource Reporter"; reads `Value` (the created request)."""
    await cw15.login()
    data = {
        "Details": "Pothole by the curb",
        "CallerFirstName": "Ada",
        "CallerEmail": "ada@example.org",
        "Location": "None",
        "X": -78.6382,
        "Y": 35.7796,
        "ProblemSid": await cw15.public_problem(),
        "InitiatedByApp": "Crowdsource Reporter",
    }
    query = urlencode({"data": json.dumps(data, separators=(",", ":")), "token": cw15.token})
    async with cw15.http.post(f"{cw15.url}/Services/AMS/ServiceRequest/Create?{query}") as resp:
        reply = await as_json(resp)
    assert ok(reply) and reply["Value"]["RequestId"]
    assert reply["Value"]["InitiatedByApp"] == "Crowdsource Reporter"
    await assert_no_violation(cw15.http, cw15.url, "ServiceRequest/Create")


async def test_wf_cw_14_preferences_user_with_only_a_token(cw15):
    """`Services/AMS/Preferences/User` with `token` only (no `data`); reads `Value.SpatialReference`."""
    await cw15.login()
    async with cw15.http.post(f"{cw15.url}/Services/AMS/Preferences/User?{urlencode({'token': cw15.token})}") as resp:
        reply = await as_json(resp)
    assert ok(reply) and reply["Value"]["SpatialReference"]
    await assert_no_violation(cw15.http, cw15.url, "Preferences/User")


async def test_wf_cw_15_upload_is_multipart_token_data_then_file(cw15):
    """requests.post(url, files={"file": ...}, data={"token", "data"}): form fields first, then `file`."""
    await cw15.login()
    rid = await cw15.new_request()
    parts = aiohttp.FormData()
    parts.add_field("token", cw15.token)
    parts.add_field("data", json.dumps({"RequestId": rid}, separators=(",", ":")))
    parts.add_field("file", PNG, filename="report.png")
    async with cw15.http.post(f"{cw15.url}/Services/AMS/Attachments/AddRequestAttachment", data=parts) as resp:
        reply = await as_json(resp)
    assert ok(reply) and reply["Value"]["RequestId"] == rid
    await assert_no_violation(cw15.http, cw15.url, "Attachments/AddRequestAttachment")


async def test_wf_cw_16_customer_call_add_to_request(cw15):
    """Comments from the survey go to `Services/AMS/CustomerCall/AddToRequest` with `{RequestId, ...}`
    (field names configured by the city, e.g. CallerFirstName, Comments); reads `Status`."""
    await cw15.login()
    rid = await cw15.new_request()
    data = {"RequestId": rid, "CallerFirstName": "Ada", "Comments": "Still there"}
    query = urlencode({"data": json.dumps(data, separators=(",", ":")), "token": cw15.token})
    async with cw15.http.post(f"{cw15.url}/Services/AMS/CustomerCall/AddToRequest?{query}") as resp:
        reply = await as_json(resp)
    assert ok(reply)
    await assert_no_violation(cw15.http, cw15.url, "CustomerCall/AddToRequest")


async def test_wf_cw_17_cityworks_online_token_is_the_password_of_the_site_login(cw15):
    """CWOL: CityworksOnlineAuthenticate `{LoginName, Password}`, then the site's Authenticate with
    `Password` = the returned `Value.Token`; both POST with `data` in the query string."""
    online = urlencode({"data": json.dumps(LOGIN, separators=(",", ":"))})
    async with cw15.http.post(f"{cw15.services('General/Authentication/CityworksOnlineAuthenticate')}?{online}") as r:
        first = await as_json(r)
    assert ok(first)
    site = {"LoginName": "harness", "Password": first["Value"]["Token"]}
    query = urlencode({"data": json.dumps(site, separators=(",", ":"))})
    async with cw15.http.post(f"{cw15.services('General/Authentication/Authenticate')}?{query}") as resp:
        reply = await as_json(resp)
    assert ok(reply) and reply["Value"]["Token"]
    await assert_no_violation(cw15.http, cw15.url, "Authentication/Authenticate")


# -- cityworks/citizen-reporter-scripts: connect_to_cityworks_cwpy.py, sr_template_create_fgdb ---------------


async def test_wf_cw_18_get_with_data_and_token_in_the_query(cw15):
    """requests.get(url, params={"data", "token"}): GET, everything in the query string, no body."""
    await cw15.login()
    query = urlencode({"token": cw15.token, "data": json.dumps({"ForPublicOnly": True}, separators=(",", ":"))})
    async with cw15.http.get(f"{cw15.url}/Services/AMS/ServiceRequest/Problems?{query}") as resp:
        reply = await as_json(resp)
    assert ok(reply) and reply["Value"]
    await assert_no_violation(cw15.http, cw15.url, "ServiceRequest/Problems")


# -- cityofsouthbend/OpenGov-Cityworks-Durable (Cityworks Online, 23): src/activity/*.js ---------------------


async def test_wf_cw_19_get_authenticate_with_single_quoted_json_in_the_query(cw23):
    """token.js: axios.get(`.../Authenticate?data={'LoginName':'u','Password':'p'}`): lenient JSON with single
    quotes, left unencoded by the client except what the URL parser escapes (`'` as %27)."""
    data = "{%27LoginName%27:%27harness%27,%27Password%27:%27harness%27}"
    raw = f"{cw23.url}/Services/General/Authentication/Authenticate?data={data}"
    async with cw23.http.get(URL(raw, encoded=True)) as resp:
        reply = await as_json(resp)
    assert ok(reply) and reply["Value"]["Token"]
    await assert_no_violation(cw23.http, cw23.url, "Authentication/Authenticate")


async def test_wf_cw_20_get_work_order_attachments_with_string_ids_and_a_json_content_type(cw23):
    """images.js: GET `WorkOrderAttachments?data={'WorkOrderIds':['N'],'WorkOrderSids':['N']}` (both keys, ids as
    strings), `Content-Type: application/json` on a body-less GET, `Authorization: cityworks`; reads `Value`
    (null or a list) and each item's `Attachment` (a path; the file name after the last backslash)."""
    await cw23.login()
    wo = await cw23.new_work_order()
    parts = aiohttp.FormData()
    parts.add_field("data", json.dumps({"WorkOrderId": wo}))
    parts.add_field("file", PNG, filename="before.png", content_type="image/png")
    async with cw23.http.post(
        cw23.services("Ams/Attachments/AddWorkOrderAttachment"), data=parts, headers=cw23.auth_header()
    ) as resp:
        assert (await as_json(resp))["Status"] == 0
    data = f"{{%27WorkOrderIds%27:[%27{wo}%27],%27WorkOrderSids%27:[%27{wo}%27]}}"
    raw = f"{cw23.url}/Services/Ams/Attachments/WorkOrderAttachments?data={data}"
    headers = {"Content-Type": "application/json", **cw23.auth_header()}
    async with cw23.http.get(URL(raw, encoded=True), headers=headers) as resp:
        reply = await as_json(resp)
    assert ok(reply)
    assert [a["Attachment"].split("\\")[-1] for a in reply["Value"]] == ["before.png"]
    await assert_no_violation(cw23.http, cw23.url, "Attachments/WorkOrderAttachments")


async def test_wf_cw_21_get_download_with_single_quoted_json_returns_the_bytes_and_their_type(cw23):
    """uploadImages.js: GET `DownloadWorkOrderAttachment?data={'AttachmentId':N}`; reads the raw bytes and the
    response Content-Type (default application/octet-stream)."""
    await cw23.login()
    wo = await cw23.new_work_order()
    parts = aiohttp.FormData()
    parts.add_field("data", json.dumps({"WorkOrderId": wo}))
    parts.add_field("file", PNG, filename="after.png", content_type="image/png")
    async with cw23.http.post(
        cw23.services("Ams/Attachments/AddWorkOrderAttachment"), data=parts, headers=cw23.auth_header()
    ) as resp:
        attachment = (await as_json(resp))["Value"]["Id"]
    raw = f"{cw23.url}/Services/Ams/Attachments/DownloadWorkOrderAttachment?data={{%27AttachmentId%27:{attachment}}}"
    async with cw23.http.get(URL(raw, encoded=True), headers=cw23.auth_header()) as resp:
        assert resp.status == 200
        assert await resp.read() == PNG and resp.content_type == "image/png"
    await assert_no_violation(cw23.http, cw23.url, "DownloadWorkOrderAttachment")


# -- tolemi-inc/cityworks_puller: cityworks_puller/cityworks.py ----------------------------------------------


async def test_wf_cw_22_authenticate_posts_a_form_body_with_data_only(cw15):
    """get_access_token: POST, Content-Type form-urlencoded, body `data=` only; reads `Value.Token`."""
    body = form(data=json.dumps(LOGIN))
    url = cw15.services("General/Authentication/Authenticate")
    async with cw15.http.post(url, data=body, headers={"Content-Type": FORM}) as resp:
        reply = await as_json(resp)
    assert ok(reply) and reply["Value"]["Token"]
    await assert_no_violation(cw15.http, cw15.url, "Authentication/Authenticate")


async def test_wf_cw_23_search_then_by_ids_as_gets_with_form_bodies(cw15):
    """search_objects / get_object_by_ids: GET with a form body `token=...&data=...` (Content-Type set,
    nothing in the query); Search dates as `YYYY-MM-DD`; ByIds in batches of up to 500 ids."""
    await cw15.login()
    rid = await cw15.new_request()
    headers = {"Content-Type": FORM}
    search = {"DateTimeInitBegin": "2000-01-01", "DateTimeInitEnd": "2100-01-01"}
    body = form(token=cw15.token, data=json.dumps(search))
    async with cw15.http.request("GET", cw15.services("Ams/ServiceRequest/Search"), data=body, headers=headers) as r:
        found = await as_json(r)
    assert ok(found) and rid in found["Value"]
    await assert_no_violation(cw15.http, cw15.url, "ServiceRequest/Search")
    body = form(token=cw15.token, data=json.dumps({"RequestIds": found["Value"][:500]}))
    async with cw15.http.request("GET", cw15.services("Ams/ServiceRequest/ByIds"), data=body, headers=headers) as r:
        rows = await as_json(r)
    assert ok(rows) and len(rows["Value"]) == len(found["Value"][:500])
    await assert_no_violation(cw15.http, cw15.url, "ServiceRequest/ByIds")


async def test_wf_cw_24_search_with_a_token_and_no_data(cw15):
    """search_all_work_orders: GET, form body `token=` only (no `data`): every work order id; reads `Value`."""
    await cw15.login()
    wo = await cw15.new_work_order()
    body = form(token=cw15.token)
    url = cw15.services("Ams/WorkOrder/Search")
    async with cw15.http.request("GET", url, data=body, headers={"Content-Type": FORM}) as resp:
        reply = await as_json(resp)
    assert ok(reply) and wo in reply["Value"]
    await assert_no_violation(cw15.http, cw15.url, "WorkOrder/Search")


# -- jasonayre/cityworks (Ruby gem, Faraday): lib/cityworks/client.rb, base_service_request.rb --------------


async def test_wf_cw_25_get_authenticate_with_data_in_the_query(cw23):
    """authenticate: GET `General/Authentication/Authenticate?data=<json>`; reads `Status < 1`, `Value.Token`."""
    query = urlencode({"data": json.dumps(LOGIN)})
    async with cw23.http.get(f"{cw23.url}/services/General/Authentication/Authenticate?{query}") as resp:
        reply = await as_json(resp)
    assert reply["Status"] < 1 and reply["Value"]["Token"]
    await assert_no_violation(cw23.http, cw23.url, "Authentication/Authenticate")


async def test_wf_cw_26_post_with_data_in_the_query_and_the_authorization_header(cw23):
    """execute!: POST, `data=<json>` in the query string, no body, no Content-Type, `Authorization: cityworks
    <token>`; success is `Status == 0`, errors are `ErrorMessages[].DisplayText`."""
    await cw23.login()
    query = urlencode({"data": json.dumps({"ProblemSid": await cw23.public_problem(), "X": 1.0, "Y": 2.0})})
    url = f"{cw23.url}/services/Ams/ServiceRequest/Create?{query}"
    async with cw23.http.post(url, headers=cw23.auth_header()) as resp:
        reply = await as_json(resp)
    assert ok(reply) and reply["Value"]["RequestId"]
    await assert_no_violation(cw23.http, cw23.url, "ServiceRequest/Create")
    query = urlencode({"data": json.dumps({"RequestId": 999_999_999})})
    async with cw23.http.post(
        f"{cw23.url}/services/Ams/ServiceRequest/ById?{query}", headers=cw23.auth_header()
    ) as resp:
        missing = await as_json(resp)
    assert missing["Status"] != 0 and [m["DisplayText"] for m in missing["ErrorMessages"]]


# -- AlachuaCountyApps/service-request-cityworks: src/App.js (through the county's own API) -----------------


async def test_wf_cw_27_create_with_nulls_geocode_address_and_answer_text(cw15):
    """The create body the app builds: nulls for unset fields (X, Y, Details), `GeocodeAddress: true`,
    caller fields, `Answers: [{AnswerId, AnswerValue: <the answer's own text>}]`. It reaches Cityworks through
    the county's API, which is assumed to forward it unchanged (inferred)."""
    await cw15.login()
    sid = None
    for problem in await cw15.call("Ams/ServiceRequest/Problems", {"ForPublicOnly": True}):
        qa = await cw15.call("Ams/ServiceRequest/QA", {"ProblemSid": problem["ProblemSid"]})
        if qa["Answers"]:
            sid, answer = problem["ProblemSid"], qa["Answers"][0]
            break
    assert sid is not None
    data = {
        "ProblemSid": sid,
        "Comments": "Broken floor tile",
        "Details": None,
        "Address": None,
        "City": None,
        "State": "Florida",
        "Zip": None,
        "Landmark": None,
        "Location": "",
        "X": None,
        "Y": None,
        "CallerType": "Visitor",
        "CallerFirstName": "Ada",
        "CallerLastName": "Lovelace",
        "CallerHomePhone": None,
        "CallerEmail": "ada@example.org",
        "CallerComments": None,
        "Answers": [{"AnswerId": answer["AnswerId"], "AnswerValue": answer["Answer"]}],
        "GeocodeAddress": True,
    }
    reply = await cw15.call("Ams/ServiceRequest/Create", data)
    assert reply["RequestId"]
    await assert_no_violation(cw15.http, cw15.url, "ServiceRequest/Create")


# -- bswhitney/Cityworks-API-Trainings (Cityworks' API training, 15.8): LiveWeb/Python/MassInsp-complete.py -----


async def test_wf_cw_28_all_lower_case_paths_with_get_query_parameters(cw15):
    """The training script's non-SDK calls: GET with `data` (and `token` once signed in) in the query, the whole
    path in lower case: `services/general/authentication/authenticate`, `services/ams/...`."""
    query = urlencode({"data": json.dumps(LOGIN, separators=(",", ":"))})
    async with cw15.http.get(f"{cw15.url}/services/general/authentication/authenticate?{query}") as resp:
        reply = await as_json(resp)
    assert ok(reply)
    await assert_no_violation(cw15.http, cw15.url, "general/authentication/authenticate")
    data = json.dumps({"ForPublicOnly": True}, separators=(",", ":"))
    query = urlencode({"token": reply["Value"]["Token"], "data": data})
    async with cw15.http.get(f"{cw15.url}/services/ams/servicerequest/problems?{query}") as resp:
        problems = await as_json(resp)
    assert ok(problems) and problems["Value"]
    await assert_no_violation(cw15.http, cw15.url, "servicerequest/problems")
