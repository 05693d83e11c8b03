"""The list and read operations of contracts/opengov.yaml with schemathesis-generated queries against real
class names: answers match the contract (a page, or a `{"Message"}` error), never a server error (OG-API-5).
A generated query beyond the front door's limits (`--front-door`, IIS by default) that IIS refuses with its
own page is reported, not judged (conformance/frontdoor.py)."""

from __future__ import annotations

import copy
from typing import Any

import pytest
import schemathesis
from hypothesis import HealthCheck, given, settings
from schemathesis import GenerationMode
from schemathesis.checks import content_type_conformance, not_a_server_error, response_schema_conformance

from conformance.plugin import contract_settings
from contracts import load_contract

CLASSES = ["cgRequestsClass", "cgRequestIssuesClass", "cgTasksClass"]
CHECKS = [not_a_server_error, response_schema_conformance, content_type_conformance]
EXAMPLES = 25  # per class and mode; --contract-examples changes it


@pytest.fixture(scope="session")
def og_schema() -> Any:
    return schemathesis.openapi.from_dict(copy.deepcopy(load_contract("opengov")))


@pytest.mark.req("OG-API-5", "OG-API-3")
@pytest.mark.parametrize("mode", [GenerationMode.POSITIVE, GenerationMode.NEGATIVE], ids=["positive", "negative"])
@pytest.mark.parametrize("class_name", CLASSES)
def test_listing_answers_by_the_contract(og, og_schema, front_door, request, class_name, mode):
    operation = og_schema["/api/v1/classes/{className}"]["GET"]
    http = og.session()

    generation = contract_settings(request.config, EXAMPLES)

    @given(case=operation.as_strategy(generation_mode=mode, path_parameters={"className": class_name}))
    @settings(**generation, deadline=None, suppress_health_check=list(HealthCheck), database=None)
    def run(case: Any) -> None:
        case.path_parameters = {"className": class_name}
        response = case.call(base_url=og.url, session=http, timeout=30)
        if front_door.refusal(response):
            return
        assert response.status_code < 500
        case.validate_response(response, checks=CHECKS)

    run()
