"""python-omgeo (PyPI; Azavea's geocoding library, OpenTreeMap's geocoder) — its `EsriWGS` service against the
ArcGIS simulator. Its World service URL is a class attribute (`_endpoint`); that, set on the service instance,
is the only thing re-pointed. It sends GET findAddressCandidates single-line (`singleLine`, an empty
`sourceCountry`) or multi-field (`Address`, `Neighborhood`, `City`, `Subregion`, `Region`, `Postal`,
`CountryCode`, empty ones included), with `maxLocations=20` and a list of `outFields`; it reads each candidate's
`Match_addr`, `Addr_type`, `Score` and the display location `DisplayX`/`DisplayY` (a candidate without them is
dropped), then filters and ranks by address type."""

from __future__ import annotations

import pytest
from omgeo import Geocoder as Omgeo
from omgeo.places import PlaceQuery

from .conftest import Geocoder

pytestmark = pytest.mark.req("H-SIM-5")


@pytest.fixture(scope="module")
def omgeo(arcgis: Geocoder) -> Omgeo:
    geocoder = Omgeo(sources=[["omgeo.services.EsriWGS", {}]])
    [esri] = geocoder._sources
    esri._endpoint = arcgis.service
    return geocoder


@pytest.mark.parametrize(
    "query",
    [
        PlaceQuery("1 Civic Center Plaza, Harnessville, NC"),
        PlaceQuery(address="1 Civic Center Plaza", city="Harnessville", state="NC", postal="27601", country="US"),
    ],
    ids=["single-line", "multi-field"],
)
def test_omgeo_finds_an_address(omgeo: Omgeo, arcgis: Geocoder, query: PlaceQuery) -> None:
    [best, *_] = omgeo.get_candidates(query)
    assert best.match_addr == arcgis.label and best.locator_type == "PointAddress"
    assert (best.x, best.y) == pytest.approx((arcgis.lon, arcgis.lat), abs=0.001)
    assert (best.match_city, best.match_postal) == ("Harnessville", "27601")
    sent = arcgis.journal("findAddressCandidates")[-1]
    assert sent["method"] == "GET" and sent["status"] == 200 and sent["violations"] == []
    assert "DisplayX" in sent["query"]["outFields"].split(",") and sent["query"]["maxLocations"] == "20"
