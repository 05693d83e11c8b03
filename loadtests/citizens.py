"""`citizens`: what people do through a city's 311 app and portal — find the services for where they stand,
read one, report with a photo, comment on their report, read recent requests, open their widget dashboard.

    civic-harness load citizens --users 50 --spawn-rate 10 --run-time 1m
"""

from __future__ import annotations

import random

from locust import between, task
from locust.contrib.fasthttp import FastHttpUser

from conformance.gateway.client import CONFIRMATION_CODE
from loadtests.targets import ADMIN_TOKEN, API_KEY, PNG, POINT, TARGETS, email, multipart


class Citizen(FastHttpUser):
    wait_time = between(0.2, 1.0)
    host = TARGETS.get("gateway")
    abstract = host is None  # no gateway to load: civic-harness load sets CIVIC_HARNESS_LOAD_TARGETS

    def on_start(self) -> None:
        self.codes: list[str] = []
        self.definitions: dict[str, list[dict]] = {}
        self.mine: list[str] = []
        self.portal: dict[str, str] | None = None
        with self.client.get("/open311/v2/services.json", params=POINT, name="GET /services", catch_response=True) as r:
            if r.status_code == 200:
                self.codes = [s["service_code"] for s in r.json()]
        if random.random() < 0.5:  # half the citizens also use the portal
            body = {"email": email(), "password": "load-test-password"}
            self.portal = self.sign_up(body)
        # Citizens open the app to report something: each reports once (reading the form first), then browses.
        self.service_definition()
        self.report_with_a_photo()

    def sign_up(self, body: dict[str, str]) -> dict[str, str] | None:
        """Sign-up, the code mailed to the address (read through the admin mail catcher), confirm."""
        with self.client.post("/portal/v1/citizens", json=body, name="POST /portal/citizens", catch_response=True) as r:
            if r.status_code != 202:
                return None
        admin = {"Authorization": f"Bearer {ADMIN_TOKEN}"}
        with self.client.get(
            "/admin/v1/mail", params={"to": body["email"]}, headers=admin, name="GET /admin/mail", catch_response=True
        ) as r:
            found = [CONFIRMATION_CODE.search(m["body"]) for m in r.json()["items"]] if r.status_code == 200 else []
            codes = [m.group(1) for m in found if m]
            if not codes:
                r.failure("no confirmation code was mailed")
                return None
        with self.client.post(
            "/portal/v1/citizens/confirm", json={"code": codes[0]}, name="POST /portal/citizens/confirm",
            catch_response=True,
        ) as r:  # fmt: skip
            if r.status_code == 201:
                return {"Authorization": f"Bearer {r.json()['token']}"}
        return None

    @task(5)
    def services_for_a_point(self) -> None:
        self.client.get("/open311/v2/services.json", params=POINT, name="GET /services")

    @task(3)
    def service_definition(self) -> None:
        if not self.codes:
            return
        code = random.choice(self.codes)
        with self.client.get(
            f"/open311/v2/services/{code}.json", name="GET /services/{code}", catch_response=True
        ) as r:
            if r.status_code == 200:
                self.definitions[code] = r.json().get("attributes", [])
            elif r.status_code == 404:
                r.success()  # a service without a definition

    @task(2)
    def report_with_a_photo(self) -> None:
        if not self.codes:
            return
        code = random.choice(self.codes)
        fields = {"api_key": API_KEY, "service_code": code, **POINT, "description": "Load test report",
                  "email": email()}  # fmt: skip
        for attribute in self.definitions.get(code, []):
            if attribute.get("required"):
                values = attribute.get("values") or [{"key": "1"}]
                fields[f"attribute[{attribute['code']}]"] = str(values[0]["key"])
        body, kind = multipart(fields, {"media": ("photo.png", PNG, "image/png")})
        with self.client.post(
            "/open311/v2/requests.json", data=body, headers={"Content-Type": kind}, name="POST /requests",
            catch_response=True,
        ) as r:  # fmt: skip
            if r.status_code == 201:
                self.mine.append(r.json()[0]["service_request_id"])
            elif r.status_code == 400 and code not in self.definitions:
                r.success()  # required answers not known yet: read the definition first
                self.service_definition()

    @task(1)
    def comment(self) -> None:
        if not self.mine:
            return
        rid = random.choice(self.mine)
        self.client.post(
            f"/open311/v2/requests/{rid}/comments.json",
            data={"api_key": API_KEY, "description": "Any news?"},
            name="POST /requests/{id}/comments",
        )

    @task(3)
    def recent_requests(self) -> None:
        self.client.get("/open311/v2/requests.json", params={"page_size": "20"}, name="GET /requests")

    @task(2)
    def dashboard(self) -> None:
        if self.portal is None:
            return
        with self.client.get(
            "/portal/v1/dashboard", headers=self.portal, name="GET /portal/dashboard", catch_response=True
        ) as r:
            if r.status_code == 200 and not isinstance(r.json().get("widgets"), list):
                r.failure("no widgets list")
