"""Citizen Portal integration widgets through the gateway (WID-1..16): set up through the admin API, used as
citizens through `/portal/v1`, with the city widget API simulator as the city (its operator actions change
the city's data) and its journal as the witness of what the gateway sent."""

from __future__ import annotations

import json
import re
import secrets
from typing import Any

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from harness.sim_control import SimControl

from .client import Gateway
from .helpers import sim

SECRET = "harness-widget-secret"  # the city API simulator's default signing secret
pytestmark = pytest.mark.usefixtures("city_api")


def tag() -> str:
    return secrets.token_hex(4)


async def widget(g: Gateway, city: str, domain: str, **fields: Any) -> dict[str, Any]:
    body = {
        "name": f"{domain} {tag()}",
        "endpoint": f"{city}/{domain}",
        "key_id": domain,
        "secret": SECRET,
        "published": True,
        **fields,
    }
    status, created = await g.admin("POST", "/widgets", json=body)
    assert status == 201, created
    return created


async def link_account(g: Gateway, kind: str = "account") -> int:
    return (await g.ok("POST", "/link-accounts", json={"name": f"{kind} {tag()}", "kind": kind}))["id"]


class Citizen:
    def __init__(self, g: Gateway, token: str) -> None:
        self.g, self.headers = g, {"Authorization": f"Bearer {token}"}

    async def call(self, method: str, path: str, **kwargs: Any) -> tuple[int, Any]:
        async with self.g.http.request(method, f"{self.g.url}/portal/v1{path}", headers=self.headers, **kwargs) as r:
            text = await r.text()
            return r.status, (json.loads(text) if text and r.content_type == "application/json" else text)

    async def view(self, widget_id: int, view: str = "dashboard") -> dict[str, Any]:
        status, body = await self.call("GET", f"/widgets/{widget_id}", params={"view": view})
        assert status == 200, body
        return body

    async def page(self, view: str = "dashboard") -> str:
        """The dashboard as a person's browser gets it."""
        url = f"{self.g.url}/portal/dashboard"
        async with self.g.http.get(url, params={"view": view}, headers=self.headers, allow_redirects=False) as r:
            assert r.status == 200, await r.text()
            return await r.text()

    async def dashboard_ids(self) -> list[int]:
        status, body = await self.call("GET", "/dashboard")
        assert status == 200, body
        return [w["widget"]["id"] for w in body["widgets"]]


async def citizen(g: Gateway) -> Citizen:
    body = {"email": f"ana.{tag()}@example.org", "password": "correct horse battery", "name": "Ana"}
    answer = await g.sign_up(body)  # POST /portal/v1/citizens, the mailed code, /citizens/confirm
    return Citizen(g, answer["token"])


async def new_account(g: Gateway, city: str, **extra: Any) -> tuple[str, str]:
    number, pin = f"UT-T{secrets.randbelow(10**8):08d}", f"{secrets.randbelow(10**6):06d}"
    await sim(g.http, city, "create-account", account_number=number, verification=pin, **extra)
    return number, pin


async def journal(g: Gateway, city: str, path: str) -> list[dict[str, Any]]:
    return (await SimControl(g.http, city).journal(path=path, limit=1000))["entries"]


# -- admin: the widget itself ------------------------------------------------------------------------


@pytest.mark.req("WID-1", "WID-16", "WID-4")
async def test_widgets_are_managed_and_only_published_ones_reach_citizens(gw, city_api):
    g = gw
    w = await widget(g, city_api, "jobs", published=False)
    assert w["type"] == "formatted" and w["has_secret"] and "secret" not in w  # WID-4 default; write-only secret
    ana = await citizen(g)
    assert w["id"] not in await ana.dashboard_ids()
    status, _ = await ana.call("GET", f"/widgets/{w['id']}")
    assert status == 404, "an unpublished widget does not exist for citizens"
    await g.ok("PATCH", f"/widgets/{w['id']}", json={"published": True})
    assert w["id"] in await ana.dashboard_ids()
    shown = await ana.view(w["id"])
    assert shown["state"] == "ok" and shown["items"], shown
    listed = (await g.ok("GET", "/widgets"))["items"]
    assert any(x["id"] == w["id"] and x["version"] == 2 for x in listed)
    assert (await g.admin("DELETE", f"/widgets/{w['id']}"))[0] == 204
    assert w["id"] not in await ana.dashboard_ids()


@pytest.mark.req("WID-5")
async def test_names_are_required_and_unique_and_fixed_widgets_stay(gw, city_api):
    g = gw
    status, body = await g.admin("POST", "/widgets", json={"colour": "#112233"})
    assert status == 422 and body["error"]["field"] == "name", body
    fixed = await widget(g, city_api, "programs", fixed=True)
    status, body = await g.admin("POST", "/widgets", json={"name": fixed["name"]})
    assert status == 409, body
    loose = await widget(g, city_api, "volunteer")
    ana = await citizen(g)
    status, body = await ana.call("DELETE", f"/dashboard/widgets/{fixed['id']}")
    assert status == 409 and body["error"]["code"] == "fixed_widget", body
    assert (await ana.call("DELETE", f"/dashboard/widgets/{loose['id']}"))[0] == 204
    ids = await ana.dashboard_ids()
    assert fixed["id"] in ids and loose["id"] not in ids
    assert (await ana.call("PUT", f"/dashboard/widgets/{loose['id']}"))[0] == 204
    assert loose["id"] in await ana.dashboard_ids()


@pytest.mark.req("WID-6")
@settings(max_examples=40, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(colour=st.one_of(st.from_regex(r"\A#[0-9A-Fa-f]{6}\Z"), st.text(max_size=12)))
async def test_colours_are_hex_codes(gw, colour):
    valid = re.fullmatch(r"#[0-9A-Fa-f]{6}", colour) is not None
    status, body = await gw.admin("POST", "/widgets", json={"name": f"colour {tag()}", "colour": colour})
    if valid:
        assert status == 201, body
        assert body["colour"] == colour
    else:
        assert status == 422 and body["error"]["field"] == "colour", body


SAFE_SVG = '<svg xmlns="http://www.w3.org/2000/svg" viewBox="0 0 24 24"><path d="M4 4h16v16H4z" fill="#123"/></svg>'
HOSTILE_SVGS = [
    '<svg xmlns="http://www.w3.org/2000/svg"><script>alert(1)</script></svg>',
    '<svg xmlns="http://www.w3.org/2000/svg" onload="alert(1)"><path d="M0 0"/></svg>',
    '<svg xmlns="http://www.w3.org/2000/svg"><a href="javascript:alert(1)"><path d="M0 0"/></a></svg>',
    '<svg xmlns="http://www.w3.org/2000/svg" xmlns:xlink="http://www.w3.org/1999/xlink">'
    '<image xlink:href="https://evil.example/x.png"/></svg>',
    '<svg xmlns="http://www.w3.org/2000/svg"><path style="fill:url(https://evil.example/p)" d="M0 0"/></svg>',
    '<svg xmlns="http://www.w3.org/2000/svg"><foreignObject><body xmlns="http://www.w3.org/1999/xhtml"/>'
    "</foreignObject></svg>",
    '<!DOCTYPE svg [<!ENTITY x "y">]><svg xmlns="http://www.w3.org/2000/svg">&x;</svg>',
    '<svg xmlns="http://www.w3.org/2000/svg"><style>@import url(https://evil.example/s.css);</style></svg>',
    "<html><body>not an svg</body></html>",
    '<svg xmlns="http://www.w3.org/2000/svg"><path d="' + "M0 0 " * 1200 + '"/></svg>',  # over 5 KB
]


@pytest.mark.req("WID-7")
@settings(max_examples=30, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(hostile=st.sampled_from(HOSTILE_SVGS), case=st.sampled_from([str, str.upper]))
async def test_icons_are_library_icons_or_clean_small_svgs(gw, hostile, case):
    ok = await gw.admin("POST", "/widgets", json={"name": f"icon {tag()}", "icon": {"svg": SAFE_SVG}})
    assert ok[0] == 201, ok
    assert (await gw.admin("POST", "/widgets", json={"name": f"lib {tag()}", "icon": {"library": "droplet"}}))[0] == 201
    svg = hostile if case is str else re.sub(r"(on)load|script|javascript", lambda m: m.group(0).upper(), hostile)
    before = len((await gw.ok("GET", "/widgets"))["items"])
    status, body = await gw.admin("POST", "/widgets", json={"name": f"bad icon {tag()}", "icon": {"svg": svg}})
    assert status == 422 and body["error"]["field"].startswith("icon"), (svg, body)
    assert len((await gw.ok("GET", "/widgets"))["items"]) == before, "nothing half-saved"


@pytest.mark.req("WID-8")
async def test_property_dependent_widgets_need_the_address_setup(gw, city_api):
    g = gw
    await g.ok("PUT", "/address-setup", json={"complete": False})
    status, body = await g.admin(
        "POST", "/widgets", json={"name": f"taxes {tag()}", "property_dependent": True, "endpoint": None}
    )
    assert status == 422 and body["error"]["field"] == "property_dependent", body
    made = await sim(g.http, city_api, "create-account", account_number=f"UT-P{tag()}", verification="123456")
    first = {"parcel_id": made["parcel_id"], "address": f"{secrets.randbelow(900) + 100} Test Street"}
    await g.ok(
        "POST", "/addresses", json={"addresses": [{"property_id": first["parcel_id"], "line": first["address"]}]}
    )
    await g.ok("PUT", "/address-setup", json={"complete": True})
    taxes = await widget(g, city_api, "property-taxes", property_dependent=True)
    ana = await citizen(g)
    assert (await ana.view(taxes["id"]))["state"] == "property_required"
    status, body = await ana.call("PATCH", "/me", json={"property_id": "no-such-parcel"})
    assert status == 422 and body["error"]["field"] == "property_id"
    status, me = await ana.call("PATCH", "/me", json={"property_id": first["parcel_id"]})
    assert status == 200 and me["address"]["line"] == first["address"]
    shown = await ana.view(taxes["id"])
    assert shown["state"] == "ok" and shown["items"], shown
    sent = await journal(g, city_api, "/property-taxes/v1/content")
    assert sent[-1]["query"].get("property_id") == first["parcel_id"], sent[-1]


# -- the Test API and the SSRF guard (WID-9) ----------------------------------------------------------


@pytest.mark.req("WID-9")
async def test_the_test_api_diagnoses_an_endpoint(gw, city_api):
    g = gw
    good = await widget(g, city_api, "jobs", published=False)
    report = await g.ok("POST", f"/widgets/{good['id']}/test", json={"view": "expanded"})
    assert report["ok"] and report["reachable"] and report["signature_accepted"], json.dumps(report)[:3000]
    assert report["status"] == 200 and report["violations"] == [] and report["latency_ms"] >= 0
    assert "<section" in report["preview"]["html"] and report["preview"]["model"]["items"]
    wrong = await widget(g, city_api, "jobs", published=False, secret="not-the-city-secret-0000")
    report = await g.ok("POST", f"/widgets/{wrong['id']}/test", json={})
    assert report["reachable"] and report["signature_accepted"] is False and not report["ok"], report
    linking = await widget(g, city_api, "utilities", published=False, link_account_id=await link_account(g))
    number, pin = await new_account(g, city_api)
    report = await g.ok("POST", f"/widgets/{linking['id']}/test", json={"account_number": number, "verification": pin})
    assert report["ok"] and report["state"] == "ok", report
    assert number[-4:] in str(report["preview"]["model"]) or report["preview"]["model"]["items"], report
    # a city answer that breaks the contract: each violation with its JSON path
    await SimControl(g.http, city_api).add_faults({"kind": "malformed", "path": "/jobs/v1/content", "count": 1})
    report = await g.ok("POST", f"/widgets/{good['id']}/test", json={})
    assert not report["ok"] and report["violations"], report
    assert all(v["path"].startswith("content:$") for v in report["violations"]), report["violations"]


@pytest.mark.req("WID-9")
@pytest.mark.parametrize(
    "endpoint, reason",
    [
        ("http://169.254.169.254/latest", "metadata"),
        ("http://10.0.0.1/widget", "private"),
        ("http://127.0.0.1:9/widget", "loopback"),
        ("http://[::1]:9/widget", "loopback"),
        ("http://0.0.0.0:9/widget", "unspecified"),
        ("http://localhost:9/widget", "loopback"),
        ("file:///etc/passwd", None),
    ],
)
async def test_the_test_api_refuses_internal_addresses(gw, endpoint, reason):
    status, created = await gw.admin("POST", "/widgets", json={"name": f"ssrf {tag()}", "endpoint": endpoint})
    if reason is None:
        assert status == 422 and created["error"]["field"] == "endpoint", created
        return
    assert status == 201, created
    report = await gw.ok("POST", f"/widgets/{created['id']}/test", json={})
    assert report["refused"] and reason in report["refused"] and not report["reachable"] and not report["ok"], report


# -- what citizens see ------------------------------------------------------------------------------


@pytest.mark.req("WID-2", "WID-3")
async def test_views_come_signed_from_the_city_per_view(gw, city_api):
    g = gw
    w = await widget(g, city_api, "programs")
    ana = await citizen(g)
    dashboard, expanded = await ana.view(w["id"]), await ana.view(w["id"], "expanded")
    assert dashboard["state"] == expanded["state"] == "ok"
    assert len(expanded["items"]) >= len(dashboard["items"]) and expanded["view"] == "expanded"
    sent = [e for e in await journal(g, city_api, "/programs/v1/content") if e["status"] == 200][-2:]
    assert {e["query"]["view"] for e in sent} == {"dashboard", "expanded"}, sent
    for entry in sent:
        names = {k.lower() for k in entry["headers"]}
        assert {
            "civic-widget-key-id",
            "civic-widget-timestamp",
            "civic-widget-nonce",
            "civic-widget-signature",
        } <= names
    # a widget whose secret is wrong shows nothing of the city's and says it is unavailable (WID-3)
    wrong = await widget(g, city_api, "programs", secret="a-wrong-secret-0123456789")
    shown = await ana.view(wrong["id"])
    assert shown["state"] == "unavailable" and shown["items"] == [], shown
    refused = await journal(g, city_api, "/programs/v1/content")
    assert refused[-1]["status"] == 401


@pytest.mark.req("WID-10", "WID-11", "WID-12")
@settings(max_examples=15, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(key_width=st.integers(min_value=1, max_value=99), value_width=st.integers(min_value=1, max_value=99))
async def test_table_widths_add_up_to_100(gw, key_width, value_width):
    layout = {"template": "table", "key_width": key_width, "value_width": value_width}
    status, body = await gw.admin("POST", "/widgets", json={"name": f"widths {tag()}", "layout": layout})
    if key_width + value_width == 100:
        assert status == 201 and body["layout"]["key_width"] == key_width, body
    else:
        assert status == 422 and body["error"]["field"].startswith("layout"), body


@pytest.mark.req("WID-10", "WID-11", "WID-12")
async def test_templates_item_counts_tables_and_charts(gw, city_api):
    g = gw
    layout = {"template": "table", "key_width": 30, "value_width": 70, "dashboard_items": 2, "charts": True}
    w = await widget(g, city_api, "utilities", layout=layout, link_account_id=await link_account(g))
    ana = await citizen(g)
    # Water use to chart: the page's bars must come from this widget, not from what other checks published.
    number, pin = await new_account(g, city_api, usage=[["2026-08", 4100], ["2026-09", 3900], ["2026-10", 4400]])
    status, link = await ana.call(
        "POST", f"/widgets/{w['id']}/links", json={"account_number": number, "verification": pin}
    )
    assert status == 201, link
    dashboard, expanded = await ana.view(w["id"]), await ana.view(w["id"], "expanded")
    assert len(dashboard["items"]) == 2 and dashboard["more_items"] >= 1, dashboard  # WID-11
    assert len(expanded["items"]) > 2 and expanded["more_items"] == 0
    kinds = {b["type"] for b in expanded["blocks"]}
    assert {"table", "chart"} <= kinds, kinds  # WID-12
    assert dashboard["template"] == "table" and dashboard["key_width"] == 30
    page = await ana.page(view="expanded")
    assert 'style="width: 30%"' in page and 'style="width: 70%"' in page  # WID-10: the widths reach the page
    assert "<svg" in page and "<rect" in page  # the chart as inline SVG
    await g.ok("PATCH", f"/widgets/{w['id']}", json={"layout": {"charts": False, "tables": False}})
    assert (await ana.view(w["id"], "expanded"))["blocks"] == []


@pytest.mark.req("WID-13")
async def test_texts_appear_in_the_right_state_and_view(gw, city_api):
    g = gw
    texts = {
        "no_account": "Link your utility account to see your bills.",
        "link_instructions": "Your account number is on your bill.",
        "unlink_instructions": "Unlink to stop sharing.",
        "dashboard": "Your latest bill",
        "expanded": "All your bills",
    }
    w = await widget(g, city_api, "utilities", texts=texts, link_account_id=await link_account(g))
    ana = await citizen(g)
    before = await ana.view(w["id"])
    assert before["state"] == "not_linked" and before["text"] == texts["no_account"]
    assert before["link_instructions"] == texts["link_instructions"]
    number, pin = await new_account(g, city_api)
    await ana.call("POST", f"/widgets/{w['id']}/links", json={"account_number": number, "verification": pin})
    assert (await ana.view(w["id"]))["text"] == texts["dashboard"]
    assert (await ana.view(w["id"], "expanded"))["text"] == texts["expanded"]
    await g.ok("PATCH", f"/widgets/{w['id']}", json={"texts": {"use_dashboard_text_for_expanded": True}})
    expanded = await ana.view(w["id"], "expanded")
    assert expanded["text"] == texts["dashboard"] and expanded["unlink_instructions"] == texts["unlink_instructions"]


@pytest.mark.req("WID-14")
async def test_a_citizen_only_ever_sees_accounts_they_linked(gw, city_api):
    g = gw
    w = await widget(g, city_api, "utilities", link_account_id=await link_account(g))
    ana, ben = await citizen(g), await citizen(g)
    number, pin = await new_account(g, city_api)
    status, body = await ana.call(
        "POST",
        f"/widgets/{w['id']}/links",
        json={"account_number": number, "verification": "000000" if pin != "000000" else "111111"},
    )
    assert status == 422 and body["error"]["code"] == "verification_failed", body
    status, link = await ana.call(
        "POST", f"/widgets/{w['id']}/links", json={"account_number": number, "verification": pin}
    )
    assert status == 201 and number not in str(link), link  # the full number is never echoed
    assert (await ana.view(w["id"]))["state"] == "ok"
    assert (await ben.view(w["id"]))["state"] == "not_linked", "another citizen sees nothing of it"
    status, _ = await ben.call("DELETE", f"/widgets/{w['id']}/links/{link['link_id']}")
    assert status == 404, "another citizen's link id unlinks nothing"
    assert (await ana.view(w["id"]))["state"] == "ok"
    status, links = await ana.call("GET", f"/widgets/{w['id']}/links")
    assert [x["link_id"] for x in links["links"]] == [link["link_id"]]
    assert (await ana.call("DELETE", f"/widgets/{w['id']}/links/{link['link_id']}"))[0] == 204
    assert (await ana.view(w["id"]))["state"] == "not_linked"


@pytest.mark.req("WID-14")
async def test_external_linking_through_the_citys_sign_in_page(gw, city_api):
    g = gw
    w = await widget(g, city_api, "utilities", link_account_id=await link_account(g, "external"))
    ana = await citizen(g)
    number, pin = await new_account(g, city_api)
    status, started = await ana.call("POST", f"/widgets/{w['id']}/external-links")
    assert status == 201 and started["authorize_url"].startswith(city_api), started
    async with g.http.get(started["authorize_url"]) as resp:  # the citizen's browser at the city's page
        page = await resp.text()
    session = re.search(r'name="session" value="([^"]+)"', page).group(1)
    form = {"session": session, "account_number": number, "verification": pin}
    async with g.http.post(started["authorize_url"].split("?")[0], data=form, allow_redirects=False) as resp:
        assert resp.status == 303
        back = resp.headers["Location"]
    assert back.startswith(g.url + "/portal/link-return")
    async with g.http.get(back, allow_redirects=False) as resp:
        assert resp.status == 303, await resp.text()
    assert (await ana.view(w["id"]))["state"] == "ok"
    async with g.http.get(back, allow_redirects=False) as resp:
        assert resp.status == 400, "a state is used once"


@pytest.mark.req("WID-4")
@settings(max_examples=20, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(payload=st.sampled_from(XSS := [
    "<script>alert(1)</script>",
    '<img src=x onerror="alert(1)">',
    '<a href="javascript:alert(1)">pay</a>',
    '<a href="JaVaScRiPt:alert(1)">pay</a>',
    "<svg onload=alert(1)>",
    '<iframe src="https://evil.example"></iframe>',
    '<div style="background:url(https://evil.example/x)">x</div>',
    '<link rel="stylesheet" href="https://evil.example/s.css">',
    "<style>@import 'https://evil.example/s.css';</style>",
    '<form action="https://evil.example"><input name="pin"></form>',
    '<img src="data:image/svg+xml,<svg onload=alert(1)>">',
    '<p onclick="steal()">Meeting Tuesday</p>',
    "<<script>script>alert(1)<</script>/script>",
    '<math><mi xlink:href="javascript:alert(1)">x</mi></math>',
]), text=st.text(alphabet=st.characters(blacklist_categories=("Cs",)), max_size=30))  # fmt: skip
async def test_html_widgets_come_out_inert(gw, city_api, payload, text):
    g = gw
    w = await widget(g, city_api, "engagement", type="html")
    await sim(g.http, city_api, "set-html", html=f"<p>{text}</p>{payload}<p>Town hall at 7pm</p>")
    ana = await citizen(g)
    shown = await ana.view(w["id"])
    html = shown["html"]
    assert "Town hall at 7pm" in html
    lowered = html.lower()
    for bad in (
        "<script",
        "javascript:",
        "onerror",
        "onload",
        "onclick",
        "<iframe",
        "<style",
        "<link",
        "<form",
        "url(",
    ):
        assert bad not in lowered, (payload, html)
    page = await ana.page()
    assert "<script" not in page.lower() and "javascript:" not in page.lower()


@pytest.mark.req("WID-15")
async def test_a_notification_once_per_content_change(gw, city_api):
    g = gw
    w = await widget(g, city_api, "utilities", notifications=True, link_account_id=await link_account(g))
    ana = await citizen(g)
    number, pin = await new_account(g, city_api)
    await ana.call("POST", f"/widgets/{w['id']}/links", json={"account_number": number, "verification": pin})
    assert (await ana.call("PUT", f"/widgets/{w['id']}/subscription"))[0] == 204

    async def mine() -> list[dict]:
        status, body = await ana.call("GET", "/notifications")
        assert status == 200
        return [n for n in body["items"] if n["widget_id"] == w["id"]]

    await g.run("widget_notifications")  # learns the current version
    await g.run("widget_notifications")
    assert await mine() == []
    await sim(g.http, city_api, "issue-bill", account_number=number, amount="42.10")
    await g.run("widget_notifications")
    await g.run("widget_notifications")
    assert len(await mine()) == 1
    await sim(g.http, city_api, "record-payment", account_number=number)
    await g.run("widget_notifications")
    assert len(await mine()) == 2
    quiet = await widget(g, city_api, "jobs")
    status, _ = await ana.call("PUT", f"/widgets/{quiet['id']}/subscription")
    assert status == 409, "a widget without notifications takes no subscriptions"
