"""OpenGov EAM as integrations use it: paging, create and read, requesters, filters, comments, attachments,
auth and errors (OG-API-1 ... OG-API-6)."""

from __future__ import annotations

import os
import uuid
from datetime import datetime

import pytest
import requests

from conformance import writes

REQUESTS, ISSUES = "cgRequestsClass", "cgRequestIssuesClass"


@pytest.mark.req("OG-API-1")
def test_paging_reaches_every_request_issue_exactly_once(og):
    first, meta = og.records(ISSUES, limit=1)
    total = meta["totalCount"]
    assert total >= 1 and meta["limit"] == 1 and meta["offset"] == 0 and len(first) == 1
    seen = []
    for offset in range(0, total, 7):
        page, meta = og.records(ISSUES, limit=7, offset=offset)
        assert meta["totalCount"] == total
        seen += [r["Oid"] for r in page]
    assert len(seen) == total == len(set(seen)) and seen == sorted(seen)
    assert {"InactiveField", "IssueField"} <= set(first[0])


@pytest.mark.req("OG-API-1")
def test_fields_chooses_the_fields_that_come_back(og):
    """Integrations page whole classes with `fields` (WF-OG-21): a server that ignores it sends every field."""
    every, _ = og.records(ISSUES, limit=3)
    chosen, _ = og.records(ISSUES, fields="IssueField", limit=3)
    assert len(every[0]) > 2, "a request issue has more fields than its Oid and IssueField"
    assert [r["Oid"] for r in chosen] == [r["Oid"] for r in every]
    for row in chosen:
        assert {k.lower() for k in row} <= {"oid", "issuefield"}, f"fields=IssueField answered {sorted(row)}"
        assert "IssueField" in row


@pytest.mark.req("OG-API-1", "OG-API-3")
def test_the_inactive_filter_splits_the_categories(og):
    active, meta_active = og.records(ISSUES, filter="(([Inactive] is equal to false))", limit=100000)
    inactive, meta_inactive = og.records(ISSUES, filter="(([Inactive] is equal to true))", limit=100000)
    _, meta_all = og.records(ISSUES, limit=1)
    assert meta_active["totalCount"] + meta_inactive["totalCount"] == meta_all["totalCount"]
    assert all(r["InactiveField"] in (False, 0, "False", "false") for r in active)
    assert all(r["InactiveField"] in (True, 1, "True", "true") for r in inactive)


@pytest.mark.req("OG-API-2")
def test_a_created_request_reads_back(og):
    ref = writes.tag()
    (created,) = og.create(
        REQUESTS,
        {
            "IssueField": "Pothole",
            "DescriptionField": "Deep one",
            "IntegrationIDField": ref,
            "lat": 35.785,
            "long": -78.6375,
            "LocationDescriptionField": "100 main st",
            "AddressField": "100 Main St, Harnessville, NC",
            "AttachmentField": "https://example.org/p.jpg",
            "LinkedField": True,
        },
    )
    assert isinstance(created["Oid"], int) and created["IntegrationIDField"] == ref
    read = og.call("GET", f"classes/{REQUESTS}/{created['Oid']}").json()[REQUESTS][0]
    assert read["DescriptionField"] == "Deep one" and read["CgShape"]["Points"][0] == {"Lat": 35.785, "Lng": -78.6375}
    assert read["LocationDescriptionField"] == "100 main st" and read["AddressField"].startswith("100 Main St")
    assert read["LinkedField"] in (True, 1, "True", "true")
    found, meta = og.records(REQUESTS, filter=f'(([IntegrationID] is equal to "{ref}"))')
    assert meta["totalCount"] == 1 and found[0]["Oid"] == created["Oid"]


@pytest.mark.req("OG-API-2")
def test_requesters_are_found_by_email_and_names_and_duplicates_show(og):
    email = f"ada.{uuid.uuid4().hex[:8]}@example.org"
    person = {"FirstNameField": "SeeClickFix", "LastNameField": "User", "EmailField": email}
    og.create(og.requester_class, person)
    query = (
        f'(([Email] is equal to "{email.upper()}") AND ([FirstName] is equal to "SeeClickFix") '
        f'AND ([LastName] is equal to "User"))'
    )
    found, meta = og.records(og.requester_class, filter=query)
    assert meta["totalCount"] == 1 and found[0]["EmailField"] == email
    og.create(og.requester_class, person)
    _, meta = og.records(og.requester_class, filter=query)
    assert meta["totalCount"] == 2  # the API does not deduplicate: matching is the integration's job


@pytest.mark.req("OG-API-3")
def test_an_update_is_found_by_a_modified_since_filter(og):
    (created,) = og.create(REQUESTS, {"IssueField": "Graffiti", "IntegrationIDField": writes.tag()})
    since = created["cgLastModifiedField"]
    # ISO 8601, as integrations read it (gateway/domain/vendor_time.py) and as the filter takes it back
    assert isinstance(since, str) and datetime.fromisoformat(since.replace("Z", "+00:00")), since
    resp = og.call("PUT", f"classes/{REQUESTS}", json={REQUESTS: [{"Oid": created["Oid"], "StatusField": "Closed"}]})
    assert resp.status_code == 200
    changed, _ = og.records(
        REQUESTS, filter=f'(([cgLastModified] is greater than "{since}"))', sort="cgLastModifiedField:asc"
    )
    assert created["Oid"] in [r["Oid"] for r in changed]
    again = og.call("PUT", f"classes/{REQUESTS}", json={REQUESTS: [{"Oid": created["Oid"], "StatusField": "Closed"}]})
    assert again.status_code == 304
    no_oid = og.call("PUT", f"classes/{REQUESTS}", json={REQUESTS: [{"StatusField": "Open"}]})
    assert no_oid.status_code == 400 and "Message" in no_oid.json()


@pytest.mark.req("OG-API-3")
def test_filters_and_sorting_select_and_order_exactly(og):
    every, _ = og.records(REQUESTS, limit=100000)
    open_ones, _ = og.records(REQUESTS, filter='(([Status] is equal to "Open"))', limit=100000)
    not_open, _ = og.records(REQUESTS, filter='(([Status] is not equal to "Open"))', limit=100000)
    assert {r["Oid"] for r in open_ones} == {r["Oid"] for r in every if (r["StatusField"] or "").lower() == "open"}
    assert len(open_ones) + len(not_open) == len(every)
    either, _ = og.records(
        REQUESTS, filter='(([Status] is equal to "Open") OR ([Status] is equal to "Closed"))', limit=100000
    )
    listed, _ = og.records(REQUESTS, filter='([Status] in ("Open", "Closed"))', limit=100000)
    assert [r["Oid"] for r in either] == [r["Oid"] for r in listed]
    down, _ = og.records(REQUESTS, sort="Oid:dsc", limit=20)
    assert [r["Oid"] for r in down] == sorted((r["Oid"] for r in every), reverse=True)[:20]


@pytest.mark.req("OG-API-4")
def test_comments_are_children_in_order_with_their_public_flag(og):
    (request,) = og.create(REQUESTS, {"IssueField": "Pothole", "IntegrationIDField": writes.tag()})
    path = f"classes/{REQUESTS}/{request['Oid']}/{og.comment_class}"
    sent = [("For everyone", True), ("Staff only", False), ("Done, thanks!", True)]
    for text, public in sent:
        og.create(og.comment_class, {"CommentField": text, "PublicField": public}, path=path)
    resp = og.call("GET", path)
    assert resp.status_code == 200
    listed = resp.json()[og.comment_class]
    assert [(c["CommentField"], c["PublicField"] in (True, 1, "True", "true")) for c in listed] == sent


@pytest.mark.req("OG-API-6")
def test_a_raw_upload_is_named_by_its_file_name(og):
    """The raw-body upload has no part to name the file: `fileName` is its only name."""
    (request,) = og.create(REQUESTS, {"IssueField": "Pothole"})
    name = f"scf-{uuid.uuid4().hex[:8]}.jpg"
    upload = og.call(
        "POST",
        f"attachments/{REQUESTS}/{request['Oid']}/cgRequests_cgAttachmentsClass",
        params={"fileName": name},
        data=b"\xff\xd8\xff raw photo",
        headers={"Content-Type": "application/octet-stream"},
    )
    assert upload.status_code in (200, 201), upload.text[:300]
    assert upload.json()["cgRequests_cgAttachmentsClass"][0]["FileNameField"] == name


@pytest.mark.req("OG-API-4", "OG-API-3")
def test_children_are_filtered_sorted_and_paged_like_any_class(og):
    (request,) = og.create(REQUESTS, {"IssueField": "Pothole"})
    path = f"classes/{REQUESTS}/{request['Oid']}/{og.comment_class}"
    for text, public in [("one", True), ("two", False), ("three", True), ("four", True)]:
        og.create(og.comment_class, {"CommentField": text, "PublicField": public}, path=path)

    def listed(**params):
        resp = og.call("GET", path, params=params)
        assert resp.status_code == 200, resp.text[:300]
        return resp.json()[og.comment_class], resp.json()["_metadata"]

    every, meta = listed()
    assert [c["CommentField"] for c in every] == ["one", "two", "three", "four"] and meta["totalCount"] == 4
    public, _ = listed(filter="(([Public] is equal to true))")
    assert [c["CommentField"] for c in public] == ["one", "three", "four"]
    assert [c["CommentField"] for c in listed(sort="Oid:dsc")[0]] == ["four", "three", "two", "one"]
    page, meta = listed(limit=2, offset=1)
    assert [c["CommentField"] for c in page] == ["two", "three"] and (meta["limit"], meta["offset"]) == (2, 1)
    narrow, _ = listed(fields="CommentField")
    assert all({k.lower() for k in c} <= {"oid", "commentfield"} for c in narrow), narrow[0]
    lean, _ = listed(ignoreNullFields="true")
    assert all(v is not None for c in lean for v in c.values()), "ignoreNullFields=true still listed empty fields"
    assert any(v is None for c in every for v in c.values()) or lean == every


@pytest.mark.req("OG-API-1")
def test_ignore_null_fields_leaves_empty_fields_out(og):
    (created,) = og.create(REQUESTS, {"IssueField": "Pothole"})
    query = f"(([Oid] is equal to {created['Oid']}))"
    (full,), _ = og.records(REQUESTS, filter=query)
    (lean,), _ = og.records(REQUESTS, filter=query, ignoreNullFields="true")
    empty = {k for k, v in full.items() if v is None}
    assert empty, "a new request has fields nobody set"
    assert not empty & set(lean) and lean["IssueField"] == "Pothole"


@pytest.mark.req("OG-API-6")
def test_attachments_come_back_byte_for_byte(og):
    (request,) = og.create(REQUESTS, {"IssueField": "Pothole", "IntegrationIDField": writes.tag()})
    content = os.urandom(120_000)
    upload = og.call(
        "POST",
        f"attachments/{REQUESTS}/{request['Oid']}/cgRequests_cgAttachmentsClass",
        params={"fileName": "photo.jpg"},
        files={"file": ("photo.jpg", content, "image/jpeg")},
    )
    assert upload.status_code in (200, 201), upload.text[:300]
    oid = upload.json()["cgRequests_cgAttachmentsClass"][0]["Oid"]
    download = og.call("GET", f"attachments/cgRequests_cgAttachmentsClass/{oid}")
    assert download.status_code == 200 and download.content == content


@pytest.mark.req("OG-API-5")
def test_basic_auth_and_the_cookie_session_both_work(og):
    anonymous = requests.Session()
    denied = anonymous.get(f"{og.url}/api/v1/user", timeout=30)
    assert denied.status_code == 401 and denied.json()["Message"] == "Authentication Required for API Access."
    wrong = requests.get(f"{og.url}/api/v1/user", auth=(og.login, og.password + "x"), timeout=30)
    assert wrong.status_code == 401
    login = anonymous.post(
        f"{og.url}/api/v1/authenticate",
        timeout=30,
        json={"userName": og.login, "password": og.password, "isInternalRequest": False},
    )
    assert login.status_code == 200 and login.json()["LogOnStatus"] == 0 and login.json()["Expires"] > 0
    assert anonymous.get(f"{og.url}/api/v1/user", timeout=30).status_code == 200
    bad = requests.post(f"{og.url}/api/v1/authenticate", json={"userName": og.login, "password": "nope"}, timeout=30)
    assert bad.status_code == 401 and bad.json()["Message"] == "The user name or password is incorrect."
    in_url = requests.post(
        f"{og.url}/api/v1/authenticate",
        params={"password": og.password},
        json={"userName": og.login, "password": og.password},
        timeout=30,
    )
    assert in_url.status_code == 400


@pytest.mark.req("OG-API-5")
@pytest.mark.parametrize(
    "method, path, kwargs, status",
    [
        ("GET", "classes/cgNoSuchClass", {}, 404),
        ("GET", f"classes/{REQUESTS}", {"params": {"filter": '([Status] is nearly "Open")'}}, 400),
        ("GET", f"classes/{REQUESTS}", {"params": {"sort": "StatusField:sideways"}}, 400),
        ("POST", f"classes/{REQUESTS}", {"json": {REQUESTS: [{"NoSuchField": 1}]}}, 400),
        ("POST", f"classes/{REQUESTS}", {"json": {"wrongClass": [{}]}}, 400),
        ("GET", f"classes/{REQUESTS}/999999999", {}, 404),
    ],
)
def test_errors_are_messages_with_their_status(og, method, path, kwargs, status):
    resp = og.call(method, path, **kwargs)
    assert resp.status_code == status and isinstance(resp.json()["Message"], str)


@pytest.mark.req("OG-API-5")
def test_lenient_json_bodies_are_accepted(og):
    body = "{ 'cgRequestsClass' : [ { 'IssueField' : 'Litter', }, ], }"
    resp = og.call("POST", f"classes/{REQUESTS}", data=body, headers={"Content-Type": "application/json;odata=verbose"})
    assert resp.status_code in (200, 201) and resp.json()[REQUESTS][0]["IssueField"] == "Litter"


# What integrations send to offer categories (gateway/vendors/opengov.py, OG-CAT-1).
OFFERED = "(([Inactive] is equal to false) AND ([Public] is equal to true))"


@pytest.mark.req("OG-API-1", "OG-API-3", "H-SCN-6")
@pytest.mark.provider_state("opengov-request-catalogue")
def test_a_retired_or_hidden_request_issue_is_not_offered(og, provider_state):
    listed = provider_state.section("opengov")["issues"]
    every = {r["IssueField"] for r in og.records(ISSUES, limit=100000)[0]}
    offered, _ = og.records(ISSUES, filter=OFFERED, limit=100000)
    names = {r["IssueField"] for r in offered}
    for issue in listed:
        name = issue["IssueField"]
        assert name in every, f"provider state {provider_state.name}: {name} is not on the server"
        wanted = issue["PublicField"] and not issue["InactiveField"]
        assert (name in names) == wanted, (
            f"provider state {provider_state.name}: {name} (public {issue['PublicField']}, inactive "
            f"{issue['InactiveField']}) {'is' if name in names else 'is not'} offered by {OFFERED}"
        )


@pytest.mark.req("OG-API-2", "OG-API-3", "H-SCN-6")
@pytest.mark.provider_state("opengov-request-catalogue")
def test_a_requester_the_city_entered_is_found_by_email_in_any_capitals(og, provider_state):
    """The city typed Pat.Resident@Example.ORG; an integration looks the citizen up as they typed it (lower
    case) with their names, as OpenGov's own intake matches, and must find that record and no other."""
    entered = provider_state.section("opengov")["requesters"][0]
    query = (
        f'(([Email] is equal to "{entered["EmailField"].lower()}") AND ([FirstName] is equal to '
        f'"{entered["FirstNameField"]}") AND ([LastName] is equal to "{entered["LastNameField"]}"))'
    )
    found, meta = og.records(og.requester_class, filter=query)
    emails = [r["EmailField"] for r in found]
    assert emails == [entered["EmailField"]] and meta["totalCount"] == 1, (
        f"provider state {provider_state.name}: {query} found {emails}"
    )
