"""What a citizen and a city administrator see of any gateway: services only where the agency's geography
reaches (AGY-1), geographies from shapefiles and GeoJSON with invalid ones refused and nothing stored
(AGY-2), the importer refused for a geography with cutouts (AGY-3), integration keys only on private
questions and private answers never public (OG-RQR-3, OG-RQR-4)."""

from __future__ import annotations

import json
import secrets

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from .client import Gateway, city_geojson
from .helpers import INSIDE, shapefile_zip

OUTSIDE = {"lat": "35.9", "long": "-78.9"}
SQUARE = [(-78.70, 35.74), (-78.70, 35.84), (-78.60, 35.84), (-78.60, 35.74), (-78.70, 35.74)]  # clockwise
HOLE = [(-78.66, 35.78), (-78.64, 35.78), (-78.64, 35.80), (-78.66, 35.80), (-78.66, 35.78)]


async def city_with_category(gw: Gateway, questions: list[dict] = ()) -> dict:
    tag = secrets.token_hex(4)
    status, geography = await gw.upload_geography(f"City {tag}", "city.geojson", city_geojson())
    assert status == 201, geography
    agency = await gw.ok("POST", "/agencies", json={"name": f"Agency {tag}", "geography_id": geography["id"]})
    category = await gw.ok(
        "POST", "/categories", json={"code": f"C{tag}", "name": f"Cat {tag}", "agency_ids": [agency["id"]]}
    )
    for q in questions:
        await gw.ok("POST", f"/categories/{category['id']}/questions", json=q)
    return {"tag": tag, "geography": geography, "agency": agency, "category": category}


async def service_codes(gw: Gateway, **params: str) -> set[str]:
    status, _, text = await gw.open311("GET", "/services.json", params=params)
    assert status == 200, text
    return {s["service_code"] for s in json.loads(text)}


@pytest.mark.req("AGY-1")
async def test_services_for_a_point_come_from_agencies_whose_geography_contains_it(gw):
    made = await city_with_category(gw)
    code = made["category"]["code"]
    assert code in await service_codes(gw, **INSIDE)
    assert code not in await service_codes(gw, **OUTSIDE)
    form = {"api_key": gw.api_key, "service_code": code, **OUTSIDE}
    status, _, text = await gw.open311("POST", "/requests.json", data=form)
    assert status == 400 and json.loads(text)[0]["code"] == 400, "a request outside every agency's area"


@pytest.mark.req("AGY-2")
async def test_geographies_upload_and_invalid_ones_store_nothing(gw):
    before = {g["id"] for g in (await gw.ok("GET", "/geographies"))["items"]}
    bowtie = {
        "type": "Polygon",
        "coordinates": [[[-78.7, 35.74], [-78.6, 35.84], [-78.6, 35.74], [-78.7, 35.84], [-78.7, 35.74]]],
    }
    for filename, data in (
        ("bowtie.geojson", json.dumps(bowtie).encode()),
        ("point.geojson", json.dumps({"type": "Point", "coordinates": [-78.6, 35.8]}).encode()),
        ("open.geojson", json.dumps({"type": "Polygon", "coordinates": [SQUARE[:-1]]}).encode()),
        ("empty.geojson", json.dumps({"type": "FeatureCollection", "features": []}).encode()),
    ):
        status, body = await gw.upload_geography("Bad", filename, data)
        assert status == 422 and body["error"]["message"], (filename, body)
    assert {g["id"] for g in (await gw.ok("GET", "/geographies"))["items"]} == before
    status, body = await gw.upload_geography("Square", "square.zip", shapefile_zip([SQUARE]))
    assert status == 201 and body["has_cutouts"] is False, body


@pytest.mark.req("AGY-3")
async def test_the_importer_is_refused_for_a_geography_with_cutouts(gw):
    status, holed = await gw.upload_geography("Holed", "holed.zip", shapefile_zip([SQUARE, HOLE]))
    assert status == 201 and holed["has_cutouts"] is True
    agency = await gw.ok(
        "POST", "/agencies", json={"name": f"Roads {secrets.token_hex(4)}", "geography_id": holed["id"]}
    )
    status, body = await gw.admin("PATCH", f"/agencies/{agency['id']}", json={"importer_enabled": True})
    assert status == 422 and "cutout" in body["error"]["message"]
    assert (await gw.ok("GET", f"/agencies/{agency['id']}"))["importer_enabled"] is False


@pytest.mark.req("OG-RQR-3", "OG-RQR-4")
async def test_integration_keys_only_on_private_questions(gw):
    made = await city_with_category(gw)
    path = f"/categories/{made['category']['id']}/questions"
    question = {"code": "fn", "text": "First name", "datatype": "string", "integration_key": "FirstNameField"}
    status, _ = await gw.admin("POST", path, json=question)
    assert status == 422, "an integration key on a public question"
    status, _ = await gw.admin("POST", path, json={**question, "public": False, "integration_key": "NoSuchField"})
    assert status == 422, "an unknown integration key"
    assert (await gw.ok("GET", path))["items"] == []
    created = await gw.ok("POST", path, json={**question, "public": False})
    assert created["public"] is False and created["integration_key"] == "FirstNameField"


SECRETISH = st.text(alphabet="abcdefghijklmnopqrstuvwxyz0123456789", min_size=8, max_size=24).map(lambda s: f"P{s}Q")


@pytest.mark.req("OG-RQR-4")
async def test_private_answers_and_requester_details_are_never_public(gw):
    made = await city_with_category(
        gw,
        [
            {"code": "size", "text": "Size?", "datatype": "string", "required": True},
            {
                "code": "phone",
                "text": "Phone?",
                "datatype": "string",
                "public": False,
                "integration_key": "PrimaryPhoneField",
            },
        ],
    )
    drawn: list[tuple[str, str]] = []

    @given(secret=SECRETISH, email=SECRETISH)
    @settings(max_examples=10, deadline=None, suppress_health_check=list(HealthCheck), database=None)
    def draw(secret: str, email: str) -> None:
        drawn.append((secret, email))

    draw()
    for secret, email in drawn:
        form = {
            "api_key": gw.api_key,
            "service_code": made["category"]["code"],
            **INSIDE,
            "attribute[size]": "a public answer",
            "attribute[phone]": secret,
            "email": f"{email}@example.org",
            "first_name": secret,
            "phone": secret,
        }
        status, _, text = await gw.open311("POST", "/requests.json", data=form)
        assert status == 201, text
        rid = json.loads(text)[0]["service_request_id"]
        seen = ""
        for fmt in ("json", "xml"):
            for path in (f"/requests/{rid}.{fmt}", f"/requests.{fmt}"):
                status, _, text = await gw.open311(
                    "GET", path, params={"extensions": "true", "service_request_id": rid}
                )
                assert status == 200
                seen += text
        assert "a public answer" in seen, "public answers are shown (else this check proves nothing)"
        assert secret not in seen and email not in seen


def _ring(x0: float, y0: float, x1: float, y1: float) -> list[list[float]]:
    return [[x0, y0], [x1, y0], [x1, y1], [x0, y1], [x0, y0]]


@pytest.mark.req("AGY-2", "AGY-3")
async def test_polygons_with_and_without_holes(gw):
    """Generated rectangles, each with zero to three holes strictly inside: stored with `has_cutouts` exactly
    when there is a hole, and services answered inside the polygon but not inside a hole."""
    drawn: list[tuple[tuple[float, float, float, float], list[tuple[float, float, float, float]]]] = []

    @given(
        box=st.tuples(st.floats(-78.95, -78.75), st.floats(35.60, 35.70), st.floats(0.10, 0.20), st.floats(0.10, 0.20)),
        holes=st.lists(st.tuples(st.floats(0.1, 0.8), st.floats(0.1, 0.8)), max_size=3, unique=True),
    )
    @settings(max_examples=8, deadline=None, suppress_health_check=list(HealthCheck), database=None)
    def draw(box: tuple[float, float, float, float], holes: list[tuple[float, float]]) -> None:
        x0, y0, w, h = box
        cut = []
        for fx, fy in holes:  # small holes on a grid of their own, so they never touch each other
            hx, hy = x0 + w * round(fx, 1), y0 + h * round(fy, 1)
            cut.append((hx, hy, hx + w * 0.05, hy + h * 0.05))
        drawn.append(((x0, y0, x0 + w, y0 + h), list(dict.fromkeys(cut))))

    draw()
    for (x0, y0, x1, y1), holes in drawn:
        polygon = {"type": "Polygon", "coordinates": [_ring(x0, y0, x1, y1)] + [_ring(*hole)[::-1] for hole in holes]}
        tag = secrets.token_hex(4)
        status, made = await gw.upload_geography(f"Gen {tag}", "gen.geojson", json.dumps(polygon).encode())
        assert status == 201, (polygon, made)
        assert made["has_cutouts"] is bool(holes), (polygon, made)
        agency = await gw.ok("POST", "/agencies", json={"name": f"Gen {tag}", "geography_id": made["id"]})
        category = await gw.ok(
            "POST", "/categories", json={"code": f"G{tag}", "name": f"Gen {tag}", "agency_ids": [agency["id"]]}
        )
        inside = {"long": str(x0 + (x1 - x0) * 0.97), "lat": str(y0 + (y1 - y0) * 0.97)}
        assert category["code"] in await service_codes(gw, **inside)
        for hx0, hy0, hx1, hy1 in holes:
            in_hole = {"long": str((hx0 + hx1) / 2), "lat": str((hy0 + hy1) / 2)}
            assert category["code"] not in await service_codes(gw, **in_hole), "a point in a cutout"


@pytest.mark.req("OG-UPD-2")
async def test_comment_rule_operators_and_values(gw):
    """Generated rules: the operators the contract lists are taken (ordering ones only with a number);
    anything else is refused with the field named, and nothing is stored."""
    integration = await gw.ok(
        "POST",
        "/integrations",
        json={
            "name": f"Rules {secrets.token_hex(4)}",
            "vendor": "opengov",
            "version": "v1",
            "base_url": "http://127.0.0.1:9",
        },
    )
    path = f"/integrations/{integration['id']}/comment-rules"
    drawn: list[tuple[str, str]] = []

    @given(
        operator=st.sampled_from(["=", "!=", ">", ">=", "<", "<=", "contains", "=>", "equals", "", " >"]),
        value=st.one_of(st.integers(-5, 5).map(str), st.sampled_from(["1.5", "Open", "", "ten"])),
    )
    @settings(max_examples=25, deadline=None, suppress_health_check=list(HealthCheck), database=None)
    def draw(operator: str, value: str) -> None:
        drawn.append((operator, value))

    draw()
    stored = 0
    for operator, value in drawn:
        rule = {"field": "TasksField", "operator": operator, "value": value, "message": "A task was created."}
        status, body = await gw.admin("POST", path, json=rule)
        numeric = value.lstrip("-").replace(".", "", 1).isdigit()
        valid = operator in ("=", "!=", "contains") or (operator in (">", ">=", "<", "<=") and numeric)
        if valid:
            assert status == 201, (rule, body)
            stored += 1
        else:
            assert status == 422 and body["error"].get("field") in ("operator", "value"), (rule, body)
    assert len((await gw.ok("GET", path))["items"]) == stored
