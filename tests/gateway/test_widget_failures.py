"""One widget's failure stays inside that widget (issue 22, finding 1): an endpoint that is not a URL the
gateway can call is a 422 at save (field `endpoint`, nothing saved); a city answering a redirect to a Location
that is not such a URL, and a bad endpoint already in the database (saved before the rule), leave every
dashboard (JSON and HTML) answering 200 with that one tile unavailable, the Test API answering 200 with the
failure as its diagnosis, and the notifications job checking the other widgets.

The city is a small aiohttp server on a free loopback port (allow-listed for the SSRF guard, as a city in a
test run is), serving one good widget and answering each bad widget's calls with a redirect to a bad
Location; the gateway runs in-process on SQLite and PostgreSQL."""

from __future__ import annotations

import json
import re
import secrets
from collections.abc import AsyncIterator
from typing import Any

import jsonschema_rs
import pytest
from aiohttp import web
from hypothesis import given, settings
from hypothesis import strategies as st

from contracts import load_contract
from gateway.appkeys import ENGINE
from gateway.storage import schema as t

from .conftest import Gateway, start_gateway

SECRET = "widget-failures-secret-0123"
GOOD_CONTENT_TITLE = "Your water bill, all fine"

# Endpoints that fail when parsed or connected; each is refused at save. `{port}` is a loopback port.
BAD_ENDPOINTS = {
    "backslash before @": "http://evil.com\\@127.0.0.1:{port}/",
    "a label over 63": "http://" + "a" * 64 + ".example.com/",
    "a name over 253": "http://" + ".".join(["b" * 63] * 4) + "/",
    "port 99999": "http://city.example:99999/",
    "port -1": "http://city.example:-1/",
    "port 0": "http://city.example:0/",
    "IDNA error": "http://\x10áñ\x95",
    "zero-width in the host": "http://a\u200b.example/",
    "an empty label": "http://a..example/",
    "user information": "http://user:pw@city.example/",
    "empty user information": "http://@city.example/",
    "a space": "http://city.example/a b",
    "an unclosed IPv6 bracket": "http://[::1/",
    "a percent-encoded host": "http://%31%32%37.0.0.1/",
}
# What a city may answer as a redirect's Location; each is refused for its widget, never followed.
BAD_LOCATIONS = {
    "file": "file:///etc/passwd",
    "mailto": "mailto:someone@example.org",
    "data": "data:text/plain,hello",
    "javascript": "javascript:alert(1)",
    "unclosed-IPv6": "http://[::1",
    "port-99999": "http://127.0.0.1:99999/v1/content",
    "port-0": "http://127.0.0.1:0/v1/content",
    "label-over-63": "http://" + "c" * 64 + ".example/",
    "backslash": "http://evil.com\\@127.0.0.1/",
    "user-information": "http://user:pw@127.0.0.1/",
}
# Endpoints that are fine at save (the SSRF guard judges the address when the call is made).
GOOD_ENDPOINTS = [
    "http://127.0.0.1:9/widget",
    "http://[::1]:9/widget",
    "http://localhost:9/widget",
    "https://city.example/api/utilities",
    "https://bücher.example/x",
    "http://city_api:8080/x",
    "http://city.example./x",
    "http://city.example:65535/x",
]


DESCRIPTION = {"contract": "1.0", "id": "utilities", "domain": "utilities", "name": "Utilities",
               "format": "formatted", "property_dependent": False,
               "linking": {"account": False, "external": False}}  # fmt: skip


def content(view: str) -> dict[str, Any]:
    return {
        "widget": "utilities",
        "view": view,
        "version": "v1",
        "format": "formatted",
        "title": GOOD_CONTENT_TITLE,
        "items": [{"key": "due", "label": "Amount due", "type": "text", "value": "none"}],
    }


@pytest.fixture
async def city() -> AsyncIterator[str]:
    """The city: `/good` is a working widget API; `/bad/{name}/...` redirects every call to BAD_LOCATIONS[name]."""

    async def describe(_: web.Request) -> web.Response:
        return web.json_response(DESCRIPTION)

    async def good_content(request: web.Request) -> web.Response:
        return web.json_response(content(request.query.get("view", "dashboard")), headers={"ETag": '"v1"'})

    async def bad(request: web.Request) -> web.Response:
        return web.Response(status=302, headers={"Location": BAD_LOCATIONS[request.match_info["name"]]})

    app = web.Application()
    app.router.add_get("/good/v1/widget", describe)
    app.router.add_get("/good/v1/content", good_content)
    app.router.add_route("*", "/bad/{name}/{tail:.*}", bad)
    runner = web.AppRunner(app)
    await runner.setup()
    site = web.TCPSite(runner, "127.0.0.1", 0)
    await site.start()
    try:
        yield f"http://127.0.0.1:{runner.addresses[0][1]}"
    finally:
        await runner.cleanup()


@pytest.fixture
async def gwc(database_url: str, city: str) -> AsyncIterator[Gateway]:
    """The gateway, allowed to call the loopback city (and nothing else inside)."""
    async for g in start_gateway(database_url, widget_allow=(city.split("//")[1],)):
        g.ids["city"] = city
        yield g


async def new_widget(g: Gateway, endpoint: str, **fields: Any) -> dict[str, Any]:
    body = {"name": f"W {secrets.token_hex(4)}", "endpoint": endpoint, "secret": SECRET, "published": True}
    return await g.ok("POST", "/widgets", json={**body, **fields})


async def citizen(g: Gateway) -> dict[str, str]:
    body = {"email": "ana@example.org", "password": "correct horse battery", "name": "Ana"}
    answer = await g.sign_up(body)  # POST /portal/v1/citizens, the mailed code, /citizens/confirm
    return {"Authorization": f"Bearer {answer['token']}"}


async def get(g: Gateway, path: str, headers: dict[str, str]) -> tuple[int, str, str]:
    async with g.http.get(f"{g.url}{path}", headers=headers, allow_redirects=False) as resp:
        return resp.status, resp.content_type, await resp.text()


def contract_problems(schema: str, value: Any) -> list[str]:
    """Where an answer breaks one of the contract's schemas (WidgetTest, WidgetView)."""
    components = load_contract("gateway")["components"]
    validator = jsonschema_rs.Draft202012Validator({"$ref": f"#/components/schemas/{schema}", "components": components})
    return [e.message for e in validator.iter_errors(value)]


async def dashboards_hold(g: Gateway, citizen_headers: dict[str, str], good: int, bad: dict[int, str]) -> None:
    """Both dashboards answer 200: the good widget shows the city's content, each bad one is unavailable."""
    for view in ("dashboard", "expanded"):
        status, kind, text = await get(g, f"/portal/v1/dashboard?view={view}", citizen_headers)
        assert status == 200 and kind == "application/json", (view, status, text[:2000])
        tiles = {w["widget"]["id"]: w for w in json.loads(text)["widgets"]}
        assert set(tiles) == {good, *bad}, tiles.keys()
        assert tiles[good]["state"] == "ok" and tiles[good]["title"] == GOOD_CONTENT_TITLE, tiles[good]
        for wid, name in bad.items():
            assert tiles[wid]["state"] == "unavailable" and tiles[wid]["items"] == [], (name, tiles[wid])
            assert contract_problems("WidgetView", tiles[wid]) == [], (name, tiles[wid])
        status, kind, page = await get(g, f"/portal/dashboard?view={view}", citizen_headers)
        assert status == 200 and kind == "text/html", (view, status, page[:2000])
        assert GOOD_CONTENT_TITLE in page
        assert page.count("This information is not available right now.") == len(bad), page
    for wid, name in bad.items():
        status, _, text = await get(g, f"/portal/v1/widgets/{wid}", citizen_headers)
        assert status == 200 and json.loads(text)["state"] == "unavailable", (name, status, text[:500])


async def notifications_go_on(g: Gateway, citizen_headers: dict[str, str], good: int, bad: dict[int, str]) -> None:
    """The notifications job checks the good widget although the bad ones (lower ids: checked first) fail."""
    for wid in [*bad, good]:
        async with g.http.put(f"{g.url}/portal/v1/widgets/{wid}/subscription", headers=citizen_headers) as resp:
            assert resp.status == 204, await resp.text()
    run = await g.run("widget_notifications")
    assert run["status"] == "ok" and run["errors"] == [], run
    assert run["counts"]["failed"] == len(bad) and run["counts"]["first_seen"] == 1, run


# -- at save -----------------------------------------------------------------------------------------


@pytest.mark.req("WID-9", "WID-1")
async def test_an_endpoint_that_cannot_be_called_is_refused_at_save(gwc):
    g = gwc
    port = g.ids["city"].rsplit(":", 1)[1]
    kept = await new_widget(g, f"{g.ids['city']}/good", published=False)
    before = (await g.ok("GET", "/widgets"))["items"]
    for name, template in BAD_ENDPOINTS.items():
        endpoint = template.format(port=port)
        for method, path in (("POST", "/widgets"), ("PATCH", f"/widgets/{kept['id']}")):
            body = {"name": f"bad {name}", "endpoint": endpoint, "secret": SECRET, "published": False}
            status, answer = await g.admin(method, path, json=body)
            assert status == 422, (name, method, status, answer)
            assert set(answer) == {"error"} and answer["error"]["field"] == "endpoint", (name, method, answer)
            assert answer["error"]["code"] == "invalid" and answer["error"]["message"], (name, answer)
    assert (await g.ok("GET", "/widgets"))["items"] == before, "nothing saved, nothing changed"
    for endpoint in GOOD_ENDPOINTS:
        status, answer = await g.admin("POST", "/widgets", json={"name": f"good {endpoint}", "endpoint": endpoint})
        assert status == 201 and answer["endpoint"] == endpoint, (endpoint, answer)


@pytest.mark.req("WID-9")
@pytest.mark.parametrize("name", list(BAD_ENDPOINTS))
def test_the_endpoint_rule_refuses_each_url(name):
    from gateway.domain import DomainError
    from gateway.domain.widgets import parse_endpoint

    with pytest.raises(DomainError) as err:
        parse_endpoint(BAD_ENDPOINTS[name].format(port=8123))
    assert err.value.field == "endpoint" and err.value.message


@pytest.mark.req("WID-9")
@settings(max_examples=300, deadline=None)
@given(
    text=st.one_of(
        st.text(max_size=60).map(lambda s: "http://" + s),
        st.builds(
            lambda host, port, path: f"https://{host}{port}/{path}",
            st.text(alphabet=st.characters(codec="utf-8"), min_size=0, max_size=70),
            st.one_of(st.just(""), st.integers(min_value=-5, max_value=10**6).map(lambda p: f":{p}")),
            st.text(max_size=20),
        ),
    )
)
def test_an_endpoint_the_rule_accepts_can_be_called(text):
    """The one rule and the caller agree: an accepted endpoint builds each call's URL, which the rule also
    accepts, and its host is one the resolver can encode; a refused one is a refusal of the call, nothing
    else."""
    import asyncio

    from gateway.connectors.city_widget import CityWidget
    from gateway.connectors.guard import Refused
    from gateway.domain import DomainError
    from gateway.domain.widgets import parse_endpoint, url_problem

    client = CityWidget(None, None, text, "k", SECRET)  # type: ignore[arg-type]  # no call goes out here
    try:
        parse_endpoint(text)
    except DomainError:
        with pytest.raises(Refused):
            client.url("/v1/content", {"view": "dashboard"})
        with pytest.raises(Refused):
            asyncio.run(client.call("GET", "/v1/content"))
        return
    url = client.url("/v1/content", {"view": "dashboard", "user": "u-1"})
    assert url_problem(url) is None and url.port is not None and 1 <= url.port <= 65535
    url.raw_host.encode("idna")  # what the resolver does: no UnicodeError


# -- at call time ----------------------------------------------------------------------------------


@pytest.mark.req("WID-9", "WID-2", "WID-15", "WID-16")
async def test_a_redirect_to_a_bad_location_stays_inside_its_widget(gwc):
    g = gwc
    bad = {}
    for name in BAD_LOCATIONS:  # created first, so the notifications job meets them before the good one
        bad[(await new_widget(g, f"{g.ids['city']}/bad/{name}", notifications=True))["id"]] = name
    good = (await new_widget(g, f"{g.ids['city']}/good", notifications=True))["id"]
    ana = await citizen(g)
    await dashboards_hold(g, ana, good, bad)
    for wid, name in bad.items():
        status, report = await g.admin("POST", f"/widgets/{wid}/test", json={})
        assert status == 200, (name, status, report)
        assert contract_problems("WidgetTest", report) == [], (name, report)
        assert not report["ok"] and not report["reachable"] and report["state"] == "unavailable", (name, report)
        assert re.search(r"redirects to .*not followed", report["refused"] or ""), (name, report)
        assert "user:pw" not in json.dumps(report), report
        status, _, page = await get(g, f"/admin/v1/widgets/{wid}/preview", g.admin_headers)
        assert status == 200 and "not available" in page, (name, status, page[:500])
    report = await g.ok("POST", f"/widgets/{good}/test", json={})
    assert report["ok"] and report["state"] == "ok", report
    await notifications_go_on(g, ana, good, bad)


@pytest.mark.req("WID-9", "WID-2", "WID-15", "WID-16")
async def test_a_bad_endpoint_already_in_the_database_stays_inside_its_widget(gwc):
    """Rows saved before the rule (by an older version, or written into the database directly)."""
    g = gwc
    port = g.ids["city"].rsplit(":", 1)[1]
    planted = {}
    for name in BAD_ENDPOINTS:
        planted[(await new_widget(g, f"{g.ids['city']}/good", notifications=True))["id"]] = name
    good = (await new_widget(g, f"{g.ids['city']}/good", notifications=True))["id"]
    engine = g.stack.app("gateway")[ENGINE]  # type: ignore[attr-defined]
    async with engine.begin() as conn:
        for wid, name in planted.items():
            endpoint = BAD_ENDPOINTS[name].format(port=port)
            await conn.execute(t.widgets.update().where(t.widgets.c.id == wid).values(endpoint=endpoint))
    ana = await citizen(g)
    await dashboards_hold(g, ana, good, planted)
    for wid, name in planted.items():
        status, report = await g.admin("POST", f"/widgets/{wid}/test", json={})
        assert status == 200 and contract_problems("WidgetTest", report) == [], (name, status, report)
        assert not report["ok"] and "cannot be called" in (report["refused"] or ""), (name, report)
    await notifications_go_on(g, ana, good, planted)
    # the row can still be renamed and unpublished, but not re-published or given another bad endpoint
    wid = next(iter(planted))
    renamed = await g.ok("PATCH", f"/widgets/{wid}", json={"name": "renamed", "published": False})
    assert renamed["published"] is False
    status, answer = await g.admin("PATCH", f"/widgets/{wid}", json={"published": True})
    assert status == 422 and answer["error"]["field"] == "endpoint", answer
    status, answer = await g.admin("PATCH", f"/widgets/{wid}", json={"endpoint": "http://city.example:99999/"})
    assert status == 422 and answer["error"]["field"] == "endpoint", answer
    fixed = await g.ok("PATCH", f"/widgets/{wid}", json={"endpoint": f"{g.ids['city']}/good", "published": True})
    assert fixed["published"] is True


@pytest.mark.req("WID-2", "WID-16")
async def test_a_widget_whose_settings_cannot_be_read_stays_inside_its_widget(gwc):
    """Rows whose JSON settings are not what the gateway writes (written into the database directly)."""
    g = gwc
    broken = {}
    for name in ("layout", "icon", "texts"):
        broken[(await new_widget(g, f"{g.ids['city']}/good"))["id"]] = name
    good = (await new_widget(g, f"{g.ids['city']}/good"))["id"]
    engine = g.stack.app("gateway")[ENGINE]  # type: ignore[attr-defined]
    values = {"layout": {"layout": "{not json"}, "icon": {"icon": "[]"}, "texts": {"texts": "42"}}
    async with engine.begin() as conn:
        for wid, name in broken.items():
            await conn.execute(t.widgets.update().where(t.widgets.c.id == wid).values(**values[name]))
    await dashboards_hold(g, await citizen(g), good, broken)


@pytest.mark.req("WID-9")
async def test_the_guard_refuses_a_name_the_resolver_cannot_encode():
    from yarl import URL

    from gateway.connectors.guard import Guard, Refused

    with pytest.raises(Refused, match="not a name that can be resolved"):
        await Guard().check_url(URL("http://" + "a" * 64 + ".example/"))


@pytest.mark.req("WID-2")
def test_a_card_that_cannot_be_drawn_leaves_the_page():
    from gateway.portal.render import html_page, view_model

    w = {"id": 7, "name": "Broken", "type": "formatted", "fixed": False, "colour": "#112233",
         "icon": {"library": "bill"}, "property_dependent": False,
         "layout": {"template": "form", "dashboard_items": 3, "tables": True, "charts": True}, "texts": {}}  # fmt: skip
    fine = view_model({**w, "id": 8, "name": "Fine"}, "dashboard", "ok", content("dashboard"))
    bad = view_model(w, "dashboard", "ok", content("dashboard"))
    bad["blocks"] = [{"type": "chart", "chart": "bar"}]  # no labels, no series: the chart cannot be drawn
    page = html_page("Your dashboard", [bad, fine])
    assert GOOD_CONTENT_TITLE in page and 'data-widget="8"' in page
    assert "This information is not available right now. (this widget could not be shown)" in page
