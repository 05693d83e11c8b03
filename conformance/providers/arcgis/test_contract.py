"""Every GET operation of contracts/arcgis-geocode.yaml with schemathesis-generated calls at the target's
service path, valid (positive) and invalid (negative): answers match the contract, never a server error.
A server behind IIS (the ArcGIS Web Adaptor) is certified with `--front-door iis`: IIS's refusal of a generated
call beyond its limits is then reported, not judged (conformance/frontdoor.py)."""

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

CONTRACT = load_contract("arcgis-geocode")
OPERATIONS = ["", "/reverseGeocode", "/findAddressCandidates", "/suggest"]
CHECKS = [not_a_server_error, response_schema_conformance, content_type_conformance]
EXAMPLES = 25  # per operation and mode; --contract-examples changes it


@pytest.fixture(scope="session")
def geo_schema() -> Any:
    return schemathesis.openapi.from_dict(copy.deepcopy(CONTRACT))


def template_for(service_path: str, operation: str) -> tuple[str, dict[str, str]]:
    parts = service_path.strip("/").split("/")  # instance, rest, services, [folder,] service, GeocodeServer
    names = parts[3:-1]
    if len(names) == 2:
        return "/{instance}/rest/services/{folder}/{service}/GeocodeServer" + operation, {
            "instance": parts[0],
            "folder": names[0],
            "service": names[1],
        }
    return "/{instance}/rest/services/{service}/GeocodeServer" + operation, {"instance": parts[0], "service": names[0]}


@pytest.mark.req("GEO-API-1", "GEO-API-2")
@pytest.mark.parametrize("mode", [GenerationMode.POSITIVE, GenerationMode.NEGATIVE], ids=["positive", "negative"])
@pytest.mark.parametrize("operation", OPERATIONS, ids=["root", "reverseGeocode", "findAddressCandidates", "suggest"])
def test_operation_answers_by_the_contract(geo_target, geo_schema, front_door, request, operation, mode):
    template, path_parameters = template_for(geo_target.service_path, operation)
    api_operation = geo_schema[template]["GET"]

    generation = contract_settings(request.config, EXAMPLES)

    @given(case=api_operation.as_strategy(generation_mode=mode, path_parameters=path_parameters))
    @settings(**generation, deadline=None, suppress_health_check=list(HealthCheck), database=None)
    def run(case: Any) -> None:
        case.path_parameters = dict(path_parameters)
        if geo_target.token:
            case.query = {**(case.query or {}), "token": geo_target.token}
        response = case.call(base_url=geo_target.url, timeout=30)
        if front_door.refusal(response):
            return
        assert response.status_code < 500
        case.validate_response(response, checks=CHECKS)
        body = response.json() if "json" in response.headers.get("Content-Type", "") else None
        if isinstance(body, dict) and isinstance(body.get("error"), dict):  # GEO-API-2: bad input is code 400
            assert body["error"].get("code") == 400, f"an error object with code {body['error'].get('code')}"

    run()
