"""The session as browser-based clients use it (VG: vertigis/workflow-activities-cartegraph): the signed-in
user, session info and sign-out, by HTTP Basic and by the session cookie (OG-API-8)."""

from __future__ import annotations

from typing import Any

import pytest
import requests

from .conftest import TIMEOUT_S, Eam

USER_KEYS = {"UserName", "EsriUsername", "FirstName", "LastName", "Email", "Role", "IdentityLevel"}
AUTH_REQUIRED = "Authentication Required for API Access."


def signed_in(og: Eam) -> requests.Session:
    """A browser-like session: no credentials, only the cookie the sign-in sets."""
    browser = requests.Session()
    resp = browser.post(
        f"{og.url}/api/v1/authenticate",
        json={"userName": og.login, "password": og.password, "isInternalRequest": False},
        timeout=TIMEOUT_S,
    )
    assert resp.status_code == 200 and resp.json()["LogOnStatus"] == 0, resp.text[:300]
    assert browser.cookies, "the sign-in set no cookie"
    return browser


def session_info(og: Eam, http: requests.Session) -> dict[str, Any] | None:
    """`GET authenticate`; None when it refuses (without a session a server may answer 401)."""
    resp = http.get(f"{og.url}/api/v1/authenticate", timeout=TIMEOUT_S)
    if resp.status_code == 401:
        return None
    assert resp.status_code == 200, resp.text[:300]
    return resp.json()


@pytest.mark.req("OG-API-8")
def test_the_signed_in_user_is_the_same_by_basic_and_by_cookie(og):
    by_basic = og.call("GET", "user")
    assert by_basic.status_code == 200, by_basic.text[:300]
    user = by_basic.json()
    assert set(user) >= USER_KEYS and user["UserName"].lower() == og.login.lower()
    assert isinstance(user["IdentityLevel"], int)
    browser = signed_in(og)
    by_cookie = browser.get(f"{og.url}/api/v1/user", timeout=TIMEOUT_S)
    assert by_cookie.status_code == 200 and by_cookie.json() == user


@pytest.mark.req("OG-API-8")
def test_the_user_name_key_is_read_in_either_spelling(og):
    """VG sends `userName`, the vendor's documentation `username` (contracts/opengov.yaml, authenticate)."""
    for key in ("userName", "username"):
        browser = requests.Session()
        resp = browser.post(
            f"{og.url}/api/v1/authenticate", json={key: og.login, "password": og.password}, timeout=TIMEOUT_S
        )
        assert resp.status_code == 200 and resp.json()["LogOnStatus"] == 0, f"{key}: {resp.text[:300]}"
        assert browser.get(f"{og.url}/api/v1/user", timeout=TIMEOUT_S).status_code == 200


@pytest.mark.req("OG-API-8")
def test_session_info_shows_a_cookie_only_while_signed_in(og):
    before = session_info(og, requests.Session())
    assert before is None or not before.get("Cookie")
    browser = signed_in(og)
    during = session_info(og, browser)
    assert during is not None and during["Cookie"] and during["Expires"] > 0


@pytest.mark.req("OG-API-8")
def test_sign_out_ends_the_session_on_the_server(og):
    browser = signed_in(og)
    kept = browser.cookies.get_dict()
    assert browser.get(f"{og.url}/api/v1/user", timeout=TIMEOUT_S).status_code == 200
    out = browser.post(f"{og.url}/api/v1/authenticate/signout", timeout=TIMEOUT_S)
    assert out.ok, out.text[:300]
    after = browser.get(f"{og.url}/api/v1/user", timeout=TIMEOUT_S)
    assert after.status_code == 401 and after.json()["Message"] == AUTH_REQUIRED
    replayed = requests.get(f"{og.url}/api/v1/user", cookies=kept, timeout=TIMEOUT_S)  # the old cookie, sent again
    assert replayed.status_code == 401 and replayed.json()["Message"] == AUTH_REQUIRED
    info = session_info(og, requests.Session())
    assert info is None or not info.get("Cookie")
    info = requests.get(f"{og.url}/api/v1/authenticate", cookies=kept, timeout=TIMEOUT_S)
    assert info.status_code == 401 or not info.json().get("Cookie")
