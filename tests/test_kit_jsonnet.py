"""Json.NET's reading of JSON into a .NET type (simulators/kit/jsonnet.py): what changes, and what stays refused."""

from __future__ import annotations

import json
from typing import Any

import pytest
from hypothesis import given
from hypothesis import strategies as st

from contracts import load_contract
from simulators.kit.contract import ContractValidator
from simulators.kit.jsonnet import read_as

pytestmark = pytest.mark.req("H-SIM-4")

SCHEMAS: dict[str, Any] = {
    "Id": {"type": "integer"},
    "Flag": {"type": "boolean"},
    "Text": {"type": "string"},
    "X": {"type": "number"},
    "Maybe": {"type": ["string", "null"]},
    "Ids": {"type": "array", "items": {"type": "integer"}},
    "Either": {"anyOf": [{"type": "integer"}, {"type": "string"}]},
}
CLOSED = {"type": "object", "properties": SCHEMAS, "additionalProperties": False}
OPEN = {"type": "object", "properties": SCHEMAS}


def read(schema: dict[str, Any], value: Any) -> tuple[Any, list[str]]:
    out, notes = read_as(schema, value, lambda node: node)
    return out, [path for path, _ in notes]


def test_names_in_any_casing_unknown_members_and_text_for_numbers_and_booleans():
    value = {"id": "12", "FLAG": "True", "Text": 7, "Extra": 1, "ids": ["1", 2], "X": " 1.5 "}
    out, paths = read(CLOSED, value)
    assert out == {"Id": 12, "Flag": True, "Text": "7", "Ids": [1, 2], "X": 1.5}
    assert sorted(paths) == sorted(
        ["$.id", "$.Id", "$.FLAG", "$.Flag", "$.Text", "$.Extra", "$.ids", "$.Ids[0]", "$.X"]
    )


def test_null_is_read_as_not_set_unless_the_schema_allows_it():
    out, paths = read(CLOSED, {"X": None, "Text": None, "Maybe": None})
    assert out == {"Maybe": None} and sorted(paths) == ["$.Text", "$.X"]


def test_what_json_net_would_refuse_is_left_for_the_strict_checks():
    value = {"Id": "twelve", "Flag": "yes", "Either": "x", "Ids": "1"}
    out, paths = read(CLOSED, value)
    assert out == value and paths == []


def test_an_open_object_keeps_members_it_does_not_list():
    out, paths = read(OPEN, {"Other": {"a": 1}, "Id": 3})
    assert out == {"Other": {"a": 1}, "Id": 3} and paths == []


@given(st.dictionaries(st.sampled_from(["Id", "Flag", "Text", "X", "Ids"]), st.integers(-(10**6), 10**6)))
def test_a_value_already_in_the_documented_shape_is_unchanged(value: dict[str, int]):
    documented = {
        k: (bool(v % 2) if k == "Flag" else str(v) if k == "Text" else [v] if k == "Ids" else v)
        for k, v in value.items()
    }
    out, paths = read(CLOSED, documented)
    assert out == documented and paths == []


VALIDATOR = ContractValidator(load_contract("cityworks"))
JSON = st.recursive(
    st.none() | st.booleans() | st.integers() | st.floats(allow_nan=False) | st.text(max_size=8),
    lambda inner: st.lists(inner, max_size=3) | st.dictionaries(st.text(max_size=6), inner, max_size=4),
    max_leaves=12,
)


@given(JSON)
def test_any_json_value_reads_into_json_without_error(value: Any):
    """Whatever a client sends, the reading is JSON again (it is re-encoded for the handler) and never fails."""
    schema = VALIDATOR.document["components"]["schemas"]["CreateRequestData"]
    out, _ = read_as(schema, value, VALIDATOR.resolve)
    json.dumps(out)
    out, _ = read_as(CLOSED, value, lambda node: node)
    json.dumps(out)
