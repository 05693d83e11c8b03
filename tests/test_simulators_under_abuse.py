"""Simulators under abuse (H-REL-4): whatever arrives — contract paths with junk in them, unknown paths,
odd methods, bodies that are not what they claim, invalid UTF-8, NUL bytes, deep JSON — every simulator
answers in its vendor's own format, never with a server error or a stack trace, keeps serving, and its
journal stays at its configured size however much traffic it journals."""

from __future__ import annotations

import json
import re
from typing import Any

import pytest
import requests
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from contracts import load_contract
from harness.bundled import simulator_config
from harness.registry import load_simulator
from harness.stack import ThreadedStack

JOURNAL = 64
NAMES = ("cityworks", "opengov", "arcgis", "city-api")


def _json(text: str) -> Any:
    try:
        return json.loads(text)
    except ValueError:
        return None


def cityworks_format(status: int, content_type: str, text: str) -> bool:
    if status == 404 and content_type == "text/html":
        return True  # IIS's own page for a path no service answers
    body = _json(text)
    return isinstance(body, dict) and "Status" in body and "Value" in body


def opengov_format(status: int, content_type: str, text: str) -> bool:
    body = _json(text)
    return body is not None and (status < 400 or (isinstance(body, dict) and isinstance(body.get("Message"), str)))


def arcgis_format(status: int, content_type: str, text: str) -> bool:
    if content_type == "text/html":  # no `f` or f=html: the Services Directory's page, ArcGIS's default format
        return status == 200 and text.startswith("<html>")
    body = _json(text)
    if not isinstance(body, dict):
        return False
    error = body.get("error")
    return error is None or (isinstance(error, dict) and "code" in error and "message" in error)


def city_api_format(status: int, content_type: str, text: str) -> bool:
    body = _json(text)
    if status < 400:
        return body is not None or content_type == "text/html"  # the city's sign-in page is HTML
    error = body.get("error") if isinstance(body, dict) else None
    return isinstance(error, dict) and {"code", "message"} <= set(error)


FORMATS = {"cityworks": cityworks_format, "opengov": opengov_format, "arcgis": arcgis_format,
           "city-api": city_api_format}  # fmt: skip


def templates(name: str) -> list[str]:
    spec = load_simulator(name)
    return [spec.mount + p for p in load_contract(spec.contract)["paths"]]


@pytest.fixture(scope="module")
def sims():
    configs = {n: simulator_config(n, journal_size=JOURNAL) for n in NAMES}
    with ThreadedStack(configs) as stack:
        yield stack.urls


junk = st.text(st.characters(codec="utf-8", exclude_categories=("Cs",)), max_size=40)
segment = st.one_of(junk, st.sampled_from(["..", "%00", "%ff", "x" * 300, "-1", "1e309", "null", "{}", "%2F"]))
bodies = st.one_of(
    st.binary(max_size=2000),
    junk.map(str.encode),
    st.recursive(st.none() | st.integers() | junk, lambda c: st.lists(c) | st.dictionaries(junk, c), max_leaves=30)
    .map(json.dumps)
    .map(str.encode),
    st.just(b"[" * 5000 + b"]" * 5000),  # deep nesting
    st.just(b"\xff\xfe\x00garbage"),
)
content_types = st.sampled_from(
    ["application/json", "application/x-www-form-urlencoded", "multipart/form-data; boundary=zz",
     "multipart/form-data", "text/plain", "application/xml", "", "application/json; charset=latin-1"]
)  # fmt: skip


@st.composite
def abuse(draw: st.DrawFn, name: str) -> dict[str, Any]:
    template = draw(st.sampled_from(templates(name)))
    path = re.sub(r"\{[^}]+\}", lambda _: draw(segment).replace("/", "%2F") or "x", template)
    if draw(st.booleans()):
        path = "/" + "/".join(draw(st.lists(segment, min_size=1, max_size=4)))
    names = ["data", "token", "f", "location", "outSR", "distance", "maxLocations", "SingleLine", "outFields",
             "filter", "limit", "offset", "sort", "fields", "x"]  # fmt: skip
    values = st.one_of(junk, st.sampled_from(['{"wkid": 1e309}', '{"x": 1e999, "y": 0}', "-1", "NaN", "1,2,3"]))
    query = draw(st.dictionaries(st.sampled_from(names), values))
    return {
        "method": draw(st.sampled_from(["GET", "POST", "PUT", "DELETE", "PATCH", "OPTIONS"])),
        "path": path,
        "query": query,
        "content_type": draw(content_types),
        "body": draw(bodies),
    }


@pytest.mark.heavy
@pytest.mark.req("H-REL-4", "H-SIM-3")
@pytest.mark.parametrize("name", NAMES)
def test_malformed_requests_get_the_vendor_error_and_never_a_crash(sims, name):
    base = sims[name]
    fits = FORMATS[name]
    http = requests.Session()

    @settings(max_examples=150, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
    @given(abuse(name))
    def one(call: dict[str, Any]) -> None:
        headers = {"Content-Type": call["content_type"]} if call["content_type"] else {}
        resp = http.request(
            call["method"], base + call["path"], params=call["query"], data=call["body"], headers=headers, timeout=30
        )
        content_type = resp.headers.get("Content-Type", "").split(";")[0]
        assert resp.status_code < 500, (call, resp.status_code, resp.text[:500])
        assert "Traceback" not in resp.text and 'File "' not in resp.text, (call, resp.text[:500])
        if call["method"] != "OPTIONS" and resp.status_code != 405:
            assert fits(resp.status_code, content_type, resp.text), (call, resp.status_code, resp.text[:500])

    one()
    stats = http.get(f"{base}/_sim/journal", params={"limit": "1"}, timeout=10).json()
    assert stats["held"] == JOURNAL < stats["total"], stats  # bounded, however much it journaled
    assert http.get(f"{base}/_sim/", timeout=10).status_code == 200  # and still serving
