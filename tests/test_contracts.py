"""Every contract is valid OpenAPI 3.1, names each operation, and compiles into the strict validator."""

from __future__ import annotations

from pathlib import Path

import pytest
from openapi_spec_validator import validate
from openapi_spec_validator.versions.shortcuts import get_spec_version

from contracts import bundled_contracts, load_contract
from simulators.kit import ContractValidator

CONTRACTS = [*bundled_contracts(), Path(__file__).parent / "kit_sim" / "contract.yaml"]


@pytest.fixture(params=CONTRACTS, ids=lambda p: p.name)
def contract(request):
    return load_contract(request.param)


def test_contract_is_valid_openapi_3_1(contract):
    assert str(get_spec_version(contract)) == "OpenAPIV3.1"
    validate(contract)


def test_every_operation_has_a_unique_operation_id(contract):
    validator = ContractValidator(contract)
    ids = [op.operation_id for op in validator.operations]
    assert ids and all(" " not in i for i in ids), "every operation needs an operationId"
    assert len(ids) == len(set(ids))


def test_a_broken_contract_is_caught(tmp_path):
    broken = tmp_path / "broken.yaml"
    broken.write_text("openapi: 3.1.0\ninfo: {title: x}\npaths: {}\n")
    with pytest.raises(Exception, match="version"):
        validate(load_contract(broken))


def test_contracts_are_parsed_once():
    path = CONTRACTS[-1]
    assert load_contract(path) is load_contract(str(path))


def test_every_example_matches_its_schema(contract):
    validator = ContractValidator(contract)
    checked = 0
    for op in validator.operations:
        for status, response in (op.spec.get("responses") or {}).items():
            response = validator.resolve(response)
            for media, content in (response.get("content") or {}).items():
                for name, example in (content.get("examples") or {}).items():
                    value = validator.resolve(example)["value"]
                    problems = validator.check_schema(content["schema"], value, "response", "body")
                    assert not problems, f"{op.operation_id} {status} {media} example {name}: {problems}"
                    checked += 1
    if "examples" in str(contract):
        assert checked, "the contract has examples but none was checked"
