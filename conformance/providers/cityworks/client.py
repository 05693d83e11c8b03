"""A small Cityworks client written from the public wire-format notes, used by the provider suite.

It deliberately knows nothing of the simulator: the suite certifies any Cityworks-compatible server.
"""

from __future__ import annotations

import json
from dataclasses import dataclass, field
from typing import Any

import requests

from conformance import answers

TIMEOUT_S = 30
NEW_AUTH = "/Services/General/Authentication/Authenticate"
OLD_AUTH = "/Services/Authentication/Authenticate"
ENVELOPE_KEYS = ("Value", "Status", "Message", "ErrorMessages", "WarningMessages", "SuccessMessages")


def family(version: str) -> str:
    if version.startswith("15."):
        return "15"
    if version.startswith("23"):
        return "23"
    return version


@dataclass
class Reply:
    http_status: int
    content_type: str
    body: Any  # the decoded envelope, or text / bytes for anything else
    raw: bytes
    problems: list[str] = field(default_factory=list)  # what the contract does not document about the answer

    @property
    def envelope(self) -> dict[str, Any]:
        assert isinstance(self.body, dict), f"expected a JSON envelope, got {self.content_type}: {self.raw[:200]!r}"
        # every envelope a check reads is one its operation documents (CW-API-5): a field left out or of another
        # type fails whichever check read it
        assert not self.problems, f"an answer outside the contract: {self.problems}"
        return self.body

    @property
    def status(self) -> int:
        return self.envelope["Status"]

    @property
    def value(self) -> Any:
        assert self.envelope["Status"] == 0, f"Cityworks said Status {self.status}: {self.envelope.get('Message')}"
        return self.envelope["Value"]


class CityworksClient:
    def __init__(self, base_url: str, version: str, login: str, password: str) -> None:
        self.base_url = base_url.rstrip("/")
        self.version = version
        self.family = family(version)
        self.login = login
        self._password = password
        self.http = requests.Session()
        self._token: str | None = None

    @property
    def header_auth(self) -> bool:
        return self.family == "23"

    @property
    def legacy(self) -> bool:
        return self.family in ("2013", "2014")

    @property
    def auth_path(self) -> str:
        return OLD_AUTH if self.legacy else NEW_AUTH

    def authenticate(self, login: str | None = None, password: str | None = None, **extra: Any) -> Reply:
        data = {"LoginName": login or self.login, "Password": password if password is not None else self._password}
        return self.call(self.auth_path, {**data, **extra}, auth="none")

    def forget_token(self) -> None:
        """Sign in again at the next call (the server started afresh, e.g. a provider state was played)."""
        self._token = None

    @property
    def token(self) -> str:
        if self._token is None:
            self._token = self.authenticate().value["Token"]
        return self._token

    def call(
        self,
        path: str,
        data: Any = None,
        *,
        method: str = "POST",
        auth: str = "auto",  # auto | param | header | none
        token: str | None = None,
        files: dict[str, Any] | None = None,
        raw_data: str | None = None,
    ) -> Reply:
        params: dict[str, str] = {}
        headers: dict[str, str] = {}
        fields: dict[str, str] = {}
        if raw_data is not None or data is not None:
            fields["data"] = raw_data if raw_data is not None else json.dumps(data)
        if auth != "none":
            tok = token if token is not None else self.token
            mode = auth if auth != "auto" else ("header" if self.header_auth else "param")
            if mode == "header":
                headers["Authorization"] = f"cityworks {tok}"
            else:
                fields["token"] = tok
        url = self.base_url + path
        if method == "GET":
            resp = self.http.get(url, params={**fields, **params}, headers=headers, timeout=TIMEOUT_S)
        else:
            resp = self.http.post(url, data=fields, files=files, headers=headers, timeout=TIMEOUT_S)
        ctype = resp.headers.get("Content-Type", "").split(";")[0].strip()
        body: Any = resp.content
        if ctype == "application/json":
            try:
                body = resp.json()
            except ValueError:
                body = resp.text  # a broken body stays visible as text; `.envelope` then fails clearly
        elif ctype.startswith("text/"):
            body = resp.text
        operation = answers.operation_at("cityworks", method, path)
        found = answers.problems("cityworks", operation, resp) if operation and isinstance(body, dict) else []
        # from 2015 on every envelope has the message lists (the contract's anyOf also admits 2013's shape)
        modern = operation and not self.legacy and answers.extension("cityworks", operation, "x-envelope") != "obsolete"
        if modern and isinstance(body, dict) and "Status" in body:
            found += [f"{operation}: the envelope lacks {k}" for k in ENVELOPE_KEYS if k not in body]
        return Reply(resp.status_code, ctype, body, resp.content, found)
