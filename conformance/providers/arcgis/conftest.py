"""Fixtures of the ArcGIS geocoder provider suite: the target (a given URL, or the bundled simulator)."""

from __future__ import annotations

from collections.abc import Iterator
from dataclasses import dataclass
from typing import Any

import pytest
import requests

from conformance import evidence
from conformance.targets import simulator_at, target_urls
from conformance.wanting import wanting

from ..states import state_fixture

NAME = "arcgis"
TIMEOUT_S = 30


@dataclass
class Geocoder:
    url: str  # the server, e.g. https://geocode.arcgis.com
    service_path: str  # e.g. /arcgis/rest/services/World/GeocodeServer
    token: str | None
    point: tuple[float, float]  # lon, lat with an address near
    far_point: tuple[float, float]  # lon, lat with none
    bundled: bool
    control: bool = False  # whether the server has the simulator control plane (/_sim/)

    def call(self, operation: str, method: str = "GET", with_token: bool = True, **params: Any) -> requests.Response:
        params = {"f": "json", **params}
        if with_token and self.token and "token" not in params:
            params["token"] = self.token
        url = self.url + self.service_path + (f"/{operation}" if operation else "")
        if method == "POST":
            return requests.post(url, data=params, timeout=TIMEOUT_S)
        return requests.get(url, params=params, timeout=TIMEOUT_S)

    def json(self, operation: str, **kwargs: Any) -> dict[str, Any]:
        resp = self.call(operation, **kwargs)
        assert resp.headers.get("Content-Type", "").startswith("application/json"), resp.text[:200]
        return resp.json()


def _lonlat(text: str) -> tuple[float, float]:
    lon, lat = (float(v) for v in text.split(","))
    return lon, lat


def _default_point() -> tuple[float, float]:
    from contracts.scenario import demo_city  # the demo city's point, which the bundled simulators share

    point = demo_city().point()
    return point["long"], point["lat"]


@pytest.fixture(scope="session")
def geo_target(request: pytest.FixtureRequest) -> Iterator[Geocoder]:
    config = request.config
    point = _lonlat(config.getoption("geo_point")) if config.getoption("geo_point") else _default_point()
    far = _lonlat(config.getoption("geo_far_point"))
    path, token = config.getoption("geo_service_path"), config.getoption("geo_token")
    url = target_urls(config).get(NAME)
    if url is not None:
        evidence.watch_if_simulator(url)
        control = simulator_at(f"{url}/_sim/", NAME)
        yield Geocoder(url, path, token, point, far, bundled=False, control=control)
        return
    from harness.bundled import simulator_config
    from harness.stack import ThreadedStack

    with ThreadedStack({NAME: simulator_config(NAME, seed=config.getoption("harness_seed"))}) as stack:
        url = evidence.watch(stack.urls[NAME], "session")
        yield Geocoder(url, path, token, point, far, bundled=True, control=True)


@pytest.fixture(scope="session")
def customer_server(geo_target: Geocoder) -> Iterator[Geocoder]:
    """A server under its own service path: a second bundled simulator configured like a city's own ArcGIS
    Server (it requires a token), or the target itself when one was given."""
    if not geo_target.bundled:
        yield geo_target
        return
    from harness.bundled import simulator_config
    from harness.stack import ThreadedStack

    config = simulator_config(NAME, instance="server", service="Locators/City", require_token=True, tokens=("t0ken",))
    with ThreadedStack({NAME: config}) as stack:
        path = "/server/rest/services/Locators/City/GeocodeServer"
        url = evidence.watch(stack.urls[NAME])
        yield Geocoder(url, path, "t0ken", geo_target.point, geo_target.far_point, bundled=True)


@pytest.fixture
def token_server(customer_server: Geocoder) -> Geocoder:
    """The customer's server when it requires a token (GEO-API-3's 499 and 498). A target given without a token
    that answers without one requires none: its token checks do not apply — a vendor is not judged on them and
    there is nothing for the city to give. One that wants a token the run lacks is skipped for want of it."""
    if customer_server.token:
        return customer_server
    answer = customer_server.call("", with_token=False).json()
    if isinstance(answer, dict) and answer.get("error", {}).get("code") == 499:
        pytest.skip(wanting("a token, to certify a server that requires one", "--token TOKEN", "--geo-token"))
    pytest.skip(
        "does not apply: this server answers without a token, so it requires none (given --token, the run "
        "checks that it refuses calls without one)"
    )


# The library scenario the check's `provider_state` mark names, played for the check (conformance/providers/states.py).
provider_state = state_fixture("geo_target", control=lambda g: f"{g.url}/_sim" if g.control else None)
