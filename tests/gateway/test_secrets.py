"""Secrets are never returned, never logged and never journalled: an integration's password, a widget's signing
secret, the admin token, a citizen's password and bearer token, an account's verification value — after they
have all been used, a grep of every answer, every log record (DEBUG and up) and every simulator journal finds
none of them."""

from __future__ import annotations

import json
import logging

import aiohttp
import pytest

from conformance.gateway.client import city_geojson
from harness.bundled import simulator_config
from harness.stack import Stack

from .conftest import ADMIN_TOKEN, start_gateway

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
                signed_up = await call(
                    "POST", f"{g.url}/portal/v1/citizens", json={"email": "ana@example.org", "password": PASSWORD}
                )
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
