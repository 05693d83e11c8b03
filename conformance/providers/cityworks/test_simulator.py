"""The simulator's own promises, in the Cityworks dialect: faults shaped like the vendor's errors (H-SIM-2),
strict mode (H-SIM-3), operator actions and the journal (H-SIM-1). Skipped on a server without /_sim/."""

from __future__ import annotations

import json
import time

import pytest
import requests

from .conftest import needs_licence

PROBLEMS = "/Services/Ams/ServiceRequest/Problems"
SR = "/Services/Ams/ServiceRequest"


@pytest.fixture
def sim(needs_control):
    needs_licence(needs_control, "sr")
    needs_control.sim("DELETE", "faults")
    yield needs_control
    needs_control.sim("DELETE", "faults")


def add_fault(sim, **rule) -> None:
    resp = sim.sim("POST", "faults", json=rule)
    assert resp.status_code == 201, resp.text


@pytest.mark.req("H-SIM-2")
def test_an_error_fault_answers_in_the_cityworks_envelope(cw, sim):
    add_fault(sim, kind="error", status=503, path=PROBLEMS, count=1, message="Service unavailable")
    reply = cw.call(PROBLEMS, {})
    # a fault's status is the simulator's own (the contract documents Cityworks' 200s): read the body as it came
    assert reply.http_status == 503 and isinstance(reply.body, dict)
    assert reply.body["Status"] == 1 and reply.body["Value"] is None
    assert cw.call(PROBLEMS, {}).status == 0  # the next call is served


@pytest.mark.req("H-SIM-2")
def test_rate_limit_and_malformed_faults(cw, sim):
    add_fault(sim, kind="rate_limit", retry_after=3, path=PROBLEMS, count=1)
    if cw.header_auth:
        resp = cw.http.post(sim.url + PROBLEMS, data={"data": "{}"}, headers={"Authorization": f"cityworks {cw.token}"})
    else:
        resp = cw.http.post(sim.url + PROBLEMS, data={"data": "{}", "token": cw.token})
    assert resp.status_code == 429 and resp.headers["Retry-After"] == "3"
    add_fault(sim, kind="malformed", path=PROBLEMS, count=1)
    reply = cw.call(PROBLEMS, {})
    assert reply.http_status == 200 and not isinstance(reply.body, dict)  # not decodable JSON


@pytest.mark.req("H-SIM-2")
def test_latency_and_timeout_faults(cw, sim):
    add_fault(sim, kind="latency", latency_ms=300, path=PROBLEMS, count=1)
    started = time.perf_counter()
    assert cw.call(PROBLEMS, {}).status == 0
    assert time.perf_counter() - started >= 0.3
    add_fault(sim, kind="timeout", path=PROBLEMS, count=1, timeout_s=20)
    with pytest.raises(requests.exceptions.Timeout):
        cw.http.post(sim.url + PROBLEMS, data={"data": "{}"}, timeout=0.5)


@pytest.mark.req("H-SIM-2")
def test_apply_then_fail_stores_the_comment_but_loses_the_answer(cw, sim):
    rid = cw.call(f"{SR}/Search", {"MaxResults": 1}).value[0]
    before = len(cw.call(f"{SR}/Comments", {"RequestId": rid}).value)
    add_fault(sim, kind="apply_then_fail", path=f"{SR}/AddComments", then="reset", count=1)
    with pytest.raises(requests.exceptions.ConnectionError):
        cw.call(f"{SR}/AddComments", {"RequestId": rid, "Comments": "sent once, answer lost"})
    after = cw.call(f"{SR}/Comments", {"RequestId": rid}).value
    assert len(after) == before + 1 and after[-1]["Comments"] == "sent once, answer lost"


@pytest.mark.req("H-SIM-3")
def test_strict_mode_rejects_and_journals_a_contract_breach(cw, sim):
    since = sim.sim("GET", "journal", params={"limit": "1"}).json()["total"]
    reply = cw.call(f"{SR}/Create", {"ProblemSid": 1, "X": "not a number"})
    assert reply.status == 1
    entries = sim.sim("GET", "journal", params={"violations": "true"}).json()["entries"]
    breach = [e for e in entries if e["id"] > since and e["operation"] == "Ams_ServiceRequest_Create"]
    assert breach and any("X" in v["location"] for v in breach[-1]["violations"])


@pytest.mark.req("H-SIM-1")
def test_operator_actions_are_journaled_and_show_to_clients(cw, sim):
    rid = cw.call(f"{SR}/Search", {"MaxResults": 1}).value[0]
    sim.action("add-comment", RequestId=rid, text="from the Cityworks UI", to_scf=True)
    assert cw.call(f"{SR}/Comments", {"RequestId": rid}).value[-1]["Comments"] == "To SCF: from the Cityworks UI"
    entries = sim.sim("GET", "journal", params={"source": "operator"}).json()["entries"]
    assert entries[-1]["operation"] == "action:add-comment"


@pytest.mark.req("H-SIM-1")
def test_the_journal_masks_credentials(cw, sim):
    cw.authenticate()
    cw.call(PROBLEMS, {})
    entries = sim.sim("GET", "journal", params={"limit": "50"}).json()["entries"]
    assert cw.token not in json.dumps(entries)
    logins = [e for e in entries if e["path"].endswith("/Authenticate")]
    assert logins
    for entry in logins:
        sent = json.loads(entry["body"]["data"])
        assert sent["Password"] == "***" and sent["LoginName"] == cw.login
        assert entry["response_body"]["Value"]["Token"] == "***"
