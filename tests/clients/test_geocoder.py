"""geocoder (PyPI, "a simple and consistent geocoding library") — its ArcGIS provider against the ArcGIS
simulator, given only the operation URL (its `url=` option). Reverse geocoding sends GET reverseGeocode with
`location="lon, lat"` (a space after the comma), `f=pjson`, `distance=50000` and an empty `outSR`. Forward
geocoding calls the World service's `find` operation, which Esri withdrew from the World GeocodeServer in 2017
(clients then moved to findAddressCandidates): the simulator answers it as ArcGIS answers an unknown
operation, and the client reports no result."""

from __future__ import annotations

import geocoder
import pytest

from .conftest import Geocoder

pytestmark = pytest.mark.req("H-SIM-5")


def test_geocoder_reverse_geocodes_a_point(arcgis: Geocoder) -> None:
    found = geocoder.arcgis([arcgis.lat, arcgis.lon], method="reverse", url=f"{arcgis.service}/reverseGeocode")
    assert found.ok and found.status == "OK"
    assert found.address == arcgis.label
    assert (found.city, found.postal) == ("Harnessville", "27601")
    assert abs(found.lat - arcgis.lat) < 0.001 and abs(found.lng - arcgis.lon) < 0.001
    [entry] = arcgis.journal("reverseGeocode")
    assert entry["method"] == "GET" and entry["status"] == 200 and entry["violations"] == []
    assert entry["query"] == {"location": f"{arcgis.lon}, {arcgis.lat}", "f": "pjson", "distance": "50000", "outSR": ""}


def test_geocoder_forward_uses_the_withdrawn_find_operation(arcgis: Geocoder) -> None:
    found = geocoder.arcgis(arcgis.address, url=f"{arcgis.service}/find")
    assert not found.ok and found.address is None
    [entry] = arcgis.journal("find")
    assert entry["query"] == {"f": "json", "text": arcgis.address, "maxLocations": "1"}
    assert entry["status"] == 200 and entry["response_body"]["error"]["code"] == 400  # ArcGIS: errors ride on 200
