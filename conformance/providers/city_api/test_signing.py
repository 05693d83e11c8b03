"""WID-API-1: the endpoint serves signed requests and refuses unsigned, tampered, wrongly keyed, stale and
replayed ones with 401 and the contract's code, before looking at anything else in the request."""

from __future__ import annotations

import time

import pytest

from contracts.widget_signing import KEY_ID, NONCE, SIGNATURE, TIMESTAMP, new_nonce

from .client import WidgetAuth, error_code, send_tampered

PROBE = "/v1/widget"
pytestmark = pytest.mark.req("WID-API-1")


def refused(resp, code: str) -> None:
    assert resp.status_code == 401, f"expected 401 {code}, got {resp.status_code}: {resp.text[:300]}"
    assert error_code(resp) == code, f"expected error code {code}, got {resp.text[:300]}"


def test_a_signed_request_is_served(endpoint):
    resp = endpoint.call("GET", PROBE)
    assert resp.status_code == 200, resp.text[:300]


# Every signed operation of the contract, with input it would otherwise serve (or, for a body the contract
# would reject, refuse later: authentication comes first).
SIGNED = [
    ("GET", PROBE, {}),
    ("GET", "/v1/content", {"params": {"view": "dashboard", "user": "u-unsigned"}}),
    ("GET", "/v1/links", {"params": {"user": "u-unsigned"}}),
    ("POST", "/v1/links", {"json": {}}),
    ("POST", "/v1/links", {"json": {"user": "u-unsigned", "account_number": "1", "verification": "1"}}),
    ("DELETE", "/v1/links/no-such-link", {"params": {"user": "u-unsigned"}}),
    ("POST", "/v1/external-links", {"json": {"user": "u-unsigned", "return_url": "https://portal.example/back"}}),
    ("POST", "/v1/external-links/complete", {"json": {"user": "u-unsigned", "code": "c-unsigned"}}),
]
SIGNED_IDS = ["widget", "content", "links", "bad-body", "link", "unlink", "external-start", "external-complete"]


@pytest.mark.parametrize(("method", "path", "kwargs"), SIGNED, ids=SIGNED_IDS)
def test_unsigned_requests_are_refused(endpoint, method, path, kwargs):
    refused(endpoint.call(method, path, auth=False, **kwargs), "missing_signature")


@pytest.mark.parametrize(("method", "path", "kwargs"), SIGNED, ids=SIGNED_IDS)
def test_every_operation_refuses_the_wrong_secret(endpoint, method, path, kwargs):
    wrong = WidgetAuth(endpoint.key_id, endpoint.secret + "-wrong")
    refused(endpoint.call(method, path, auth=wrong, **kwargs), "bad_signature")


@pytest.mark.parametrize("dropped", [KEY_ID, TIMESTAMP, NONCE, SIGNATURE])
def test_a_request_missing_one_signature_header_is_refused(endpoint, dropped):
    def drop(prepared):
        del prepared.headers[dropped]

    refused(send_tampered(endpoint, "GET", PROBE, drop), "missing_signature")


def test_a_tampered_query_is_refused(endpoint, user):
    def retarget(prepared):
        prepared.url = prepared.url.replace(user, user + "x")

    resp = send_tampered(endpoint, "GET", "/v1/links", retarget, params={"user": user})
    refused(resp, "bad_signature")


def test_a_tampered_body_is_refused(endpoint, user):
    def swap(prepared):
        prepared.body = prepared.body.replace(b"111111", b"222222")

    body = {"user": user, "account_number": "UT-0000000", "verification": "111111"}
    refused(send_tampered(endpoint, "POST", "/v1/links", swap, json=body), "bad_signature")


def test_a_tampered_method_is_refused(endpoint, user):
    def as_delete(prepared):
        prepared.method = "DELETE"

    resp = send_tampered(endpoint, "GET", "/v1/links/lnk_tampered", as_delete, params={"user": user})
    refused(resp, "bad_signature")


def test_a_malformed_signature_is_refused(endpoint):
    def garble(prepared):
        prepared.headers[SIGNATURE] = "v1=" + "z" * 64

    refused(send_tampered(endpoint, "GET", PROBE, garble), "bad_signature")


def test_the_wrong_secret_is_refused(endpoint):
    refused(endpoint.call("GET", PROBE, auth=WidgetAuth(endpoint.key_id, endpoint.secret + "-wrong")), "bad_signature")


def test_an_unknown_key_id_is_refused(endpoint):
    refused(endpoint.call("GET", PROBE, auth=WidgetAuth("no-such-key", endpoint.secret)), "unknown_key")


@pytest.mark.parametrize(
    "offset_s", [-3600, -301 - 5, 301 + 5, 86_400], ids=["hour-old", "just-stale", "future", "day-ahead"]
)
def test_a_timestamp_outside_the_window_is_refused(endpoint, offset_s):
    auth = WidgetAuth(endpoint.key_id, endpoint.secret, clock=lambda: time.time() + offset_s)
    refused(endpoint.call("GET", PROBE, auth=auth), "stale_timestamp")


@pytest.mark.parametrize("offset_s", [-120, 120], ids=["slow-clock", "fast-clock"])
def test_clock_skew_within_the_window_is_tolerated(endpoint, offset_s):
    auth = WidgetAuth(endpoint.key_id, endpoint.secret, clock=lambda: time.time() + offset_s)
    resp = endpoint.call("GET", PROBE, auth=auth)
    assert resp.status_code == 200, resp.text[:300]


def test_a_replayed_request_is_refused(endpoint):
    auth = WidgetAuth(endpoint.key_id, endpoint.secret, nonce=new_nonce())
    first = endpoint.call("GET", PROBE, auth=auth)
    assert first.status_code == 200, first.text[:300]
    refused(endpoint.call("GET", PROBE, auth=auth), "replayed_request")


def test_a_refused_signature_does_not_use_up_its_nonce(endpoint):
    """An attacker who cannot sign must not be able to burn the nonces of real requests."""
    nonce = new_nonce()
    refused(endpoint.call("GET", PROBE, auth=WidgetAuth(endpoint.key_id, "wrong", nonce=nonce)), "bad_signature")
    resp = endpoint.call("GET", PROBE, auth=WidgetAuth(endpoint.key_id, endpoint.secret, nonce=nonce))
    assert resp.status_code == 200, resp.text[:300]
