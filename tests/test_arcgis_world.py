"""The ArcGIS simulator anywhere: the World service answers every point on land with a synthesized address
(same point, same address, in any process) that findAddressCandidates finds back; the sea has no address; a
city's own locator answers only where it has points; a city's address file is loaded and answered first;
each documented form of `location` is read."""

from __future__ import annotations

import json
import math
import os
import re
import subprocess
import sys
from collections.abc import Iterator
from pathlib import Path

import pytest
import requests
from geopy.geocoders import ArcGIS

from simulators.arcgis import ArcgisConfig
from simulators.kit import city

from .certify_runner import simulator

ROOT = Path(__file__).resolve().parent.parent
WORLD = "/arcgis/rest/services/World/GeocodeServer"
CITY = "/server/rest/services/Locators/City/GeocodeServer"
NO_ADDRESS = "Unable to find address for the specified location."
# (lon, lat, ISO 3166 alpha-3 of the country) on five continents
LAND = [
    (2.3522, 48.8566, "FRA"),
    (36.8219, -1.2921, "KEN"),
    (150.95, -33.80, "AUS"),
    (139.6917, 35.6895, "JPN"),
    (-46.6333, -23.5505, "BRA"),
    (-104.9903, 39.7392, "USA"),
]
SEA = [(-30.0, -45.0), (-140.0, 0.5), (80.0, -30.0), (-40.0, 35.0)]


def metres(lon0: float, lat0: float, lon1: float, lat1: float) -> float:
    scale = math.cos(math.radians((lat0 + lat1) / 2))
    return math.hypot((lon1 - lon0) * 111_320 * scale, (lat1 - lat0) * 110_540)


def reverse(base: str, location: str, path: str = WORLD, method: str = "GET", **extra: str) -> dict:
    params = {"f": "json", "location": location, **extra}
    if method == "POST":
        resp = requests.post(f"{base}{path}/reverseGeocode", data=params, timeout=30)
    else:
        resp = requests.get(f"{base}{path}/reverseGeocode", params=params, timeout=30)
    assert resp.status_code == 200 and resp.headers["Content-Type"].startswith("application/json"), resp.text
    return resp.json()


def candidates(base: str, single_line: str, path: str = WORLD) -> list[dict]:
    params = {"f": "json", "SingleLine": single_line, "outFields": "*", "maxLocations": "5"}
    resp = requests.get(f"{base}{path}/findAddressCandidates", params=params, timeout=30)
    assert resp.status_code == 200, resp.text
    return resp.json()["candidates"]


def single_line(address: dict) -> str:
    return f"{address['Address']}, {address['City']}, {address['Region']} {address['Postal']}".strip()


@pytest.fixture(scope="module")
def world() -> Iterator[str]:
    with simulator("arcgis", seed=1) as url:
        yield url


@pytest.mark.req("GEO-API-1")
@pytest.mark.parametrize("lon, lat, country", LAND, ids=[c for *_, c in LAND])
def test_world_answers_every_point_on_land(world, lon, lat, country):
    body = reverse(world, f"{lon},{lat}")
    address, location = body["address"], body["location"]
    assert re.fullmatch(r"\d+ [EW] .+", address["Address"]), address
    assert address["AddNum"] and address["Address"].startswith(address["AddNum"] + " ")
    assert address["City"] and address["Region"] and address["CountryCode"] == country
    assert address["Match_addr"].startswith(address["Address"]) and address["LongLabel"].endswith(country)
    assert ", ," not in address["LongLabel"] and ", ," not in address["Match_addr"]  # no empty parts
    assert address["Addr_type"] == "PointAddress"
    assert metres(lon, lat, location["x"], location["y"]) < 60
    assert location["spatialReference"]["wkid"] == 4326


@pytest.mark.req("GEO-API-2")
@pytest.mark.parametrize("lon, lat", SEA)
def test_the_sea_has_no_address(world, lon, lat):
    body = reverse(world, f"{lon},{lat}")
    assert body == {"error": {"code": 400, "message": "Cannot perform query. Invalid query parameters.",
                              "details": [NO_ADDRESS]}}  # fmt: skip


def cli_world(*args: str, hash_seed: str) -> subprocess.Popen:
    env = {**os.environ, "PYTHONHASHSEED": hash_seed, "PYTHONPATH": str(ROOT)}
    return subprocess.Popen(
        [sys.executable, "-m", "harness.cli", "sim", "arcgis", *args],
        cwd=ROOT,
        env=env,
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
    )


@pytest.mark.req("GEO-API-1")
def test_same_point_same_address_in_another_process_with_another_hash_seed(world):
    points = [f"{lon + 0.0123},{lat - 0.0045}" for lon, lat, _ in LAND]
    here = [reverse(world, p) for p in points]
    proc = cli_world("--seed", "7", hash_seed="12345")
    try:
        host = re.fullmatch(r"listening on (http://\S+)\n", proc.stdout.readline()).group(1)
        there = [reverse(host, p) for p in points]
    finally:
        proc.terminate()
        proc.wait(10)
    assert here == there
    assert len({json.dumps(b["address"]) for b in here}) == len(points)


@pytest.mark.req("GEO-API-4")
@pytest.mark.parametrize("lon, lat, country", LAND, ids=[c for *_, c in LAND])
def test_find_address_candidates_finds_the_synthesized_address_back(world, lon, lat, country):
    found = reverse(world, f"{lon},{lat}")
    address, location = found["address"], found["location"]
    best = candidates(world, single_line(address))[0]
    assert best["score"] >= 90
    assert best["address"] == address["Match_addr"]
    assert best["attributes"]["CountryCode"] == country
    assert metres(best["location"]["x"], best["location"]["y"], location["x"], location["y"]) < 1
    again = reverse(world, f"{best['location']['x']},{best['location']['y']}")
    assert again["address"]["Address"] == address["Address"]


@pytest.mark.req("GEO-API-4")
def test_a_street_reverse_geocoding_never_names_is_no_candidate(world):
    # A name of the town's grid, but of a row some 150 km out, where addresses belong to other towns.
    assert candidates(world, "1 E Oak St, Nairobi") == []


@pytest.mark.req("GEO-API-2")
def test_a_city_locator_answers_inside_its_extent_only():
    with simulator("arcgis", instance="server", service="Locators/City") as url:
        inside = reverse(url, f"{city.SAMPLE_POINT['long']},{city.SAMPLE_POINT['lat']}", CITY)
        assert inside["address"]["City"] == city.NAME
        for lon, lat, _ in LAND:
            outside = reverse(url, f"{lon},{lat}", CITY)
            assert outside["error"]["details"] == [NO_ADDRESS]
        assert candidates(url, "17 E Lake Blvd, Paris, France", CITY) == []


OPENADDRESSES = """lon,Lat,NUMBER,street,Unit,CITY,postcode,REGION
13.39277,52.51704,1,Unter den Linden,,Berlin,10117,BE
13.38886,52.51651,77,Unter den Linden,,Berlin,10117,BE
13.37770,52.51628,1,Pariser Platz,,Berlin,10117,BE
"""


@pytest.mark.req("GEO-API-1", "GEO-API-4")
def test_an_openaddresses_csv_is_answered_before_the_synthesized_addresses(tmp_path):
    path = tmp_path / "berlin.csv"
    path.write_text(OPENADDRESSES)
    with simulator("arcgis", addresses=str(path)) as url:
        near = reverse(url, "13.38890,52.51660")  # about 10 m from 77 Unter den Linden
        assert near["address"]["Address"] == "77 Unter den Linden"
        assert (near["address"]["City"], near["address"]["Postal"]) == ("Berlin", "10117")
        assert near["address"]["CountryCode"] == "DEU"
        assert (near["location"]["x"], near["location"]["y"]) == (13.38886, 52.51651)
        # beyond the asked distance the loaded point is not the answer; the World's synthesis is
        short = reverse(url, "13.38890,52.51660", distance="3")
        assert short["address"]["Address"] != "77 Unter den Linden"
        best = candidates(url, "1 Pariser Platz, Berlin 10117")
        assert best[0]["score"] == 100 and best[0]["address"].startswith("1 Pariser Platz, Berlin")
        assert (best[0]["location"]["x"], best[0]["location"]["y"]) == (13.3777, 52.51628)


def test_a_geojson_file_serves_a_city_locator(tmp_path):
    features = [
        {"type": "Feature", "geometry": {"type": "Point", "coordinates": [-0.12765, 51.50732]},
         "properties": {"number": "10", "street": "Downing Street", "city": "London", "postcode": "SW1A 2AA"}},
        {"type": "Feature", "geometry": {"type": "Point", "coordinates": [-0.14189, 51.50135]},
         "properties": {"NUMBER": 1, "STREET": "The Mall", "unit": "A"}},
    ]  # fmt: skip
    path = tmp_path / "london.geojson"
    path.write_text(json.dumps({"type": "FeatureCollection", "features": features}))
    with simulator("arcgis", instance="server", service="Locators/City", addresses=str(path)) as url:
        body = reverse(url, "-0.12760,51.50730", CITY)
        assert body["address"]["Address"] == "10 Downing Street" and body["address"]["Postal"] == "SW1A 2AA"
        assert body["address"]["CountryCode"] == "GBR"
        mall = reverse(url, "-0.14190,51.50136", CITY)["address"]
        assert mall["Address"] == "1 The Mall" and mall["City"]  # a blank city is named by the nearest town
        assert reverse(url, "-0.1,51.6", CITY)["error"]["details"] == [NO_ADDRESS]
        assert candidates(url, "10 Downing Street, London", CITY)[0]["score"] == 100


@pytest.mark.parametrize(
    "name, text, message",
    [
        ("no-lat.csv", "LON,NUMBER,STREET\n1,2,Main St\n", r"no-lat\.csv:1: the header lacks LAT"),
        ("bad-lon.csv", "LON,LAT,NUMBER,STREET\n1,2,3,Main St\nabc,2,4,Main St\n", r"bad-lon\.csv:3: coordinates"),
        ("short.csv", "LON,LAT,NUMBER,STREET\n1,2,3\n", r"short\.csv:2: 3 fields"),
        ("range.csv", "LON,LAT,NUMBER,STREET\n200,2,3,Main St\n", r"range\.csv:2: coordinates 200"),
        ("nonumber.csv", "LON,LAT,NUMBER,STREET\n1,2,,Main St\n", r"nonumber\.csv:2: .*number and a street"),
        ("empty.csv", "LON,LAT,NUMBER,STREET\n", r"empty\.csv: no address points"),
        ("bad.geojson", "{not json", r"bad\.geojson: not JSON"),
        ("list.geojson", "[]", r"list\.geojson: not a GeoJSON FeatureCollection"),
        (
            "line.geojson",
            json.dumps(
                {
                    "type": "FeatureCollection",
                    "features": [
                        {
                            "type": "Feature",
                            "geometry": {"type": "Point", "coordinates": [1, 2]},
                            "properties": {"number": "1", "street": "A St"},
                        },
                        {"type": "Feature", "geometry": {"type": "LineString", "coordinates": [[1, 2], [3, 4]]}},
                    ],
                }
            ),
            r"line\.geojson: feature 1: not a Point feature",
        ),
    ],
)
def test_a_bad_address_file_is_refused_naming_the_file_and_line(tmp_path, name, text, message):
    path = tmp_path / name
    path.write_text(text)
    with pytest.raises(ValueError, match=message):
        ArcgisConfig(addresses=str(path))


def test_the_command_line_refuses_a_bad_file_in_one_line(tmp_path):
    path = tmp_path / "bad.csv"
    path.write_text("LON,LAT,NUMBER,STREET\n1,2,3,Main St\n1,x,3,Main St\n")
    result = subprocess.run(
        [sys.executable, "-m", "harness.cli", "sim", "arcgis", "--addresses", str(path)],
        cwd=ROOT,
        capture_output=True,
        text=True,
        timeout=120,
    )
    assert result.returncode == 2
    assert result.stderr.strip().splitlines() == [f"civic-harness: {path}:3: coordinates '1', 'x' are not numbers"]
    missing = subprocess.run(
        [sys.executable, "-m", "harness.cli", "sim", "arcgis", "--addresses", str(tmp_path / "nope.csv")],
        cwd=ROOT,
        capture_output=True,
        text=True,
        timeout=120,
    )
    assert missing.returncode == 2 and "nope.csv: no such file" in missing.stderr and "Traceback" not in missing.stderr


def mercator(lon: float, lat: float) -> tuple[float, float]:
    r = 6378137.0
    return math.radians(lon) * r, math.log(math.tan(math.pi / 4 + math.radians(lat) / 2)) * r


@pytest.mark.req("GEO-API-1")
def test_every_documented_location_form_reads_the_same_point(world):
    lon, lat, _ = LAND[1]
    x, y = mercator(lon, lat)
    forms = [
        f"{lon},{lat}",
        json.dumps({"x": lon, "y": lat}),
        json.dumps({"x": lon, "y": lat, "spatialReference": {"wkid": 4326}}),
        f"{{x: {lon}, y: {lat}}}",  # as Esri's reference writes it: bare keys
        json.dumps({"x": x, "y": y, "spatialReference": {"wkid": 3857}}),
        json.dumps({"x": x, "y": y, "spatialReference": {"wkid": 102100, "latestWkid": 3857}}),
    ]
    expected = reverse(world, forms[0])["address"]
    for form in forms:
        assert reverse(world, form)["address"] == expected, form
        assert reverse(world, form, method="POST")["address"] == expected, form


@pytest.mark.req("GEO-API-2")
@pytest.mark.parametrize(
    "location",
    [
        json.dumps({"lat": -1.2921, "long": 36.8219}),  # arcgis-rest-js turns this into x,y; the server never reads it
        json.dumps({"latitude": -1.2921, "longitude": 36.8219}),
        "{x: 36.8}",
        json.dumps({"x": 1, "y": 2, "spatialReference": {"wkid": 2277}}),
    ],
)
def test_undocumented_location_forms_are_refused_as_arcgis_refuses_them(world, location):
    for method in ("GET", "POST"):
        body = reverse(world, location, method=method)
        assert body["error"]["code"] == 400 and "address" not in body
        assert body["error"]["message"] == "Unable to complete operation."


@pytest.mark.req("GEO-API-1", "GEO-API-4")
def test_geopy_unmodified_reverse_and_forward_geocodes_in_another_country(world):
    geocoder = ArcGIS(scheme="http", domain=world.removeprefix("http://"), timeout=30)
    found = geocoder.reverse("-1.2921, 36.8219")  # Nairobi, as geopy takes it: "lat, lon"
    assert found is not None and "Nairobi" in found.address
    assert metres(36.8219, -1.2921, found.longitude, found.latitude) < 60
    forward = geocoder.geocode(found.address)
    assert forward is not None
    assert metres(found.longitude, found.latitude, forward.longitude, forward.latitude) < 1


@pytest.mark.req("GEO-API-1")
def test_the_answer_format_follows_f_and_defaults_to_html(world):
    lon, lat, _ = LAND[0]
    url = f"{world}{WORLD}/reverseGeocode"
    plain = requests.get(url, params={"location": f"{lon},{lat}", "f": "json"}, timeout=30)
    pretty = requests.post(url, data={"location": f"{lon},{lat}", "f": "pjson"}, timeout=30)
    assert plain.json() == pretty.json() and "\n" in pretty.text and "\n" not in plain.text
    for resp in (
        requests.get(url, params={"location": f"{lon},{lat}"}, timeout=30),
        requests.post(url, data={"location": f"{lon},{lat}"}, timeout=30),
        requests.get(url, params={"location": f"{lon},{lat}", "f": "html"}, timeout=30),
    ):
        assert resp.status_code == 200 and resp.headers["Content-Type"].startswith("text/html")
        assert plain.json()["address"]["Address"] in resp.text
    unknown = requests.get(url, params={"location": f"{lon},{lat}", "f": "xml"}, timeout=30).json()
    assert unknown["error"]["code"] == 400  # strict: outside json|pjson|html (what ArcGIS does here is inferred)


@pytest.mark.req("GEO-API-1")
@pytest.mark.parametrize("distance", ["abc", "-5", "0", "NaN", ""])
def test_an_invalid_distance_means_the_default_as_arcgis_server_documents(world, distance):
    lon, lat, _ = LAND[0]
    expected = reverse(world, f"{lon},{lat}")["address"]
    assert reverse(world, f"{lon},{lat}", distance=distance)["address"] == expected


def test_up_passes_an_address_file_to_the_arcgis_simulator(tmp_path):
    path = tmp_path / "berlin.csv"
    path.write_text(OPENADDRESSES)
    from .test_cli import running

    with running("up", "--json", "--arcgis-addresses", str(path)) as (_, line):
        arcgis = json.loads(line)["simulators"]["arcgis"]
        assert reverse(arcgis, "13.38890,52.51660")["address"]["Address"] == "77 Unter den Linden"
    bad = tmp_path / "bad.geojson"
    bad.write_text("[]")
    result = subprocess.run(
        [sys.executable, "-m", "harness.cli", "up", "--arcgis-addresses", str(bad)],
        cwd=ROOT,
        capture_output=True,
        text=True,
        timeout=120,
    )
    assert result.returncode == 2
    assert result.stderr.strip().splitlines() == [f"civic-harness: {bad}: not a GeoJSON FeatureCollection"]


@pytest.mark.req("GEO-API-1", "GEO-API-4")
def test_inside_the_demo_city_a_synthesized_address_is_in_harnessville(world):
    lon, lat = city.SAMPLE_POINT["long"] + 0.0107, city.SAMPLE_POINT["lat"] - 0.0063
    assert city.contains(lon, lat)
    found = reverse(world, f"{lon},{lat}", distance="1")  # closer than any seeded point: the synthesis answers
    address = found["address"]
    assert re.fullmatch(r"\d+ [EW] .+", address["Address"]) and address["City"] == city.NAME
    assert (address["RegionAbbr"], address["CountryCode"]) == (city.STATE, "USA")
    best = candidates(world, single_line(address))[0]
    assert best["score"] == 100 and best["address"] == address["Match_addr"]
