"""The /_sim/ control plane against contracts/simulator-control.yaml, fuzzed with schemathesis on every
bundled simulator: bad input gets the control plane's error shape, never a server error (H-SIM-1)."""

from __future__ import annotations

import copy
from typing import Any

import pytest
import schemathesis
from hypothesis import HealthCheck, given, settings
from schemathesis import GenerationMode
from schemathesis.checks import content_type_conformance, not_a_server_error, response_schema_conformance

from contracts import load_contract
from harness.bundled import simulator_config
from harness.stack import ThreadedStack

CONTRACT = load_contract("simulator-control")
SCHEMA = schemathesis.openapi.from_dict(copy.deepcopy(CONTRACT))
OPERATIONS = [
    (path, method.upper()) for path, item in CONTRACT["paths"].items() for method in item if method != "parameters"
]


def takes_input(path: str, method: str) -> bool:
    spec = CONTRACT["paths"][path][method.lower()]
    return bool(spec.get("parameters") or spec.get("requestBody"))


# Negative cases only where there is an input to get wrong.
CASES = [
    (path, method, mode)
    for path, method in OPERATIONS
    for mode in (GenerationMode.POSITIVE, GenerationMode.NEGATIVE)
    if mode == GenerationMode.POSITIVE or takes_input(path, method)
]


@pytest.fixture(scope="module", params=["cityworks", "opengov", "arcgis", "city-api"])
def sim_url(request):
    with ThreadedStack({request.param: simulator_config(request.param, seed=1)}) as stack:
        yield stack.urls[request.param]


@pytest.mark.req("H-SIM-1")
@pytest.mark.parametrize("path, method, mode", CASES, ids=[f"{m} {p} {g.name.lower()}" for p, m, g in CASES])
def test_control_plane_answers_by_its_contract(sim_url, path, method, mode):
    operation = SCHEMA[path][method]

    @given(case=operation.as_strategy(generation_mode=mode))
    @settings(max_examples=15, deadline=None, suppress_health_check=list(HealthCheck), database=None)
    def run(case: Any) -> None:
        if path == "/_sim/seed" and isinstance(case.body, dict):
            case.body = {
                k: (min(v, 500) if isinstance(v, int) and not isinstance(v, bool) else v) for k, v in case.body.items()
            }
        response = case.call(base_url=sim_url, timeout=60)
        assert response.status_code < 500, response.text[:300]
        case.validate_response(
            response, checks=[not_a_server_error, response_schema_conformance, content_type_conformance]
        )

    run()
