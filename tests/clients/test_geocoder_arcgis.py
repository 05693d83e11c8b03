"""geocoder-arcgis (npm, a promise wrapper of the World geocoder) against the ArcGIS simulator, given only the
service URL (its `endpoint` option). Everything goes out as GET: findAddressCandidates with `SingleLine` (that
capitalisation) and `outFields=*`, reverseGeocode with `location="lon,lat"` and `maxLocations`, suggest."""

from __future__ import annotations

from typing import Any

import pytest

from .conftest import Geocoder

pytestmark = pytest.mark.req("H-SIM-5")


@pytest.fixture(scope="module")
def outcomes(node_clients: Any, arcgis: Geocoder) -> dict[str, Any]:
    return node_clients(
        "geocoder-arcgis.mjs", endpoint=arcgis.service, lat=arcgis.lat, lon=arcgis.lon, address=arcgis.address
    )


def test_find_address_candidates(outcomes: dict[str, Any], arcgis: Geocoder) -> None:
    for call in ("findAddressCandidates", "geocode"):
        assert outcomes[call]["ok"], outcomes[call]
        best = outcomes[call]["value"]["candidates"][0]
        assert best["address"] == arcgis.label
        assert (best["location"]["x"], best["location"]["y"]) == pytest.approx((arcgis.lon, arcgis.lat), abs=0.001)
    assert outcomes["findAddressCandidates"]["value"]["candidates"][0]["attributes"]["Postal"] == "27601"
    with_fields, plain = arcgis.journal("findAddressCandidates")
    assert with_fields["query"] == {"outFields": "*", "SingleLine": arcgis.address, "f": "json"}
    assert plain["query"] == {"SingleLine": arcgis.address, "f": "json"}
    assert [with_fields["violations"], plain["violations"]] == [[], []]


def test_reverse(outcomes: dict[str, Any], arcgis: Geocoder) -> None:
    assert outcomes["reverse"]["ok"], outcomes["reverse"]
    assert outcomes["reverse"]["value"]["address"]["LongLabel"] == "1 Civic Center Plaza, Harnessville, NC, 27601, USA"
    [entry] = arcgis.journal("reverseGeocode")
    assert entry["query"] == {"location": f"{arcgis.lon},{arcgis.lat}", "maxLocations": "10", "f": "json"}
    assert entry["status"] == 200 and entry["violations"] == []


def test_suggest(outcomes: dict[str, Any], arcgis: Geocoder) -> None:
    """The World service's `suggest`: the client resolves with the answer as is, so an `error` is no suggestion."""
    answer = outcomes["suggest"]["value"]
    assert "error" not in answer, answer
    assert answer["suggestions"][0]["text"].startswith("1 Civic Center Plaza")
