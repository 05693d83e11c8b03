"""Fixtures of the city widget provider suite: one widget endpoint (a given URL), or every widget of the
bundled simulator, and the test account and property the checks use."""

from __future__ import annotations

import os
import secrets
from collections.abc import Iterator
from urllib.parse import urlsplit

import pytest
import requests

from conformance import evidence
from conformance.targets import simulator_at, target_urls

from ..states import state_fixture
from .client import WidgetEndpoint

NAME = "city-api"
BUNDLED_WIDGETS = ("property-taxes", "utilities", "programs", "jobs", "volunteer", "engagement")
TEST_ACCOUNTS = [("UT-HARNESS-0001", "246810"), ("UT-HARNESS-0002", "135791")]
# Seeded by the simulator on the demo city's sample point; given as the geocoder would spell it.
CITY_HALL = {"address": "1 Civic Center Plaza, Harnessville, NC 27601"}


def _control_plane(url: str) -> str | None:
    parts = urlsplit(url)
    control = f"{parts.scheme}://{parts.netloc}/_sim"
    return control if simulator_at(f"{control}/", NAME) else None


def _accounts(config: pytest.Config) -> list[tuple[str, str]]:
    raw = list(config.getoption("wid_account") or [])
    if not raw and os.environ.get("CIVIC_HARNESS_WID_ACCOUNT"):
        raw = os.environ["CIVIC_HARNESS_WID_ACCOUNT"].split(",")
    out = []
    for item in raw:
        number, sep, verification = item.partition(":")
        if not sep:
            raise pytest.UsageError("--wid-account expects NUMBER:VERIFICATION")
        out.append((number, verification))
    return out


def _property(config: pytest.Config) -> dict[str, str] | None:
    if config.getoption("wid_property"):
        return {"property_id": config.getoption("wid_property")}
    if config.getoption("wid_address"):
        return {"address": config.getoption("wid_address")}
    return None


def pytest_generate_tests(metafunc: pytest.Metafunc) -> None:
    if "widget" in metafunc.fixturenames:
        given = target_urls(metafunc.config).get(NAME)
        ids = [urlsplit(given).path.rstrip("/").rsplit("/", 1)[-1] or "target"] if given else list(BUNDLED_WIDGETS)
        metafunc.parametrize("widget", ids, scope="session")


@pytest.fixture(scope="session")
def city_api(request: pytest.FixtureRequest) -> Iterator[dict[str, WidgetEndpoint]]:
    """Widget id -> endpoint."""
    config = request.config
    secret = config.getoption("wid_secret") or os.environ.get("CIVIC_HARNESS_WID_SECRET")
    url = target_urls(config).get(NAME)
    if url is not None:
        if not secret:
            raise pytest.UsageError("certifying a city widget endpoint needs its secret: CIVIC_HARNESS_WID_SECRET")
        widget = urlsplit(url).path.rstrip("/").rsplit("/", 1)[-1] or "target"
        control = _control_plane(url)
        evidence.watch_if_simulator(url)
        endpoint = WidgetEndpoint(
            url,
            config.getoption("wid_key_id") or widget,
            secret,
            control=control,
            accounts=_accounts(config),
            property_params=_property(config),
        )
        if not endpoint.accounts and control is not None:
            endpoint.accounts = _test_accounts(control)
        yield {widget: endpoint}
        return
    from harness.bundled import simulator_config
    from harness.stack import ThreadedStack

    secret = secrets.token_urlsafe(24)  # a fresh secret per run: nothing may depend on the default one
    sim = simulator_config(
        NAME, seed=config.getoption("harness_seed"), secrets=tuple((w, secret) for w in BUNDLED_WIDGETS)
    )
    with ThreadedStack({NAME: sim}) as stack:
        root = evidence.watch(stack.urls[NAME], "session")
        control = f"{root}/_sim"
        accounts = _test_accounts(control)
        yield {
            w: WidgetEndpoint(f"{root}/{w}", w, secret, control=control, accounts=accounts, property_params=CITY_HALL)
            for w in BUNDLED_WIDGETS
        }
        broken = [
            (e["operation"], v)
            for e in requests.get(f"{control}/journal", params={"violations": "true"}, timeout=30).json()["entries"]
            for v in e["violations"]
            if v["where"] == "response"
        ]
        assert not broken, f"the bundled simulator broke its own contract: {broken[:5]}"


def _test_accounts(control: str, accounts: list[tuple[str, str]] = TEST_ACCOUNTS) -> list[tuple[str, str]]:
    """Utility accounts with known credentials, made through the control plane (simulators only)."""
    for number, verification in accounts:
        resp = requests.post(
            f"{control}/actions/create-account",
            json={"account_number": number, "verification": verification},
            timeout=30,
        )
        assert resp.status_code in (200, 409), resp.text[:300]
    return accounts


def _accounts_again(request: pytest.FixtureRequest, endpoint: WidgetEndpoint) -> None:
    """A state starts the city's records afresh: the suite's test accounts are made again."""
    if endpoint.control is not None and endpoint.accounts:
        _test_accounts(endpoint.control, endpoint.accounts)


# The library scenario the check's `provider_state` mark names, played for the check (conformance/providers/states.py).
provider_state = state_fixture("endpoint", control=lambda e: e.control, afresh=_accounts_again)


@pytest.fixture(scope="session")
def endpoint(city_api: dict[str, WidgetEndpoint], widget: str) -> WidgetEndpoint:
    return city_api[widget]


@pytest.fixture
def user() -> str:
    """A fresh citizen per check, so checks never see each other's links."""
    return "u-" + secrets.token_hex(8)


def needs(endpoint: WidgetEndpoint, what: str) -> dict:
    """Skip a check the widget does not offer (linking, external linking, a property)."""
    info = endpoint.describe()
    offered = {
        "account": info["linking"]["account"],
        "external": info["linking"]["external"],
        "property": info["property_dependent"],
        "formatted": info["format"] == "formatted",
        "html": info["format"] == "html",
    }[what]
    if not offered:
        pytest.skip(f"the {info['id']} widget does not offer {what}")
    return info
