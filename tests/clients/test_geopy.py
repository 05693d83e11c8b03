"""geopy (PyPI; the Python geocoding toolbox) — its ArcGIS geocoder against the ArcGIS simulator, given only
`scheme` and `domain` (its settings for the host; it keeps the World service's path). Forward geocoding sends
GET findAddressCandidates with `singleLine`, `f=json`, `maxLocations`, `outFields`; reverse sends GET
reverseGeocode with `location="lon,lat"`, `outSR=4326`, `f=json`. Where the service finds no address it
answers an error object on HTTP 200, which geopy must read as "no result", not a failure.
(tests/test_arcgis.py runs it against the command-line simulator too.)"""

from __future__ import annotations

from urllib.parse import urlsplit

import pytest
from geopy.geocoders import ArcGIS

from .conftest import Geocoder

pytestmark = pytest.mark.req("H-SIM-5")


@pytest.fixture(scope="module")
def geopy_arcgis(arcgis: Geocoder) -> ArcGIS:
    return ArcGIS(scheme="http", domain=urlsplit(arcgis.url).netloc, timeout=10)


def test_geopy_geocodes_an_address(geopy_arcgis: ArcGIS, arcgis: Geocoder) -> None:
    found = geopy_arcgis.geocode(arcgis.address)
    assert found is not None and found.address == arcgis.label
    assert (found.latitude, found.longitude) == pytest.approx((arcgis.lat, arcgis.lon), abs=0.001)
    [entry] = arcgis.journal("findAddressCandidates")
    assert entry["method"] == "GET" and entry["query"]["singleLine"] == arcgis.address
    assert entry["status"] == 200 and entry["violations"] == []


def test_geopy_reverse_geocodes_a_point_and_reads_no_address_as_none(geopy_arcgis: ArcGIS, arcgis: Geocoder) -> None:
    found = geopy_arcgis.reverse(f"{arcgis.lat}, {arcgis.lon}")
    assert found is not None and found.address.startswith("1 Civic Center Plaza, Harnessville")
    assert geopy_arcgis.reverse("-45.0, -30.0") is None  # the South Atlantic
    here, sea = arcgis.journal("reverseGeocode")
    assert here["query"]["location"] == f"{arcgis.lon},{arcgis.lat}" and here["violations"] == []
    assert sea["status"] == 200 and sea["response_body"]["error"]["code"] == 400
