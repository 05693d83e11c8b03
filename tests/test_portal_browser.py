"""The citizen dashboard and the admin preview in a real browser (Debian's Chromium, driven by Playwright):
a person signs in through the form, sees their linked utility account (items, a table, an inline SVG chart),
a fixed widget, a city HTML widget whose hostile markup does nothing, and follows "more" to the expanded view.
No dialog opens, no console error, nothing the page asks for is refused by its Content-Security-Policy.

And the pages are fit to show a city (H-UI-1): at 1280 and 390 px nothing is wider than the viewport and no
table is cut off, one widget is expanded at a time, money and dates read as people write them, empty tables
and charts say so, "Sign out" ends the session on the server. Screenshots of every page at both widths go to
reports/screenshots (CI keeps reports/ as artefacts)."""

from __future__ import annotations

import os
import re
import shutil
from collections.abc import AsyncIterator
from pathlib import Path
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

SCREENSHOTS = Path(
    os.environ.get("PORTAL_SCREENSHOTS", Path(__file__).resolve().parents[1] / "reports" / "screenshots")
)
WIDTHS = ((1280, 900), (390, 844))
ISO_DATE = re.compile(r"\b\d{4}-\d{2}-\d{2}\b")
# What sticks out: the page wider than the window, a card or the page header past its edge, or a card (or a
# table's scroll box) whose content is wider than itself, i.e. cut off or behind a scroll bar.
OVERFLOW = """() => {
  const vw = window.innerWidth, out = [];
  const page = document.documentElement.scrollWidth;
  if (page > vw) out.push(`the page is ${page} px wide in a ${vw} px window`);
  for (const el of document.querySelectorAll("section.widget, header.page, .scroll, main")) {
    const r = el.getBoundingClientRect();
    const name = el.dataset.widget ? `widget ${el.dataset.widget}` : el.className || el.tagName;
    if (r.left < -0.5 || r.right > vw + 0.5) out.push(`${name} spans ${r.left}..${r.right} of ${vw} px`);
    if (el.scrollWidth > el.clientWidth + 1)
      out.push(`${name} cuts off its content: ${el.scrollWidth} > ${el.clientWidth} px`);
  }
  return out;
}"""

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
        yield {"gateway": gw, "utilities": utilities, "city": city, "admin": admin}


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
        await page.wait_for_url(f"**expand={portal['utilities']['id']}**")
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


async def _sign_in(page: Any, gateway: str, email: str, password: str) -> None:
    await page.goto(f"{gateway}/portal/sign-in")
    await page.fill("#email", email)
    await page.fill("#password", password)
    await page.click("button[type=submit]")
    await page.wait_for_url("**/portal/dashboard")


async def _link(admin: Any, gateway: str, widget: int, token: str, number: str, verification: str) -> None:
    """The citizen (by `token`) links a city account to the widget through the portal API."""
    async with admin.post(
        f"{gateway}/portal/v1/widgets/{widget}/links",
        json={"account_number": number, "verification": verification},
        headers={"Authorization": f"Bearer {token}"},
    ) as resp:
        assert resp.status == 201, await resp.text()


async def _shot(page: Any, name: str) -> None:
    """A full-page screenshot (playwright makes the folder)."""
    await page.screenshot(path=str(SCREENSHOTS / f"{name}.png"), full_page=True)


@pytest.mark.req("H-UI-1", "WID-11", "WID-12")
async def test_every_page_fits_a_desktop_and_a_phone(portal):
    """The sign-in page (and its error), the dashboard and each widget expanded, at 1280 and 390 px: nothing
    overflows, at most one widget expanded, money and dates formatted, the failed sign-in keeps the e-mail."""
    from playwright.async_api import async_playwright

    assert CHROMIUM is not None, "CI installs Chromium: .ci/run"
    gw, util = portal["gateway"], portal["utilities"]["id"]
    # the engagement widget's HTML opens with the card's own title, as the reference city's does
    await sim(
        portal["admin"], portal["city"], "set-html", html="<section><h3>Get involved</h3><p>Town hall</p></section>"
    )
    async with async_playwright() as p:
        browser = await p.chromium.launch(executable_path=CHROMIUM, args=["--no-sandbox"])
        for width, height in WIDTHS:
            page = await browser.new_page(viewport={"width": width, "height": height})
            await page.goto(f"{gw}/portal/sign-in")
            assert await page.evaluate(OVERFLOW) == [], f"sign-in at {width} px"
            await page.fill("#email", "ana@example.org")
            await page.fill("#password", "not her password")
            await page.click("button[type=submit]")
            assert "do not match" in await page.inner_text("[role=alert]")
            assert await page.input_value("#email") == "ana@example.org", "the failed sign-in keeps the e-mail"
            assert await page.input_value("#password") == ""
            await _shot(page, f"sign-in-error-{width}")
            await _sign_in(page, gw, "ana@example.org", "a long password")
            ids = await page.locator("section.widget").evaluate_all("els => els.map(e => e.dataset.widget)")
            for expand in [None, *ids]:
                await page.goto(f"{gw}/portal/dashboard" + (f"?expand={expand}" if expand else ""))
                where = f"dashboard at {width} px" + (f", widget {expand} expanded" if expand else "")
                await _shot(page, f"dashboard-{width}" + (f"-expand-{expand}" if expand else ""))
                assert await page.evaluate(OVERFLOW) == [], where
                expanded = await page.locator("section.widget[data-view=expanded]").evaluate_all(
                    "els => els.map(e => e.dataset.widget)"
                )
                assert expanded == ([expand] if expand else []), (where, expanded)
                text = await page.inner_text("main")
                assert ISO_DATE.search(text) is None, (where, ISO_DATE.search(text))
                assert "USD " not in text, where
                involved = await page.locator("section.widget", has_text="Town hall").all_inner_texts()
                assert involved and all(t.count("Get involved") == 1 for t in involved), (where, involved)
            # the utility bill: money with its sign, the due date and the bills' periods as people write them
            await page.goto(f"{gw}/portal/dashboard?expand={util}")
            card = page.locator(f"[data-widget='{util}']")
            bills = await card.locator("table.block-table").inner_text()
            assert "$61.20" in bills and re.search(r"\b\d{1,2} [A-Z][a-z]{2} \d{4}\b", bills), bills
            assert (
                "Show less" in await card.inner_text()
                and await page.locator("a.toggle", has_text="Show all").count() >= 1
            )
            await page.close()
        await browser.close()


@pytest.mark.req("H-UI-1", "H-AUTH-2")
async def test_sign_out_ends_the_session(portal):
    """Sign out (a form with its CSRF token) clears the session on the server: the old cookie no longer opens
    the dashboard; a sign-out posted without the form's token changes nothing."""
    from playwright.async_api import async_playwright

    assert CHROMIUM is not None, "CI installs Chromium: .ci/run"
    gw = portal["gateway"]
    async with async_playwright() as p:
        browser = await p.chromium.launch(executable_path=CHROMIUM, args=["--no-sandbox"])
        context = await browser.new_context(viewport={"width": 390, "height": 844})
        page = await context.new_page()
        await _sign_in(page, gw, "ana@example.org", "a long password")
        session = next(c for c in await context.cookies() if c["name"] == "civic_portal")
        # a forged sign-out (no form token) is refused and the session stays
        old_cookie = {"Cookie": f"civic_portal={session['value']}"}
        async with (
            aiohttp.ClientSession() as other,
            other.post(f"{gw}/portal/sign-out", data={}, headers=old_cookie, allow_redirects=False) as resp,
        ):
            assert resp.status == 403
        await page.reload()
        assert page.url.endswith("/portal/dashboard")
        await page.click("form.sign-out button")
        await page.wait_for_url("**/portal/sign-in")
        assert not [c for c in await context.cookies() if c["name"] == "civic_portal"], "the cookie is dropped"
        await _shot(page, "signed-out-390")
        # the old cookie, sent again, opens nothing: the token is gone on the server
        async with (
            aiohttp.ClientSession() as stale,
            stale.get(f"{gw}/portal/dashboard", headers=old_cookie, allow_redirects=False) as resp,
        ):
            assert resp.status == 303 and resp.headers["Location"] == "/portal/sign-in"
        await browser.close()


@pytest.mark.req("H-UI-1", "WID-12")
async def test_empty_tables_and_charts_say_so(portal):
    """A linked account with no bills and no water use: the page says so in words, at both widths."""
    from playwright.async_api import async_playwright

    assert CHROMIUM is not None, "CI installs Chromium: .ci/run"
    gw, util, admin = portal["gateway"], portal["utilities"]["id"], portal["admin"]
    await sim(admin, portal["city"], "create-account", account_number="UT-0000-0007", verification="777777")
    bo = {"email": "bo@example.org", "password": "another long password", "name": "Bo"}
    token = (await sign_up(admin, gw, ADMIN, bo))["token"]
    await _link(admin, gw, util, token, "UT-0000-0007", "777777")
    async with async_playwright() as p:
        browser = await p.chromium.launch(executable_path=CHROMIUM, args=["--no-sandbox"])
        for width, height in WIDTHS:
            page = await browser.new_page(viewport={"width": width, "height": height})
            await _sign_in(page, gw, bo["email"], bo["password"])
            await page.goto(f"{gw}/portal/dashboard?expand={util}")
            await _shot(page, f"dashboard-empty-{width}")
            card = page.locator(f"[data-widget='{util}']")
            empty = await card.locator(".block-empty").all_inner_texts()
            assert any("Bills" in e and "nothing to show yet" in e for e in empty), empty
            assert any("Water use" in e and "no data to chart yet" in e for e in empty), empty
            assert await card.locator("table.block-table").count() == 0 and await card.locator("svg").count() == 0
            assert await page.evaluate(OVERFLOW) == []
            await page.close()
        await browser.close()


@pytest.mark.req("H-UI-1", "WID-11")
async def test_several_accounts_show_grouped_and_a_long_list_in_pages(portal):
    """A citizen with two linked utility accounts sees each account's items under its own heading, and forty
    bills come 25 to a page with Previous / Next instead of a 4,000 px card on a phone."""
    from playwright.async_api import async_playwright

    assert CHROMIUM is not None, "CI installs Chromium: .ci/run"
    gw, util, admin, city = portal["gateway"], portal["utilities"]["id"], portal["admin"], portal["city"]
    await sim(admin, city, "create-account", account_number="UT-5555-0099", verification="999999")
    for n in range(40):
        period = f"{2023 + n // 12}-{n % 12 + 1:02d}"
        await sim(admin, city, "issue-bill", account_number="UT-5555-0099", amount="10.00", period=period)
    token = (await sign_up(admin, gw, ADMIN, {"email": "cy@example.org", "password": "yet another password"}))["token"]
    for number, code in (("UT-4242-0042", "424242"), ("UT-5555-0099", "999999")):
        await _link(admin, gw, util, token, number, code)
    async with async_playwright() as p:
        browser = await p.chromium.launch(executable_path=CHROMIUM, args=["--no-sandbox"])
        for width, height in WIDTHS:
            page = await browser.new_page(viewport={"width": width, "height": height})
            await _sign_in(page, gw, "cy@example.org", "yet another password")
            await page.goto(f"{gw}/portal/dashboard?expand={util}")
            card = page.locator(f"[data-widget='{util}']")
            groups = await card.locator("h3.group").all_inner_texts()
            assert groups == ["Account ••••0042", "Account ••••0099"], groups
            rows = await card.locator("table.block-table tbody tr").count()
            assert rows == 1 + 25, "the first account's one bill and a page of the other's 40"
            assert "Page 1 of 2" in await card.locator("nav.pages").inner_text()
            assert await page.evaluate(OVERFLOW) == []
            await _shot(page, f"dashboard-accounts-{width}")
            await card.locator("nav.pages a[rel=next]").click()
            await page.wait_for_url("**page=2*")
            card = page.locator(f"[data-widget='{util}']")
            assert await card.locator("table.block-table tbody tr").count() == 15
            assert "Page 2 of 2" in await card.locator("nav.pages").inner_text()
            assert await card.locator("nav.pages a[rel=next]").count() == 0
            assert await page.evaluate(OVERFLOW) == []
            await page.close()
        await browser.close()
