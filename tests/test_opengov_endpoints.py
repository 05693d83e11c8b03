"""The OpenGov EAM endpoints real clients call around the records, over loopback: sign-in, session info and
sign-out, the signed-in user, discover, class meta and attachments (primary, thumbnail, upload with the
trailing slash clients send), the record calls VG makes (PUT on a child path, DELETE by filter), signed in by
HTTP Basic and by the session cookie, signed out, and bad input.
Every answer is the contract's (the journal shows no violation), never a server error."""

from __future__ import annotations

import base64
from collections.abc import AsyncIterator
from dataclasses import dataclass
from typing import Any

import aiohttp
import pytest

from harness.stack import Stack
from simulators.opengov import OpengovConfig

USER, PASSWORD = "svc-311", "pw-og"
BASIC = {"Authorization": "Basic " + base64.b64encode(f"{USER}:{PASSWORD}".encode()).decode()}
REQUESTS, ATTACH = "cgRequestsClass", "cgRequests_cgAttachmentsClass"
AREAS = {"Library", "Asset", "Resource", "Request", "Work"}


@dataclass
class Og:
    url: str
    basic: aiohttp.ClientSession  # HTTP Basic on every call
    browser: aiohttp.ClientSession  # no credentials; keeps cookies, as a browser does

    async def call(self, http: aiohttp.ClientSession, method: str, path: str, **kw: Any) -> tuple[int, Any]:
        async with http.request(method, f"{self.url}/api/v1/{path}", **kw) as resp:
            assert resp.status < 500
            if resp.content_type == "application/json":
                return resp.status, await resp.json()
            return resp.status, await resp.read()

    async def sign_in(self) -> str:
        status, body = await self.call(
            self.browser,
            "POST",
            "authenticate",
            json={"userName": USER, "password": PASSWORD, "isInternalRequest": False},
        )
        assert (status, body) == (200, {"LogOnStatus": 0, "Expires": 3600})
        return next(c.value for c in self.browser.cookie_jar if c.key == "CGAPI")

    async def request_oid(self) -> int:
        status, body = await self.call(
            self.basic, "POST", f"classes/{REQUESTS}", json={REQUESTS: [{"IssueField": "x"}]}
        )
        assert status == 200  # the default create_status
        return body[REQUESTS][0]["Oid"]

    async def answers_out_of_contract(self) -> list[dict[str, Any]]:
        """The simulator's own contract breaches (bad input a test sends is a request violation, expected)."""
        async with self.basic.get(f"{self.url}/_sim/journal", params={"violations": "true"}) as resp:
            entries = (await resp.json())["entries"]
        return [v for e in entries for v in e["violations"] if v["where"] == "response"]


async def start(config: OpengovConfig) -> AsyncIterator[Og]:
    async with (
        Stack({"opengov": config}) as stack,
        aiohttp.ClientSession(headers=BASIC) as basic,
        aiohttp.ClientSession(cookie_jar=aiohttp.CookieJar(unsafe=True)) as browser,  # unsafe: an IP host
    ):
        og = Og(stack.url("opengov"), basic, browser)
        yield og
        assert await og.answers_out_of_contract() == []


@pytest.fixture
async def og() -> AsyncIterator[Og]:
    async for running in start(OpengovConfig(seed=3, users=((USER, PASSWORD),))):
        yield running


# -- sign-in, session info, sign-out ---------------------------------------------------------------


@pytest.mark.req("OG-API-5", "OG-API-8")
@pytest.mark.parametrize("key", ["userName", "username", "USERNAME"])
async def test_sign_in_reads_the_user_name_key_in_any_case(og, key):
    status, body = await og.call(og.browser, "POST", "authenticate", json={key: USER.upper(), "Password": PASSWORD})
    assert (status, body) == (200, {"LogOnStatus": 0, "Expires": 3600})
    status, user = await og.call(og.browser, "GET", "user")
    assert status == 200 and user["UserName"] == USER


@pytest.mark.req("OG-API-5")
@pytest.mark.parametrize(
    "kwargs, status, message",
    [
        ({"json": {"userName": USER, "password": "nope"}}, 401, "The user name or password is incorrect."),
        ({"json": {"userName": "nobody", "password": PASSWORD}}, 401, "The user name or password is incorrect."),
        ({"json": {"userName": USER}}, 401, "The user name or password is incorrect."),
        ({"json": {"userName": USER, "password": ""}}, 401, "The user name or password is incorrect."),
        ({"json": [USER, PASSWORD]}, 400, None),
        ({"data": b'{"userName": ', "headers": {"Content-Type": "application/json"}}, 400, None),
        (
            {"params": {"userName": USER, "password": PASSWORD}, "json": {"userName": USER, "password": PASSWORD}},
            400,
            "Cannot pass user name or password through the URL.",
        ),
    ],
)
async def test_a_bad_sign_in_is_refused_with_the_documented_message(og, kwargs, status, message):
    got, body = await og.call(og.browser, "POST", "authenticate", **kwargs)
    assert got == status and isinstance(body["Message"], str)
    if message is not None:
        assert body["Message"] == message
    assert not list(og.browser.cookie_jar)  # no session was opened


@pytest.mark.req("OG-API-8")
async def test_session_info_shows_a_cookie_only_while_signed_in(og):
    status, before = await og.call(og.browser, "GET", "authenticate")
    assert status == 200 and before["Cookie"] == "" and before["Expires"] == 0  # VG: isAuthenticated = !!Cookie
    cookie = await og.sign_in()
    status, during = await og.call(og.browser, "GET", "authenticate")
    assert status == 200 and during["Cookie"] == cookie and 3500 < during["Expires"] <= 3600
    assert {
        "CurrentAuthTokenExpiration",
        "MaintenanceLevel",
        "MaintenanceMessage",
        "MaintenanceUser",
        "MaintenanceUserFullName",
        "RestrictUsersDuringMaintenance",
    } <= set(during)
    async with og.basic.get(f"{og.url}/_sim/journal") as resp:
        assert cookie not in await resp.text()  # the token the answer carries is a secret in the journal
    status, basic = await og.call(og.basic, "GET", "authenticate")
    assert status == 200 and basic["Cookie"] == ""  # Basic is no session
    status, wrong = await og.call(og.browser, "GET", "authenticate", headers={"Authorization": "Basic eDp5"})
    assert status == 401 and wrong["Message"] == "The user name or password is incorrect."


@pytest.mark.req("OG-API-8")
async def test_sign_out_ends_the_session_on_the_server_not_only_in_the_browser(og):
    cookie = await og.sign_in()
    assert (await og.call(og.browser, "GET", "user"))[0] == 200
    async with og.browser.post(f"{og.url}/api/v1/authenticate/signout") as resp:
        assert resp.status == 200 and await resp.json() == {}
        assert resp.cookies["CGAPI"].value == ""  # the browser is told to drop it
    # The old token, sent again as a cookie or as the cgkey header older clients used, signs nothing in.
    async with aiohttp.ClientSession(cookie_jar=aiohttp.DummyCookieJar()) as replay:
        for headers in ({"Cookie": f"CGAPI={cookie}"}, {"cgkey": cookie}):
            status, body = await og.call(replay, "GET", "user", headers=headers)
            assert (status, body) == (401, {"Message": "Authentication Required for API Access."})
            status, info = await og.call(replay, "GET", "authenticate", headers=headers)
            assert status == 200 and info["Cookie"] == ""
    status, _ = await og.call(og.browser, "POST", "authenticate/signout")
    assert status == 200  # nothing left to end: still a success


# -- the signed-in user ----------------------------------------------------------------------------


@pytest.mark.req("OG-API-8")
async def test_the_user_is_the_same_by_basic_and_by_cookie(og):
    status, by_basic = await og.call(og.basic, "GET", "user")
    assert status == 200
    assert set(by_basic) == {"UserName", "EsriUsername", "FirstName", "LastName", "Email", "Role", "IdentityLevel"}
    assert by_basic["UserName"] == USER and by_basic["IdentityLevel"] == 0
    await og.sign_in()
    assert await og.call(og.browser, "GET", "user") == (200, by_basic)


@pytest.mark.req("OG-API-5")
@pytest.mark.parametrize(
    "headers, message",
    [
        ({}, "Authentication Required for API Access."),
        ({"Authorization": "Basic " + base64.b64encode(f"{USER}:wrong".encode()).decode()}, None),
        ({"Authorization": "Basic %%%not-base64"}, "Authentication Required for API Access."),
        ({"Cookie": "CGAPI=made-up"}, "Authentication Required for API Access."),
    ],
)
@pytest.mark.parametrize("path", ["user", "discover", "meta/Classes", f"attachments/primary/{REQUESTS}/1"])
async def test_signed_out_calls_are_refused_with_401(og, path, headers, message):
    async with aiohttp.ClientSession(cookie_jar=aiohttp.DummyCookieJar()) as anonymous:
        status, body = await og.call(anonymous, "GET", path, headers=headers)
    assert status == 401
    assert body["Message"] == (message or "The user name or password is incorrect.")


@pytest.mark.req("OG-API-5")
@pytest.mark.parametrize("path", ["user", "discover", f"classes/{REQUESTS}"])
async def test_credentials_in_the_url_are_refused_on_any_call(og, path):
    status, body = await og.call(og.basic, "GET", path, params={"password": PASSWORD})
    assert (status, body) == (400, {"Message": "Cannot pass user name or password through the URL."})


# -- discover and class meta -----------------------------------------------------------------------


@pytest.mark.req("OG-API-7")
async def test_discover_lists_the_held_classes_by_area_by_basic_and_by_cookie(og):
    status, found = await og.call(og.basic, "GET", "discover")
    assert status == 200 and set(found) == AREAS
    names = {area: [c["ClassName"] for c in listed] for area, listed in found.items()}
    assert names == {
        "Library": ["cgRequestIssuesClass", "cgRequestersClass"],
        "Asset": [],
        "Resource": [],
        "Request": [REQUESTS],
        "Work": ["cgTasksClass"],
    }
    assert found["Request"] == [{"SingularName": "Request", "PluralName": "Requests", "ClassName": REQUESTS}]
    for listed in found.values():  # every class discover names answers a list
        for c in listed:
            assert (await og.call(og.basic, "GET", f"classes/{c['ClassName']}", params={"limit": 1}))[0] == 200
    await og.sign_in()
    assert await og.call(og.browser, "GET", "discover") == (200, found)
    assert await og.call(og.basic, "GET", "DISCOVER") == (200, found)  # paths are case-insensitive


async def test_discover_follows_the_configured_class_names():
    config = OpengovConfig(
        users=((USER, PASSWORD),), requester_class="cgCitizensClass", comment_class="cgRequests_cgNotesClass"
    )
    async for og in start(config):
        _, found = await og.call(og.basic, "GET", "discover")
        assert "cgCitizensClass" in [c["ClassName"] for c in found["Library"]]
        _, meta = await og.call(og.basic, "GET", f"meta/Classes/{REQUESTS}")
        assert "cgRequests_cgNotesClass" in meta["Classes"][0]["Children"]


@pytest.mark.req("OG-API-7")
async def test_class_meta_by_path_by_list_and_for_every_class(og):
    status, one = await og.call(og.basic, "GET", "meta/classes/CGREQUESTSCLASS")
    assert status == 200 and len(one["Classes"]) == 1
    meta = one["Classes"][0]
    assert meta["ClassName"] == REQUESTS and meta["BOType"] == 4 and meta["DefaultSort"] == "[ID] Ascending"
    assert meta["Children"] == [ATTACH, "cgRequests_cgCommentsClass"]
    fields = {f["FieldName"]: f["DataType"] for f in meta["Fields"]}
    assert fields["Oid"] == "Integer" and fields["CgShape"] == "Shape" and fields["CompletedField"] == "Boolean"
    assert {"IntegrationIDField", "SourceField", "cgLastModifiedField"} <= set(fields)  # settings and system
    status, listed = await og.call(
        og.basic, "GET", "meta/Classes", params={"classNames": "cgTasksClass,cgRequestsClass"}
    )
    assert status == 200 and [(c["ClassName"], c["BOType"]) for c in listed["Classes"]] == [
        ("cgTasksClass", 2),
        (REQUESTS, 4),
    ]
    for path in ("meta/Classes", "meta/Classes/"):  # CR asks for every class with the trailing slash
        status, every = await og.call(og.basic, "GET", path)
        assert status == 200 and len(every["Classes"]) == 6
        assert {c["ClassName"]: c["BOType"] for c in every["Classes"]}["cgRequestIssuesClass"] == 0
    await og.sign_in()
    assert await og.call(og.browser, "GET", f"meta/Classes/{REQUESTS}") == (200, one)


@pytest.mark.req("OG-API-7")
@pytest.mark.parametrize(
    "path, params, status",
    [
        ("meta/Classes/cgNoSuchClass", {}, 404),
        ("meta/Classes", {"classNames": "cgTasksClass,cgNoSuchClass"}, 404),
        ("meta/Classes", {"classNames": " , "}, 400),
        ("meta/Classes/a/b", {}, 404),
    ],
)
async def test_class_meta_refuses_what_it_does_not_know(og, path, params, status):
    got, body = await og.call(og.basic, "GET", path, params=params)
    assert got == status and isinstance(body["Message"], str) and body["Message"]


# -- attachments ------------------------------------------------------------------------------------


@pytest.mark.req("OG-API-6")
async def test_uploads_with_the_trailing_slash_clients_send_and_the_primary_file(og):
    oid = await og.request_oid()
    status, empty = await og.call(og.basic, "GET", f"attachments/primary/{REQUESTS}/{oid}")
    assert status == 404 and empty["Message"]
    first, second = b"\xff\xd8first-photo", b"\xff\xd8second-photo"
    # CA streams the raw body, ION sends a multipart part "file"; both end the path with a slash.
    status, up1 = await og.call(
        og.basic, "POST", f"attachments/{REQUESTS}/{oid}/{ATTACH}/", params={"fileName": "a.jpg"}, data=first
    )
    assert status == 200 and up1[ATTACH][0]["PrimaryField"] is True
    form = aiohttp.FormData()
    form.add_field("file", second, filename="b.jpg", content_type="image/jpeg")
    status, up2 = await og.call(og.basic, "POST", f"attachments/{REQUESTS}/{oid}/{ATTACH}/", data=form)
    assert status == 200 and up2[ATTACH][0]["FileNameField"] == "b.jpg" and up2[ATTACH][0]["PrimaryField"] is False
    assert await og.call(og.basic, "GET", f"attachments/primary/{REQUESTS}/{oid}") == (200, first)
    assert await og.call(og.basic, "GET", f"attachments/primary/thumbnail/{REQUESTS}/{oid}") == (200, first)
    second_oid = up2[ATTACH][0]["Oid"]
    assert await og.call(og.basic, "GET", f"attachments/thumbnail/{ATTACH}/{second_oid}") == (200, second)
    assert await og.call(og.basic, "GET", f"attachments/{ATTACH}/{second_oid}") == (200, second)
    await og.sign_in()
    assert await og.call(og.browser, "GET", f"attachments/primary/{REQUESTS}/{oid}") == (200, first)


@pytest.mark.req("OG-API-6")
@pytest.mark.parametrize(
    "path, status, message",
    [
        ("attachments", 400, "Identifier cannot be empty. Please specify an identifier."),
        (f"attachments/{ATTACH}", 400, "Identifier cannot be empty. Please specify an identifier."),
        (f"attachments/{REQUESTS}/{{oid}}/{ATTACH}", 400, "more URI segments than is allowed"),
        (f"attachments/{ATTACH}/999999", 404, None),
        (f"attachments/primary/{REQUESTS}/999999", 404, None),
        ("attachments/primary/cgNoSuchClass/1", 404, None),
        (f"attachments/primary/{REQUESTS}/not-a-number", 404, None),
        (f"attachments/thumbnail/{ATTACH}/999999", 404, None),
    ],
)
async def test_attachment_reads_refuse_bad_paths_with_the_documented_messages(og, path, status, message):
    oid = await og.request_oid()
    got, body = await og.call(og.basic, "GET", path.format(oid=oid))
    assert got == status and isinstance(body["Message"], str)
    if message is not None:
        assert message in body["Message"]


@pytest.mark.req("OG-API-6")
async def test_an_upload_without_a_file_name_is_refused_and_creates_nothing(og):
    oid = await og.request_oid()
    status, body = await og.call(og.basic, "POST", f"attachments/{REQUESTS}/{oid}/{ATTACH}/", data=b"bytes")
    assert (status, body) == (400, {"Message": "Identifier cannot be empty. Please specify an identifier."})
    status, listed = await og.call(og.basic, "GET", f"classes/{REQUESTS}/{oid}/{ATTACH}")
    assert status == 200 and listed[ATTACH] == []


# -- classes as VG calls them ----------------------------------------------------------------------

COMMENTS = "cgRequests_cgCommentsClass"


@pytest.mark.req("OG-API-3", "OG-API-4")
async def test_child_records_update_through_their_parents_path(og):
    oid, other = await og.request_oid(), await og.request_oid()
    path = f"classes/{REQUESTS}/{oid}/{COMMENTS}"
    status, made = await og.call(
        og.basic, "POST", path, json={COMMENTS: [{"CommentField": "a", "PublicField": True}, {"CommentField": "b"}]}
    )
    assert status == 200
    first = made[COMMENTS][0]["Oid"]
    status, updated = await og.call(og.basic, "PUT", path, json={COMMENTS: [{"Oid": first, "PublicField": False}]})
    assert status == 200 and updated[COMMENTS][0]["PublicField"] is False
    _, listed = await og.call(og.basic, "GET", path)
    assert [(c["CommentField"], c["PublicField"]) for c in listed[COMMENTS]] == [("a", False), ("b", False)]
    async with og.basic.put(f"{og.url}/api/v1/{path}", json={COMMENTS: [{"Oid": first, "PublicField": False}]}) as r:
        assert r.status == 304  # nothing changed
    elsewhere = f"classes/{REQUESTS}/{other}/{COMMENTS}"
    status, body = await og.call(og.basic, "PUT", elsewhere, json={COMMENTS: [{"Oid": first, "PublicField": True}]})
    assert status == 404 and body["Message"]  # not a child of that request: nothing changed
    _, listed = await og.call(og.basic, "GET", path)
    assert listed[COMMENTS][0]["PublicField"] is False
    status, body = await og.call(
        og.basic, "PUT", f"classes/cgTasksClass/{oid}/{COMMENTS}", json={COMMENTS: [{"Oid": first}]}
    )
    assert status == 404 and body["Message"]


@pytest.mark.req("OG-API-3")
async def test_a_filtered_delete_deletes_exactly_what_the_filter_selects(og):
    ref = "delete-me"
    for integration_id in (ref, ref, "keep-me"):
        await og.call(
            og.basic, "POST", f"classes/{REQUESTS}", json={REQUESTS: [{"IntegrationIDField": integration_id}]}
        )
    _, before = await og.call(og.basic, "GET", f"classes/{REQUESTS}", params={"limit": 1})
    query = f'(([IntegrationID] is equal to "{ref}"))'
    assert await og.call(og.basic, "DELETE", f"classes/{REQUESTS}", params={"filter": query}) == (
        200,
        {"DeletedRecordCount": 2},
    )
    _, gone = await og.call(og.basic, "GET", f"classes/{REQUESTS}", params={"filter": query})
    _, after = await og.call(og.basic, "GET", f"classes/{REQUESTS}", params={"limit": 1})
    assert gone["_metadata"]["totalCount"] == 0
    assert after["_metadata"]["totalCount"] == before["_metadata"]["totalCount"] - 2
    assert await og.call(og.basic, "DELETE", f"classes/{REQUESTS}", params={"filter": query}) == (
        200,
        {"DeletedRecordCount": 0},
    )
    for params in ({}, {"filter": " "}, {"filter": "([Status] is nearly 1)"}):
        status, body = await og.call(og.basic, "DELETE", f"classes/{REQUESTS}", params=params)
        assert status == 400 and body["Message"]
    _, still = await og.call(og.basic, "GET", f"classes/{REQUESTS}", params={"limit": 1})
    assert still["_metadata"]["totalCount"] == after["_metadata"]["totalCount"]
