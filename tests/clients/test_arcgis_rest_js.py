"""@esri/arcgis-rest-geocoding with @esri/arcgis-rest-request (npm, Esri's own JavaScript client) against the
ArcGIS simulator, given only the service URL (`endpoint`). It POSTs forms by default (`f=json`), sends GET when
told to (keeping a form Content-Type header on a bodiless GET), geocodes by `address` and by `singleLine`, and
suggests. It treats an `error` object in a 200 answer as a failure, as ArcGIS clients must."""

from __future__ import annotations

from typing import Any

import pytest

from .conftest import Geocoder

pytestmark = pytest.mark.req("H-SIM-5")


@pytest.fixture(scope="module")
def outcomes(node_clients: Any, arcgis: Geocoder) -> dict[str, Any]:
    return node_clients(
        "arcgis-rest-js.mjs", endpoint=arcgis.service, lat=arcgis.lat, lon=arcgis.lon, address=arcgis.address
    )


def test_reverse_geocode_by_form_post_and_by_get(outcomes: dict[str, Any], arcgis: Geocoder) -> None:
    for call in ("reverse", "reverseGet"):
        assert outcomes[call]["ok"], outcomes[call]
        answer = outcomes[call]["value"]
        assert answer["address"]["Match_addr"] == arcgis.label
        assert answer["location"]["x"] == pytest.approx(arcgis.lon, abs=0.001)
    post, get = arcgis.journal("reverseGeocode")
    assert post["method"] == "POST" and post["headers"]["Content-Type"] == "application/x-www-form-urlencoded"
    assert post["body"] == {"f": "json", "location": f"{arcgis.lon},{arcgis.lat}"}
    assert get["method"] == "GET" and get["query"] == {"f": "json", "location": f"{arcgis.lon},{arcgis.lat}"}
    assert [post["violations"], get["violations"]] == [[], []]


def test_geocode_by_address_and_by_single_line(outcomes: dict[str, Any], arcgis: Geocoder) -> None:
    for call in ("geocode", "singleLine"):
        assert outcomes[call]["ok"], outcomes[call]
        best = outcomes[call]["value"]["candidates"][0]
        assert best["address"] == arcgis.label and best["score"] >= 80
        assert best["location"]["y"] == pytest.approx(arcgis.lat, abs=0.001)
        feature = outcomes[call]["value"]["geoJson"]["features"][0]  # the client's own GeoJSON from the answer
        assert feature["geometry"]["coordinates"] == pytest.approx([arcgis.lon, arcgis.lat], abs=0.001)
    assert outcomes["singleLine"]["value"]["candidates"][0]["attributes"]["City"] == "Harnessville"  # outFields=*
    by_address, by_line = arcgis.journal("findAddressCandidates")
    assert by_address["body"] == {"f": "json", "address": arcgis.address}
    assert by_line["body"] == {"f": "json", "outFields": "*", "singleLine": arcgis.address}
    assert [by_address["violations"], by_line["violations"]] == [[], []]


def test_suggest(outcomes: dict[str, Any], arcgis: Geocoder) -> None:
    """The World service's `suggest` (documented, served without a token): text -> suggestions with magicKeys."""
    assert outcomes["suggest"]["ok"], outcomes["suggest"]
    suggestions = outcomes["suggest"]["value"]["suggestions"]
    assert suggestions and suggestions[0]["text"].startswith("1 Civic Center Plaza")
    assert suggestions[0]["magicKey"] and suggestions[0]["isCollection"] is False
