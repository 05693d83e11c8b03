"""Two gateway processes on one PostgreSQL database, citizens submitting through both, one of them killed
(SIGKILL) half-way: every request reaches OpenGov exactly once, one requester per e-mail however many
requests it sent, and no two delivery runs ever overlapped (the job's lease), the survivor taking over once
the dead instance's lease lapsed."""

from __future__ import annotations

import itertools
import signal

import pytest
import requests

from conformance.gateway.client import city_geojson
from conformance.gateway.helpers import INSIDE
from harness.bundled import simulator_config
from harness.stack import ThreadedStack

from .test_gateway_crash import KEY, admin, gateway_process, wait_for

AUTH = ("harness", "harness")


def og_records(og: str, class_name: str, filter: str) -> list[dict]:
    resp = requests.get(
        f"{og}/api/v1/classes/{class_name}", params={"filter": filter, "limit": "1000"}, auth=AUTH, timeout=30
    )
    assert resp.status_code == 200, resp.text
    return resp.json()[class_name]


@pytest.mark.heavy
@pytest.mark.req("OG-REQ-1", "OG-RQR-2", "AGY-5", "H-REL-2")
def test_two_instances_deliver_once_and_never_run_a_job_twice(postgres_url):
    with (
        ThreadedStack({"opengov": simulator_config("opengov", seed=4)}) as sims,
        gateway_process(postgres_url) as (first, a),
        gateway_process(postgres_url) as (_, b),
    ):
        og = sims.urls["opengov"]
        integration = admin(
            a,
            "POST",
            "/integrations",
            json={"name": "OG", "vendor": "opengov", "version": "v1", "base_url": og, "username": "harness",
                  "secret": "harness"},
        )  # fmt: skip
        geography = admin(
            a, "POST", "/geographies", data={"name": "City"}, files={"file": ("c.geojson", city_geojson())}
        )
        admin(a, "POST", "/agencies", json={"name": "Parks", "geography_id": geography["id"],
                                            "integration_id": integration["id"]})  # fmt: skip
        admin(b, "POST", "/jobs/category_sync/run", json={"integration_id": integration["id"]})
        code = next(c["code"] for c in admin(b, "GET", "/categories")["items"] if c["integration_id"])
        emails = [f"citizen{n}@example.org" for n in range(3)]
        submitted = []
        for n, email in enumerate(emails * 10):
            url = a if n % 2 == 0 and n < 14 else b  # both, until the first dies half-way
            resp = requests.post(
                f"{url}/open311/v2/requests.json",
                data={"api_key": KEY, "service_code": code, **INSIDE, "email": email.upper() if n % 2 else email},
                timeout=30,
            )
            assert resp.status_code == 201, resp.text
            submitted.append(resp.json()[0]["service_request_id"])
            if n == 14:  # half-way: the first instance dies, whatever it was doing
                first.send_signal(signal.SIGKILL)
                first.wait(10)
        wait_for(lambda: not admin(b, "GET", "/outbox?state=pending")["items"], timeout_s=90)
        for rid in submitted:
            found = og_records(og, "cgRequestsClass", f'(([IntegrationID] is equal to "{rid}"))')
            assert len(found) == 1, f"{len(found)} OpenGov requests for {rid}"
        for email in emails:
            requesters = og_records(og, "cgRequestersClass", f'(([Email] is equal to "{email}"))')
            assert len(requesters) == 1, f"{len(requesters)} requesters for {email}"
        runs = sorted(
            (r for r in admin(b, "GET", "/jobs/runs?job=deliver_outbox")["items"] if r["finished_at"]),
            key=lambda r: r["started_at"],
        )
        assert len(runs) > 2
        for earlier, later in itertools.pairwise(runs):
            assert later["started_at"] >= earlier["finished_at"], f"two delivery runs overlapped: {earlier} {later}"
