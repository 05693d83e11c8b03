"""Service requests and work orders: create then read, comments in order, attachments byte-exact,
search and paging to exhaustion, state changes and the error envelope."""

from __future__ import annotations

import hashlib
import os
import uuid
from typing import Any

import pytest

from conformance import writes
from contracts import deref, load_contract

from .conftest import needs_licence

SR = "/Services/Ams/ServiceRequest"
WO = "/Services/Ams/WorkOrder"
ATT = "/Services/Ams/Attachments"
ERROR = 1


def public_problem_with_answers(cw) -> tuple[int, list[dict]]:
    for problem in cw.call(f"{SR}/Problems", {"ForPublicOnly": True}).value:
        qa = cw.call(f"{SR}/QA", {"ProblemSid": problem["ProblemSid"]}).value
        if qa["Answers"]:
            return problem["ProblemSid"], qa["Answers"]
    pytest.fail("no public problem with answers to submit")


@pytest.fixture
def sr_licence(cw_target):
    needs_licence(cw_target, "sr")


@pytest.fixture
def wo_licence(cw_target):
    needs_licence(cw_target, "wo")


@pytest.fixture
def new_request(cw, sr_licence) -> dict:
    problem_sid, answers = public_problem_with_answers(cw)
    ref = writes.tag()
    data = {
        "ProblemSid": problem_sid,
        "X": -78.6375,
        "Y": 35.785,
        "Address": "100 Main St",
        "City": "Harnessville",
        "Zip": "27601",
        "Details": "Deep pothole in the right lane",
        "CallerFirstName": "Ada",
        "CallerLastName": "Lovelace",
        "CallerEmail": "ada@example.org",
        "OtherSystemId": ref,
        "InitiatedByApp": "civic-harness",
        "Answers": [{"AnswerId": answers[0]["AnswerId"], "AnswerValue": "Yes"}],
    }
    created = cw.call(f"{SR}/Create", data).value
    return {"sent": data, "created": created, "answer": answers[0]}


@pytest.mark.req("CW-API-1")
def test_a_created_request_reads_back_with_what_was_sent(cw, new_request):
    sent, created = new_request["sent"], new_request["created"]
    rid = created["RequestId"]
    assert isinstance(rid, int)
    read = cw.call(f"{SR}/ById", {"RequestId": rid}).value
    assert read == cw.call(f"{SR}/ByIds", {"RequestIds": [rid]}).value[0]
    assert read["ProblemSid"] == sent["ProblemSid"]
    assert (read["SRX"], read["SRY"]) == (sent["X"], sent["Y"])
    assert read["ProbAddress"] == sent["Address"] and read["Details"] == sent["Details"]
    assert read["OtherSystemId"] == sent["OtherSystemId"] and read["InitiatedByApp"] == "civic-harness"
    assert read["IsClosed"] is False and read["Cancel"] is False


@pytest.mark.req("CW-API-1")
def test_a_request_is_found_by_the_integrations_own_reference(cw, new_request):
    ref, rid = new_request["sent"]["OtherSystemId"], new_request["created"]["RequestId"]
    assert [r["RequestId"] for r in cw.call(f"{SR}/ByOtherSystemId", {"OtherSystemId": ref}).value] == [rid]
    assert cw.call(f"{SR}/Search", {"OtherSystemId": [ref]}).value == [rid]
    assert cw.call(f"{SR}/ByOtherSystemId", {"OtherSystemId": f"{ref}-absent"}).value == []


@pytest.mark.req("CW-API-1")
def test_answers_arrive_with_the_request(cw, new_request):
    answers = cw.call(f"{SR}/Answers", {"RequestId": new_request["created"]["RequestId"]})
    if answers.http_status == 404:
        pytest.skip("this server has no ServiceRequest/Answers (an inferred operation)")
    (answer,) = answers.value
    assert answer["AnswerId"] == new_request["answer"]["AnswerId"] and answer["AnswerValue"] == "Yes"


@pytest.mark.req("CW-API-1", "CW-API-5")
@pytest.mark.parametrize(
    "data",
    [{"X": 1.0}, {"ProblemSid": 987_654_321}, {"ProblemSid": None}],
    ids=["no-problem", "unknown-problem", "null-problem"],
)
def test_a_bad_create_is_an_error_envelope_and_creates_nothing(cw, sr_licence, data):
    before = cw.call(f"{SR}/Search", {}).value
    reply = cw.call(f"{SR}/Create", {**data, "OtherSystemId": writes.tag()})  # found if wrongly created
    assert reply.http_status == 200 and reply.status == ERROR and reply.envelope["Value"] is None
    if not cw.legacy:
        item = reply.envelope["ErrorMessages"][0]
        assert {"Code", "DisplayText", "MessageType", "Name"} <= set(item) and item["MessageType"] == 2
    assert cw.call(f"{SR}/Search", {}).value == before


@pytest.mark.req("CW-API-1")
def test_an_answer_of_another_problem_is_refused(cw, sr_licence):
    problems = cw.call(f"{SR}/Problems", {"ForPublicOnly": True}).value
    qas = [cw.call(f"{SR}/QA", {"ProblemSid": p["ProblemSid"]}).value for p in problems[:30]]
    with_answers = [qa for qa in qas if qa["Answers"]]
    if len(with_answers) < 2:
        pytest.skip("needs two problem types with answers")
    first, second = with_answers[:2]
    reply = cw.call(
        f"{SR}/Create",
        {
            "ProblemSid": first["ProblemSid"],
            "Answers": [{"AnswerId": second["Answers"][0]["AnswerId"]}],
            "OtherSystemId": writes.tag(),
        },
    )
    assert reply.status == ERROR


@pytest.mark.req("CW-API-2")
def test_comments_come_back_in_the_order_they_were_added(cw, new_request):
    rid = new_request["created"]["RequestId"]
    texts = ["First: crew notified", "To SCF: Second, for the public", "Third  with  spaces and ünïcödé"]
    added = [
        cw.call(f"{SR}/AddComments", {"RequestId": rid, "Comments": texts[0]}).value,
        cw.call("/Services/Ams/Comment/Add", {"ActivityType": 1, "ActivitySid": rid, "Comments": texts[1]}).value,
        cw.call(f"{SR}/AddComments", {"RequestId": rid, "Comments": texts[2]}).value,
    ]
    assert [c["Comments"] for c in added] == texts
    listed = cw.call(f"{SR}/Comments", {"RequestId": rid}).value
    assert [c["Comments"] for c in listed] == texts
    by_sid = cw.call("/Services/Ams/Comment/ByActivitySids", {"ActivityType": 1, "ActivitySids": [rid]}).value
    assert [c["Comments"] for c in by_sid[str(rid)]] == texts
    assert len({c["CommentId"] for c in listed}) == 3


@pytest.mark.req("CW-API-2")
def test_an_empty_comment_is_refused(cw, new_request):
    rid = new_request["created"]["RequestId"]
    assert cw.call(f"{SR}/AddComments", {"RequestId": rid, "Comments": ""}).status == ERROR
    assert cw.call(f"{SR}/Comments", {"RequestId": rid}).value == []


@pytest.mark.req("CW-SUB-2")
@pytest.mark.parametrize("size", [1, 70_000, 1_500_000])
def test_attachments_come_back_byte_for_byte(cw, new_request, size):
    rid = new_request["created"]["RequestId"]
    content = os.urandom(size)
    files = {"file": ("pothole photo.jpg", content, "image/jpeg")}
    attached = cw.call(
        f"{ATT}/AddRequestAttachment",
        {"RequestId": rid, "Comments": "To SCF: the photo", "Title": "Pothole"},
        files=files,
    ).value
    listed = cw.call(f"{ATT}/RequestAttachments", {"RequestIds": [rid]}).value
    assert [a["Id"] for a in listed] == [attached["Id"]]
    assert listed[0]["Comments"] == "To SCF: the photo" and listed[0]["Title"] == "Pothole"
    download = cw.call(f"{ATT}/DownloadRequestAttachment", {"AttachmentId": attached["Id"]})
    assert download.http_status == 200
    assert hashlib.sha256(download.raw).hexdigest() == hashlib.sha256(content).hexdigest()


@pytest.mark.req("CW-SUB-2", "CW-API-5")
def test_an_upload_without_a_file_is_refused(cw, new_request):
    rid = new_request["created"]["RequestId"]
    reply = cw.call(f"{ATT}/AddRequestAttachment", {"RequestId": rid}, files={"other": ("x.txt", b"x", "text/plain")})
    assert reply.status == ERROR
    assert cw.call(f"{ATT}/RequestAttachments", {"RequestIds": [rid]}).value == []


@pytest.mark.req("CW-API-3")
def test_search_and_batched_reads_reach_every_request(cw, sr_licence):
    ids = cw.call(f"{SR}/Search", {}).value
    assert ids == sorted(ids) and len(ids) == len(set(ids))
    seen = []
    for start in range(0, len(ids), 500):  # as integrations page: Search, then ByIds in batches of 500
        seen += [r["RequestId"] for r in cw.call(f"{SR}/ByIds", {"RequestIds": ids[start : start + 500]}).value]
    assert seen == ids
    assert cw.call(f"{SR}/Search", {"MaxResults": 3}).value == ids[:3]


@pytest.mark.req("CW-API-3")
def test_date_windows_partition_the_requests(cw, sr_licence):
    ids = cw.call(f"{SR}/Search", {}).value
    sample = cw.call(f"{SR}/ByIds", {"RequestIds": ids[:200]}).value
    dates = sorted(r["DateTimeInit"] for r in sample)
    middle = dates[len(dates) // 2]
    early = set(cw.call(f"{SR}/Search", {"DateTimeInitEnd": middle}).value)
    late = set(cw.call(f"{SR}/Search", {"DateTimeInitBegin": middle}).value)
    assert early | late == set(ids)
    assert all(r["DateTimeInit"] <= middle for r in sample if r["RequestId"] in early)
    assert all(r["DateTimeInit"] >= middle for r in sample if r["RequestId"] in late)


@pytest.mark.req("CW-API-3")
def test_search_filters_combine(cw, new_request):
    ref, rid = new_request["sent"]["OtherSystemId"], new_request["created"]["RequestId"]
    assert cw.call(f"{SR}/Search", {"OtherSystemId": [ref], "Closed": False}).value == [rid]
    assert cw.call(f"{SR}/Search", {"OtherSystemId": [ref], "Closed": True}).value == []
    assert rid in cw.call(f"{SR}/Search", {"CallerEmail": ["ADA@example.org"]}).value
    assert cw.call(f"{SR}/Search", {"OtherSystemId": [ref], "InitiatedByApp": ["civic-harness"]}).value == [rid]


@pytest.mark.req("CW-API-4")
def test_close_reopen_and_cancel_change_the_state_clients_poll(cw, new_request):
    rid = new_request["created"]["RequestId"]
    closed = cw.call(f"{SR}/Close", {"RequestIds": [rid]}).value[0]
    assert closed["IsClosed"] is True and closed["DateTimeClosed"] != "0001-01-01T00:00:00"
    assert rid in cw.call(f"{SR}/Search", {"Closed": True, "RequestIds": [rid]}).value
    assert cw.call(f"{SR}/Cancel", {"RequestIds": [rid]}).status == ERROR  # a closed request cannot be canceled
    reopened = cw.call(f"{SR}/Reopen", {"RequestIds": [rid]}).value[0]
    assert reopened["IsClosed"] is False
    canceled = cw.call(f"{SR}/Cancel", {"RequestIds": [rid], "CancelReason": "Duplicate report"}).value[0]
    assert canceled["Cancel"] is True
    assert cw.call(f"{SR}/Close", {"RequestIds": [rid]}).status == ERROR  # a canceled one cannot be closed
    uncanceled = cw.call(f"{SR}/Uncancel", {"RequestIds": [rid]}).value[0]
    assert (
        uncanceled["Cancel"] is False and rid in cw.call(f"{SR}/Search", {"Canceled": False, "RequestIds": [rid]}).value
    )


@pytest.mark.req("CW-API-5")
def test_unknown_request_ids_are_error_envelopes(cw, sr_licence):
    for path, data in (
        ("ById", {"RequestId": 987_654_321}),
        ("ByIds", {"RequestIds": [987_654_321]}),
        ("Close", {"RequestIds": [987_654_321]}),
        ("AddComments", {"RequestId": 987_654_321, "Comments": "x"}),
    ):
        reply = cw.call(f"{SR}/{path}", data)
        assert reply.http_status == 200 and reply.status == ERROR, path


@pytest.mark.req("CW-API-1", "CW-API-2", "CW-API-4")
def test_work_orders_create_read_comment_and_close(cw, wo_licence):
    template = cw.call(f"{WO}/Templates", {"ForPublicOnly": True}).value[0]
    created = cw.call(
        f"{WO}/Create",
        {
            "EntityType": template["ApplyToEntity"],
            "WOTemplateId": template["WOTemplateId"],
            "X": -78.63,
            "Y": 35.78,
            "Address": "5 Oak Ave",
            "InitiatedByApp": "civic-harness",
            "Text1": writes.tag(),
        },
    ).value
    (wo,) = created
    read = cw.call(f"{WO}/ById", {"WorkOrderId": wo["WorkOrderId"]}).value
    assert read["WOTemplateId"] == template["WOTemplateId"] and read["WOAddress"] == "5 Oak Ave"
    assert wo["WorkOrderId"] in cw.call(f"{WO}/Search", {}).value
    for text in ("one", "two"):
        data = {"ActivityType": 2, "ActivitySid": wo["WorkOrderSid"], "Comments": text}
        assert cw.call("/Services/Ams/Comment/Add", data).value["ActivityType"] == 2
    comments = cw.call(
        "/Services/Ams/Comment/ByActivitySids", {"ActivityType": 2, "ActivitySids": [wo["WorkOrderSid"]]}
    ).value
    assert [c["Comments"] for c in comments[str(wo["WorkOrderSid"])]] == ["one", "two"]
    assert cw.call(f"{WO}/Close", {"WorkOrderIds": [wo["WorkOrderId"]]}).value[0]["IsClosed"] is True
    assert cw.call(f"{WO}/ReOpen", {"WorkOrderIds": [wo["WorkOrderId"]]}).value[0]["IsClosed"] is False
    (again,) = cw.call(f"{WO}/ByIds", {"WorkOrderIds": [wo["WorkOrderId"]]}).value
    assert again["IsClosed"] is False and again["WorkOrderId"] == wo["WorkOrderId"]
    assert cw.call(f"{WO}/Cancel", {"WorkOrderIds": [wo["WorkOrderId"]]}).value[0]["Cancel"] is True


@pytest.mark.req("CW-SUB-2")
def test_work_order_attachments_come_back_byte_for_byte(cw, wo_licence):
    template = cw.call(f"{WO}/Templates", {}).value[0]
    (wo,) = cw.call(
        f"{WO}/Create",
        {"EntityType": template["ApplyToEntity"], "WOTemplateId": template["WOTemplateId"], "Text1": writes.tag()},
    ).value
    content = os.urandom(50_000)
    files = {"file": ("crew.png", content, "image/png")}
    about = {"WorkOrderId": wo["WorkOrderId"], "Comments": "Crew photo", "Title": "Before"}
    attached = cw.call(f"{ATT}/AddWorkOrderAttachment", about, files=files).value
    listed = cw.call(f"{ATT}/WorkOrderAttachments", {"WorkOrderIds": [wo["WorkOrderId"]]}).value
    assert [a["Id"] for a in listed] == [attached["Id"]]
    assert listed[0]["Comments"] == "Crew photo" and listed[0]["Title"] == "Before"
    download = cw.call(f"{ATT}/DownloadWorkOrderAttachment", {"AttachmentId": attached["Id"]})
    assert download.raw == content


@pytest.mark.req("CW-API-1", "CW-API-5")
def test_a_work_order_without_a_template_is_refused(cw, wo_licence):
    reply = cw.call(f"{WO}/Create", {"EntityType": "STREET", "Text1": writes.tag()})
    assert reply.status == ERROR


# Create's caller members and the customer call fields they become (cw-sdk CustomerCallBase)
CALLER_TO_CALL = {
    "CallerFirstName": "FirstName",
    "CallerLastName": "LastName",
    "CallerEmail": "Email",
    "CallerHomePhone": "HomePhone",
    "CallerWorkPhone": "WorkPhone",
    "CallerCellPhone": "CellPhone",
    "CallerAddress": "CustAddress",
    "CallerCity": "CustCity",
    "CallerState": "CustState",
    "CallerZip": "CustZip",
    "CallerComments": "Comments",
}


def _members(path: str) -> dict[str, Any]:
    """The documented members of an operation's `data` (contracts/cityworks.yaml), with their schemas."""
    doc = load_contract("cityworks")

    def resolve(node: Any) -> Any:
        return deref(doc, node)

    body = resolve(doc["paths"][path]["post"]["requestBody"])["content"]["application/x-www-form-urlencoded"]
    data = resolve(resolve(body["schema"])["properties"]["data"]["contentSchema"])
    return {name: resolve(schema) for name, schema in data["properties"].items()}


def every_member(path: str, given: dict[str, Any], tag: str) -> dict[str, Any]:
    """`given`, plus a distinct value for every other documented text, number and date member (ids, codes and
    switches are left to the caller: they must name things the site has)."""
    out = dict(given)
    for i, (name, schema) in enumerate(_members(path).items()):
        kinds = schema.get("type") if isinstance(schema.get("type"), list) else [schema.get("type")]
        if name in out or name.endswith(("Sid", "Id", "Ids")) or name in ("Status", "WKID", "EntityType"):
            continue
        if "string" in kinds and (name.startswith("Date") or "DateTime" in name):
            out[name] = f"2026-11-{10 + i % 18:02d}T{i % 24:02d}:15:00"
        elif "string" in kinds:
            out[name] = f"{tag}-{name}"[: schema.get("maxLength", 200)]
        elif "number" in kinds:
            out[name] = 10 + i + 0.5
    return out


def same(sent: Any, read: Any) -> bool:
    if isinstance(sent, float):
        return isinstance(read, int | float) and abs(read - sent) < 1e-6
    if isinstance(sent, str) and isinstance(read, str) and sent[:4].isdigit() and "T" in sent:
        return read.startswith(sent[:16])  # a date-time, to the minute
    return sent == read


@pytest.mark.req("CW-API-1")
def test_every_documented_member_of_a_create_reads_back(cw, new_request):
    """A server that drops a member it documents on Create (a caller's phone, Text5, a date) fails here."""
    tag = uuid.uuid4().hex[:6]
    base = {k: new_request["sent"][k] for k in ("ProblemSid", "X", "Y")}
    sent = every_member(f"{SR}/Create", {**base, "OtherSystemId": writes.tag()}, tag)
    created = cw.call(f"{SR}/Create", sent).value
    read = cw.call(f"{SR}/ById", {"RequestId": created["RequestId"]}).value
    # the request's location reads back as its Prob* fields (the SDK's RequestBase)
    names = {k: k for k in sent} | {
        "Address": "ProbAddress",
        "City": "ProbCity",
        "State": "ProbState",
        "Zip": "ProbZip",
    }
    shown = {names[k]: v for k, v in sent.items() if names[k] in read}
    assert len(shown) >= 10, f"a request reads back few of the members Create takes: {sorted(shown)}"
    wrong = {k: (v, read[k]) for k, v in shown.items() if not same(v, read[k])}
    assert not wrong, f"members that did not read back as sent (sent, read): {wrong}"
    if not cw.legacy:  # the caller Create names is the request's first customer call (CW-API-6)
        (first, *_) = cw.call("/Services/Ams/CustomerCall/ByRequestId", {"RequestId": created["RequestId"]}).value
        callers = {k: first[CALLER_TO_CALL[k]] for k in sent if k in CALLER_TO_CALL}
        assert len(callers) == len(CALLER_TO_CALL), sorted(callers)
        wrong = {k: (sent[k], v) for k, v in callers.items() if not same(sent[k], v)}
        assert not wrong, f"caller members that did not read back on the request's first call: {wrong}"


@pytest.mark.req("CW-API-1")
def test_every_documented_member_of_a_work_order_create_reads_back(cw, wo_licence):
    tag = uuid.uuid4().hex[:6]
    template = cw.call(f"{WO}/Templates", {}).value[0]
    given = {
        "EntityType": template["ApplyToEntity"],
        "WOTemplateId": template["WOTemplateId"],
        "X": -78.63,
        "Y": 35.78,
        "Text1": writes.tag(),  # the run's tag, as every work order it creates carries
    }
    sent = every_member(f"{WO}/Create", given, tag)
    (wo,) = cw.call(f"{WO}/Create", sent).value
    read = cw.call(f"{WO}/ById", {"WorkOrderId": wo["WorkOrderId"]}).value
    # a work order names some members apart from Create's argument (Address reads back as WOAddress)
    names = {k: k for k in sent} | {"Address": "WOAddress"}
    shown = {names[k]: v for k, v in sent.items() if names[k] in read}
    assert len(shown) >= 8, f"a work order reads back few of the members Create takes: {sorted(shown)}"
    wrong = {k: (v, read[k]) for k, v in shown.items() if not same(v, read[k])}
    assert not wrong, f"members that did not read back as sent (sent, read): {wrong}"


@pytest.mark.req("CW-API-1")
def test_every_documented_member_of_an_update_reads_back(cw, new_request):
    """Update changes what it is given: a server that drops a member it documents fails here."""
    rid = new_request["created"]["RequestId"]
    tag = uuid.uuid4().hex[:6]
    given = {"RequestId": rid, "X": -78.64, "Y": 35.79, "OtherSystemId": new_request["sent"]["OtherSystemId"]}
    sent = every_member(f"{SR}/Update", given, tag)
    assert cw.call(f"{SR}/Update", sent).status == 0
    read = cw.call(f"{SR}/ById", {"RequestId": rid}).value
    names = {k: k for k in sent} | {
        "Address": "ProbAddress",
        "City": "ProbCity",
        "State": "ProbState",
        "Zip": "ProbZip",
    }
    # when it was initiated is history, not a field Update changes (the simulator keeps it; inferred)
    shown = {names[k]: v for k, v in sent.items() if names[k] in read and k not in ("RequestId", "DateTimeInit")}
    assert len(shown) >= 10, f"a request reads back few of the members Update takes: {sorted(shown)}"
    wrong = {k: (v, read[k]) for k, v in shown.items() if not same(v, read[k])}
    assert not wrong, f"members that did not read back as updated (sent, read): {wrong}"
    if not cw.legacy:
        (first, *_) = cw.call("/Services/Ams/CustomerCall/ByRequestId", {"RequestId": rid}).value
        wrong = {k: (sent[k], first[c]) for k, c in CALLER_TO_CALL.items() if not same(sent[k], first[c])}
        assert not wrong, f"caller members that did not read back on the request's first call: {wrong}"


@pytest.mark.req("CW-API-3")
def test_each_search_filter_selects_exactly(cw, sr_licence):
    """Two requests that differ in every filter Search documents: each filter finds its own and not the other."""
    tag = uuid.uuid4().hex[:8]
    problems = [p["ProblemSid"] for p in cw.call(f"{SR}/Problems", {"ForPublicOnly": True}).value[:2]]
    assert len(problems) == 2, "needs two public problem types"
    made, refs = [], [writes.tag(), writes.tag()]
    for i, problem in enumerate(problems):
        data = {
            "ProblemSid": problem,
            "CallerEmail": f"s{i}-{tag}@example.org",
            "InitiatedByApp": f"app{i}-{tag}",
            "OtherSystemId": refs[i],
        }
        made.append(cw.call(f"{SR}/Create", data).value)
    a, b = (m["RequestId"] for m in made)
    both = [a, b]
    cw.call(f"{SR}/Cancel", {"RequestIds": [b]})
    status = {r["RequestId"]: r["Status"] for r in cw.call(f"{SR}/ByIds", {"RequestIds": both}).value}
    for name, value, expected in (
        ("CallerEmail", [f"s0-{tag}@example.org"], [a]),
        ("InitiatedByApp", [f"app1-{tag}"], [b]),
        ("ProblemSid", [problems[0]], [a]),
        ("Canceled", True, [b]),
        ("Status", [status[a]], [r for r in both if status[r] == status[a]]),
        ("OtherSystemId", [refs[1]], [b]),
    ):
        found = cw.call(f"{SR}/Search", {name: value, "RequestIds": both}).value
        assert sorted(found) == sorted(expected), f"Search by {name}={value!r} found {found}, expected {expected}"
    assert cw.call(f"{SR}/Search", {"RequestIds": [a]}).value == [a]


@pytest.mark.req("CW-API-3")
def test_each_work_order_search_filter_selects_exactly(cw, wo_licence):
    templates = cw.call(f"{WO}/Templates", {}).value[:2]
    assert len(templates) == 2, "needs two work order templates"
    made = []
    for template in templates:
        data = {
            "EntityType": template["ApplyToEntity"],
            "WOTemplateId": template["WOTemplateId"],
            "Text1": writes.tag(),
        }
        (wo,) = cw.call(f"{WO}/Create", data).value
        made.append((wo, data))
    (a, a_sent), (b, b_sent) = made
    ids = [str(a["WorkOrderId"]), str(b["WorkOrderId"])]
    cw.call(f"{WO}/Close", {"WorkOrderIds": [b["WorkOrderId"]]})
    read = {
        str(w["WorkOrderId"]): w
        for w in cw.call(f"{WO}/ByIds", {"WorkOrderIds": [a["WorkOrderId"], b["WorkOrderId"]]}).value
    }

    def search(**data: Any) -> list[str]:
        found = [str(i) for i in cw.call(f"{WO}/Search", data).value]
        return [i for i in found if i in ids]

    assert search(Text1=[a_sent["Text1"]]) == [ids[0]]
    assert search(Text1=[b_sent["Text1"]], WOTemplateId=[b_sent["WOTemplateId"]]) == [ids[1]]
    if a_sent["WOTemplateId"] != b_sent["WOTemplateId"]:
        assert search(WOTemplateId=[a_sent["WOTemplateId"]], Text1=[a_sent["Text1"], b_sent["Text1"]]) == [ids[0]]
    assert search(Closed=True, Text1=[a_sent["Text1"], b_sent["Text1"]]) == [ids[1]]
    status_a = read[ids[0]]["Status"]
    expected = [i for i in ids if read[i]["Status"] == status_a]
    assert search(Status=[status_a], Text1=[a_sent["Text1"], b_sent["Text1"]]) == expected
    assert len(cw.call(f"{WO}/Search", {"MaxResults": 1}).value) == 1
    later = "2999-01-01T00:00:00"
    assert search(InitiateDateBegin=later, Text1=[a_sent["Text1"]]) == []
    assert search(InitiateDateEnd="2000-01-01T00:00:00", Text1=[a_sent["Text1"]]) == []
