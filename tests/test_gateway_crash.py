"""The gateway process killed (SIGKILL) in the middle of delivering a request to Cityworks: after a restart on
the same database nothing is lost and nothing is duplicated (one SR, its photo once)."""

from __future__ import annotations

import hashlib
import json
import signal
import subprocess
import time
from collections.abc import Iterator
from contextlib import contextmanager

import pytest
import requests

from conformance.gateway.client import city_geojson
from conformance.gateway.helpers import INSIDE, PNG
from harness.bundled import simulator_config
from harness.gateway_process import gateway_env
from harness.gateway_process import gateway_process as run_gateway
from harness.stack import ThreadedStack

TOKEN = "crash-test-admin-token-0001"
KEY = "crash-test-api-key"


@contextmanager
def gateway_process(database_url: str) -> Iterator[tuple[subprocess.Popen, str]]:
    with run_gateway(database_url, gateway_env(TOKEN, KEY)) as running:
        yield running


def admin(url: str, method: str, path: str, **kwargs) -> dict:
    resp = requests.request(method, f"{url}/admin/v1{path}", headers={"Authorization": f"Bearer {TOKEN}"}, **kwargs)
    assert resp.status_code in (200, 201), resp.text
    return resp.json()


def vendor_requests(cw: str, reference: str) -> list[dict]:
    token = requests.post(
        f"{cw}/Services/General/Authentication/Authenticate",
        data={"data": json.dumps({"LoginName": "harness", "Password": "harness"})},
    ).json()["Value"]["Token"]
    return (
        requests.post(
            f"{cw}/Services/Ams/ServiceRequest/ByOtherSystemId",
            data={"data": json.dumps({"OtherSystemId": reference})},
            headers={"Authorization": f"cityworks {token}"},
        ).json()["Value"]
        or []
    )


def attachments_at_vendor(cw: str, reference: str) -> list[dict]:
    found = vendor_requests(cw, reference)
    if not found:
        return []
    record = requests.post(f"{cw}/_sim/actions/get-request", json={"RequestId": found[0]["RequestId"]}).json()
    return record["result"]["attachments"]


def wait_for(check, timeout_s: float = 20.0):
    deadline = time.monotonic() + timeout_s
    while time.monotonic() < deadline:
        value = check()
        if value:
            return value
        time.sleep(0.1)
    raise AssertionError("timed out")


@pytest.mark.req("CW-SUB-1", "CW-SUB-2")
@pytest.mark.parametrize("moment", ["during-create", "during-attachment"])
def test_a_killed_gateway_loses_nothing_and_duplicates_nothing(tmp_path, moment):
    database = f"sqlite:///{tmp_path / 'gateway.db'}"
    with ThreadedStack({"cityworks": simulator_config("cityworks", version="23", seed=5)}) as sims:
        cw = sims.urls["cityworks"]
        with gateway_process(database) as (proc, url):
            integration = admin(
                url,
                "POST",
                "/integrations",
                json={
                    "name": "CW",
                    "vendor": "cityworks",
                    "version": "23",
                    "base_url": cw,
                    "username": "harness",
                    "secret": "harness",
                },
            )
            geography = admin(
                url, "POST", "/geographies", data={"name": "City"}, files={"file": ("c.geojson", city_geojson())}
            )
            admin(
                url,
                "POST",
                "/agencies",
                json={"name": "W", "geography_id": geography["id"], "integration_id": integration["id"]},
            )
            admin(url, "POST", "/jobs/category_sync/run", json={"integration_id": integration["id"]})
            code = next(c["code"] for c in admin(url, "GET", "/categories")["items"] if c["integration_id"])
            # Cityworks does the chosen call at once but answers late: the gateway dies waiting for the answer.
            path = "/Services/*/Create" if moment == "during-create" else "/Services/*/AddRequestAttachment"
            fault = {"kind": "latency", "latency_ms": 3000, "after": True, "path": path, "count": 1}
            assert requests.post(f"{cw}/_sim/faults", json=fault).status_code == 201
            created = requests.post(
                f"{url}/open311/v2/requests.json",
                data={"api_key": KEY, "service_code": code, **INSIDE, "description": "Killed mid-flight"},
                files={"media": ("p.png", PNG, "image/png")},
            )
            assert created.status_code == 201, created.text
            rid = created.json()[0]["service_request_id"]
            if moment == "during-create":  # the SR exists at the vendor; its answer is still on the way
                wait_for(lambda: vendor_requests(cw, rid))
            else:
                wait_for(lambda: attachments_at_vendor(cw, rid))
            proc.send_signal(signal.SIGKILL)
            proc.wait(10)
        with gateway_process(database) as (_, url):
            wait_for(lambda: not admin(url, "GET", "/outbox?state=pending")["items"])
            rows = {r["kind"]: r for r in admin(url, "GET", "/outbox?state=delivered")["items"]}
        kind = "create_request" if moment == "during-create" else "add_attachment"
        assert rows[kind]["attempts"] == 2, "the kill must have hit that delivery (else this test proves nothing)"
        found = vendor_requests(cw, rid)
        assert len(found) == 1, f"{len(found)} SRs for one request"
        record = requests.post(f"{cw}/_sim/actions/get-request", json={"RequestId": found[0]["RequestId"]}).json()
        hashes = [a["sha256"] for a in record["result"]["attachments"]]
        assert hashes == [hashlib.sha256(PNG).hexdigest()], f"{len(hashes)} attachments for one photo"
