"""The simulators' JSON: the reader (kit/lenient.py: orjson first for speed, the standard library's verdicts)
and the writer (kit/answers.py)."""

from __future__ import annotations

import json
import tracemalloc

import orjson
import pytest
from hypothesis import given
from hypothesis import strategies as st

from simulators.kit.answers import encode, json_answer
from simulators.kit.lenient import lenient_loads, loads

pytestmark = pytest.mark.req("H-SIM-3")

scalars = st.none() | st.booleans() | st.integers() | st.floats() | st.text()
values = st.recursive(scalars, lambda inner: st.lists(inner) | st.dictionaries(st.text(), inner), max_leaves=30)


def standard(text: str | bytes) -> object:
    try:
        return ("ok", json.loads(text))
    except RecursionError:
        return ("error", ValueError)
    except ValueError:
        return ("error", ValueError)


def ours(text: str | bytes) -> object:
    try:
        return ("ok", loads(text))
    except ValueError:
        return ("error", ValueError)


def same(a: object, b: object) -> bool:
    """Equal with the same types all the way down (1 and 1.0 and True differ), NaN equal to NaN."""
    if type(a) is not type(b):
        return False
    if isinstance(a, float):
        return a == b or (a != a and b != b)
    if isinstance(a, list | tuple):
        return len(a) == len(b) and all(same(x, y) for x, y in zip(a, b, strict=True))
    if isinstance(a, dict):
        return a.keys() == b.keys() and all(same(a[k], b[k]) for k in a)
    return a == b


@given(values, st.booleans())
def test_any_json_reads_as_the_standard_library_reads_it(value, as_bytes):
    text = json.dumps(value)
    text = text.encode() if as_bytes else text
    assert same(ours(text), standard(text))


@pytest.mark.parametrize(
    "text",
    [
        "123456789012345678901234567890",  # orjson would give a float
        "-9223372036854775809",
        '{"a": 1, "a": 2}',
        "[NaN, Infinity, -Infinity]",
        "1e400",
        '"\\ud800"',
        "\ufeff{}",
        "[" * 5000 + "]" * 5000,
        "{'a': 1}",
        "[1,]",
        "",
        b"\xff",
        '{"a": 1}'.encode("utf-16"),
    ],
)
def test_edge_cases_read_as_the_standard_library_reads_them(text):
    assert same(ours(text), standard(text))


def test_lenient_reading_takes_what_json_net_takes_and_refuses_what_it_cannot_read():
    assert lenient_loads("{'RequestId': 1, }") == {"RequestId": 1}
    assert lenient_loads('{"RequestId": 12345678901234567890}') == {"RequestId": 12345678901234567890}
    with pytest.raises(ValueError, match="nested too deeply"):
        lenient_loads("[" * 5000 + "]" * 5000)
    with pytest.raises(ValueError):
        lenient_loads("{not json")


def test_an_encoded_answer_takes_the_memory_of_its_size_not_the_encoders_buffer():
    # The journal keeps 10,000 answers: orjson's 32 KiB working buffer each would be 320 MB.
    value = {"Value": {f"Field{i}": "x" * 10 for i in range(60)}, "Status": 0}
    tracemalloc.start()
    try:
        before = tracemalloc.get_traced_memory()[0]
        kept = [encode(value) for _ in range(50)]
        per_answer = (tracemalloc.get_traced_memory()[0] - before) / len(kept)
    finally:
        tracemalloc.stop()
    assert per_answer < 2 * len(kept[0]), (per_answer, len(kept[0]))
    assert orjson.loads(kept[0]) == value


def test_keys_that_are_not_text_are_encoded_as_json_text_keys():
    assert orjson.loads(encode({1: "a", "b": [1]})) == {"1": "a", "b": [1]}
    assert orjson.loads(json_answer({2: True}).body) == {"2": True}


def test_an_answer_has_one_content_type_and_it_is_json_whatever_headers_come_with_it():
    response = json_answer({"a": 1}, 201, {"content-type": "text/plain", "ETag": '"v1"'})
    assert response.headers.getall("Content-Type") == ["application/json; charset=utf-8"]
    assert response.headers["ETag"] == '"v1"' and response.status == 201
