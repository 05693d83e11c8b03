"""Fixtures of the Cityworks provider suite: the target (a given URL, or the bundled simulator) and a client."""

from __future__ import annotations

import os
from collections.abc import Iterator
from dataclasses import dataclass

import pytest
import requests

from conformance import evidence
from conformance.targets import simulator_at, target_urls

from ..states import state_fixture
from .client import CityworksClient, family

NAME = "cityworks"


@dataclass
class Target:
    url: str
    version: str
    licences: frozenset[str]
    login: str
    password: str
    bundled: bool
    control: bool  # whether the server has the simulator control plane (/_sim/)
    hidden_problems: tuple[int, ...] = ()  # problem types the site keeps from the public (--cw-hidden-problems)
    hidden_templates: tuple[str, ...] = ()  # work-order templates it keeps from the public (--cw-hidden-templates)

    @property
    def family(self) -> str:
        return family(self.version)

    def client(self) -> CityworksClient:
        return CityworksClient(self.url, self.version, self.login, self.password)

    def sim(self, method: str, path: str, **kwargs) -> requests.Response:
        return requests.request(method, f"{self.url}/_sim/{path}", timeout=30, **kwargs)

    def action(self, name: str, **payload) -> dict:
        resp = self.sim("POST", f"actions/{name}", json=payload)
        assert resp.status_code == 200, resp.text
        return resp.json()["result"]


@pytest.fixture(scope="session")
def cw_target(request: pytest.FixtureRequest) -> Iterator[Target]:
    config = request.config
    version = config.getoption("cw_version")
    licences = frozenset(p.strip() for p in config.getoption("cw_licences").split(",") if p.strip())
    login = config.getoption("cw_user")
    password = config.getoption("cw_password") or os.environ.get("CIVIC_HARNESS_CW_PASSWORD") or "harness"
    try:
        hidden = tuple(int(p) for p in config.getoption("cw_hidden_problems").split(",") if p.strip())
    except ValueError:
        raise pytest.UsageError("--cw-hidden-problems expects ProblemSids: 12,15") from None
    hidden_templates = tuple(t.strip() for t in config.getoption("cw_hidden_templates").split(",") if t.strip())
    url = target_urls(config).get(NAME)
    if url is not None:
        evidence.watch_if_simulator(url)
        control = simulator_at(f"{url}/_sim/", NAME)
        yield Target(url, version, licences, login, password, bundled=False, control=control, hidden_problems=hidden,
                     hidden_templates=hidden_templates)  # fmt: skip
        return
    from harness.bundled import simulator_config
    from harness.stack import ThreadedStack

    sim_config = simulator_config(
        NAME, version=version, licences=licences, seed=config.getoption("harness_seed"), users=((login, password),)
    )
    with ThreadedStack({NAME: sim_config}) as stack:
        url = evidence.watch(stack.urls[NAME], "session")
        target = Target(url, version, licences, login, password, bundled=True, control=True)
        yield target
        # The bundled simulator checks its own answers against the contract; any breach is our bug.
        broken = [
            (e["operation"], v)
            for e in target.sim("GET", "journal", params={"violations": "true"}).json()["entries"]
            for v in e["violations"]
            if v["where"] == "response"
        ]
        assert not broken, f"the bundled simulator broke its own contract: {broken[:5]}"


@pytest.fixture(scope="session")
def cw(cw_target: Target) -> CityworksClient:
    return cw_target.client()


@pytest.fixture
def needs_control(cw_target: Target) -> Target:
    """For checks that must arrange data the way a city worker would (simulators only)."""
    if not cw_target.control:
        pytest.skip("needs the simulator control plane (/_sim/) to arrange data; not available on this target")
    return cw_target


def _signs_in_again(request: pytest.FixtureRequest, target: Target) -> None:
    request.getfixturevalue("cw").forget_token()  # a state starts the site afresh, its tokens too


# The library scenario the check's `provider_state` mark names, played for the check (conformance/providers/states.py).
provider_state = state_fixture(
    "cw_target", control=lambda t: f"{t.url}/_sim" if t.control else None, afresh=_signs_in_again
)


def needs_licence(target: Target, licence: str) -> None:
    if licence not in target.licences:
        pytest.skip(f"the target is not licensed for {licence}")


@pytest.fixture(scope="session")
def probe(cw_target: Target) -> str:
    """A cheap authenticated call the target is licensed for (both take `ForPublicOnly`)."""
    if "sr" in cw_target.licences:
        return "/Services/Ams/ServiceRequest/Problems"
    return "/Services/Ams/WorkOrder/Templates"
