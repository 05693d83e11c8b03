"""@conveyal/geocoder-arcgis-geojson (npm; the geocoder of Conveyal's trip planners) against the ArcGIS
simulator, given only the service URL (its `url` option). It searches with a focus point and a bounding box
(`location`, `searchExtent` given as minLon,maxLat,maxLon,minLat, `maxLocations`, `outFields=*`), reverse
geocodes, and autocompletes through suggest, turning ArcGIS answers into GeoJSON features."""

from __future__ import annotations

from typing import Any

import pytest

from .conftest import Geocoder

pytestmark = pytest.mark.req("H-SIM-5")


@pytest.fixture(scope="module")
def outcomes(node_clients: Any, arcgis: Geocoder) -> dict[str, Any]:
    return node_clients(
        "conveyal-geocoder-arcgis-geojson.mjs",
        endpoint=arcgis.service,
        lat=arcgis.lat,
        lon=arcgis.lon,
        address=arcgis.address,
    )


def test_search_within_a_box_near_a_point(outcomes: dict[str, Any], arcgis: Geocoder) -> None:
    assert outcomes["search"]["ok"], outcomes["search"]
    [best, *_] = outcomes["search"]["value"]["features"]
    assert best["properties"]["label"] == "1 Civic Center Plaza, Harnessville, NC, 27601, USA"
    assert best["properties"]["locality"] == "Harnessville" and best["properties"]["confidence"] >= 0.8
    assert best["geometry"]["coordinates"] == pytest.approx([arcgis.lon, arcgis.lat], abs=0.001)
    [entry] = arcgis.journal("findAddressCandidates")
    sent = entry["query"]
    assert sent["SingleLine"] == arcgis.address and sent["location"] == f"{arcgis.lon},{arcgis.lat}"
    assert len(sent["searchExtent"].split(",")) == 4 and sent["outFields"] == "*"
    assert entry["status"] == 200 and entry["violations"] == []


def test_reverse(outcomes: dict[str, Any], arcgis: Geocoder) -> None:
    assert outcomes["reverse"]["ok"], outcomes["reverse"]
    [feature] = outcomes["reverse"]["value"]["features"]
    assert feature["properties"]["name"] == "1 Civic Center Plaza"
    assert feature["properties"]["country_a"] == "USA"
    assert feature["geometry"]["coordinates"] == pytest.approx([arcgis.lon, arcgis.lat], abs=0.001)
    [entry] = arcgis.journal("reverseGeocode")
    assert entry["status"] == 200 and entry["violations"] == []


def test_autocomplete(outcomes: dict[str, Any], arcgis: Geocoder) -> None:
    """Autocomplete is the World service's `suggest`; the client passes its `suggestions` on as features."""
    assert outcomes["autocomplete"]["ok"], outcomes["autocomplete"]
    features = outcomes["autocomplete"]["value"].get("features")
    assert features and features[0]["text"].startswith("1 Civic Center Plaza") and features[0]["magicKey"]
