"""`sync`: the gateway under a large upstream backlog while citizens keep reporting. The Cityworks simulator
is seeded with a backlog at the start (`CIVIC_HARNESS_LOAD_BACKLOG`, default 20,000 service requests); city
staff (the `Operator` user) keep running the import, status poll and delivery jobs through the admin API —
each job's duration is its response time — while `Citizen`s report as in the `citizens` profile.

    civic-harness load sync --users 20 --run-time 2m
"""

from __future__ import annotations

import os

import requests
from locust import between, events, task
from locust.contrib.fasthttp import FastHttpUser
from locust.runners import WorkerRunner

from loadtests.citizens import Citizen
from loadtests.targets import ADMIN_TOKEN, TARGETS, target

BACKLOG = int(os.environ.get("CIVIC_HARNESS_LOAD_BACKLOG", "20000"))
__all__ = ["Citizen", "Operator"]


@events.test_start.add_listener
def seed_backlog(environment, **_kwargs) -> None:
    """Once, on the master (or the only process): a fresh Cityworks state holding the backlog."""
    if isinstance(environment.runner, WorkerRunner) or "cityworks" not in TARGETS:
        return
    body = {"seed": 11, "requests": BACKLOG, "problems": 50}
    requests.post(f"{target('cityworks')}/_sim/seed", json=body, timeout=600).raise_for_status()


class Operator(FastHttpUser):
    """City staff pressing "run now" on the jobs an integration runs on its schedule."""

    wait_time = between(1, 3)
    fixed_count = 1
    host = TARGETS.get("gateway")
    abstract = host is None

    def on_start(self) -> None:
        self.headers = {"Authorization": f"Bearer {ADMIN_TOKEN}"}
        with self.client.get("/admin/v1/integrations", headers=self.headers, name="GET /admin/integrations") as r:
            items = r.json().get("items", []) if r.status_code == 200 else []
        self.integrations = [i["id"] for i in items if i["vendor"] == "cityworks"]
        for integration in self.integrations:  # the backlog's problem types, so imported SRs find a category
            self.job("category_sync", {"integration_id": integration})

    def job(self, job: str, body: dict) -> None:
        with self.client.post(
            f"/admin/v1/jobs/{job}/run", json=body, headers=self.headers, name=f"JOB {job}", catch_response=True
        ) as r:
            if r.status_code == 409:
                r.success()  # another instance (or the scheduler) holds the lease: that is the design
            elif r.status_code == 200 and r.json().get("status") == "failed":
                r.failure("; ".join(r.json().get("errors", []))[:300])

    @task(3)
    def deliver(self) -> None:
        self.job("deliver_outbox", {})

    @task(1)
    def import_backlog(self) -> None:
        for integration in self.integrations:
            self.job("import", {"integration_id": integration})

    @task(2)
    def poll(self) -> None:
        for integration in self.integrations:
            self.job("status_poll", {"integration_id": integration})


Citizen.wait_time = between(0.5, 2.0)
