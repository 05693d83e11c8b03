"""Fixtures of the OpenGov EAM provider suite: the target (a given URL, or the bundled simulator)."""

from __future__ import annotations

import os
from collections.abc import Iterator
from dataclasses import dataclass
from typing import Any

import pytest
import requests

from conformance import evidence
from conformance.targets import simulator_at, target_urls

from ..states import state_fixture

NAME = "opengov"
TIMEOUT_S = 30


@dataclass
class Eam:
    url: str  # up to the instance, before /api/v1
    login: str
    password: str
    requester_class: str
    comment_class: str
    control: bool

    def session(self) -> requests.Session:
        http = requests.Session()
        http.auth = (self.login, self.password)
        return http

    def call(self, method: str, path: str, http: requests.Session | None = None, **kwargs: Any) -> requests.Response:
        return (http or self.session()).request(method, f"{self.url}/api/v1/{path}", timeout=TIMEOUT_S, **kwargs)

    def records(self, class_name: str, **params: Any) -> tuple[list[dict[str, Any]], dict[str, Any]]:
        resp = self.call("GET", f"classes/{class_name}", params=params)
        assert resp.status_code == 200, resp.text[:300]
        body = resp.json()
        key = next(k for k in body if k.lower() == class_name.lower())
        return body[key], body["_metadata"]

    def create(self, class_name: str, *items: dict[str, Any], path: str | None = None) -> list[dict[str, Any]]:
        resp = self.call("POST", path or f"classes/{class_name}", json={class_name: list(items)})
        assert resp.status_code in (200, 201), resp.text[:300]
        return resp.json()[class_name]


@pytest.fixture(scope="session")
def og(request: pytest.FixtureRequest) -> Iterator[Eam]:
    config = request.config
    login = config.getoption("og_user")
    password = config.getoption("og_password") or os.environ.get("CIVIC_HARNESS_OG_PASSWORD") or "harness"
    requester, comment = config.getoption("og_requester_class"), config.getoption("og_comment_class")
    url = target_urls(config).get(NAME)
    if url is not None:
        control = simulator_at(f"{url}/_sim/", NAME)
        evidence.watch_if_simulator(url)
        yield Eam(url, login, password, requester, comment, control)
        return
    from harness.bundled import simulator_config
    from harness.stack import ThreadedStack

    sim = simulator_config(
        NAME,
        seed=config.getoption("harness_seed"),
        users=((login, password),),
        requester_class=requester,
        comment_class=comment,
    )
    with ThreadedStack({NAME: sim}) as stack:
        yield Eam(evidence.watch(stack.urls[NAME], "session"), login, password, requester, comment, control=True)


# The library scenario the check's `provider_state` mark names, played for the check (conformance/providers/states.py).
provider_state = state_fixture("og", control=lambda og: f"{og.url}/_sim" if og.control else None)
