"""ArcGIS geocoding wire facts (docs/WIRE-NOTES.md, WF-AG-*): each test sends one public client's exact request
shape to the simulator and asserts the answer that client relies on, with no strict-mode violation."""

from __future__ import annotations

import json
from typing import Any
from urllib.parse import urlencode

import aiohttp
import pytest

from simulators.arcgis import ArcgisConfig
from simulators.kit import city

from .wire_facts import assert_no_violation, running

pytestmark = pytest.mark.req("H-SIM-5")

WORLD = "/arcgis/rest/services/World/GeocodeServer"
CITY = "/server/rest/services/Locators/City/GeocodeServer"
FORM = "application/x-www-form-urlencoded"
REST_JS = {"referer": "@esri/arcgis-rest-js"}  # what @esri/arcgis-rest-request adds under Node
LAT, LON = city.SAMPLE_POINT["lat"], city.SAMPLE_POINT["long"]


async def reply_of(resp: aiohttp.ClientResponse) -> dict[str, Any]:
    text = await resp.text()
    assert resp.status == 200, text[:500]
    return json.loads(text)


@pytest.fixture
async def world():
    async with running("arcgis", ArcgisConfig(seed=4)) as (url, http):
        yield url, http


@pytest.fixture
async def city_server():
    config = ArcgisConfig(seed=4, instance="server", service="Locators/City", require_token=True, tokens=("s3cret",))
    async with running("arcgis", config) as (url, http):
        yield url, http


# -- Esri/arcgis-rest-js: packages/arcgis-rest-request/src/request.ts, arcgis-rest-geocoding/src/*.ts --------


async def test_wf_ag_01_rest_js_reverse_posts_a_form_with_x_comma_y(world):
    """reverseGeocode([lon, lat]) or ({lat, long}): POST (the default), form-urlencoded body `f=json&location=
    lon,lat`; reads `address` and `location`."""
    url, http = world
    body = urlencode({"f": "json", "location": f"{LON},{LAT}"})
    headers = {"Content-Type": FORM, **REST_JS}
    async with http.post(f"{url}{WORLD}/reverseGeocode", data=body, headers=headers) as resp:
        reply = await reply_of(resp)
    assert reply["address"]["Match_addr"] and abs(reply["location"]["x"] - LON) < 0.01
    await assert_no_violation(http, url, "reverseGeocode")


async def test_wf_ag_02_rest_js_reverse_with_a_point_object_sends_json_text(world):
    """reverseGeocode({x, y, spatialReference}): the object is JSON.stringify'd into the form field
    `location={"x":..,"y":..,"spatialReference":{"wkid":4326}}`."""
    url, http = world
    point = json.dumps({"x": LON, "y": LAT, "spatialReference": {"wkid": 4326}}, separators=(",", ":"))
    body = urlencode({"f": "json", "location": point})
    async with http.post(f"{url}{WORLD}/reverseGeocode", data=body, headers={"Content-Type": FORM, **REST_JS}) as r:
        reply = await reply_of(r)
    assert reply["address"]["Match_addr"]
    await assert_no_violation(http, url, "reverseGeocode")


async def test_wf_ag_03_rest_js_geocode_posts_single_line_and_reads_the_spatial_reference(world):
    """geocode({singleLine}): POST form `f=json&singleLine=...` (lower-case s); reads `spatialReference.wkid`
    and `candidates[].location` (and `extent` when present)."""
    url, http = world
    body = urlencode({"f": "json", "singleLine": "1 Civic Center Plaza, Harnessville, NC"})
    async with http.post(f"{url}{WORLD}/findAddressCandidates", data=body, headers={"Content-Type": FORM}) as r:
        reply = await reply_of(r)
    assert reply["spatialReference"]["wkid"] == 4326
    best = reply["candidates"][0]
    assert abs(best["location"]["y"] - LAT) < 0.001 and {"xmin", "ymin", "xmax", "ymax"} <= set(best["extent"])
    await assert_no_violation(http, url, "findAddressCandidates")


async def test_wf_ag_04_rest_js_service_info_is_a_get_on_the_root_with_a_trailing_slash(world):
    """getGeocodeService(): GET `.../GeocodeServer/?f=json` (the default endpoint ends in a slash)."""
    url, http = world
    async with http.get(f"{url}{WORLD}/?f=json", headers=REST_JS) as resp:
        reply = await reply_of(resp)
    assert reply["spatialReference"]["wkid"] == 4326 and "capabilities" in reply
    await assert_no_violation(http, url, "GeocodeServer")


async def test_wf_ag_05_rest_js_token_in_the_post_body(city_server):
    """An authenticated POST carries `token=` in the form body with the other parameters."""
    url, http = city_server
    body = urlencode({"f": "json", "location": f"{LON},{LAT}", "token": "s3cret"})
    async with http.post(f"{url}{CITY}/reverseGeocode", data=body, headers={"Content-Type": FORM}) as resp:
        reply = await reply_of(resp)
    assert "error" not in reply and reply["address"]["Match_addr"]
    await assert_no_violation(http, url, "reverseGeocode")


async def test_wf_ag_06_rest_js_hidden_token_as_an_x_esri_authorization_header_on_get(city_server):
    """GET with hideToken under Node: no `token` parameter, `X-Esri-Authorization: Bearer <token>` instead."""
    url, http = city_server
    query = urlencode({"f": "json", "location": f"{LON},{LAT}"})
    headers = {"X-Esri-Authorization": "Bearer s3cret", **REST_JS}
    async with http.get(f"{url}{CITY}/reverseGeocode?{query}", headers=headers) as resp:
        reply = await reply_of(resp)
    assert "error" not in reply and reply["address"]["Match_addr"]
    await assert_no_violation(http, url, "reverseGeocode")


async def test_wf_ag_07_rest_js_token_errors_are_http_200_with_codes_499_and_498(city_server):
    """checkForErrors: an `error` object in an HTTP 200 JSON answer; 499 (token required) and 498 (invalid
    token) are auth errors the client refreshes on; other codes are request errors."""
    url, http = city_server
    body = {"f": "json", "location": f"{LON},{LAT}"}
    async with http.post(f"{url}{CITY}/reverseGeocode", data=urlencode(body), headers={"Content-Type": FORM}) as r:
        assert (await reply_of(r))["error"]["code"] == 499
    body["token"] = "expired"
    async with http.post(f"{url}{CITY}/reverseGeocode", data=urlencode(body), headers={"Content-Type": FORM}) as r:
        error = (await reply_of(r))["error"]
    assert error["code"] == 498 and error["message"]


# -- geopy 2.5 (PyPI), geopy/geocoders/arcgis.py --------------------------------------------------------------


async def test_wf_ag_08_geopy_forward_is_a_get_with_single_line_and_max_locations(world):
    """geocode(): GET `findAddressCandidates?singleLine=...&f=json&maxLocations=1`; reads
    `candidates[].address` and `candidates[].location.{x,y}`; an `error` key raises."""
    url, http = world
    query = urlencode({"singleLine": "1 Civic Center Plaza, Harnessville, NC", "f": "json", "maxLocations": 1})
    async with http.get(f"{url}{WORLD}/findAddressCandidates?{query}") as resp:
        reply = await reply_of(resp)
    assert len(reply["candidates"]) == 1 and reply["candidates"][0]["address"].startswith("1 Civic Center Plaza")
    await assert_no_violation(http, url, "findAddressCandidates")


async def test_wf_ag_09_geopy_reverse_reads_the_address_parts(world):
    """reverse(): GET `reverseGeocode?location=lon,lat&f=json&outSR=4326`; reads `address.Address`, `City`,
    `Region`, `Postal`, `CountryCode` (or `LongLabel` when Address is empty) and `location.{x,y}`."""
    url, http = world
    query = urlencode({"location": f"{LON},{LAT}", "f": "json", "outSR": 4326})
    async with http.get(f"{url}{WORLD}/reverseGeocode?{query}") as resp:
        reply = await reply_of(resp)
    address = reply["address"]
    assert all(address[k] for k in ("Address", "City", "Region", "Postal", "CountryCode"))
    assert abs(reply["location"]["y"] - LAT) < 0.01
    await assert_no_violation(http, url, "reverseGeocode")


async def test_wf_ag_10_geopy_no_address_is_error_400_unable_to_find_in_details(world):
    """reverse() returns None (no match, not a failure) only for `error.code == 400` whose `details[0]` contains
    "Unable to find"; anything else raises."""
    url, http = world
    query = urlencode({"location": "-30.0,-45.0", "f": "json", "outSR": 4326})  # the South Atlantic
    async with http.get(f"{url}{WORLD}/reverseGeocode?{query}") as resp:
        error = (await reply_of(resp))["error"]
    assert error["code"] == 400 and "Unable to find" in error["details"][0]


async def test_wf_ag_11_geopy_token_appended_to_the_query_with_a_referer(city_server):
    """Authenticated mode: `&token=<token>` appended to the same GET, plus a `Referer` header."""
    url, http = city_server
    query = urlencode({"location": f"{LON},{LAT}", "f": "json", "outSR": 4326}) + "&" + urlencode({"token": "s3cret"})
    async with http.get(f"{url}{CITY}/reverseGeocode?{query}", headers={"Referer": "https://city.example"}) as resp:
        reply = await reply_of(resp)
    assert "error" not in reply and reply["address"]["Address"]
    await assert_no_violation(http, url, "reverseGeocode")
