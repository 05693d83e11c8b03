"""What public clients call around a request (CW-API-6; docs/WIRE-NOTES.md WF-CW-14, WF-CW-16): Esri's Crowdsource
Reporter scripts read the site's spatial reference from `Preferences/User` with a token and nothing else, then send a
survey's comments as customer calls on the request they created (`CustomerCall/AddToRequest`)."""

from __future__ import annotations

import uuid

import pytest

from conformance import writes

from .conftest import needs_licence

CALLS = "/Services/Ams/CustomerCall"
SR = "/Services/Ams/ServiceRequest"
ERROR, INVALID_REQUEST_ID = 1, 2


@pytest.fixture
def modern(cw):
    """These services are typed in the 15.x SDK; 2013/2014 servers are not asked for them."""
    if cw.legacy:
        pytest.skip(f"Cityworks {cw.version} predates these services")
    return cw


@pytest.fixture
def request_id(modern, cw_target) -> int:
    needs_licence(cw_target, "sr")
    problem = modern.call(f"{SR}/Problems", {"ForPublicOnly": True}).value[0]["ProblemSid"]
    data = {"ProblemSid": problem, "Details": "Caller test", "OtherSystemId": writes.tag()}
    return modern.call(f"{SR}/Create", data).value["RequestId"]


@pytest.mark.req("CW-API-6")
def test_preferences_with_only_a_token_name_the_sites_spatial_reference(modern):
    """POST with the token in the query string and no body (Python requests' `post(url, params=...)`), as Esri's
    get_wkid sends it before 23; from 23 the token is the Authorization header."""
    url = f"{modern.base_url}/Services/AMS/Preferences/User"
    if modern.header_auth:
        resp = modern.http.post(url, headers={"Authorization": f"cityworks {modern.token}"}, timeout=30)
    else:
        resp = modern.http.post(url, params={"token": modern.token}, timeout=30)
    assert resp.status_code == 200 and resp.headers.get("Content-Type", "").startswith("application/json"), resp.text[
        :300
    ]
    reply = resp.json()
    assert reply["Status"] == 0, reply.get("Message")
    wkid = reply["Value"]["SpatialReference"]
    assert isinstance(wkid, int) and not isinstance(wkid, bool) and wkid > 0, f"SpatialReference {wkid!r} is no WKID"


@pytest.mark.req("CW-API-6")
def test_a_call_added_to_a_request_reads_back_as_its_last_caller(modern, request_id):
    sent = {
        "RequestId": request_id,
        "FirstName": "Ada",
        "LastName": "Lovelace",
        "Comments": f"Still there {uuid.uuid4()}",
    }
    added = modern.call(f"{CALLS}/AddToRequest", sent).value
    assert added["RequestId"] == request_id and isinstance(added["IncidentNum"], int)
    assert (added["FirstName"], added["LastName"], added["Comments"]) == (
        sent["FirstName"],
        sent["LastName"],
        sent["Comments"],
    )
    calls = modern.call(f"{CALLS}/ByRequestId", {"RequestId": request_id}).value
    assert calls and calls[-1]["IncidentNum"] == added["IncidentNum"] and calls[-1]["Comments"] == sent["Comments"]
    again = modern.call(f"{CALLS}/AddToRequest", {"RequestId": request_id, "Comments": "And again"}).value
    listed = modern.call(f"{CALLS}/ByRequestId", {"RequestId": request_id}).value
    assert [c["IncidentNum"] for c in listed[-2:]] == [added["IncidentNum"], again["IncidentNum"]]


@pytest.mark.req("CW-API-6", "CW-API-5")
def test_a_call_to_an_unknown_request_is_refused(modern, cw_target):
    needs_licence(cw_target, "sr")
    unknown = 987_654_321
    reply = modern.call(f"{CALLS}/AddToRequest", {"RequestId": unknown, "Comments": "Nobody home"})
    assert reply.http_status == 200 and reply.status == ERROR and reply.envelope["Value"] is None
    item = reply.envelope["ErrorMessages"][0]
    assert item["Code"] == INVALID_REQUEST_ID and item["MessageType"] == 2, item
    assert modern.call(f"{CALLS}/ByRequestId", {"RequestId": unknown}).status == ERROR


@pytest.mark.req("CW-API-6")
def test_every_documented_member_of_a_call_reads_back(modern, request_id):
    from .test_records import every_member, same

    tag = uuid.uuid4().hex[:6]
    sent = every_member(f"{CALLS}/AddToRequest", {"RequestId": request_id}, tag)
    sent |= {"CustCallback": True, "CustContact": True, "IsFollowUpCall": True, "IsResident": True}
    added = modern.call(f"{CALLS}/AddToRequest", sent)
    assert added.status == 0, added.envelope.get("Message")
    calls = modern.call(f"{CALLS}/ByRequestId", {"RequestId": request_id}).value
    read = calls[-1]
    shown = {k: v for k, v in sent.items() if k in read and k != "RequestId"}
    assert len(shown) >= 20, f"a call reads back few of the members AddToRequest takes: {sorted(shown)}"
    wrong = {k: (v, read[k]) for k, v in shown.items() if not same(v, read[k])}
    assert not wrong, f"members that did not read back as sent (sent, read): {wrong}"


@pytest.mark.req("CW-API-6")
def test_a_saved_preference_reads_back_by_its_category_and_name(modern):
    """UserSave (walker/cityworks) then User asking for that category and name: the value saved, and only what
    was asked for."""
    tag = uuid.uuid4().hex[:8]
    # three preferences, each sharing its category or its name with the one asked for
    prefs = [
        (f"harness-{tag}", f"Layer{tag}", "a"),
        (f"harness-{tag}", f"Other{tag}", "b"),
        (f"h2-{tag}", f"Layer{tag}", "c"),
    ]
    for category, element, value in prefs:
        saved = {"Category": category, "Element": element, "DefaultValue": value}
        reply = modern.call("/Services/Ams/Preferences/UserSave", saved)
        assert reply.status == 0, reply.envelope.get("Message")
    asked = {"Categories": [prefs[0][0]], "PreferenceNames": [prefs[0][1]]}
    data = modern.call("/Services/Ams/Preferences/User", asked).value["Data"]
    assert [(p["Category"], p["Element"], p["DefaultValue"]) for p in data] == [prefs[0]], data
