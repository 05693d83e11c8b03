"""WID-API-5: the ETag changes exactly when the content does, and a poll with If-None-Match answers 304
without a body while nothing changed, so the portal can notify subscribers cheaply."""

from __future__ import annotations

import pytest

from .client import content_params, link_account
from .conftest import needs

pytestmark = pytest.mark.req("WID-API-5")


def fetch(endpoint, params, etag=None):
    headers = {"If-None-Match": etag} if etag else {}
    return endpoint.call("GET", "/v1/content", params=params, headers=headers)


def test_unchanged_content_keeps_its_etag_and_answers_304(endpoint, user):
    params = content_params(endpoint, user, "dashboard")
    first, second = fetch(endpoint, params), fetch(endpoint, params)
    assert first.status_code == second.status_code == 200
    etag = first.headers["ETag"]
    assert second.headers["ETag"] == etag, "the ETag changed although the content did not"
    poll = fetch(endpoint, params, etag)
    assert poll.status_code == 304, f"expected 304 for an unchanged ETag, got {poll.status_code}"
    assert poll.content == b""
    assert poll.headers.get("ETag") == etag
    assert fetch(endpoint, params, '"something-else"').status_code == 200


def test_each_view_has_its_own_etag(endpoint, user):
    params = content_params(endpoint, user, "dashboard")
    dashboard = fetch(endpoint, params)
    expanded = fetch(endpoint, {**params, "view": "expanded"})
    if dashboard.json() != {**expanded.json(), "view": "dashboard", "version": dashboard.json()["version"]}:
        assert dashboard.headers["ETag"] != expanded.headers["ETag"]


def test_a_new_bill_changes_the_etag(endpoint, user):
    needs(endpoint, "account")
    if endpoint.control is None:
        pytest.skip("changing an account needs the simulator's control plane (a real city changes on its own time)")
    link_account(endpoint, user)
    params = {"view": "dashboard", "user": user}
    before = fetch(endpoint, params)
    endpoint.action("issue-bill", account_number=endpoint.accounts[0][0], amount="42.00")
    after = fetch(endpoint, params, before.headers["ETag"])
    assert after.status_code == 200, "a new bill read as unchanged"
    assert after.headers["ETag"] != before.headers["ETag"]
    assert after.json() != before.json()
    endpoint.action("record-payment", account_number=endpoint.accounts[0][0])
    paid = fetch(endpoint, params, after.headers["ETag"])
    assert paid.status_code == 200 and paid.headers["ETag"] != after.headers["ETag"]


def test_new_html_changes_the_etag(endpoint, user):
    needs(endpoint, "html")
    if endpoint.control is None:
        pytest.skip("changing the content needs the simulator's control plane")
    params = {"view": "dashboard", "user": user}
    before = fetch(endpoint, params)
    endpoint.action("set-html", html="<p>Budget hearing moved to Thursday.</p>")
    try:
        after = fetch(endpoint, params, before.headers["ETag"])
        assert after.status_code == 200 and after.json()["html"] == "<p>Budget hearing moved to Thursday.</p>"
        assert after.headers["ETag"] != before.headers["ETag"]
    finally:
        endpoint.action("set-html", html=None)
    assert fetch(endpoint, params, before.headers["ETag"]).status_code == 304, "restored content has its old ETag"
