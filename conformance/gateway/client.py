"""What the gateway suite drives a gateway with: its admin API (bearer token) and its Open311 API, over
aiohttp. Written from contracts/gateway.yaml, so it works against any gateway implementing it."""

from __future__ import annotations

import json
from dataclasses import dataclass, field
from typing import Any

import aiohttp
from shapely.geometry import mapping

from simulators.kit import city


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


def city_geojson() -> bytes:
    return json.dumps({"type": "Feature", "properties": {}, "geometry": mapping(city.BOUNDARY)}).encode()
