"""WID-API-3: linking a city account by number and verification value; a citizen only ever sees the accounts
they linked. WID-API-4: linking through the city's own sign-in page with a state and a one-time code."""

from __future__ import annotations

import re
import secrets
from urllib.parse import parse_qs, urlsplit

import pytest
import requests

from conformance import answers
from conformance.wanting import wanting

from .client import TIMEOUT_S, error_code, link_account
from .conftest import needs


def links(endpoint, user):
    resp = endpoint.call("GET", "/v1/links", params={"user": user})
    assert resp.status_code == 200, resp.text[:300]
    assert answers.problems("city-widget", "listLinks", resp) == []
    return resp.json()["links"]


def content(endpoint, user, **params):
    return endpoint.call("GET", "/v1/content", params={"view": "expanded", "user": user, **params})


def needs_accounts(endpoint, n: int) -> None:
    needs(endpoint, "account")
    if len(endpoint.accounts) < n:
        what = "a test account to link" if n == 1 else f"{n} test accounts, to show citizens are kept apart"
        pytest.skip(wanting(what, "--account NUMBER:VERIFICATION" + f" ({n} times)" * (n > 1), "--wid-account"))


@pytest.mark.req("WID-API-3")
def test_link_lifecycle(endpoint, user):
    needs_accounts(endpoint, 1)
    number, verification = endpoint.accounts[0]
    assert links(endpoint, user) == []
    resp = content(endpoint, user)
    assert resp.status_code == 403 and error_code(resp) == "not_linked", resp.text[:300]

    wrong = endpoint.call(
        "POST", "/v1/links", json={"user": user, "account_number": number, "verification": verification + "9"}
    )
    assert wrong.status_code == 422 and error_code(wrong) == "verification_failed", wrong.text[:300]
    assert links(endpoint, user) == [], "a failed verification linked something"

    made = endpoint.call(
        "POST", "/v1/links", json={"user": user, "account_number": number, "verification": verification}
    )
    assert made.status_code == 201, made.text[:300]
    assert answers.problems("city-widget", "createLink", made) == []
    link = made.json()
    assert number not in made.text, "the full account number is echoed back"
    assert link["account"]["masked_number"].endswith(number[-4:])
    again = endpoint.call(
        "POST", "/v1/links", json={"user": user, "account_number": number, "verification": verification}
    )
    assert again.status_code == 200 and again.json()["link_id"] == link["link_id"], "linking twice is idempotent"
    assert [k["link_id"] for k in links(endpoint, user)] == [link["link_id"]]
    assert content(endpoint, user).status_code == 200
    assert content(endpoint, user, link_id=link["link_id"]).status_code == 200

    gone = endpoint.call("DELETE", f"/v1/links/{link['link_id']}", params={"user": user})
    assert gone.status_code == 204, gone.text[:300]
    assert links(endpoint, user) == []
    resp = content(endpoint, user)
    assert resp.status_code == 403 and error_code(resp) == "not_linked", "unlinked data is still served"
    twice = endpoint.call("DELETE", f"/v1/links/{link['link_id']}", params={"user": user})
    assert twice.status_code == 404 and error_code(twice) == "not_linked"


@pytest.mark.req("WID-API-3")
def test_an_unknown_account_links_nothing(endpoint, user):
    needs(endpoint, "account")
    resp = endpoint.call(
        "POST",
        "/v1/links",
        json={"user": user, "account_number": f"NO-SUCH-{secrets.token_hex(4)}", "verification": "000000"},
    )
    assert (resp.status_code, error_code(resp)) in ((404, "unknown_account"), (422, "verification_failed")), resp.text
    assert links(endpoint, user) == []


@pytest.mark.req("WID-API-3")
def test_a_citizen_only_sees_what_they_linked(endpoint, user):
    needs_accounts(endpoint, 2)
    other = "u-" + secrets.token_hex(8)
    link_account(endpoint, other, which=1)
    before = content(endpoint, other)
    assert before.status_code == 200, before.text[:300]

    mine = link_account(endpoint, user, which=0)
    number = endpoint.accounts[0][0]
    assert links(endpoint, other)[0]["link_id"] != mine["link_id"]
    assert mine["link_id"] not in {k["link_id"] for k in links(endpoint, other)}
    after = content(endpoint, other)
    assert after.status_code == 200
    assert after.json() == before.json(), "another citizen's link changed what this citizen sees"
    assert number not in after.text and number[-4:] not in after.text.replace(endpoint.accounts[1][0], "")

    borrowed = content(endpoint, other, link_id=mine["link_id"])
    assert borrowed.status_code == 403 and error_code(borrowed) == "not_linked", "a link_id opened someone else's data"
    stolen = endpoint.call("DELETE", f"/v1/links/{mine['link_id']}", params={"user": other})
    assert stolen.status_code == 404 and error_code(stolen) == "not_linked"
    assert [k["link_id"] for k in links(endpoint, user)] == [mine["link_id"]], "another citizen removed my link"


@pytest.mark.req("WID-API-3")
def test_a_widget_without_linking_refuses_it(endpoint, user):
    info = endpoint.describe()
    if info["linking"]["account"]:
        pytest.skip("this widget links accounts")
    resp = endpoint.call("POST", "/v1/links", json={"user": user, "account_number": "X-1", "verification": "1"})
    assert 400 <= resp.status_code < 500 and error_code(resp), resp.text[:300]
    assert links(endpoint, user) == []


RETURN_URL = "https://portal.example/widgets/callback"


def start(endpoint, user, state, return_url=RETURN_URL):
    return endpoint.call("POST", "/v1/external-links", json={"user": user, "return_url": return_url, "state": state})


@pytest.mark.req("WID-API-4")
def test_an_external_link_starts_with_a_sign_in_url(endpoint, user):
    needs(endpoint, "external")
    resp = start(endpoint, user, secrets.token_urlsafe(16))
    assert resp.status_code == 201, resp.text[:300]
    assert urlsplit(resp.json()["authorize_url"]).scheme in ("http", "https")
    insecure = start(endpoint, user, secrets.token_urlsafe(16), return_url="http://portal.example/callback")
    assert insecure.status_code == 400 and error_code(insecure) == "invalid_request", "a plain-http return_url"


@pytest.mark.req("WID-API-4")
def test_a_made_up_code_links_nothing(endpoint, user):
    needs(endpoint, "external")
    resp = endpoint.call("POST", "/v1/external-links/complete", json={"user": user, "code": secrets.token_urlsafe(24)})
    assert resp.status_code == 400 and error_code(resp) == "invalid_code", resp.text[:300]
    assert links(endpoint, user) == []


@pytest.mark.req("WID-API-4")
def test_the_external_flow_end_to_end(endpoint, user):
    """Needs the simulator's sign-in page (a real city's page is for a person to fill in)."""
    needs(endpoint, "external")
    needs_accounts(endpoint, 1)
    if endpoint.control is None:
        pytest.skip("completing the city's sign-in needs a person; the simulator's page is scriptable")
    state = secrets.token_urlsafe(16)
    url = start(endpoint, user, state).json()["authorize_url"]
    with requests.Session() as browser:
        page = browser.get(url, timeout=TIMEOUT_S)
        assert page.status_code == 200 and "<form" in page.text
        session = re.search(r'name="session" value="([^"]+)"', page.text).group(1)
        number, verification = endpoint.accounts[0]
        form = {"session": session, "account_number": number, "verification": verification}
        bad = browser.post(url.split("?")[0], data={**form, "verification": verification + "9"}, timeout=TIMEOUT_S)
        assert bad.status_code == 200 and 'role="alert"' in bad.text
        done = browser.post(url.split("?")[0], data=form, allow_redirects=False, timeout=TIMEOUT_S)
    assert done.status_code == 303, done.text[:300]
    location = done.headers["Location"]
    assert location.startswith(RETURN_URL + "?")
    query = parse_qs(urlsplit(location).query)
    assert query["state"] == [state], "the state must come back exactly as the portal sent it"
    code = query["code"][0]

    thief = endpoint.call("POST", "/v1/external-links/complete", json={"user": "u-thief", "code": code})
    assert thief.status_code == 400 and error_code(thief) == "invalid_code", "a code worked for another citizen"
    made = endpoint.call("POST", "/v1/external-links/complete", json={"user": user, "code": code})
    assert made.status_code == 201, made.text[:300]
    assert made.json()["method"] == "external"
    reused = endpoint.call("POST", "/v1/external-links/complete", json={"user": user, "code": code})
    assert reused.status_code == 400 and error_code(reused) == "invalid_code", "a code worked twice"
    assert [k["link_id"] for k in links(endpoint, user)] == [made.json()["link_id"]]
