"""WID-API-7: every signed operation of contracts/city-widget.yaml, with schemathesis-generated input (valid
and invalid), answers as the contract says and never with a server error; unknown paths answer the contract's
error shape. An endpoint behind a web server with request limits is certified with `--front-door`: that web
server's HTML refusal of a generated call beyond them is reported, not judged (conformance/frontdoor.py)."""

from __future__ import annotations

import copy
from typing import Any

import pytest
import requests
import schemathesis
from hypothesis import HealthCheck, given, settings
from schemathesis import GenerationMode
from schemathesis.checks import content_type_conformance, not_a_server_error, response_schema_conformance

from conformance.plugin import contract_settings
from contracts import load_contract
from contracts.widget_content import schema_problems

CHECKS = [not_a_server_error, response_schema_conformance, content_type_conformance]
EXAMPLES = 15  # per operation and mode; --contract-examples changes it
OPERATIONS = [
    ("GET", "/v1/widget"),
    ("GET", "/v1/content"),
    ("GET", "/v1/links"),
    ("POST", "/v1/links"),
    ("DELETE", "/v1/links/{link_id}"),
    ("POST", "/v1/external-links"),
    ("POST", "/v1/external-links/complete"),
]


@pytest.fixture(scope="session")
def widget_schema() -> Any:
    return schemathesis.openapi.from_dict(copy.deepcopy(load_contract("city-widget")))


@pytest.mark.req("WID-API-7")
@pytest.mark.parametrize("mode", [GenerationMode.POSITIVE, GenerationMode.NEGATIVE], ids=["positive", "negative"])
@pytest.mark.parametrize(("method", "path"), OPERATIONS, ids=[f"{m} {p}" for m, p in OPERATIONS])
def test_operations_answer_by_the_contract(endpoint, widget_schema, front_door, request, method, path, mode):
    operation = widget_schema[path][method]
    http = requests.Session()
    http.auth = endpoint.auth  # every generated request is signed, so the checks reach the handlers

    generation = contract_settings(request.config, EXAMPLES)

    @given(case=operation.as_strategy(generation_mode=mode))
    @settings(**generation, deadline=None, suppress_health_check=list(HealthCheck), database=None)
    def run(case: Any) -> None:
        response = case.call(base_url=endpoint.base, session=http, timeout=30)
        if front_door.refusal(response):
            return
        assert response.status_code < 500, response.text[:300]
        if response.status_code == 401:
            pytest.fail(f"a signed request was refused: {response.text[:300]}")
        case.validate_response(response, checks=CHECKS)

    run()


@pytest.mark.req("WID-API-7")
def test_an_unknown_path_answers_the_error_shape(endpoint):
    resp = endpoint.call("GET", "/v1/no-such-thing")
    assert resp.status_code == 404, resp.text[:300]
    assert schema_problems("Error", resp.json()) == []
