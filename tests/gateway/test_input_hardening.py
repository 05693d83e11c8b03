"""Input a security review broke the gateway with (issue 22, findings 6-8), on SQLite and PostgreSQL:

- text XML 1.0 cannot carry (C0 controls, U+FFFE) in a description, a comment or an admin's category and
  question texts: every Open311 XML answer stays well-formed for a strict parser, and JSON keeps the text;
- a lone surrogate (`\\ud800`), U+0000, JSON nested 500 deep, GeoJSON nested 100,000 deep, with NaN, or with
  `features` that is not an array: a 4xx in the API's own error format, nothing stored, never a 5xx
  (Open311 says 400 "General service error" for a failure of its own, so its answers must say what is wrong);
- a date window written with an offset (`+02:00`, `-05:00`, and a `+` that arrived as a space) finds what
  the same window written in `Z` finds."""

from __future__ import annotations

import json
import xml.etree.ElementTree as ET
from datetime import UTC, datetime, timedelta, timezone
from urllib.parse import quote

import aiohttp
import pytest

from conformance.gateway.client import Gateway
from simulators.kit import city

from .conftest import ADMIN_TOKEN, API_KEY

INSIDE = {"lat": str(city.SAMPLE_POINT["lat"]), "long": str(city.SAMPLE_POINT["long"])}
CONTROLS = "a\x01\x0bb\x1f\ufffe c\x7f\x08d\x0ce"  # \x7f (DEL) is allowed in XML 1.0; the rest are not


def report(**extra: str) -> dict[str, str]:
    return {"api_key": API_KEY, "service_code": "SL", **INSIDE, **extra}


def well_formed(text: str, what: str) -> ET.Element:
    try:
        return ET.fromstring(text.encode("utf-8"))  # expat: a strict XML 1.0 parser
    except ET.ParseError as exc:
        raise AssertionError(f"{what} is not well-formed XML: {exc}") from None


async def raw(g: Gateway, method: str, path: str, data: bytes, content_type: str, admin: bool = True) -> tuple:
    headers = {"Content-Type": content_type}
    if admin:
        headers["Authorization"] = f"Bearer {ADMIN_TOKEN}"
    async with g.http.request(method, g.url + path, data=data, headers=headers) as resp:
        return resp.status, resp.content_type, await resp.text()


async def counts(g: Gateway) -> dict[str, int]:
    """What is stored, as the APIs list it."""
    out = {}
    for what in ("agencies", "categories", "integrations", "geographies", "widgets"):
        out[what] = len((await g.ok("GET", f"/{what}"))["items"])
    _, _, text = await g.open311("GET", "/requests.json", params={"page_size": "1000"})
    out["requests"] = len(json.loads(text))
    return out


async def session(g: Gateway, email: str, password: str = "long-enough") -> dict:
    """A new citizen's session (token and citizen): sign-up answers it directly, or, where sign-up is confirmed by
    mail, through the client's confirming sign-up."""
    body = {"email": email, "password": password}
    if hasattr(g, "sign_up"):
        return await g.sign_up(body)
    async with g.http.post(f"{g.url}/portal/v1/citizens", json=body) as resp:
        assert resp.status == 201, await resp.text()
        return await resp.json()


def admin_error(status: int, text: str) -> dict:
    """The admin and portal APIs' error format, and a refusal rather than a failure."""
    assert 400 <= status < 500, (status, text)
    error = json.loads(text)["error"]
    assert error["code"] and error["message"] and error["code"] != "internal_error", error
    return error


def open311_error(status: int, content_type: str, text: str) -> str:
    """Open311's error format ([{code, description}] or <errors>), with a description that says what is wrong."""
    assert status == 400, (status, text)
    if content_type == "text/xml":
        description = well_formed(text, "the error").find("error/description").text
    else:
        [error] = json.loads(text)
        assert error["code"] == 400
        description = error["description"]
    assert description and description != "General service error", text
    return description


# -- finding 6: text XML cannot carry ----------------------------------------------------------------------


@pytest.mark.req("H-REL-3")
async def test_every_xml_answer_stays_well_formed_whatever_text_was_stored(city_gw):
    g = city_gw
    category = await g.ok(
        "POST",
        "/categories",
        json={"code": "CTL", "name": f"Odd {CONTROLS}", "description": CONTROLS, "group": CONTROLS,
              "keywords": CONTROLS, "agency_ids": [g.ids["agency"]]},
    )  # fmt: skip
    question = {
        "code": "q1",
        "text": f"Which {CONTROLS}?",
        "datatype": "singlevaluelist",
        "choices": [{"key": "k", "name": CONTROLS}],
    }
    await g.ok("POST", f"/categories/{category['id']}/questions", json=question)
    status, _, text = await g.open311("POST", "/requests.json", data=report(description=CONTROLS))
    assert status == 201, text
    rid = json.loads(text)[0]["service_request_id"]
    status, _, text = await g.open311(
        "POST", f"/requests/{rid}/comments.json", data={"api_key": API_KEY, "description": f"seen {CONTROLS}"}
    )
    assert status == 201, text
    status, _, text = await g.open311("POST", "/requests.xml", data=report(description="b\x02"))  # the create answer
    assert status == 201
    well_formed(text, "POST requests.xml")

    for path, params in [
        ("/requests.xml", {}),
        ("/requests.xml", {"extensions": "true"}),
        (f"/requests/{rid}.xml", {}),
        (f"/requests/{rid}.xml", {"extensions": "true"}),
        (f"/requests/{rid}/comments.xml", {}),
        ("/services.xml", {}),
        ("/services.xml", INSIDE),
        ("/services/CTL.xml", {}),
    ]:
        status, content_type, text = await g.open311("GET", path, params=params)
        assert status == 200 and content_type == "text/xml", (path, status, text)
        well_formed(text, f"{path} {params}")

    status, _, text = await g.open311("GET", f"/requests/{rid}.xml")
    description = well_formed(text, "the request").find("request/description").text
    assert description == "ab c\x7fde"  # without what XML cannot carry, and only that
    status, _, text = await g.open311("GET", f"/requests/{rid}.json")
    assert json.loads(text)[0]["description"] == CONTROLS  # JSON carries every character: nothing lost there


# -- finding 7: bad input is a 4xx in the API's own format ------------------------------------------------

SURROGATE = b'"a\\ud800b"'  # a lone surrogate, as JSON escapes it: valid JSON syntax, not a character
LOW_SURROGATE = b'"\\udfff"'
NUL = b'"a\\u0000b"'  # valid JSON, and not something PostgreSQL text can hold


def deep(levels: int) -> bytes:
    return b"[" * levels + b"]" * levels


@pytest.mark.req("H-REL-3")
async def test_not_text_and_deep_json_are_refused_by_the_admin_and_portal_apis(city_gw):
    g = city_gw
    before = await counts(g)
    token = (await session(g, "ana@example.org"))["token"]
    cases = [
        ("POST", "/admin/v1/agencies", b'{"name": ' + SURROGATE + b"}", "name"),
        ("POST", "/admin/v1/agencies", b'{"name": ' + NUL + b"}", "name"),
        ("PATCH", f"/admin/v1/agencies/{g.ids['agency']}", b'{"name": ' + SURROGATE + b"}", "name"),
        ("POST", "/admin/v1/categories", b'{"code": "X", "name": "N", "agency_ids": [%d], "keywords": %s}'
         % (g.ids["agency"], NUL), "keywords"),
        ("POST", "/admin/v1/integrations", b'{"name": "I", "vendor": "none", "username": ' + LOW_SURROGATE + b"}",
         "username"),
        ("POST", "/admin/v1/agencies", b'{"name": "A", ' + SURROGATE + b": 1}", None),  # in a property's name
        ("POST", "/portal/v1/citizens", b'{"email": ' + SURROGATE + b', "password": "long-enough"}', "email"),
        ("POST", "/portal/v1/citizens", b'{"email": "bo@example.org", "password": ' + SURROGATE + b"}", "password"),
        ("POST", "/portal/v1/citizens", b'{"email": "bo@example.org", "password": "long-enough", "name": ' + NUL
         + b"}", "name"),
        ("POST", "/portal/v1/sessions", b'{"email": ' + SURROGATE + b', "password": "long-enough"}', "email"),
        ("POST", "/portal/v1/sessions", b'{"email": "ana@example.org", "password": ' + LOW_SURROGATE + b"}",
         "password"),
        ("PATCH", "/portal/v1/me", b'{"name": ' + SURROGATE + b"}", "name"),
        ("PATCH", "/portal/v1/me", b'{"property_id": ' + NUL + b"}", "property_id"),
    ]  # fmt: skip
    for levels in (300, 500, 1000):  # past what the schema validator can take, short of what json can read
        cases += [
            ("POST", "/admin/v1/categories", deep(levels), "deep"),
            (
                "POST",
                "/admin/v1/integrations",
                b'{"name": "I", "vendor": "none", "intervals": ' + deep(levels) + b"}",
                "deep",
            ),
            ("POST", "/admin/v1/widgets", b'{"name": "W", "layout": {"x": ' + deep(levels) + b"}}", "deep"),
            ("POST", "/portal/v1/citizens", deep(levels), "deep"),
            ("POST", "/portal/v1/sessions", b'{"email": ' + deep(levels) + b"}", "deep"),
        ]
    for method, path, body, field in cases:
        headers = {"Authorization": f"Bearer {token}"} if path == "/portal/v1/me" else {}
        if path.startswith("/admin"):
            headers = {"Authorization": f"Bearer {ADMIN_TOKEN}"}
        async with g.http.request(
            method, g.url + path, data=body, headers={**headers, "Content-Type": "application/json"}
        ) as resp:
            error = admin_error(resp.status, await resp.text())
        if field == "deep":
            assert (resp.status, error["code"]) == (400, "invalid_json"), (path, error)
        else:
            assert (resp.status, error["code"]) == (422, "invalid"), (path, body, error)
            assert field is None or error["field"] == field, (path, body, error)
    assert await counts(g) == before
    await session(g, "bo@example.org")  # no citizen was stored under the address the refused sign-ups used


GEOJSON_CASES = {
    "nested 100,000 deep": b'{"type": "FeatureCollection", "features": ' + deep(100_000) + b"}",
    "NaN in a position": b'{"type": "Polygon", "coordinates": [[[NaN, 0], [1, 0], [1, 1], [NaN, 0]]]}',
    "NaN elsewhere": b'{"type": "Polygon", "coordinates": [[[0, 0], [1, 0], [1, 1], [0, 0]]], "bbox": [NaN]}',
    "Infinity": b'{"type": "Polygon", "coordinates": [[[0, 0], [Infinity, 0], [1, 1], [0, 0]]]}',
    "features a number": b'{"type": "FeatureCollection", "features": 5}',
    "features an object": b'{"type": "FeatureCollection", "features": {"type": "Feature"}}',
    "coordinates a number": b'{"type": "Polygon", "coordinates": 5}',
    "a polygon a number": b'{"type": "MultiPolygon", "coordinates": [5]}',
    "a ring a number": b'{"type": "Polygon", "coordinates": [5]}',
    "a position a string": b'{"type": "Polygon", "coordinates": [["abcd", "efgh", "ijkl", "abcd"]]}',
    "a position of strings": b'{"type": "Polygon", "coordinates": [[["0", "0"], [1, 0], [1, 1], ["0", "0"]]]}',
    "a lone surrogate": b'{"type": "\\ud800", "coordinates": []}',
    "type an object": b'{"type": {"a": 1}}',
}


@pytest.mark.req("H-REL-3", "AGY-2")
async def test_malformed_geojson_is_refused_with_a_reason(city_gw):
    g = city_gw
    before = await counts(g)
    for what, data in GEOJSON_CASES.items():
        status, body = await g.upload_geography("Bad", "bad.geojson", data)
        assert status == 422, (what, status, body)
        assert body["error"]["code"] == "invalid_geometry" and body["error"]["field"] == "file", (what, body)
    status, body = await g.upload_geography("a\x00b", "city.geojson", b'{"type": "Polygon", "coordinates": [[[0, 0], '
                                             b"[1, 0], [1, 1], [0, 0]]]}")  # fmt: skip
    assert status == 422 and body["error"]["field"] == "name", body
    assert await counts(g) == before


@pytest.mark.req("H-REL-3")
async def test_not_text_is_refused_by_open311_in_its_own_format(city_gw):
    g = city_gw
    before = await counts(g)
    form = "&".join(f"{k}={quote(v)}" for k, v in report().items())
    for fmt in ("json", "xml"):
        for description in ("a%00b", "a%ED%A0%80b", "caf%E9"):  # NUL; a surrogate's UTF-8 form; Latin-1
            status, content_type, text = await raw(
                g, "POST", f"/open311/v2/requests.{fmt}", f"{form}&description={description}".encode(),
                "application/x-www-form-urlencoded", admin=False,
            )  # fmt: skip
            open311_error(status, content_type, text)
        writer = aiohttp.MultipartWriter("form-data")
        for k, v in {**report(), "description": b"a\xed\xa0\x80b"}.items():  # not UTF-8
            writer.append(v.encode() if isinstance(v, str) else v).set_content_disposition("form-data", name=k)
        status, content_type, text = await g.open311("POST", f"/requests.{fmt}", data=writer)
        assert "description" in open311_error(status, content_type, text)
        multipart = aiohttp.FormData()
        for k, v in report(description="a\x00b").items():
            multipart.add_field(k, v)
        status, content_type, text = await g.open311("POST", f"/requests.{fmt}", data=multipart)
        open311_error(status, content_type, text)
        for path in (f"/requests/a%00b.{fmt}", f"/services/a%00b.{fmt}", f"/tokens/a%00b.{fmt}",
                     f"/requests.{fmt}?service_code=a%00b", f"/requests.{fmt}?service_request_id=%00",
                     f"/requests/a%00b/comments.{fmt}"):  # fmt: skip
            async with g.http.get(f"{g.url}/open311/v2{path}") as resp:
                open311_error(resp.status, resp.content_type, await resp.text())
    assert await counts(g) == before


@pytest.mark.req("H-REL-3")
async def test_nul_in_an_admin_or_portal_search_finds_nothing_rather_than_failing(city_gw):
    g = city_gw
    async with g.http.get(f"{g.url}/admin/v1/jobs/runs?job=a%00b", headers=g.admin_headers) as resp:
        assert resp.status == 200 and (await resp.json())["items"] == []
    token = (await session(g, "ana@example.org"))["token"]
    async with g.http.get(f"{g.url}/portal/v1/addresses?q=a%00b", headers={"Authorization": f"Bearer {token}"}) as resp:
        assert resp.status == 200, await resp.text()
    async with g.http.get(f"{g.url}/portal/link-return?state=a%00b&code=c", allow_redirects=False) as resp:
        assert resp.status == 400, await resp.text()  # the page that says the link did not work


# -- finding 8: a date window with an offset --------------------------------------------------------------


def written(moment: datetime, offset: timedelta | None) -> str:
    if offset is None:
        return moment.astimezone(UTC).isoformat().replace("+00:00", "Z")
    return moment.astimezone(timezone(offset)).isoformat()


async def found(g: Gateway, fmt: str, query: str) -> list[str]:
    async with g.http.get(f"{g.url}/open311/v2/requests.{fmt}?{query}") as resp:
        text = await resp.text()
        assert resp.status == 200, (query, text)
    if fmt == "xml":
        return sorted(e.text for e in well_formed(text, query).findall("request/service_request_id"))
    return sorted(r["service_request_id"] for r in json.loads(text))


async def test_a_date_window_with_an_offset_finds_what_the_same_window_in_z_finds(city_gw):
    g = city_gw
    ids = []
    for _ in range(3):
        _, _, text = await g.open311("POST", "/requests.json", data=report())
        ids.append(json.loads(text)[0]["service_request_id"])
    now = datetime.now(UTC).replace(microsecond=0)
    start, end, later = now - timedelta(hours=3), now + timedelta(hours=3), now + timedelta(hours=1)
    offsets = [None, timedelta(hours=2), timedelta(hours=-5), timedelta(hours=5, minutes=30)]
    for fmt in ("json", "xml"):
        for offset in offsets:
            windows = {
                "start only": ({"start_date": start}, sorted(ids)),
                "start and end": ({"start_date": start, "end_date": end}, sorted(ids)),
                "end only": ({"end_date": end}, sorted(ids)),
                "start after them": ({"start_date": later}, []),  # the offset is honoured, not ignored
                "end before them": ({"end_date": start}, []),
            }
            for what, (window, expected) in windows.items():
                values = {k: written(v, offset) for k, v in window.items()}
                encoded = "&".join(f"{k}={quote(v, safe=':')}" for k, v in values.items())  # + as %2B
                sent_raw = "&".join(f"{k}={v}" for k, v in values.items())  # + as +, read as a space
                assert await found(g, fmt, encoded) == expected, (fmt, offset, what, encoded)
                assert await found(g, fmt, sent_raw) == expected, (fmt, offset, what, sent_raw)


# -- finding 5, at the one place: the contract marks every secret, and no schema error quotes a value --------

SECRET_NAMES = ("secret", "password", "verification", "pin", "api_key", "credential")


def properties(node: object, path: str = "") -> list[tuple[str, str, dict]]:
    """(where, name, schema) of every property in the contract's component schemas."""
    out = []
    if isinstance(node, dict):
        for name, sub in (node.get("properties") or {}).items():
            out.append((path, name, sub))
        for key, sub in node.items():
            out += properties(sub, f"{path}/{key}")
    elif isinstance(node, list):
        for i, sub in enumerate(node):
            out += properties(sub, f"{path}/{i}")
    return out


@pytest.mark.req("H-REL-3")
def test_every_secret_in_the_contract_is_write_only():
    from contracts import load_contract

    schemas = load_contract("gateway")["components"]["schemas"]
    secrets = [
        (where, name, s)
        for where, name, s in properties(schemas)
        if any(w in name for w in SECRET_NAMES) and not name.startswith("has_")  # has_secret: a flag
    ]
    assert len(secrets) >= 6, secrets  # integration and widget secrets, passwords, verification values
    assert [f"{where}.{name}" for where, name, s in secrets if not s.get("writeOnly")] == []


@pytest.mark.req("H-REL-3")
def test_no_schema_error_quotes_the_value_it_refuses():
    import jsonschema_rs

    from gateway.api.json_input import describe

    mark = "Zq7Secr3t"
    schema = {
        "type": "object",
        "required": ["r"],
        "properties": {
            "s": {"type": "string", "minLength": 40, "maxLength": 50, "pattern": "^x", "format": "email"},
            "e": {"enum": ["a", "b"]},
            "c": {"const": "k"},
            "n": {"type": "integer", "minimum": 10**12, "multipleOf": 7},
            "m": {"oneOf": [{"type": "array"}, {"type": "null"}]},
            "o": {"anyOf": [{"type": "object", "properties": {"x": {"enum": [1]}}}, {"type": "null"}]},
            "l": {"type": "array", "maxItems": 1, "uniqueItems": True},
            "no": {"not": {"type": "string"}},
        },
        "additionalProperties": False,
    }
    validator = jsonschema_rs.Draft202012Validator(schema, validate_formats=True)
    number = 7391846203
    value = {
        "s": f"{mark}@",
        "e": mark,
        "c": mark,
        "n": number,
        "m": {"k": mark},
        "o": {"x": mark},
        "l": [mark, mark],
        "no": mark,
    }
    messages = [describe(e)[1] for e in validator.iter_errors(value)]
    assert len(messages) >= 10, messages
    assert not [m for m in messages if mark in m or str(number) in m], messages
