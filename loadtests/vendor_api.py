"""`vendor_api`: a vendor API's hot paths as an integration gateway uses them — Cityworks (sign in, public
problem types, create, search, read by id) and OpenGov EAM (list, filter, read, create). Against the bundled
simulators by default, or a vendor's sandbox (`--target cityworks=URL --target opengov=URL`).

    civic-harness load vendor_api --users 20 --run-time 1m
"""

from __future__ import annotations

import base64
import json
import random

from locust import between, task
from locust.contrib.fasthttp import FastHttpUser

from loadtests.targets import POINT, TARGETS, VENDOR_PASSWORD, VENDOR_USER

SR = "/Services/Ams/ServiceRequest"


class CityworksClient(FastHttpUser):
    """Cityworks 23: the token as `Authorization: cityworks <token>`, every call a POST of `data=<json>`."""

    wait_time = between(0.05, 0.3)
    host = TARGETS.get("cityworks")
    abstract = host is None

    def on_start(self) -> None:
        self.headers: dict[str, str] = {}
        self.problems: list[int] = []
        self.ids: list[int] = []
        body = {"data": json.dumps({"LoginName": VENDOR_USER, "Password": VENDOR_PASSWORD})}
        with self.client.post(
            "/Services/General/Authentication/Authenticate", data=body, name="POST Authenticate", catch_response=True
        ) as r:
            envelope = r.json() if r.status_code == 200 else {}
            if envelope.get("Status") != 0:
                r.failure(f"sign-in refused: {envelope.get('Message')}")
                return
            self.headers = {"Authorization": f"cityworks {envelope['Value']['Token']}"}
        self.problems = [p["ProblemSid"] for p in self.call("Problems", {"ForPublicOnly": True}) or []][:50]

    def call(self, operation: str, data: dict) -> object:
        with self.client.post(
            f"{SR}/{operation}", data={"data": json.dumps(data)}, headers=self.headers,
            name=f"POST {operation}", catch_response=True,
        ) as r:  # fmt: skip
            envelope = r.json() if r.status_code == 200 else {}
            if envelope.get("Status") != 0:  # Cityworks answers 200 with Status 1 on errors
                r.failure(f"{operation}: status {envelope.get('Status')} {envelope.get('Message')}")
                return None
            return envelope.get("Value")

    @task(3)
    def problems_list(self) -> None:
        self.call("Problems", {"ForPublicOnly": True})

    @task(2)
    def create(self) -> None:
        if not self.problems:
            return
        fields = {"ProblemSid": random.choice(self.problems), "X": float(POINT["long"]), "Y": float(POINT["lat"]),
                  "Details": "load test", "InitiatedByApp": "civic-harness-load"}  # fmt: skip
        created = self.call("Create", fields)
        if isinstance(created, dict) and "RequestId" in created:
            self.ids.append(created["RequestId"])

    @task(3)
    def search(self) -> None:
        found = self.call("Search", {"MaxResults": 50})
        if isinstance(found, list) and found:
            self.ids = (self.ids + found[:20])[-200:]

    @task(5)
    def by_id(self) -> None:
        if self.ids:
            self.call("ById", {"RequestId": random.choice(self.ids)})


class OpengovClient(FastHttpUser):
    """OpenGov EAM: HTTP Basic, class-keyed JSON, the bracketed filter language, limit/offset paging."""

    wait_time = between(0.05, 0.3)
    host = TARGETS.get("opengov")
    abstract = host is None

    def on_start(self) -> None:
        token = base64.b64encode(f"{VENDOR_USER}:{VENDOR_PASSWORD}".encode()).decode()
        self.headers = {"Authorization": f"Basic {token}"}
        self.oids: list[int] = []

    @task(4)
    def page(self) -> None:
        params = {"limit": "50", "offset": str(random.randrange(0, 500)), "sort": "Oid:asc"}
        with self.client.get(
            "/api/v1/classes/cgRequestsClass", params=params, headers=self.headers, name="GET requests page",
            catch_response=True,
        ) as r:  # fmt: skip
            if r.status_code == 200:
                self.oids = [x["Oid"] for x in r.json()["cgRequestsClass"]][:50] or self.oids

    @task(2)
    def filtered(self) -> None:
        params = {"filter": '(([Status] is equal to "Open"))', "limit": "50"}
        self.client.get(
            "/api/v1/classes/cgRequestsClass", params=params, headers=self.headers, name="GET requests filtered"
        )

    @task(3)
    def read(self) -> None:
        if self.oids:
            oid = random.choice(self.oids)
            self.client.get(f"/api/v1/classes/cgRequestsClass/{oid}", headers=self.headers, name="GET request by Oid")

    @task(1)
    def create(self) -> None:
        record = {"cgRequestsClass": [{"DescriptionField": "load test", "StatusField": "Open"}]}
        self.client.post("/api/v1/classes/cgRequestsClass", json=record, headers=self.headers, name="POST request")
