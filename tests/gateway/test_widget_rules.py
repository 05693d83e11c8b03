"""The widget rules, the SSRF guard and the renderer, directly: pure functions and the guard over real loopback
HTTP (a city endpoint that redirects inside, a name that resolves inside at connect time)."""

from __future__ import annotations

import ipaddress
import socket
from typing import Any

import aiohttp
import pytest
from aiohttp import web
from aiohttp.abc import AbstractResolver
from hypothesis import given
from hypothesis import strategies as st
from yarl import URL

from gateway.connectors.city_widget import CityWidget
from gateway.connectors.guard import Entry, Guard, GuardedResolver, Refused, kind_of
from gateway.domain import DomainError
from gateway.domain import citizens as people
from gateway.domain.widgets import check_widget, svg_problem
from gateway.portal.render import chart_shapes, sanitise, value_text, view_model, without_repeated_title

SVG = '<svg xmlns="http://www.w3.org/2000/svg" viewBox="0 0 24 24"><path d="M4 4h16v16H4z"/></svg>'


@pytest.mark.req("WID-7")
@given(
    attribute=st.sampled_from(["onload", "onClick", "ONMOUSEOVER", "onbegin"]),
    element=st.sampled_from(["svg", "path", "g", "circle"]),
)
def test_an_event_handler_anywhere_refuses_the_icon(attribute, element):
    inner = f'<{element} {attribute}="x()"/>' if element != "svg" else ""
    root_attr = f' {attribute}="x()"' if element == "svg" else ""
    svg = f'<svg xmlns="http://www.w3.org/2000/svg"{root_attr}>{inner}</svg>'
    assert svg_problem(svg) is not None and "event handler" in svg_problem(svg)


@pytest.mark.req("WID-7")
def test_clean_small_svgs_pass_and_size_counts_bytes():
    assert svg_problem(SVG) is None
    assert svg_problem(SVG.replace("</svg>", "<!-- é -->" * 600 + "</svg>")) is not None  # multi-byte text counts
    assert svg_problem('<svg xmlns="http://www.w3.org/2000/svg"><use href="#a"/></svg>') is not None
    assert svg_problem('<svg xmlns="http://www.w3.org/2000/svg"><path fill="url(#grad)" d="M0 0"/></svg>') is None


def widget(**overrides: Any) -> dict[str, Any]:
    base = {
        "id": 1,
        "name": "W",
        "type": "formatted",
        "fixed": False,
        "colour": "#112233",
        "icon": {"library": "bill"},
        "property_dependent": False,
        "endpoint": None,
        "secret": None,
        "published": False,
        "layout": {"template": "form", "dashboard_items": 2, "tables": True, "charts": False},
        "texts": {"dashboard": "Dash", "expanded": "More", "use_dashboard_text_for_expanded": False},
    }
    return {**base, **overrides}


@pytest.mark.req("WID-8", "WID-10")
def test_cross_field_rules_name_their_field():
    with pytest.raises(DomainError) as err:
        check_widget(widget(property_dependent=True), address_setup_complete=False)
    assert err.value.field == "property_dependent"
    check_widget(widget(property_dependent=True), address_setup_complete=True)
    with pytest.raises(DomainError) as err:
        check_widget(widget(layout={"template": "table", "key_width": 40, "value_width": 40}), True)
    assert err.value.field == "layout"


@pytest.mark.req("WID-11", "WID-12", "WID-13")
def test_the_view_model_limits_items_and_filters_blocks():
    content = {
        "version": "v1",
        "title": "T",
        "format": "formatted",
        "items": [{"key": str(i), "label": str(i), "type": "text", "value": str(i)} for i in range(5)],
        "blocks": [
            {"type": "chart", "chart": "bar", "labels": ["a"], "series": [{"name": "s", "values": [1]}]},
            {"type": "table", "columns": [], "rows": []},
        ],
    }
    dash = view_model(widget(), "dashboard", "ok", content)
    assert len(dash["items"]) == 2 and dash["more_items"] == 3 and dash["text"] == "Dash"
    assert [b["type"] for b in dash["blocks"]] == ["table"]  # charts are off for this widget
    full = view_model(widget(), "expanded", "ok", content)
    assert len(full["items"]) == 5 and full["more_items"] == 0 and full["text"] == "More"


@given(values=st.lists(st.integers(min_value=0, max_value=10**6), min_size=1, max_size=24))
def test_chart_bars_stay_inside_the_picture(values):
    block = {
        "chart": "bar",
        "labels": [str(i) for i in range(len(values))],
        "series": [{"name": "s", "values": values}],
    }
    shapes = chart_shapes(block)
    for bar in shapes["bars"]:
        assert 0 <= bar["y"] <= shapes["height"] and bar["y"] + bar["h"] <= shapes["height"] + 0.1
        assert 0 <= bar["x"] <= shapes["width"]


@pytest.mark.req("WID-4")
def test_sanitising_keeps_text_and_safe_links_only():
    out = sanitise('<p>Hi</p><a href="/portal/x">rel</a><a href="https://city.example/p">ok</a><img src=x onerror=y>')
    assert "Hi" in out and 'href="https://city.example/p"' in out
    assert "/portal/x" not in out and "onerror" not in out and 'src="x"' not in out


def test_passwords_and_tokens():
    stored = people.hash_password("correct horse battery", cost=2**10)
    assert people.password_matches("correct horse battery", stored)
    assert not people.password_matches("wrong horse battery", stored)
    assert not people.password_matches("x", "not a hash")
    token, kept = people.new_token()
    assert kept == people.token_hash(token) and token not in kept
    with pytest.raises(DomainError):
        people.email("not-an-address")


# -- the SSRF guard ---------------------------------------------------------------------------------


@pytest.mark.req("WID-9")
@pytest.mark.parametrize(
    "address, kind",
    [
        ("169.254.169.254", "metadata"),
        ("10.0.0.1", "private"),
        ("192.168.1.1", "private"),
        ("127.0.0.1", "loopback"),
        ("::1", "loopback"),
        ("::ffff:127.0.0.1", "loopback"),
        ("fe80::1", "link-local"),
        ("224.0.0.1", "multicast"),
        ("0.0.0.0", "unspecified"),
        ("100.64.0.1", "non-public"),
        ("8.8.8.8", None),
    ],
)
def test_internal_addresses_are_named(address, kind):
    found = kind_of(ipaddress.ip_address(address))
    assert (found is None) if kind is None else (kind in found)


@pytest.mark.req("WID-9")
def test_allow_list_entries():
    guard = Guard(["127.0.0.1:8123", "10.1.0.0/16", "[::1]:9000", "city.internal"])
    guard.check_ip("127.0.0.1", ipaddress.ip_address("127.0.0.1"), 8123)
    with pytest.raises(Refused, match="loopback"):
        guard.check_ip("127.0.0.1", ipaddress.ip_address("127.0.0.1"), 8124)
    guard.check_ip("x", ipaddress.ip_address("10.1.2.3"), 443)
    guard.check_ip("x", ipaddress.ip_address("::1"), 9000)
    guard.check_ip("city.internal", ipaddress.ip_address("10.9.9.9"), 443)
    with pytest.raises(ValueError):
        Entry.parse("not an entry")
    only = Guard(["127.0.0.1:8123"], only_listed=True)
    with pytest.raises(Refused, match="allow-list"):
        only.check_ip("8.8.8.8", ipaddress.ip_address("8.8.8.8"), 443)


class Inside(AbstractResolver):
    """A name that resolves inside (as a rebinding attacker's name would at connect time)."""

    async def resolve(self, host: str, port: int = 0, family: Any = socket.AF_INET) -> list[Any]:
        return [{"hostname": host, "host": "10.0.0.7", "port": port, "family": socket.AF_INET, "proto": 0,
                 "flags": socket.AI_NUMERICHOST}]  # fmt: skip

    async def close(self) -> None:
        pass


@pytest.mark.req("WID-9")
async def test_a_name_resolving_inside_is_refused_at_connect_time():
    guard = Guard()
    async with aiohttp.ClientSession(connector=aiohttp.TCPConnector(resolver=GuardedResolver(guard, Inside()))) as s:
        with pytest.raises(Refused, match=r"10\.0\.0\.7"):
            await s.get("http://city.example/v1/widget")
    with pytest.raises(Refused, match=r"10\.0\.0\.7"):
        await guard.check_url(URL("http://city.example/v1/widget"), Inside())


@pytest.mark.req("WID-9")
async def test_redirects_are_checked_and_never_leave_the_origin():
    """An allow-listed city endpoint that redirects to the metadata address, or to another origin."""
    app = web.Application()

    async def inside(_: web.Request) -> web.Response:
        raise web.HTTPFound("http://169.254.169.254/latest/meta-data/")

    async def elsewhere(_: web.Request) -> web.Response:
        raise web.HTTPFound("http://127.0.0.2:9/v1/widget")

    async def same(_: web.Request) -> web.Response:
        raise web.HTTPTemporaryRedirect("/final/v1/widget")

    async def final(request: web.Request) -> web.Response:
        return web.json_response({"signed": "Civic-Widget-Signature" in request.headers, "path": request.path_qs})

    app.router.add_get("/inside/v1/widget", inside)
    app.router.add_get("/elsewhere/v1/widget", elsewhere)
    app.router.add_get("/same/v1/widget", same)
    app.router.add_get("/final/v1/widget", final)
    runner = web.AppRunner(app)
    await runner.setup()
    site = web.TCPSite(runner, "127.0.0.1", 0)
    await site.start()
    port = runner.addresses[0][1]
    guard = Guard([f"127.0.0.1:{port}"])
    try:
        async with aiohttp.ClientSession(connector=aiohttp.TCPConnector(resolver=GuardedResolver(guard))) as s:

            def client(base: str) -> CityWidget:
                return CityWidget(s, guard, f"http://127.0.0.1:{port}/{base}", "k", "secret-0123456789abcdef")

            with pytest.raises(Refused, match=r"169\.254\.169\.254"):
                await client("inside").call("GET", "/v1/widget")
            with pytest.raises(Refused, match="another origin"):
                await client("elsewhere").call("GET", "/v1/widget")
            reply = await client("same").call("GET", "/v1/widget")
            assert reply.status == 200 and reply.body == {"signed": True, "path": "/final/v1/widget"}
    finally:
        await runner.cleanup()


@pytest.mark.req("H-UI-1")
@pytest.mark.parametrize(
    ("kind", "value", "shown"),
    [
        ("money", {"amount": "802074.00", "currency": "USD"}, "$802,074.00"),
        ("money", {"amount": "-5", "currency": "USD"}, "-$5.00"),
        ("money", {"amount": "1234.5", "currency": "EUR"}, "€1,234.50"),
        ("money", {"amount": "12.5", "currency": "CHF"}, "CHF 12.50"),
        ("money", {"amount": "not a number", "currency": "USD"}, "USD not a number"),
        ("date", "2026-12-06", "6 Dec 2026"),
        ("date", "2026-02-30", "2026-02-30"),  # not a date: shown as it came
        ("text", "2026-01-12 to 2026-02-16", "12 Jan 2026 to 16 Feb 2026"),
        ("text", "2026-03", "Mar 2026"),
        ("text", "Account 2026-03-01-77", "Account 2026-03-01-77"),  # text around a date stays as it is
    ],
)
def test_money_and_dates_read_as_people_write_them(kind, value, shown):
    assert value_text(kind, value) == shown


@pytest.mark.req("H-UI-1", "WID-4")
def test_a_city_heading_that_repeats_the_card_title_goes():
    assert without_repeated_title("<section><h3>Get involved</h3><ul></ul></section>", "Get Involved") == (
        "<section><ul></ul></section>"
    )
    kept = "<h3>Town hall</h3><p>x</p>"
    assert without_repeated_title(kept, "Get involved") == kept
