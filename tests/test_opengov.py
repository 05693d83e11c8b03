"""The OpenGov EAM simulator: the command-line simulator, scale, the provider suite green and red."""

from __future__ import annotations

import base64
import json
import re
import subprocess
import sys
import urllib.request
from pathlib import Path

import pytest

from simulators.opengov import SPEC, OpengovConfig, OpengovState

from .certify_runner import certify, simulator

ROOT = Path(__file__).resolve().parent.parent


def test_the_command_line_simulator_serves_requests_with_basic_auth():
    proc = subprocess.Popen(
        [sys.executable, "-m", "harness.cli", "sim", "opengov", "--seed", "2", "--user", "api:pw"],
        cwd=ROOT,
        stdout=subprocess.PIPE,
        text=True,
    )
    try:
        url = re.fullmatch(r"listening on (\S+)\n", proc.stdout.readline()).group(1)
        request = urllib.request.Request(
            f"{url}/api/v1/classes/cgRequestIssuesClass?limit=3",
            headers={"Authorization": "Basic " + base64.b64encode(b"api:pw").decode()},
        )
        with urllib.request.urlopen(request, timeout=10) as resp:
            body = json.load(resp)
        assert len(body["cgRequestIssuesClass"]) == 3 and body["_metadata"]["totalCount"] == 60
    finally:
        proc.terminate()
        proc.wait(10)


@pytest.mark.slow
@pytest.mark.req("H-SIM-1", "OG-API-1")
def test_seeding_at_scale_and_paging_a_modified_since_query():
    state = OpengovState(OpengovConfig())
    SPEC.seed(state, 1, {"request_issues": 5000, "requests": 100_000, "requesters": 1000, "comments": 1000})
    counts = state.counts()
    assert counts["cgRequestIssuesClass"] == 5000 and counts["cgRequestsClass"] == 100_000
    query = '(([cgLastModified] is greater than "2025-06-01"))'
    first = state.list("cgRequestsClass", filter_text=query, sort="cgLastModifiedField:asc")
    assert 10_000 < len(first) < 100_000
    assert (
        state.list("cgRequestsClass", filter_text=query, sort="cgLastModifiedField:asc") is first
    )  # paged from one scan
    dates = [r["cgLastModifiedField"] for r in first]
    assert dates == sorted(dates) and dates[0] > "2025-06-01"


@pytest.mark.req("H-CON-1", *(f"OG-API-{n}" for n in range(1, 9)))
def test_the_suite_passes_against_the_simulator():
    with simulator("opengov", seed=5, users=(("svc-311", "pw-og"),)) as url:
        code, output, verdicts = certify("opengov", url, "--username", "svc-311", "--password", "pw-og")
    assert code == 0, output[-3000:]
    assert {verdicts[f"OG-API-{n}"] for n in range(1, 9)} == {"PASS"}
    assert "pw-og" not in output


@pytest.mark.req("H-CON-1")
@pytest.mark.parametrize(
    "defect, select, failing",
    [
        ("ignore-filter", "filter", "OG-API-3"),
        ("no-total-count", "paging", "OG-API-1"),
        ("ignore-sort", "sorting", "OG-API-3"),
        ("signout-keeps-session", "sign_out", "OG-API-8"),
        ("discover-all-library", "discover", "OG-API-7"),
        # checks that need a provider state (a library scenario the simulator plays for them)
        ("ignore-filter", "retired_or_hidden", "OG-API-1"),
        ("case-sensitive-text", "any_capitals", "OG-API-2"),
    ],
)
def test_the_suite_fails_with_the_right_ids_against_wrong_modes(defect, select, failing):
    with simulator("opengov", defects=frozenset({defect})) as url:
        code, output, verdicts = certify("opengov", url, "-k", select)
    assert code == 1 and verdicts[failing] == "FAIL", output[-3000:]


@pytest.mark.parametrize(
    "bad",
    [
        {"requester_class": "Requesters"},
        {"integration_id_field": "IntegrationID"},
        {"defects": frozenset({"x"})},
        {"timezone": "Nowhere/Land"},
    ],
)
def test_bad_configuration_is_refused(bad):
    with pytest.raises(ValueError):
        OpengovConfig(**bad)


def test_a_citys_custom_fields_are_accepted_and_others_refused():
    state = OpengovState(OpengovConfig(custom_fields=("WardField",)))
    (created,) = state.create("cgRequestsClass", [{"IssueField": "Pothole", "WardField": "3"}], "api")
    assert created["WardField"] == "3"
    with pytest.raises(Exception, match="Unknown field"):
        state.create("cgRequestsClass", [{"SourceField": "app"}], "api")


def test_a_yes_no_field_left_out_is_false_and_filters_as_false():
    """A request issue created without InactiveField is active: `[Inactive] is equal to false` (the catalogue's
    own filter) lists it, as it would a site's new issue."""
    state = OpengovState(OpengovConfig())
    (issue,) = state.create("cgRequestIssuesClass", [{"IssueField": "Graffiti", "PublicField": True}], "api")
    assert issue["InactiveField"] is False
    listed = state.list("cgRequestIssuesClass", filter_text="(([Inactive] is equal to false))")
    assert issue["Oid"] in {r["Oid"] for r in listed}


@pytest.mark.req("H-SCN-7")
def test_every_date_an_action_or_a_client_writes_is_to_the_millisecond():
    """close-request's CloseDate reads as its cgLastModified does (not with microseconds), and a Date a client
    sets, with or without a fraction, is written the same way."""
    from datetime import UTC, datetime

    from simulators.opengov.actions import close_request, set_fields

    state = OpengovState(OpengovConfig(timezone="America/New_York"))
    state.clock.set(datetime(2026, 11, 1, 6, 1, 15, 83_000, tzinfo=UTC))  # 01:01:15.083 EST
    (request,) = state.create("cgRequestsClass", [{"IssueField": "Pothole"}], "api")
    state.clock.jump(0.000_456)
    closed = close_request(state, {"Oid": request["Oid"]})
    assert closed["CloseDateField"] == closed["cgLastModifiedField"] == "2026-11-01T01:01:15.083"
    for given, written in (
        ("2026-12-01T09:30:00", "2026-12-01T09:30:00.000"),
        ("2026-12-01T09:30:00.5", "2026-12-01T09:30:00.500"),
    ):
        assert set_fields(state, {"Oid": request["Oid"], "DueDateField": given})["DueDateField"] == written
    date = re.compile(r"^\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d\.\d{3}$")
    for record in state.records["cgRequestsClass"].values():
        assert all(date.match(record[f]) for f in ("EntryDateField", "cgLastModifiedField")), record
