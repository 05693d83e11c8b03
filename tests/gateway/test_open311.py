"""Open311 GeoReport v2 as a standard client uses it: services for a point, a service definition, a request
with attributes and a photo, read back; XML and JSON; errors in the spec's shape that change nothing; and
private data never in a public answer. On SQLite and PostgreSQL."""

from __future__ import annotations

import json
import xml.etree.ElementTree as ET
from datetime import UTC, datetime, timedelta

import aiohttp
import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from simulators.kit import city

from .conftest import API_KEY, Gateway

INSIDE = {"lat": str(city.SAMPLE_POINT["lat"]), "long": str(city.SAMPLE_POINT["long"])}
OUTSIDE = {"lat": "35.9", "long": "-78.9"}
# The smallest valid PNG (1x1), as a phone's camera would send a JPEG.
PNG = bytes.fromhex(
    "89504e470d0a1a0a0000000d49484452000000010000000108060000001f15c489"
    "0000000d4944415478da63f8cfc0f01f0005000201a5f6e2c90000000049454e44ae426082"
)


def pothole(**extra: str) -> dict[str, str]:
    return {"api_key": API_KEY, "service_code": "POT", **INSIDE, "attribute[size]": "large", **extra}


async def count_requests(g: Gateway) -> int:
    status, _, text = await g.open311("GET", "/requests.json", params={"page_size": "1000"})
    assert status == 200
    return len(json.loads(text))


@pytest.mark.req("AGY-1")
async def test_services_for_a_point_are_those_of_agencies_containing_it(city_gw):
    status, ctype, text = await city_gw.open311("GET", "/services.json", params=INSIDE)
    assert status == 200 and ctype == "application/json"
    assert sorted(s["service_code"] for s in json.loads(text)) == ["POT", "SL"]
    status, _, text = await city_gw.open311("GET", "/services.json", params=OUTSIDE)
    assert status == 200 and json.loads(text) == []
    # Without a point: every public, active service.
    await city_gw.ok("PATCH", f"/categories/{city_gw.ids['light']}", json={"public": False})
    status, _, text = await city_gw.open311("GET", "/services.json")
    assert [s["service_code"] for s in json.loads(text)] == ["POT"]


async def test_service_definition_lists_attributes_in_order(city_gw):
    status, _, text = await city_gw.open311("GET", "/services/POT.json")
    assert status == 200
    definition = json.loads(text)
    assert [a["code"] for a in definition["attributes"]] == ["size", "contact"]
    size = definition["attributes"][0]
    assert size["datatype"] == "singlevaluelist" and size["required"] is True and size["order"] == 1
    assert size["values"] == [{"key": "small", "name": "Small"}, {"key": "large", "name": "Large"}]
    status, _, text = await city_gw.open311("GET", "/services/NOPE.json")
    assert status == 404 and json.loads(text)[0]["code"] == 404


async def test_a_request_with_attributes_and_a_photo_reads_back(city_gw):
    form = aiohttp.FormData()
    for k, v in pothole(description="Deep hole by the curb", email="ana@example.org").items():
        form.add_field(k, v)
    form.add_field("media", PNG, filename="hole.png", content_type="image/png")
    status, _, text = await city_gw.open311("POST", "/requests.json", data=form)
    assert status == 201, text
    (created,) = json.loads(text)
    rid = created["service_request_id"]
    status, _, text = await city_gw.open311("GET", f"/requests/{rid}.json")
    assert status == 200
    (record,) = json.loads(text)
    assert record["service_code"] == "POT" and record["status"] == "open"
    assert record["description"] == "Deep hole by the curb" and record["agency_responsible"] == "Public Works"
    assert record["lat"] == pytest.approx(city.SAMPLE_POINT["lat"])
    async with city_gw.http.get(record["media_url"]) as resp:
        assert resp.status == 200 and resp.content_type == "image/png" and await resp.read() == PNG
    status, _, text = await city_gw.open311("GET", f"/requests/{rid}.json", params={"extensions": "true"})
    assert json.loads(text)[0]["extended_attributes"]["attributes"] == [{"code": "size", "value": "large"}]


async def test_xml_is_the_spec_format(city_gw):
    status, ctype, text = await city_gw.open311("POST", "/requests.xml", data=pothole())
    assert status == 201 and ctype == "text/xml"
    assert text.startswith('<?xml version="1.0" encoding="UTF-8"?>')
    rid = ET.fromstring(text).find("request/service_request_id").text
    status, _, text = await city_gw.open311("GET", "/services.xml", params=INSIDE)
    assert sorted(e.text for e in ET.fromstring(text).findall("service/service_code")) == ["POT", "SL"]
    status, _, text = await city_gw.open311("GET", f"/requests/{rid}.xml")
    root = ET.fromstring(text)
    assert root.tag == "service_requests" and root.find("request/status").text == "open"
    status, _, text = await city_gw.open311("GET", "/services/NOPE.xml")
    assert status == 404 and ET.fromstring(text).find("error/code").text == "404"
    status, _, text = await city_gw.open311("GET", "/discovery.xml")
    assert ET.fromstring(text).find("endpoints/endpoint/specification").text == "http://wiki.open311.org/GeoReport_v2"


@pytest.mark.parametrize(
    ("form", "status", "fragment"),
    [
        (pothole(api_key=""), 403, "api_key"),
        (pothole(api_key="wrong-key-123"), 403, "api_key"),
        (pothole(service_code="NOPE"), 404, "service_code"),
        ({k: v for k, v in pothole().items() if k not in ("lat", "long")}, 400, "location"),
        (pothole(lat="95"), 400, "lat"),
        (pothole(**OUTSIDE), 400, "not available at this location"),
        ({k: v for k, v in pothole().items() if k != "attribute[size]"}, 400, "attribute[size] is required"),
        (pothole(**{"attribute[size]": "huge"}), 400, "answer choices"),
        (pothole(**{"attribute[bogus]": "1"}), 400, "not an attribute"),
        (pothole(description="x" * 4001), 400, "4000"),
        (pothole(email="not-an-address"), 400, "email"),
        (pothole(jurisdiction_id="elsewhere.gov"), 404, "jurisdiction_id"),
        (pothole(media_url="javascript:alert(1)"), 400, "media_url"),
    ],
    ids=[
        "no-key",
        "bad-key",
        "unknown-service",
        "no-location",
        "bad-lat",
        "outside-city",
        "missing-required",
        "bad-choice",
        "unknown-attribute",
        "long-description",
        "bad-email",
        "other-jurisdiction",
        "bad-media-url",
    ],
)
async def test_bad_requests_get_spec_errors_and_store_nothing(city_gw, form, status, fragment):
    got, ctype, text = await city_gw.open311("POST", "/requests.json", data=form)
    assert got == status and ctype == "application/json", text
    errors = json.loads(text)
    assert errors and all(e["code"] == status for e in errors)
    assert any(fragment in e["description"] for e in errors), errors
    assert await count_requests(city_gw) == 0


async def test_a_non_image_upload_is_refused(city_gw):
    form = aiohttp.FormData()
    for k, v in pothole().items():
        form.add_field(k, v)
    form.add_field("media", b"<svg onload=alert(1)>", filename="x.png", content_type="image/png")
    status, _, text = await city_gw.open311("POST", "/requests.json", data=form)
    assert status == 400 and "image" in text
    assert await count_requests(city_gw) == 0


async def test_lists_filter_page_and_follow_changes(city_gw):
    ids = []
    for _ in range(5):
        status, _, text = await city_gw.open311("POST", "/requests.json", data=pothole())
        ids.append(json.loads(text)[0]["service_request_id"])
    status, _, text = await city_gw.open311("GET", "/requests.json", params={"page_size": "2", "page": "3"})
    assert [r["service_request_id"] for r in json.loads(text)] == [ids[0]]  # newest first
    status, _, text = await city_gw.open311(
        "GET", "/requests.json", params={"service_request_id": f"{ids[1]},{ids[3]}"}
    )
    assert sorted(r["service_request_id"] for r in json.loads(text)) == sorted([ids[1], ids[3]])
    before = (datetime.now(UTC) - timedelta(hours=1)).isoformat()
    status, _, text = await city_gw.open311("GET", "/requests.json", params={"updated_after": before})
    assert [r["service_request_id"] for r in json.loads(text)] == ids  # oldest change first
    status, _, text = await city_gw.open311("GET", "/requests.json", params={"status": "closed"})
    assert json.loads(text) == []
    status, _, text = await city_gw.open311("GET", "/requests.json", params={"start_date": "2026-01-01"})
    assert status == 400 and "timezone" in text
    status, _, text = await city_gw.open311("GET", "/requests.json", params={"page_size": "5000"})
    assert status == 400


async def test_comments_extension(city_gw):
    status, _, text = await city_gw.open311("POST", "/requests.json", data=pothole())
    rid = json.loads(text)[0]["service_request_id"]
    data = {"api_key": API_KEY, "description": "Still there a week later."}
    status, _, text = await city_gw.open311("POST", f"/requests/{rid}/comments.json", data=data)
    assert status == 201, text
    status, _, text = await city_gw.open311("GET", f"/requests/{rid}/comments.json")
    assert [c["description"] for c in json.loads(text)] == ["Still there a week later."]
    status, _, _ = await city_gw.open311("POST", f"/requests/{rid}/comments.json", data={"description": "x"})
    assert status == 403
    form = aiohttp.FormData()
    form.add_field("api_key", API_KEY)
    form.add_field("description", "Photo of it")
    form.add_field("media", PNG, filename="later.png", content_type="image/png")
    status, _, text = await city_gw.open311("POST", f"/requests/{rid}/comments.json", data=form)
    assert status == 201, text
    status, _, text = await city_gw.open311("GET", f"/requests/{rid}.json", params={"extensions": "true"})
    comments = json.loads(text)[0]["extended_attributes"]["comments"]
    assert [c["description"] for c in comments] == ["Still there a week later.", "Photo of it"]
    async with city_gw.http.get(comments[1]["media_url"]) as resp:
        assert await resp.read() == PNG


async def test_token_lookup(city_gw):
    from gateway.storage import schema as t

    status, _, text = await city_gw.open311("POST", "/requests.json", data=pothole())
    rid = json.loads(text)[0]["service_request_id"]
    engine = city_gw.stack.app("gateway")[__import__("gateway.appkeys").appkeys.ENGINE]
    async with engine.connect() as conn:
        token = await conn.scalar(t.requests.select().with_only_columns(t.requests.c.token))
    status, _, text = await city_gw.open311("GET", f"/tokens/{token}.json")
    assert json.loads(text) == [{"service_request_id": rid, "token": token}]
    status, _, _ = await city_gw.open311("GET", "/tokens/nope.json")
    assert status == 404


# -- privacy ---------------------------------------------------------------------------------------

SECRETISH = st.text(
    alphabet="abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789", min_size=6, max_size=30
).map(lambda s: f"PRIV{s}X")


@pytest.mark.req("OG-RQR-4")
@pytest.mark.parametrize("database_url", ["sqlite"], indirect=True)
async def test_private_data_never_appears_in_public_answers(city_gw):
    runs: list[tuple[str, str, str]] = []

    @given(secret=SECRETISH, email_local=SECRETISH, phone=st.from_regex(r"\+1[0-9]{10}", fullmatch=True))
    @settings(max_examples=25, deadline=None, suppress_health_check=list(HealthCheck), database=None)
    def collect(secret: str, email_local: str, phone: str) -> None:
        runs.append((secret, email_local, phone))

    collect()  # hypothesis draws the values; the gateway is async, so they are sent below
    for secret, email_local, phone in runs:
        form = pothole(
            **{"attribute[contact]": secret},
            email=f"{email_local}@example.org",
            phone=phone,
            first_name=f"F{secret}",
            last_name=f"L{secret}",
        )
        status, _, text = await city_gw.open311("POST", "/requests.json", data=form)
        assert status == 201, text
        rid = json.loads(text)[0]["service_request_id"]
        public = []
        for fmt in ("json", "xml"):
            for path, params in (
                (f"/requests/{rid}.{fmt}", {"extensions": "true"}),
                (f"/requests.{fmt}", {"extensions": "true", "service_request_id": rid}),
                (f"/requests/{rid}/comments.{fmt}", {}),
            ):
                status, _, text = await city_gw.open311("GET", path, params=params)
                assert status == 200
                public.append(text)
        everything = "\n".join(public)
        assert "large" in everything, "the public answer should be there (else this test proves nothing)"
        for private in (secret, email_local, phone):
            assert private not in everything
