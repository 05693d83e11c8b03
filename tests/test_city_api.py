"""The city widget API: the contract's signing test vectors, the simulator (command line, six widgets,
deterministic seed, secrets kept out of the journal and the control plane, operator actions) and the provider
suite green against it and red, naming the right IDs, against wrong modes."""

from __future__ import annotations

import hashlib
import hmac
import json
import re
import subprocess
import sys
import time
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

import aiohttp
import pytest
import requests
from aiohttp import web

from contracts import load_contract
from contracts.widget_content import content_problems
from contracts.widget_signing import (
    NonceMemory,
    SignatureError,
    canonical_string,
    sign,
    signature,
    verify,
)
from harness.mutate.proxy import ThreadedApp
from simulators.city_api import WIDGETS

from .certify_runner import certify, simulator

ROOT = Path(__file__).resolve().parent.parent
VECTORS = load_contract("city-widget")["x-signing"]["test_vectors"]


# -- the signing rule ------------------------------------------------------------------------------


@pytest.mark.req("WID-3")
@pytest.mark.parametrize("vector", VECTORS, ids=[v["name"] for v in VECTORS])
def test_the_test_vectors_hold_for_an_independent_implementation(vector):
    """Recomputed from the vector's fields with nothing but hashlib and hmac, as a vendor would."""
    body = vector["body"].encode("utf-8")
    assert hashlib.sha256(body).hexdigest() == vector["body_sha256"]
    lines = ["v1", vector["key_id"], vector["timestamp"], vector["nonce"], vector["method"]]
    canonical = "\n".join([*lines, vector["request_target"], vector["body_sha256"]])
    assert canonical == vector["canonical"]
    mac = hmac.new(vector["secret"].encode("utf-8"), canonical.encode("utf-8"), hashlib.sha256).hexdigest()
    assert f"v1={mac}" == vector["signature"]


@pytest.mark.req("WID-3")
@pytest.mark.parametrize("vector", VECTORS, ids=[v["name"] for v in VECTORS])
def test_the_shared_implementation_matches_the_vectors(vector):
    body = vector["body"].encode("utf-8")
    args = (vector["key_id"], vector["timestamp"], vector["nonce"], vector["method"], vector["request_target"], body)
    assert canonical_string(*args) == vector["canonical"]
    headers = sign(
        vector["key_id"],
        vector["secret"],
        vector["method"],
        vector["request_target"],
        body,
        float(vector["timestamp"]),
        vector["nonce"],
    )
    assert headers["Civic-Widget-Signature"] == vector["signature"]
    now = float(vector["timestamp"]) + 299
    secrets = {vector["key_id"]: ("an-old-secret", vector["secret"])}  # rotation: either secret verifies
    verified = verify(headers, vector["method"], vector["request_target"], body, secrets, now)
    assert verified.nonce == vector["nonce"]
    with pytest.raises(SignatureError) as stale:
        verify(headers, vector["method"], vector["request_target"], body, secrets, now + 2)
    assert stale.value.code == "stale_timestamp"
    with pytest.raises(SignatureError) as tampered:
        verify(headers, vector["method"], vector["request_target"], body + b" ", secrets, now)
    assert tampered.value.code == "bad_signature"


def test_a_secret_never_appears_in_a_refusal():
    headers = sign("utilities", "top-secret-value", "GET", "/v1/widget", b"", 1000.0)
    for secrets, now in (({"utilities": ("other",)}, 1000.0), ({}, 1000.0), ({"utilities": ("x",)}, 9999.0)):
        with pytest.raises(SignatureError) as err:
            verify(headers, "GET", "/v1/widget", b"", secrets, now)
        assert "top-secret-value" not in str(err.value) and signature("x", "y") not in str(err.value)


def test_the_nonce_memory_forgets_only_what_the_window_already_refuses():
    memory = NonceMemory(window_s=300)
    assert memory.remember("k", "n1", 1000.0) and not memory.remember("k", "n1", 1299.0)
    assert memory.remember("other-key", "n1", 1000.0)
    memory.remember("k", "n2", 1601.0)  # a replay of n1 now would carry a stale timestamp: n1 may go
    assert len(memory) == 1 and memory.remember("k", "n1", 1601.0)


def test_content_rules_a_schema_cannot_say():
    base = {"widget": "w", "view": "expanded", "version": "v1", "format": "formatted", "title": "t", "items": []}
    chart = {"type": "chart", "chart": "bar", "labels": ["a", "b"], "series": [{"name": "s", "values": [1]}]}
    table = {
        "type": "table",
        "columns": [{"key": "amount", "label": "A", "type": "money"}],
        "rows": [{"amount": "12.00", "ghost": "x"}],
    }
    problems = dict(content_problems({**base, "blocks": [chart, table]}, "expanded"))
    assert problems == {
        "$.blocks[0].series[0].values": "1 values for 2 labels",
        "$.blocks[1].rows[0].amount": "not a money value",
        "$.blocks[1].rows[0].ghost": "no column has this key",
    }
    assert content_problems({**base, "format": "html", "html": "<p>x</p>"}, "expanded") == [], "html without items"
    assert content_problems({**base, "html": "<p>x</p>"}, "expanded"), "a formatted widget may not send html"
    assert content_problems({**base}, "dashboard") == [("$.view", "asked for the dashboard view, got 'expanded'")]


def test_utility_content_never_shows_a_full_account_number():
    """The portal shows accounts masked (••••0042): a full number in an item key reached every page's HTML."""
    import json

    from simulators.city_api import content

    bill = {"period": "2026-01", "amount": "84.17", "due": "2099-02-15", "paid": False}
    accounts = [
        {"number": f"UT-77310{n}0042", "holder": "A", "autopay": n == 1, "bills": [bill], "usage": [["2026-01", 3]]}
        for n in (1, 2)
    ]  # the same last four: keys stay unique
    for view in ("dashboard", "expanded"):
        body = content.utilities(accounts, view)
        shown = json.dumps(body, ensure_ascii=False)
        assert "UT-7731" not in shown and "••••0042" in shown, shown
        keys = [i["key"] for i in body["items"]]
        assert len(keys) == len(set(keys)), keys


# -- the simulator ---------------------------------------------------------------------------------


@contextmanager
def cli_simulator(*args: str) -> Iterator[str]:
    proc = subprocess.Popen(
        [sys.executable, "-m", "harness.cli", "sim", "city-api", *args], cwd=ROOT, stdout=subprocess.PIPE, text=True
    )
    try:
        line = proc.stdout.readline()
        yield re.fullmatch(r"listening on (http://\S+)\n", line).group(1)
    finally:
        proc.terminate()
        proc.wait(10)


def signed(url: str, widget: str, path: str, secret: str = "harness-widget-secret", **params) -> requests.Response:
    prepared = requests.Request("GET", f"{url}/{widget}{path}", params=params).prepare()
    prepared.headers.update(sign(widget, secret, "GET", prepared.path_url, b"", time.time()))
    with requests.Session() as http:
        return http.send(prepared, timeout=10)


@pytest.mark.req("WID-1", "WID-API-2")
def test_the_command_line_simulator_serves_six_widget_domains():
    with cli_simulator("--seed", "3") as url:
        domains = set()
        for widget in WIDGETS:
            described = signed(url, widget, "/v1/widget")
            assert described.status_code == 200, described.text
            domains.add(described.json()["domain"])
            params = {"view": "expanded", "address": "1 Civic Center Plaza"} if widget == "property-taxes" else {}
            if widget != "utilities":  # utilities needs a linked account (the suite links one)
                body = signed(url, widget, "/v1/content", **(params or {"view": "expanded"})).json()
                assert content_problems(body, "expanded") == []
        assert domains == set(WIDGETS)
        info = requests.get(f"{url}/_sim/", timeout=10).json()
        assert info["simulator"] == "city-api"
        assert "harness-widget-secret" not in str(info), "the control plane shows a secret"


def test_a_bad_secret_option_is_a_usage_error():
    result = subprocess.run(
        [sys.executable, "-m", "harness.cli", "sim", "city-api", "--secret", "nowhere:x"],
        cwd=ROOT,
        capture_output=True,
        text=True,
        timeout=60,
    )
    assert result.returncode == 2 and "Traceback" not in result.stderr and "nowhere" in result.stderr


@pytest.mark.req("H-SIM-1")
def test_the_same_seed_gives_the_same_city():
    digests = []
    for _ in range(2):
        with simulator("city-api", seed=3) as url:
            digests.append(requests.get(f"{url}/_sim/state", timeout=10).json())
    with simulator("city-api", seed=4) as url:
        other = requests.get(f"{url}/_sim/state", timeout=10).json()
    assert digests[0] == digests[1]
    assert other["digest"] != digests[0]["digest"]
    assert digests[0]["counts"]["properties"] == 400 and digests[0]["counts"]["accounts"] == 250


@pytest.mark.req("H-SIM-1")
def test_the_journal_masks_signatures_and_verification_values():
    with simulator("city-api", secrets=(("utilities", "s3cret-for-test"),)) as url:
        body = b'{"user":"u-1","account_number":"UT-1","verification":"987654"}'
        headers = sign("utilities", "s3cret-for-test", "POST", "/utilities/v1/links", body, time.time())
        resp = requests.post(
            f"{url}/utilities/v1/links", data=body, headers={**headers, "Content-Type": "application/json"}, timeout=10
        )
        assert resp.status_code == 404  # no such account
        journal = requests.get(f"{url}/_sim/journal", timeout=10).text
    assert "987654" not in journal and headers["Civic-Widget-Signature"] not in journal
    assert "s3cret-for-test" not in journal


def test_operator_actions_refuse_what_cannot_be_done():
    with simulator("city-api") as url:
        act = lambda name, **p: requests.post(f"{url}/_sim/actions/{name}", json=p, timeout=10)  # noqa: E731
        assert act("issue-bill", account_number="NOPE").status_code == 404
        assert act("record-payment").status_code == 422
        assert act("record-payment", parcel_id="NOPE").status_code == 404
        assert act("create-account", account_number="A-1", verification="1").status_code == 200
        assert act("create-account", account_number="A-1", verification="1").status_code == 409
        assert act("issue-bill", account_number="A-1", amount="-5").status_code == 422
        bill = act("issue-bill", account_number="A-1", amount="12.5").json()["result"]
        assert bill == {"period": "2026-01", "amount": "12.50", "due": "2026-02-15", "paid": False}


@pytest.mark.req("H-SIM-1")
def test_an_operator_links_a_test_citizen_without_signing():
    """The link reads back through the signed API as the citizen's own, is journaled as an operator entry, and an
    unknown account, a user id no portal could send or a widget that does not link is refused in the control
    plane's error shape."""
    with simulator("city-api") as url:
        act = lambda name, **p: requests.post(f"{url}/_sim/actions/{name}", json=p, timeout=10)  # noqa: E731
        assert act("create-account", account_number="UT-9000001", verification="424242").status_code == 200
        made = act("link-account", user="test-citizen-1", account_number="UT-9000001")
        assert made.status_code == 200, made.text
        link = made.json()["result"]
        assert link["new"] and link["widget"] == "utilities" and link["user"] == "test-citizen-1"
        again = act("link-account", user="test-citizen-1", account_number="UT-9000001").json()["result"]
        assert again["link_id"] == link["link_id"] and not again["new"]
        target = "/utilities/v1/links?user=test-citizen-1"
        headers = sign("utilities", "harness-widget-secret", "GET", target, b"", time.time())
        listed = requests.get(f"{url}{target}", headers=headers, timeout=10).json()["links"]
        assert [k["link_id"] for k in listed] == [link["link_id"]]
        for payload, status, code in (
            ({"user": "test-citizen-1", "account_number": "NOPE"}, 404, "unknown_account"),
            ({"user": "a b/../c", "account_number": "UT-9000001"}, 422, "invalid_payload"),
            ({"user": "", "account_number": "UT-9000001"}, 422, "invalid_payload"),
            ({"account_number": "UT-9000001"}, 422, "invalid_payload"),
            ({"user": "u-1", "account_number": "UT-9000001", "widget": "jobs"}, 404, "unknown_widget"),
            ({"user": "u-1", "account_number": "UT-9000001", "widget": "nope"}, 404, "unknown_widget"),
        ):
            refused = act("link-account", **payload)
            assert refused.status_code == status, (payload, refused.text)
            assert refused.json()["error"]["code"] == code, refused.text
        entries = requests.get(f"{url}/_sim/journal", params={"source": "operator"}, timeout=10).json()["entries"]
        assert [e["operation"] for e in entries].count("action:link-account") == 8


def test_the_sign_in_page_escapes_what_it_shows():
    with simulator("city-api") as url:
        resp = requests.get(f"{url}/utilities/external/authorize", params={"session": '"><script>x</script>'})
        assert resp.status_code == 404 and "<script>" not in resp.text


# -- the provider suite ----------------------------------------------------------------------------

SECRET = ("--secret", "harness-widget-secret")


@pytest.mark.req("H-CON-1", "WID-API-1", "WID-API-2", "WID-API-3", "WID-API-4", "WID-API-5", "WID-API-7", "WID-API-8")
def test_the_suite_passes_against_a_linked_account_widget():
    with simulator("city-api", seed=5) as url:
        code, output, verdicts = certify("city-api", f"{url}/utilities", *SECRET)
    assert code == 0, output[-3000:]
    for n in (1, 2, 3, 4, 5, 7, 8):
        assert verdicts[f"WID-API-{n}"] == "PASS", output[-3000:]
    assert verdicts["WID-API-6"] == "SKIPPED"  # utilities does not depend on the property


@pytest.mark.req("H-CON-1", "WID-API-6")
def test_the_suite_passes_against_a_property_dependent_widget_and_an_html_widget():
    with simulator("city-api", secrets=(("property-taxes", "rotated-secret"),)) as url:
        args = ("--secret", "rotated-secret", "--address", "1 Civic Center Plaza")
        code, output, verdicts = certify("city-api", f"{url}/property-taxes", *args)
        assert code == 0, output[-3000:]
        assert verdicts["WID-API-6"] == verdicts["WID-API-2"] == verdicts["WID-API-8"] == "PASS"
        code, output, verdicts = certify("city-api", f"{url}/engagement", *SECRET, "-k", "content or changes")
        assert code == 0, output[-3000:]
        assert verdicts["WID-API-5"] == "PASS"


def test_the_suite_needs_the_secret_for_a_given_endpoint():
    with simulator("city-api") as url:
        code, output, _ = certify("city-api", f"{url}/jobs")
    assert code == 2 and "CIVIC_HARNESS_WID_SECRET" in output


@pytest.mark.req("H-CON-1")
@pytest.mark.parametrize(
    "defect, select, failing",
    [
        ("accept-unsigned", "signing", "WID-API-1"),
        ("accept-bad-signature", "signing", "WID-API-1"),
        ("no-timestamp-window", "signing", "WID-API-1"),
        ("no-replay-check", "signing", "WID-API-1"),
        ("skip-verification", "linking", "WID-API-3"),
        ("leak-other-links", "linking", "WID-API-3"),
        ("unstable-etag", "changes", "WID-API-5"),
        ("static-etag", "changes", "WID-API-5"),
    ],
)
def test_the_suite_fails_with_the_right_ids_against_wrong_modes(defect, select, failing):
    with simulator("city-api", defects=frozenset({defect})) as url:
        code, output, verdicts = certify("city-api", f"{url}/utilities", *SECRET, "-k", select)
    assert code == 1, output[-3000:]
    assert verdicts[failing] == "FAIL", output[-3000:]


@pytest.mark.req("H-CON-1", "H-SCN-6")
@pytest.mark.parametrize("defect, widget", [("ignore-due-dates", "property-taxes"), ("no-autopay-text", "utilities")])
def test_the_provider_state_checks_fail_against_wrong_modes(defect, widget):
    """Records only a city could set up (a delinquent parcel, an account on autopay): the checks play the
    provider state city-api-bill-standing and catch a widget that misreports them."""
    with simulator("city-api", defects=frozenset({defect})) as url:
        code, output, verdicts = certify("city-api", f"{url}/{widget}", *SECRET, "-k", "standing")
    assert code == 1 and verdicts["WID-API-8"] == "FAIL", output[-3000:]
    assert "provider state city-api-bill-standing" in output


def _advertising_autopay(upstream: str) -> web.Application:
    """The simulator behind a forwarder (its control plane too) that adds to the utilities dashboard what a city
    may well say of an account without autopay: an invitation to set it up."""

    async def forward(request: web.Request) -> web.Response:
        headers = {k: v for k, v in request.headers.items() if k.lower() not in ("host", "content-length")}
        body = await request.read()
        async with (
            aiohttp.ClientSession() as http,
            http.request(request.method, upstream + request.path_qs, headers=headers, data=body) as answer,
        ):
            content = await answer.read()
            kept = {k: v for k, v in answer.headers.items() if k.lower() in ("content-type", "etag", "cache-control")}
            status = answer.status
        if request.path == "/utilities/v1/content" and status == 200:
            doc = json.loads(content)
            doc["texts"] = [*doc.get("texts", []), "Set up autopay for account ••••0043 and never miss a bill."]
            content = json.dumps(doc).encode()
        return web.Response(status=status, body=content, headers=kept)

    app = web.Application()
    app.router.add_route("*", "/{tail:.*}", forward)
    return app


@pytest.mark.req("H-CON-1", "H-SCN-6")
def test_the_autopay_check_passes_a_city_that_advertises_autopay():
    """Only "Autopay is on" for an account is a statement that it is; an invitation to set it up for an account
    without it is not, so the check passes such a city."""
    with simulator("city-api") as url, ThreadedApp(_advertising_autopay(url)) as forwarder:
        code, output, verdicts = certify("city-api", f"{forwarder.url}/utilities", *SECRET, "-k", "autopay")
    assert code == 0 and verdicts["WID-API-8"] == "PASS", output[-3000:]


@pytest.mark.req("H-CON-1", "H-SIM-2")
def test_the_suite_fails_when_the_endpoint_errors():
    with simulator("city-api") as url:
        fault = {"kind": "error", "status": 503, "path": "/utilities/v1/content"}
        assert requests.post(f"{url}/_sim/faults", json=fault, timeout=10).status_code == 201
        code, output, verdicts = certify("city-api", f"{url}/utilities", *SECRET, "-k", "content")
    assert code == 1 and verdicts["WID-API-2"] == "FAIL", output[-3000:]
