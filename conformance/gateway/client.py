"""What the gateway suite drives a gateway with: its admin API (bearer token) and its Open311 API, over
aiohttp. Written from contracts/gateway.yaml, so it works against any gateway implementing it."""

from __future__ import annotations

import json
import re
from dataclasses import dataclass, field
from typing import Any

import aiohttp

from contracts.scenario import demo_city

# How a sign-up confirmation mail names its code (contracts/gateway.yaml, schema Mail).
CONFIRMATION_CODE = re.compile(r"confirmation code: (\S+)")


@dataclass
class Gateway:
    url: str
    http: aiohttp.ClientSession
    admin_token: str = field(repr=False)
    api_key: str = field(repr=False)
    ids: dict[str, Any] = field(default_factory=dict)

    @property
    def admin_headers(self) -> dict[str, str]:
        return {"Authorization": f"Bearer {self.admin_token}"}

    async def admin(self, method: str, path: str, **kwargs: Any) -> tuple[int, Any]:
        headers = {**self.admin_headers, **kwargs.pop("headers", {})}
        async with self.http.request(method, f"{self.url}/admin/v1{path}", headers=headers, **kwargs) as resp:
            text = await resp.text()
            return resp.status, (json.loads(text) if text else None)

    async def ok(self, method: str, path: str, **kwargs: Any) -> Any:
        status, body = await self.admin(method, path, **kwargs)
        assert status in (200, 201, 204), (method, path, status, body)
        return body

    async def upload_geography(self, name: str, filename: str, data: bytes) -> tuple[int, Any]:
        form = aiohttp.FormData()
        form.add_field("name", name)
        form.add_field("file", data, filename=filename)
        return await self.admin("POST", "/geographies", data=form)

    async def open311(self, method: str, path: str, **kwargs: Any) -> tuple[int, str, str]:
        async with self.http.request(method, f"{self.url}/open311/v2{path}", **kwargs) as resp:
            return resp.status, resp.content_type, await resp.text()

    async def run(self, job: str, **body: Any) -> dict[str, Any]:
        return await self.ok("POST", f"/jobs/{job}/run", json=body)

    async def sign_up(self, body: dict[str, Any]) -> dict[str, Any]:
        """A citizen's account as a person makes one: sign up, read the code in the mail, confirm."""
        return await sign_up(self.http, self.url, self.admin_token, body)


async def sign_up(http: aiohttp.ClientSession, url: str, admin_token: str, body: dict[str, Any]) -> dict[str, Any]:
    """Sign-up (202), the confirmation code from the gateway's mail queue (the admin mail catcher), confirm:
    the session (token and citizen) that sign-up answered before issue 22."""
    async with http.post(f"{url}/portal/v1/citizens", json=body) as resp:
        answer = await resp.json()
        assert resp.status == 202, answer
    headers = {"Authorization": f"Bearer {admin_token}"}
    async with http.get(f"{url}/admin/v1/mail", params={"to": answer["email"]}, headers=headers) as resp:
        mail = await resp.json()
        assert resp.status == 200, mail
    codes = [m.group(1) for m in (CONFIRMATION_CODE.search(x["body"]) for x in mail["items"]) if m]
    assert codes, f"no confirmation code was mailed to {answer['email']}"
    async with http.post(f"{url}/portal/v1/citizens/confirm", json={"code": codes[0]}) as resp:
        session = await resp.json()
        assert resp.status == 201, session
    return session


def city_geojson() -> bytes:
    return json.dumps({"type": "Feature", "properties": {}, "geometry": demo_city().geometry()}).encode()
