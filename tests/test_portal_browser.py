"""The citizen dashboard and the admin preview in a real browser (Debian's Chromium, driven by Playwright):
a person signs in through the form, sees their linked utility account (items, a table, an inline SVG chart),
a fixed widget, a city HTML widget whose hostile markup does nothing, and follows "more" to the expanded view.
No dialog opens, no console error, nothing the page asks for is refused by its Content-Security-Policy."""

from __future__ import annotations

import os
import shutil
from collections.abc import AsyncIterator
from typing import Any

import aiohttp
import pytest

from conformance.gateway.client import sign_up
from conformance.gateway.helpers import sim
from gateway.settings import Settings
from harness.bundled import simulator_config
from harness.stack import Stack

CHROMIUM = shutil.which("chromium") or shutil.which("chromium-browser")
ADMIN = "browser-admin-token-0123456789"
SECRET = "harness-widget-secret"
HOSTILE = (
    '<p>Town hall on Tuesday</p><script>alert("xss")</script><img src=x onerror="alert(1)">'
    '<a href="javascript:alert(2)">click</a><p onclick="alert(3)">Budget survey open</p>'
)

pytestmark = pytest.mark.skipif(
    CHROMIUM is None and not os.environ.get("CI"),
    reason="Chromium is not installed (.ci/run installs Debian's chromium; apt-get install chromium)",
)


@pytest.fixture
async def portal(tmp_path: Any) -> AsyncIterator[dict[str, Any]]:
    settings = Settings(
        database_url=f"sqlite:///{tmp_path / 'g.db'}", admin_token=ADMIN, scheduler_tick_s=0, widget_allow_only=True
    )
    async with (
        Stack({"city-api": simulator_config("city-api", seed=3)}, gateway=settings) as stack,
        aiohttp.ClientSession(headers={"Authorization": f"Bearer {ADMIN}"}) as admin,
    ):
        gw, city = stack.url("gateway"), stack.url("city-api")

        async def make(path: str, body: dict[str, Any]) -> dict[str, Any]:
            async with admin.post(f"{gw}/admin/v1{path}", json=body) as resp:
                answer = await resp.json()
                assert resp.status == 201, answer
                return answer

        link = await make("/link-accounts", {"name": "Utility account", "kind": "account"})
        common = {"secret": SECRET, "published": True}
        utilities = await make(
            "/widgets",
            {
                "name": "Utilities",
                "endpoint": f"{city}/utilities",
                "key_id": "utilities",
                "link_account_id": link["id"],
                "colour": "#0B5FFF",
                "layout": {"template": "table", "key_width": 35, "value_width": 65, "dashboard_items": 2},
                "texts": {"dashboard": "Your latest utility bill"},
                **common,
            },
        )
        await make(
            "/widgets",
            {"name": "Programs", "endpoint": f"{city}/programs", "key_id": "programs", "fixed": True, **common},
        )
        await make(
            "/widgets",
            {"name": "Engagement", "type": "html", "endpoint": f"{city}/engagement", "key_id": "engagement", **common},
        )
        await sim(admin, city, "set-html", html=HOSTILE)
        usage = [["2026-07", 3100], ["2026-08", 4200], ["2026-09", 2900]]
        await sim(admin, city, "create-account", account_number="UT-4242-0042", verification="424242", usage=usage)
        await sim(admin, city, "issue-bill", account_number="UT-4242-0042", amount="61.20")
        ana = {"email": "ana@example.org", "password": "a long password", "name": "Ana"}
        token = (await sign_up(admin, gw, ADMIN, ana))["token"]  # sign-up, the mailed code, confirm
        async with admin.post(
            f"{gw}/portal/v1/widgets/{utilities['id']}/links",
            json={"account_number": "UT-4242-0042", "verification": "424242"},
            headers={"Authorization": f"Bearer {token}"},
        ) as resp:
            assert resp.status == 201, await resp.text()
        yield {"gateway": gw, "utilities": utilities}


@pytest.mark.req("WID-2", "WID-4", "WID-10", "WID-11", "WID-12", "WID-14")
async def test_a_citizen_reads_their_dashboard_in_chromium(portal):
    from playwright.async_api import async_playwright

    assert CHROMIUM is not None, "CI installs Chromium: .ci/run"
    problems: list[str] = []
    async with async_playwright() as p:
        browser = await p.chromium.launch(executable_path=CHROMIUM, args=["--no-sandbox"])
        page = await browser.new_page()
        page.on("dialog", lambda d: problems.append(f"dialog: {d.message}"))
        page.on("console", lambda m: problems.append(f"console {m.type}: {m.text}") if m.type == "error" else None)
        page.on("pageerror", lambda e: problems.append(f"page error: {e}"))
        await page.goto(f"{portal['gateway']}/portal/dashboard")
        assert page.url.endswith("/portal/sign-in"), "signed out, the dashboard sends the browser to sign in"
        await page.fill("#email", "ana@example.org")
        await page.fill("#password", "a long password")
        await page.click("button[type=submit]")
        await page.wait_for_url("**/portal/dashboard")
        text = await page.inner_text("main")
        assert "Your utility account" in text and "Your latest utility bill" in text
        assert "Balance due" in text, text
        assert "Programs and recreation" in text and await page.is_visible(".fixed")
        assert "Town hall on Tuesday" in text and "Budget survey open" in text
        utilities = page.locator(f"[data-widget='{portal['utilities']['id']}']")
        assert await utilities.locator("tr.item").count() == 2, "two dashboard items (WID-11)"
        widths = await utilities.locator("table.items col").evaluate_all("cols => cols.map(c => c.style.width)")
        assert widths == ["35%", "65%"]
        assert await page.locator("script").count() == 0 and await page.locator("[onclick], [onerror]").count() == 0
        await utilities.locator("p.more a").click()
        await page.wait_for_url("**view=expanded**")
        expanded = page.locator(f"[data-widget='{portal['utilities']['id']}']")
        assert await expanded.locator("tr.item").count() > 2, "the expanded view shows every item"
        assert await expanded.locator("figure.chart svg rect").count() > 0, "the water-use chart as inline SVG"
        assert await expanded.locator("table.block-table tbody tr").count() > 0, "the bills table"
        await page.screenshot(path=os.path.join(os.environ.get("TMPDIR", "/tmp"), "civic-harness-dashboard.png"))
        await browser.close()
    assert problems == [], problems


@pytest.mark.req("WID-9")
async def test_an_administrator_previews_a_widget_in_chromium(portal):
    from playwright.async_api import async_playwright

    assert CHROMIUM is not None, "CI installs Chromium: .ci/run"
    async with async_playwright() as p:
        browser = await p.chromium.launch(executable_path=CHROMIUM, args=["--no-sandbox"])
        context = await browser.new_context(extra_http_headers={"Authorization": f"Bearer {ADMIN}"})
        page = await context.new_page()
        response = await page.goto(
            f"{portal['gateway']}/admin/v1/widgets/{portal['utilities']['id']}/preview?view=dashboard"
        )
        assert response is not None and response.status == 200
        text = await page.inner_text("body")
        assert "Preview: Utilities" in text
        # the Test API's own citizen has linked nothing: the preview shows what an unlinked citizen sees
        assert await page.locator(".state-not_linked").count() == 1
        await browser.close()
