"""The README's "One report, end to end", run as a new user runs it: `civic-harness up` as a process, a pothole
filed through Open311 with the service definition's answers, followed with `GET /admin/v1/requests/{id}` to
its Cityworks RequestId, closed there by the simulator's operator action, and seen closed by the citizen after
the next scheduled status poll — nothing run by hand (AGY-5: jobs on a schedule; CW-SUB-1, CW-UPD-1)."""

from __future__ import annotations

import json
import subprocess
import sys
import time
from collections.abc import Callable, Iterator
from typing import Any

import pytest
import requests

from .certify_runner import ROOT

README = (ROOT / "README.md").read_text(encoding="utf-8")


@pytest.fixture(scope="module")
def up() -> Iterator[dict[str, Any]]:
    proc = subprocess.Popen(
        [sys.executable, "-m", "harness.cli", "up", "--json"], cwd=ROOT, stdout=subprocess.PIPE, text=True
    )
    try:
        line = proc.stdout.readline() if proc.stdout else ""
        assert line, "up printed nothing"
        yield json.loads(line)
    finally:
        proc.terminate()
        proc.wait(30)


def wait_for(what: str, probe: Callable[[], Any], within_s: float) -> Any:
    deadline = time.monotonic() + within_s
    while time.monotonic() < deadline:
        found = probe()
        if found:
            return found
        time.sleep(0.5)
    raise AssertionError(f"{what}: not within {within_s:.0f} s")


@pytest.mark.heavy
@pytest.mark.req("AGY-5", "CW-SUB-1", "CW-UPD-1")
def test_a_pothole_reaches_cityworks_and_its_closing_comes_back(up):
    gateway, token, cityworks = up["gateway"], up["admin_token"], up["simulators"]["cityworks"]
    services = {s["service_code"]: s for s in up["services"]}
    assert services["I1-POTHOLE"]["vendor"] == "Cityworks (simulator)"
    assert all(s["vendor"] != "no vendor (kept by the gateway)" for s in services.values())
    offered = requests.get(f"{gateway}/open311/v2/services.json", timeout=10).json()
    assert sorted(s["service_name"] for s in offered) == sorted(s["name"] for s in services.values()), "once each"
    definition = requests.get(f"{gateway}/open311/v2/services/I1-POTHOLE.json", timeout=10).json()
    assert [a["code"] for a in definition["attributes"] if a["required"]] == ["Q1", "Q2", "size"]
    assert '"attribute[Q1]=Outside City Hall" -d "attribute[Q2]=2" -d "attribute[size]=large"' in README

    form = {
        "api_key": "harness-demo-key", "service_code": "I1-POTHOLE", "lat": "35.785", "long": "-78.6375",
        "description": "Deep pothole by the crosswalk", "attribute[Q1]": "Outside City Hall", "attribute[Q2]": "2",
        "attribute[size]": "large",
    }  # fmt: skip
    filed = requests.post(f"{gateway}/open311/v2/requests.json", data=form, timeout=10)
    assert filed.status_code == 201, filed.text
    rid = filed.json()[0]["service_request_id"]
    admin = {"Authorization": f"Bearer {token}"}

    def delivered() -> dict[str, Any] | None:
        trail = requests.get(f"{gateway}/admin/v1/requests/{rid}", headers=admin, timeout=10).json()
        return trail if trail["outbox"] and trail["outbox"][0]["state"] == "delivered" else None

    trail = wait_for("delivered to Cityworks", delivered, within_s=30)
    assert trail["integration"]["vendor"] == "cityworks" and trail["outbox"][0]["attempts"] == 1
    (record,) = [r for r in trail["vendor_records"] if r["kind"] == "request"]

    closed = requests.post(
        f"{cityworks}/_sim/actions/close-request", json={"RequestId": int(record["vendor_id"])}, timeout=10
    )
    assert closed.status_code == 200, closed.text

    def public_status() -> str | None:
        (found,) = requests.get(f"{gateway}/open311/v2/requests/{rid}.json", timeout=10).json()
        return found["status"] if found["status"] == "closed" else None

    wait_for("closed for the citizen after the next status poll", public_status, within_s=90)
