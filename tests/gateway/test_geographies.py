"""Geographies (AGY-2, AGY-3): zipped shapefiles (with a .prj in another coordinate system, reprojected) and
GeoJSON; every kind of invalid geometry refused with its reason and nothing stored; cutouts recorded and the
importer refused for them."""

from __future__ import annotations

import json

import pytest
from pyproj import CRS, Transformer
from shapely.geometry import Polygon, mapping

from conformance.gateway.helpers import shapefile_zip
from gateway.domain import DomainError
from gateway.domain import geography as geo
from simulators.kit import city

SQUARE = [(-78.70, 35.74), (-78.60, 35.74), (-78.60, 35.84), (-78.70, 35.84), (-78.70, 35.74)]
HOLE = [(-78.66, 35.78), (-78.64, 35.78), (-78.64, 35.80), (-78.66, 35.80), (-78.66, 35.78)]
BOWTIE = [(-78.70, 35.74), (-78.60, 35.84), (-78.60, 35.74), (-78.70, 35.84), (-78.70, 35.74)]
UTM17 = CRS.from_epsg(32617)  # WGS 84 / UTM zone 17N, metres: where the demo city lies


def geojson(geometry: dict) -> bytes:
    return json.dumps({"type": "FeatureCollection", "features": [{"type": "Feature", "geometry": geometry}]}).encode()


def polygon(*rings: list) -> dict:
    return {"type": "Polygon", "coordinates": [list(map(list, r)) for r in rings]}


# -- pure --------------------------------------------------------------------------------------------


@pytest.mark.req("AGY-2")
def test_a_projected_shapefile_is_reprojected_to_wgs84():
    to_utm = Transformer.from_crs(4326, UTM17, always_xy=True)
    # Shapefile outer rings run clockwise.
    ring = [to_utm.transform(x, y) for x, y in reversed(SQUARE)]
    parsed = geo.from_shapefile_zip(shapefile_zip([ring], prj=UTM17.to_wkt(version="WKT1_ESRI")))
    assert parsed.source == "shapefile" and "UTM" in parsed.source_crs
    minx, miny, maxx, maxy = parsed.geometry.bounds
    assert (minx, miny, maxx, maxy) == pytest.approx((-78.70, 35.74, -78.60, 35.84), abs=1e-6)


@pytest.mark.req("AGY-3")
def test_cutouts_are_recorded():
    with_hole = geo.from_shapefile_zip(shapefile_zip([list(reversed(SQUARE)), HOLE]))
    assert with_hole.has_cutouts and with_hole.cutouts == 1
    assert not geo.from_geojson(geojson(mapping(city.BOUNDARY))).has_cutouts
    multi = {"type": "MultiPolygon", "coordinates": [polygon(SQUARE, HOLE)["coordinates"]]}
    assert geo.from_geojson(geojson(multi)).has_cutouts


@pytest.mark.req("AGY-2")
@pytest.mark.parametrize(
    ("filename", "data", "reason"),
    [
        ("a.geojson", geojson(polygon(BOWTIE)), "Self-intersection"),
        ("a.geojson", geojson(polygon(SQUARE[:-1])), "unclosed ring"),
        ("a.geojson", json.dumps({"type": "FeatureCollection", "features": []}).encode(), "empty"),
        ("a.geojson", geojson({"type": "Point", "coordinates": [-78.6, 35.8]}), "wrong geometry type"),
        ("a.geojson", geojson({"type": "LineString", "coordinates": SQUARE}), "wrong geometry type"),
        ("a.geojson", geojson(polygon([(x * 1e5, y * 1e5) for x, y in SQUARE])), "longitude/latitude"),
        ("a.geojson", b"{not json", "not a GeoJSON"),
        ("a.zip", shapefile_zip([list(reversed(BOWTIE))]), "Self-intersection"),
        ("a.zip", shapefile_zip([list(reversed(SQUARE))], drop="shx"), ".shx"),
        ("a.zip", shapefile_zip([list(reversed(SQUARE))], prj="GEOGCS[nonsense"), ".prj"),
        ("a.zip", b"PK\x03\x04 broken", "zip"),
        ("a.kml", b"<kml/>", "zipped shapefile"),
    ],
    ids=[
        "bowtie",
        "unclosed",
        "empty",
        "point",
        "line",
        "projected-without-prj",
        "not-json",
        "shapefile-bowtie",
        "no-shx",
        "bad-prj",
        "bad-zip",
        "kml",
    ],
)
def test_invalid_geometry_is_refused_with_its_reason(filename, data, reason):
    with pytest.raises(DomainError) as err:
        geo.parse_upload(filename, data)
    assert reason.lower() in err.value.message.lower()


# -- over the admin API, on both databases ---------------------------------------------------------------


@pytest.mark.req("AGY-2")
async def test_upload_stores_a_valid_geography_and_nothing_for_an_invalid_one(gw):
    status, body = await gw.upload_geography("Bad", "bad.geojson", geojson(polygon(BOWTIE)))
    assert status == 422 and body["error"]["field"] == "file" and "Self-intersection" in body["error"]["message"]
    assert (await gw.ok("GET", "/geographies"))["items"] == []
    status, body = await gw.upload_geography("Harnessville", "city.zip", shapefile_zip([list(reversed(SQUARE))]))
    assert status == 201, body
    assert body["source"] == "shapefile" and body["has_cutouts"] is False
    stored = await gw.ok("GET", f"/geographies/{body['id']}")
    assert stored["geometry"]["type"] == "Polygon"
    assert Polygon(stored["geometry"]["coordinates"][0]).equals(Polygon(SQUARE))


@pytest.mark.req("AGY-3")
async def test_the_importer_is_refused_for_a_geography_with_cutouts(gw):
    status, holed = await gw.upload_geography("Holed", "h.zip", shapefile_zip([list(reversed(SQUARE)), HOLE]))
    assert status == 201 and holed["has_cutouts"] is True
    agency = await gw.ok("POST", "/agencies", json={"name": "Streets", "geography_id": holed["id"]})
    status, body = await gw.admin("PATCH", f"/agencies/{agency['id']}", json={"importer_enabled": True})
    assert status == 422 and body["error"]["field"] == "importer_enabled"
    assert "cutout" in body["error"]["message"] and "Holed" in body["error"]["message"]
    assert (await gw.ok("GET", f"/agencies/{agency['id']}"))["importer_enabled"] is False
    status, plain = await gw.upload_geography("Plain", "p.zip", shapefile_zip([list(reversed(SQUARE))]))
    updated = await gw.ok(
        "PATCH", f"/agencies/{agency['id']}", json={"geography_id": plain["id"], "importer_enabled": True}
    )
    assert updated["importer_enabled"] is True


async def test_upload_needs_a_file_a_name_and_multipart(gw):
    status, body = await gw.admin("POST", "/geographies", json={"name": "x"})
    assert status == 415
    status, body = await gw.upload_geography("", "a.geojson", geojson(polygon(SQUARE)))
    assert status == 422 and body["error"]["field"] == "name"
