"""Every operation of contracts/cityworks.yaml against the target, with schemathesis-generated calls:
valid calls (positive) and calls that break the contract (negative). Either way the server must answer
HTTP 200 with a well-formed envelope that matches the contract, never a server error (CW-VER-1, CW-API-5).

A generated GET can carry a query string of tens of KB, beyond what the IIS in front of an on-premise
Cityworks lets through (`--front-door`, conformance/frontdoor.py): IIS's refusal of such a call is reported,
not judged, and the same call as a POST form (whose body is far within the limits) is judged as always."""

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

CONTRACT = load_contract("cityworks")
# GET carries `data` as a JSON query parameter, which schemathesis generates from the schema. The POST form
# field holds the same JSON as text, which it cannot generate, so each drawn GET call is also sent as the
# equivalent POST form and that answer checked against the POST operation.
GET_PATHS = [path for path, item in CONTRACT["paths"].items() if "get" in item]
EXAMPLES = 12  # per operation and mode; --contract-examples changes it
CHECKS = [not_a_server_error, response_schema_conformance, content_type_conformance]


@pytest.fixture(scope="session")
def cw_schema(cw_target: Any) -> Any:
    """The contract narrowed to the target's version: answers must use that version's envelope."""
    raw = copy.deepcopy(CONTRACT)
    schemas = raw["components"]["schemas"]
    other = "Envelope" if cw_target.family in schemas["LegacyEnvelope"]["x-versions"] else "LegacyEnvelope"
    schemas[other] = {"not": {}}
    return schemathesis.openapi.from_dict(raw)


def served(path: str, family: str) -> bool:
    versions = CONTRACT["paths"][path]["get"].get("x-versions")
    return versions is None or family in versions


def authorise(case: Any, cw: Any) -> dict[str, str]:
    """Replace whatever token schemathesis drew with a real one, where this version expects it."""
    case.query = dict(case.query or {})
    case.query.pop("token", None)
    if "security" in CONTRACT["paths"][case.path]["get"]:  # Authenticate, Validate: no token
        return {}
    if cw.header_auth:
        return {"Authorization": f"cityworks {cw.token}"}
    case.query["token"] = cw.token
    return {}


def check_envelope(response: Any) -> None:
    assert response.status_code == 200, f"HTTP {response.status_code}: Cityworks answers 200 even on errors"
    if response.headers.get("Content-Type", [""])[0].startswith("application/json"):
        body = response.json()
        assert body.get("Status") in (0, 1, 2, 3), f"Status {body.get('Status')!r} is not a Cityworks status"


@pytest.mark.req("CW-VER-1", "CW-API-5")
@pytest.mark.parametrize("mode", [GenerationMode.POSITIVE, GenerationMode.NEGATIVE], ids=["positive", "negative"])
@pytest.mark.parametrize("path", GET_PATHS)
def test_operation_answers_by_the_contract(cw, cw_target, cw_schema, front_door, request, path, mode):
    if not served(path, cw_target.family):
        pytest.skip(f"{path} is not served by Cityworks {cw_target.version}")
    operation = cw_schema[path]["GET"]
    as_form = cw_schema[path]["POST"]

    generation = contract_settings(request.config, EXAMPLES)

    @given(case=operation.as_strategy(generation_mode=mode))
    @settings(**generation, deadline=None, suppress_health_check=list(HealthCheck), database=None)
    def run(case: Any) -> None:
        headers = authorise(case, cw)
        response = case.call(base_url=cw_target.url, headers=headers, timeout=30)
        if not front_door.refusal(response):
            check_envelope(response)
            case.validate_response(response, checks=CHECKS)
        form = as_form.Case(body=dict(case.query), media_type="application/x-www-form-urlencoded")
        response = form.call(base_url=cw_target.url, headers=headers, timeout=30)
        if not front_door.refusal(response):
            check_envelope(response)
            form.validate_response(response, checks=CHECKS)

    run()
