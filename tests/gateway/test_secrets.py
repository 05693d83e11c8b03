"""Secrets are never returned, never logged and never journalled: an integration's password, a widget's signing
secret, the admin token, a citizen's password and bearer token, an account's verification value — after they
have all been used, a grep of every answer, every log record (DEBUG and up) and every simulator journal finds
none of them."""

from __future__ import annotations

import json
import logging

import aiohttp
import pytest

from conformance.gateway.client import CONFIRMATION_CODE, city_geojson
from harness.bundled import simulator_config
from harness.stack import Stack

from .conftest import ADMIN_TOKEN, Gateway, start_gateway

INTEGRATION_SECRET = "Int3gration-Secr3t-7q"
WIDGET_SECRET = "W1dget-Signing-Secr3t-9z"
PASSWORD = "Citizen-Passw0rd-4k"
VERIFICATION = "V3rify-771"


class Everything(logging.Handler):
    def __init__(self) -> None:
        super().__init__(logging.DEBUG)
        self.lines: list[str] = []

    def emit(self, record: logging.LogRecord) -> None:
        self.lines.append(self.format(record) + repr(record.args))


@pytest.mark.req("WID-3", "OG-RQR-4", "H-REL-3")
async def test_no_secret_in_any_answer_log_line_or_journal(tmp_path):
    handler = Everything()
    root = logging.getLogger()
    root.addHandler(handler)
    level, root.level = root.level, logging.DEBUG
    # Whatever ran before in this process may have disabled loggers (a dictConfig elsewhere): hear them all.
    disabled = [lg for lg in logging.root.manager.loggerDict.values() if getattr(lg, "disabled", False)]
    for lg in disabled:
        lg.disabled = False
    was_disabled = logging.root.manager.disable
    logging.disable(logging.NOTSET)
    seen: list[str] = []
    try:
        configs = {"cityworks": simulator_config("cityworks", seed=2), "city-api": simulator_config("city-api", seed=3)}
        async with Stack(configs) as sims, aiohttp.ClientSession() as http:
            cw, city = sims.url("cityworks"), sims.url("city-api")
            async for g in start_gateway(f"sqlite:///{tmp_path / 'g.db'}", widget_allow=(city.split("//")[1],)):

                async def call(method: str, url: str, **kwargs) -> dict:
                    async with http.request(method, url, **kwargs) as resp:
                        text = await resp.text()
                        seen.append(f"{resp.status} {dict(resp.headers)} {text}")
                        return json.loads(text) if text and resp.content_type == "application/json" else {}

                admin = {"Authorization": f"Bearer {ADMIN_TOKEN}"}
                base = f"{g.url}/admin/v1"
                integration = await call(
                    "POST",
                    f"{base}/integrations",
                    headers=admin,
                    json={"name": "CW", "vendor": "cityworks", "version": "23", "base_url": cw, "username": "harness",
                          "secret": INTEGRATION_SECRET},
                )  # fmt: skip
                await call(
                    "POST", f"{base}/jobs/category_sync/run", headers=admin, json={"integration_id": integration["id"]}
                )
                await call("GET", f"{base}/integrations/{integration['id']}", headers=admin)
                form = aiohttp.FormData()
                form.add_field("name", "City")
                form.add_field("file", city_geojson(), filename="c.geojson")
                await call("POST", f"{base}/geographies", headers=admin, data=form)
                link = await call("POST", f"{base}/link-accounts", headers=admin, json={"name": "U", "kind": "account"})
                widget = await call(
                    "POST",
                    f"{base}/widgets",
                    headers=admin,
                    json={"name": "Utilities", "endpoint": f"{city}/utilities", "key_id": "utilities",
                          "secret": WIDGET_SECRET, "published": True, "link_account_id": link["id"]},
                )  # fmt: skip
                await call("POST", f"{base}/widgets/{widget['id']}/test", headers=admin, json={})
                await call("GET", f"{base}/widgets", headers=admin)
                await call(
                    "POST", f"{g.url}/portal/v1/citizens", json={"email": "ana@example.org", "password": PASSWORD}
                )
                mailed = await call("GET", f"{base}/mail", headers=admin, params={"to": "ana@example.org"})
                code = CONFIRMATION_CODE.search(mailed["items"][0]["body"]).group(1)
                signed_up = await call("POST", f"{g.url}/portal/v1/citizens/confirm", json={"code": code})
                token = signed_up["token"]  # handed over once, in this answer; never again
                after_sign_up = len(seen)
                portal = {"Authorization": f"Bearer {token}"}
                await call(
                    "POST",
                    f"{g.url}/portal/v1/widgets/{widget['id']}/links",
                    headers=portal,
                    json={"account_number": "UT-1", "verification": VERIFICATION},
                )
                await call("GET", f"{g.url}/portal/v1/dashboard", headers=portal)
                await call(
                    "POST", f"{g.url}/portal/v1/sessions", json={"email": "ana@example.org", "password": "wrong-one"}
                )
                for sim in (cw, city):
                    await call("GET", f"{sim}/_sim/journal", params={"limit": "10000"})
                for secret in (INTEGRATION_SECRET, WIDGET_SECRET, PASSWORD, VERIFICATION):
                    assert not any(secret in line for line in seen), f"a secret in an answer or a journal: {secret}"
                for secret in (INTEGRATION_SECRET, WIDGET_SECRET, PASSWORD, VERIFICATION, token, ADMIN_TOKEN):
                    assert not any(secret in line for line in handler.lines), f"a secret in a log line: {secret}"
                assert not any(token in line for line in seen[after_sign_up:]), "the bearer token came back"
                assert not any(ADMIN_TOKEN in line for line in seen), "the admin token came back"
                assert any("Running upgrade" in line for line in handler.lines), (
                    "the log was heard (else this proves nothing)"
                )
    finally:
        root.removeHandler(handler)
        root.level = level
        logging.disable(was_disabled)
        for lg in disabled:
            lg.disabled = True


# A secret as a client might get it wrong: too short, too long, of the wrong type, or pasted into a field with
# a pattern or a list of values. The marker is what must never come back; the quote and backslash make its
# JSON-escaped form differ from the raw one.
MARK = 'Zq7"Secr3t\\'
SHORT = "SHORTSEC-9" + MARK[:5]  # 15 characters: one short of a widget secret's 16
WRONG = [
    ("too-short", SHORT),
    ("too-long", MARK * 300),
    ("a-number", 7391846203),
    ("an-object", {"value": MARK}),
    ("a-list", [MARK]),
]


def leaks(text: str, value: object) -> list[str]:
    """The forms of the value (or the marker it carries) found in an answer."""
    forms = {MARK, json.dumps(MARK)[1:-1], "SHORTSEC-9", json.dumps(value)}
    if isinstance(value, str):
        forms |= {value[:40], json.dumps(value)[1:41]}
    if isinstance(value, int):
        forms.add(str(value))
    return [f for f in forms if f in text]


async def signed_up(g: Gateway, email: str, password: str) -> dict:
    """A new citizen's session: from sign-up itself, or through the client's confirming sign-up where there is one."""
    if hasattr(g, "sign_up"):
        return await g.sign_up({"email": email, "password": password})
    async with g.http.post(f"{g.url}/portal/v1/citizens", json={"email": email, "password": password}) as resp:
        assert resp.status == 201, await resp.text()
        return await resp.json()


@pytest.mark.req("H-REL-3", "WID-3")
async def test_a_refused_secret_is_never_quoted_back(tmp_path):
    async for g in start_gateway(f"sqlite:///{tmp_path / 'g.db'}"):
        admin = {"Authorization": f"Bearer {ADMIN_TOKEN}"}

        async def answer(method: str, path: str, body: dict, headers: dict, g: Gateway = g) -> tuple[int, str]:
            async with g.http.request(method, g.url + path, json=body, headers=headers) as resp:
                return resp.status, await resp.text()

        async def ok(method: str, path: str, body: dict, headers: dict) -> dict:
            status, text = await answer(method, path, body, headers)
            assert status in (200, 201), text
            return json.loads(text)

        integration = await ok("POST", "/admin/v1/integrations", {"name": "I", "vendor": "none"}, admin)
        link = await ok("POST", "/admin/v1/link-accounts", {"name": "U", "kind": "account"}, admin)
        widget = await ok(
            "POST",
            "/admin/v1/widgets",
            {"name": "W", "endpoint": "https://city.example.org/w", "key_id": "w", "secret": "S" * 24,
             "published": True, "link_account_id": link["id"]},
            admin,
        )  # fmt: skip
        session = await signed_up(g, "ana@example.org", "long-enough")
        citizen = {"Authorization": f"Bearer {session['token']}"}
        i, w = integration["id"], widget["id"]
        places = [
            ("POST", "/admin/v1/integrations", lambda v: {"name": "J", "vendor": "none", "secret": v}, admin),
            ("PATCH", f"/admin/v1/integrations/{i}", lambda v: {"secret": v}, admin),
            ("POST", "/admin/v1/widgets", lambda v: {"name": "X", "secret": v}, admin),
            ("PATCH", f"/admin/v1/widgets/{w}", lambda v: {"secret": v}, admin),
            ("POST", f"/admin/v1/widgets/{w}/test", lambda v: {"account_number": "A-1", "verification": v}, admin),
            ("POST", "/portal/v1/citizens", lambda v: {"email": "bo@example.org", "password": v}, {}),
            ("POST", "/portal/v1/sessions", lambda v: {"email": "ana@example.org", "password": v}, {}),
            ("POST", f"/portal/v1/widgets/{w}/links", lambda v: {"account_number": "A-1", "verification": v}, citizen),
            # pasted into the wrong field: one with a list of values, one with a pattern
            ("POST", "/admin/v1/integrations", lambda v: {"name": "J", "vendor": v}, admin),
            ("POST", "/admin/v1/widgets", lambda v: {"name": "X", "key_id": v}, admin),
        ]
        refused, leaked = 0, []
        for method, path, make, headers in places:
            for what, value in WRONG:
                status, text = await answer(method, path, make(value), headers)
                if status < 400:
                    continue  # e.g. a 15-character password is long enough for sign-up: nothing refused here
                refused += 1
                assert status != 500, (method, path, what, text)  # 502: the (absent) city, for a valid value
                if leaks(text, value):
                    leaked.append(f"{method} {path} {what}: {text[:200]}")
        assert not leaked, "\n".join(leaked)
        assert refused >= 40, refused  # the refusals are the point: most cases must be refused
