"""ArcGIS `suggest` and its magicKey (Esri's GeocodeServer reference, 10.3): suggestions for typed text from the
addresses findAddressCandidates finds, each key leading findAddressCandidates to exactly its address; the
limits, a key the server never issued, a missing text; a locator published without suggestions; and every
REST path taken with a trailing slash, as ArcGIS Server takes it. Errors are HTTP 200 with an `error` object."""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any

import pytest
import requests

from simulators.kit import city

from .certify_runner import simulator

WORLD = "/arcgis/rest/services/World/GeocodeServer"
CITY = "/server/rest/services/Locators/City/GeocodeServer"
LON, LAT = city.SAMPLE_POINT["long"], city.SAMPLE_POINT["lat"]
PARIS = (2.3522, 48.8566)

pytestmark = pytest.mark.req("GEO-API-5")


def call(base: str, operation: str, path: str = WORLD, method: str = "GET", **params: Any) -> dict[str, Any]:
    params = {"f": "json", **params}
    url = f"{base}{path}/{operation}" if operation else f"{base}{path}"
    resp = (
        requests.post(url, data=params, timeout=30)
        if method == "POST"
        else requests.get(url, params=params, timeout=30)
    )
    assert resp.status_code == 200 and resp.headers["Content-Type"].startswith("application/json"), resp.text[:300]
    return resp.json()


def violations(base: str) -> list[Any]:
    entry = requests.get(f"{base}/_sim/journal", params={"limit": 1}, timeout=10).json()["entries"][-1]
    return entry["violations"]


@pytest.fixture(scope="module")
def world() -> Iterator[str]:
    with simulator("arcgis", seed=4) as url:
        yield url


def test_suggestions_begin_with_the_text_and_their_keys_find_exactly_that_address(world):
    body = call(world, "suggest", text="1 Civic Center Pl")
    [first, *_] = body["suggestions"]
    assert first["text"] == "1 Civic Center Plaza, Harnessville, NC, 27601, USA"
    assert first["isCollection"] is False and first["magicKey"]
    assert violations(world) == []
    for method in ("GET", "POST"):
        found = call(
            world, "findAddressCandidates", method=method, SingleLine=first["text"], magicKey=first["magicKey"]
        )
        [only] = found["candidates"]
        assert only["address"] == "1 Civic Center Plaza, Harnessville, North Carolina, 27601" and only["score"] == 100
        assert (only["location"]["x"], only["location"]["y"]) == pytest.approx((LON, LAT), abs=1e-6)
        assert violations(world) == []


def test_a_short_prefix_gives_the_default_five_and_max_suggestions_bounds_them(world):
    assert len(call(world, "suggest", text="1")["suggestions"]) == 5
    assert len(call(world, "suggest", text="1", maxSuggestions="2")["suggestions"]) == 2
    assert len(call(world, "suggest", method="POST", text="1", maxSuggestions="12")["suggestions"]) == 12
    # Esri: up to the maximum the service allows (15); more is not an error
    assert len(call(world, "suggest", text="1", maxSuggestions="40")["suggestions"]) == 15
    bad = call(world, "suggest", text="1", maxSuggestions="many")
    assert bad["error"]["code"] == 400 and "suggestions" not in bad


def test_suggestions_are_the_same_every_time_and_every_one_begins_with_the_text(world):
    first = call(world, "suggest", text="12", maxSuggestions="15")["suggestions"]
    assert first == call(world, "suggest", text="12", maxSuggestions="15")["suggestions"]
    assert first and all(s["text"].startswith("12") for s in first)
    assert call(world, "suggest", text="zzzz qqqq")["suggestions"] == []


def test_near_a_location_the_world_service_suggests_the_synthesized_addresses_there(world):
    near = f"{PARIS[0]},{PARIS[1]}"
    address = call(world, "reverseGeocode", location=near)["address"]
    typed = address["Address"][: len(address["AddNum"]) + 6]  # '731 W Oak': the number and part of the street
    body = call(world, "suggest", text=typed, location=near, maxSuggestions="15")
    texts = [s["text"] for s in body["suggestions"]]
    assert address["LongLabel"] in texts, (typed, texts)
    assert all(t.lower().startswith(typed.lower()) and ", Paris, " in t for t in texts)
    pick = body["suggestions"][texts.index(address["LongLabel"])]
    [found] = call(world, "findAddressCandidates", SingleLine=pick["text"], magicKey=pick["magicKey"])["candidates"]
    assert found["attributes"] == {} and found["address"] == address["Match_addr"]
    # a complete synthesized address is suggested without a location too
    alone = call(world, "suggest", text=address["LongLabel"])["suggestions"]
    assert [s["text"] for s in alone] == [address["LongLabel"]]


def test_given_a_location_the_nearest_come_first_whatever_the_source(world):
    denver = [s["text"] for s in call(world, "suggest", text="7", location="-104.99,39.74")["suggestions"]]
    assert len(denver) == 5 and all(t.startswith("7") and ", CO, " in t for t in denver), denver
    # without a location the sources keep findAddressCandidates' order: the demo city's points first
    anywhere = [s["text"] for s in call(world, "suggest", text="7")["suggestions"]]
    assert len(anywhere) == 5 and all(", Harnessville, NC, " in t for t in anywhere), anywhere


def test_search_extent_confines_the_suggestions(world):
    inside = f"{LON - 0.001},{LAT - 0.001},{LON + 0.001},{LAT + 0.001}"
    assert call(world, "suggest", text="1 Civic", searchExtent=inside)["suggestions"]
    # the corners in the order @conveyal/geocoder-arcgis-geojson sends them: minLon,maxLat,maxLon,minLat
    flipped = f"{LON - 0.001},{LAT + 0.001},{LON + 0.001},{LAT - 0.001}"
    assert call(world, "suggest", text="1 Civic", searchExtent=flipped)["suggestions"]
    away = f"{LON + 1},{LAT + 1},{LON + 2},{LAT + 2}"
    assert call(world, "suggest", text="1 Civic", searchExtent=away)["suggestions"] == []


@pytest.mark.parametrize("params", [{}, {"text": ""}, {"text": "   "}], ids=["missing", "empty", "blank"])
def test_a_missing_text_is_the_error_object(world, params):
    for method in ("GET", "POST"):
        body = call(world, "suggest", method=method, **params)
        assert body["error"]["code"] == 400 and "suggestions" not in body
        assert any("text" in detail for detail in body["error"]["details"]), body  # not "Invalid URL"


@pytest.mark.parametrize("key", ["not-a-key", "bHwxfDJ8Mw", "Y3wwLjB8MC4wfDA"], ids=["text", "loaded", "moved"])
def test_a_magic_key_the_server_never_issued_is_refused(world, key):
    body = call(world, "findAddressCandidates", SingleLine="1 Civic Center Plaza", magicKey=key)
    assert body["error"]["code"] == 400 and "candidates" not in body


def test_an_unknown_magic_key_can_be_ignored_instead():
    with simulator("arcgis", seed=4, unknown_magic_key="ignore") as url:
        body = call(url, "findAddressCandidates", SingleLine="1 Civic Center Plaza, Harnessville", magicKey="nope")
        assert body["candidates"][0]["address"].startswith("1 Civic Center Plaza")


def test_a_city_locator_suggests_its_own_points_unless_published_without_suggestions():
    with simulator("arcgis", seed=4, instance="server", service="Locators/City") as url:
        assert "Suggest" in call(url, "", CITY)["capabilities"]
        [first, *_] = call(url, "suggest", CITY, text="1 Civic Center")["suggestions"]
        assert first["text"].startswith("1 Civic Center Plaza, Harnessville")
        assert call(url, "suggest", CITY, text="731 W Oak", location="2.3522,48.8566")["suggestions"] == []
    with simulator("arcgis", seed=4, instance="server", service="Locators/City", suggest=False) as url:
        assert "Suggest" not in call(url, "", CITY)["capabilities"]
        body = call(url, "suggest", CITY, text="1 Civic Center")
        assert body["error"]["code"] == 400 and "suggestions" not in body


def test_suggestions_from_an_address_file_come_first(tmp_path):
    path = tmp_path / "berlin.csv"
    path.write_text(
        "LON,LAT,NUMBER,STREET,CITY,POSTCODE\n"
        "13.39277,52.51704,1,Unter den Linden,Berlin,10117\n"
        "13.38886,52.51651,77,Unter den Linden,Berlin,10117\n"
        "13.37770,52.51628,1,Pariser Platz,Berlin,10117\n"
    )
    with simulator("arcgis", seed=4, addresses=str(path)) as url:
        texts = [s["text"] for s in call(url, "suggest", text="1 ", maxSuggestions="15")["suggestions"]]
        assert texts[:2] == [
            "1 Pariser Platz, Berlin, Berlin, 10117, DEU",
            "1 Unter den Linden, Berlin, Berlin, 10117, DEU",
        ]
        near = call(url, "suggest", text="1 ", location="13.3928,52.5170")["suggestions"]
        assert near[0]["text"].startswith("1 Unter den Linden")  # the nearer one first
        [pick] = call(url, "suggest", text="77 unter")["suggestions"]
        [found] = call(url, "findAddressCandidates", SingleLine=pick["text"], magicKey=pick["magicKey"])["candidates"]
        assert (found["location"]["x"], found["location"]["y"]) == (13.38886, 52.51651)


@pytest.mark.parametrize(
    "operation, params",
    [
        ("", {}),
        ("reverseGeocode", {"location": f"{LON},{LAT}"}),
        ("findAddressCandidates", {"SingleLine": "1 Civic Center Plaza"}),
        ("suggest", {"text": "1 Civic"}),
    ],
    ids=["root", "reverseGeocode", "findAddressCandidates", "suggest"],
)
def test_every_path_takes_a_trailing_slash(world, operation, params):
    for method in ("GET", "POST"):
        slashed = (
            call(world, f"{operation}/", method=method, **params)
            if operation
            else call(world, "", f"{WORLD}/", method=method, **params)
        )
        assert violations(world) == []
        assert slashed == call(world, operation, method=method, **params)
        assert "error" not in slashed
