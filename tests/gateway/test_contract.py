"""Both gateway APIs against contracts/gateway.yaml, fuzzed with schemathesis (valid and invalid input) on a
running gateway with a seeded city: no server error, every status and body as the contract declares."""

from __future__ import annotations

import copy
import json
from typing import Any

import pytest
import requests
import schemathesis
from hypothesis import HealthCheck, given, settings
from schemathesis import GenerationMode
from schemathesis.checks import (
    content_type_conformance,
    not_a_server_error,
    response_schema_conformance,
    status_code_conformance,
)
from shapely.geometry import mapping

from conformance.gateway.client import CONFIRMATION_CODE
from contracts import load_contract
from gateway.settings import Settings
from harness.bundled import simulator_config
from harness.stack import ThreadedStack
from simulators.kit import city

from .conftest import ADMIN_TOKEN, API_KEY

CONTRACT = load_contract("gateway")
SCHEMA = schemathesis.openapi.from_dict(copy.deepcopy(CONTRACT))
CHECKS = [not_a_server_error, status_code_conformance, response_schema_conformance, content_type_conformance]
OPERATIONS = [
    (path, method.upper())
    for path, item in CONTRACT["paths"].items()
    for method in item
    if method in ("get", "post", "put", "patch", "delete")
]


@pytest.fixture(scope="module")
def gateway_url(tmp_path_factory: pytest.TempPathFactory) -> Any:
    db = tmp_path_factory.mktemp("gw") / "gateway.db"
    config = Settings(
        database_url=f"sqlite:///{db}",
        admin_token=ADMIN_TOKEN,
        api_keys=(API_KEY,),
        scheduler_tick_s=0,
        widget_allow_only=True,  # a fuzzed endpoint is never called: only the stack's own city API is
        sign_in_refusal_delay_s=0,  # fuzzed sign-ins fail by the hundred: answered at once (the delay has its test)
    )
    sims = {"city-api": simulator_config("city-api", seed=3)}
    with ThreadedStack(sims, gateway=config) as stack:
        url = stack.urls["gateway"]
        auth = {"Authorization": f"Bearer {ADMIN_TOKEN}"}
        files = {"file": ("city.geojson", json.dumps(mapping(city.BOUNDARY)))}
        geography = requests.post(f"{url}/admin/v1/geographies", data={"name": "City"}, files=files, headers=auth)
        agency = requests.post(
            f"{url}/admin/v1/agencies", json={"name": "Works", "geography_id": geography.json()["id"]}, headers=auth
        )
        requests.post(
            f"{url}/admin/v1/categories",
            json={"code": "POT", "name": "Pothole", "agency_ids": [agency.json()["id"]]},
            headers=auth,
        ).raise_for_status()
        city_api = stack.urls["city-api"]
        for domain in ("programs", "utilities"):  # a linking widget and one without, both published
            body = {"name": domain, "endpoint": f"{city_api}/{domain}", "key_id": domain, "published": True}
            if domain == "utilities":
                kind = {"name": "Utility account", "kind": "account"}
                body["link_account_id"] = requests.post(
                    f"{url}/admin/v1/link-accounts", json=kind, headers=auth
                ).json()["id"]
            requests.post(
                f"{url}/admin/v1/widgets", json={**body, "secret": "harness-widget-secret"}, headers=auth
            ).raise_for_status()
        citizen = {"email": "fuzz@example.org", "password": "fuzzing-password"}
        assert requests.post(f"{url}/portal/v1/citizens", json=citizen).status_code == 202
        mail = requests.get(f"{url}/admin/v1/mail", params={"to": citizen["email"]}, headers=auth).json()["items"]
        code = CONFIRMATION_CODE.search(mail[0]["body"]).group(1)
        token = requests.post(f"{url}/portal/v1/citizens/confirm", json={"code": code}).json()["token"]
        yield url, token


@pytest.mark.parametrize("mode", [GenerationMode.POSITIVE, GenerationMode.NEGATIVE], ids=["positive", "negative"])
@pytest.mark.parametrize(("path", "method"), OPERATIONS, ids=[f"{m} {p}" for p, m in OPERATIONS])
def test_the_gateway_answers_by_its_contract(gateway_url, path, method, mode):
    url, citizen_token = gateway_url
    operation = SCHEMA[path][method]
    http = requests.Session()
    http.headers["Authorization"] = f"Bearer {citizen_token if path.startswith('/portal/') else ADMIN_TOKEN}"

    @given(case=operation.as_strategy(generation_mode=mode))
    @settings(max_examples=12, deadline=None, suppress_health_check=list(HealthCheck), database=None)
    def run(case: Any) -> None:
        if path.startswith("/open311/") and method == "POST" and isinstance(case.body, dict):
            case.body = {**case.body, "api_key": API_KEY}  # reach the validation, not just the key check
        response = case.call(base_url=url, session=http, timeout=60)
        assert response.status_code < 500, response.text[:300]
        case.validate_response(response, checks=CHECKS)

    run()
