"""The ArcGIS geocoder simulator: a standard client library against the command-line simulator, the
provider suite green against it and red against wrong modes."""

from __future__ import annotations

import re
import subprocess
import sys
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

import pytest
from geopy.geocoders import ArcGIS

from simulators.arcgis import ArcgisConfig
from simulators.kit import city

from .certify_runner import certify, simulator

ROOT = Path(__file__).resolve().parent.parent


@contextmanager
def cli_simulator(*args: str) -> Iterator[str]:
    proc = subprocess.Popen(
        [sys.executable, "-m", "harness.cli", "sim", "arcgis", *args], cwd=ROOT, stdout=subprocess.PIPE, text=True
    )
    try:
        yield re.fullmatch(r"listening on http://(\S+)\n", proc.stdout.readline()).group(1)
    finally:
        proc.terminate()
        proc.wait(10)


@pytest.mark.req("GEO-API-1", "GEO-API-4")
def test_geopy_reverse_and_forward_geocode_against_the_simulator():
    with cli_simulator("--seed", "4") as host:
        geocoder = ArcGIS(scheme="http", domain=host, timeout=10)
        lat, lon = city.SAMPLE_POINT["lat"], city.SAMPLE_POINT["long"]
        found = geocoder.reverse(f"{lat}, {lon}")
        assert found is not None and found.address.startswith("1 Civic Center Plaza, Harnessville")
        assert abs(found.latitude - lat) < 0.001 and abs(found.longitude - lon) < 0.001
        assert geocoder.reverse("-45.0, -30.0") is None  # the South Atlantic: "no address" is no match, not a failure
        forward = geocoder.geocode("1 Civic Center Plaza, Harnessville, NC")
        assert forward is not None and abs(forward.latitude - lat) < 0.001


@pytest.mark.req("H-CON-1", "GEO-API-1", "GEO-API-2", "GEO-API-3", "GEO-API-5")
def test_the_suite_passes_against_the_world_geocoder_and_a_city_server():
    with simulator("arcgis", seed=2) as url:
        code, output, verdicts = certify("arcgis", url)
    assert code == 0, output[-3000:]
    assert {verdicts[f"GEO-API-{n}"] for n in (1, 2, 4, 5, 6)} == {"PASS"}
    # a server answering without a token: its token checks do not apply; the service path's check holds GEO-API-3
    assert verdicts["GEO-API-3"] == "PASS", output[-3000:]
    path = "/server/rest/services/Locators/City/GeocodeServer"
    with simulator("arcgis", instance="server", service="Locators/City", require_token=True, tokens=("s3cret",)) as url:
        code, output, verdicts = certify("arcgis", url, "--service-path", path, "--token", "s3cret")
    assert code == 0, output[-3000:]
    assert verdicts["GEO-API-3"] == "PASS"
    assert "s3cret" not in output


@pytest.mark.req("H-CON-1")
@pytest.mark.parametrize(
    "defect, select, failing",
    [
        ("empty-address-instead-of-error", "no_address", "GEO-API-2"),
        ("ignore-outsr", "out_sr", "GEO-API-1"),
        ("refuse-magic-keys", "suggestion", "GEO-API-5"),
        # a check that needs a provider state (the city's surveyed points, played for it)
        ("street-interpolated", "exact_location", "GEO-API-6"),
    ],
)
def test_the_suite_fails_with_the_right_ids_against_wrong_modes(defect, select, failing):
    with simulator("arcgis", defects=frozenset({defect})) as url:
        code, output, verdicts = certify("arcgis", url, "-k", select)
    assert code == 1 and verdicts[failing] == "FAIL", output[-3000:]


@pytest.mark.req("H-CON-1")
def test_a_city_server_that_ignores_its_token_fails():
    path = "/server/rest/services/Locators/City/GeocodeServer"
    options = {"instance": "server", "service": "Locators/City", "require_token": True, "tokens": ("s3cret",)}
    with simulator("arcgis", defects=frozenset({"ignore-token"}), **options) as url:
        code, output, verdicts = certify("arcgis", url, "--service-path", path, "--token", "s3cret", "-k", "token")
    assert code == 1 and verdicts["GEO-API-3"] == "FAIL", output[-3000:]


@pytest.mark.parametrize(
    "bad", [{"instance": "a/b"}, {"service": "a/b/c/d"}, {"search_radius_m": 0}, {"defects": frozenset({"x"})}]
)
def test_bad_configuration_is_refused(bad):
    with pytest.raises(ValueError):
        ArcgisConfig(**bad)
