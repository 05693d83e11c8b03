"""A signing client for a city widget endpoint, built on requests (what the suite drives it with)."""

from __future__ import annotations

import time
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any
from urllib.parse import urlsplit

import requests

from conformance import answers
from contracts.widget_signing import sign

TIMEOUT_S = 30


class WidgetAuth(requests.auth.AuthBase):
    """Signs each prepared request as contracts/city-widget.yaml says, over exactly what is sent.

    `clock` and `nonce` let a check send a stale or replayed request on purpose."""

    def __init__(
        self, key_id: str, secret: str, clock: Callable[[], float] = time.time, nonce: str | None = None
    ) -> None:
        self.key_id, self.secret, self.clock, self.nonce = key_id, secret, clock, nonce

    def __call__(self, r: requests.PreparedRequest) -> requests.PreparedRequest:
        body = r.body or b""
        if isinstance(body, str):
            body = body.encode("utf-8")
        headers = sign(self.key_id, self.secret, r.method or "GET", r.path_url, body, self.clock(), self.nonce)
        r.headers.update(headers)
        return r


@dataclass
class WidgetEndpoint:
    """One widget's base URL and what the suite needs to exercise it."""

    base: str
    key_id: str
    secret: str = field(repr=False)
    control: str | None = None  # the simulator's /_sim URL when the target has one
    # test accounts (number, verification) the widget links; two let a check prove citizens are kept apart
    accounts: list[tuple[str, str]] = field(default_factory=list, repr=False)
    property_params: dict[str, str] | None = None  # query parameters naming a property the widget knows
    _described: dict[str, Any] | None = field(default=None, repr=False)

    @property
    def auth(self) -> WidgetAuth:
        return WidgetAuth(self.key_id, self.secret)

    def call(
        self, method: str, path: str, *, auth: requests.auth.AuthBase | bool | None = True, **kwargs: Any
    ) -> requests.Response:
        """`auth=True` signs properly, `False` sends unsigned, or pass a WidgetAuth of your own."""
        signer = self.auth if auth is True else (None if auth is False else auth)
        return requests.request(method, self.base + path, auth=signer, timeout=TIMEOUT_S, **kwargs)

    def describe(self) -> dict[str, Any]:
        if self._described is None:
            resp = self.call("GET", "/v1/widget")
            assert resp.status_code == 200, f"describeWidget answered {resp.status_code}: {resp.text[:300]}"
            self._described = resp.json()
        return self._described

    @property
    def widget_path(self) -> str:
        return urlsplit(self.base).path

    def action(self, name: str, **payload: Any) -> Any:
        assert self.control is not None
        resp = requests.post(f"{self.control}/actions/{name}", json=payload, timeout=TIMEOUT_S)
        assert resp.status_code == 200, resp.text[:300]
        return resp.json()["result"]


def send_tampered(
    endpoint: WidgetEndpoint,
    method: str,
    path: str,
    tamper: Callable[[requests.PreparedRequest], None],
    **kwargs: Any,
) -> requests.Response:
    """Sign a request properly, then change it in flight, as a man in the middle would."""
    prepared = requests.Request(method, endpoint.base + path, **kwargs).prepare()
    endpoint.auth(prepared)
    tamper(prepared)
    if prepared.body is not None:
        prepared.headers["Content-Length"] = str(len(prepared.body))
    with requests.Session() as http:
        return http.send(prepared, timeout=TIMEOUT_S)


def error_code(resp: requests.Response) -> str | None:
    try:
        return resp.json()["error"]["code"]
    except (ValueError, KeyError, TypeError):
        return None


def link_account(endpoint: WidgetEndpoint, user: str, which: int = 0) -> dict[str, Any]:
    number, verification = endpoint.accounts[which]
    resp = endpoint.call(
        "POST", "/v1/links", json={"user": user, "account_number": number, "verification": verification}
    )
    assert resp.status_code in (200, 201), f"linking a test account answered {resp.status_code}: {resp.text[:300]}"
    assert answers.problems("city-widget", "createLink", resp) == []
    return resp.json()


def content_params(endpoint: WidgetEndpoint, user: str, view: str) -> dict[str, str]:
    """Query parameters for a content call that should succeed: the citizen linked, the property given."""
    info = endpoint.describe()
    params = {"view": view, "user": user}
    if info["property_dependent"]:
        if endpoint.property_params is None:
            import pytest

            from conformance.wanting import wanting

            pytest.skip(wanting("a parcel the widget knows", "--property ID or --address TEXT", "--wid-property"))
        params.update(endpoint.property_params)
    if info["linking"]["account"] or info["linking"]["external"]:
        if not endpoint.accounts:
            import pytest

            from conformance.wanting import wanting

            pytest.skip(wanting("a test account to link", "--account NUMBER:VERIFICATION", "--wid-account"))
        link_account(endpoint, user)
    return params
