"""The gateway's Cityworks client signs in once for calls made together, and once again — not once per
waiting call — when the token lapses (a client that signs in per call doubles the vendor's load and fills
its audit log)."""

from __future__ import annotations

import asyncio

import aiohttp
import pytest

from gateway.connectors.cityworks import Cityworks
from gateway.connectors.http import Http
from harness.stack import Stack
from simulators.cityworks import CityworksConfig


async def sign_ins(http: aiohttp.ClientSession, url: str) -> int:
    async with http.get(f"{url}/_sim/journal", params={"limit": "1000"}) as resp:
        return sum("Authenticate" in e["path"] for e in (await resp.json())["entries"])


@pytest.mark.req("CW-VER-2")
async def test_calls_made_together_share_one_sign_in_and_one_renewal():
    async with Stack({"cityworks": CityworksConfig(version="23")}) as stack, aiohttp.ClientSession() as http:
        url = stack.url("cityworks")
        cw = Cityworks(Http(http), url, "23", "harness", "harness")
        await asyncio.gather(*(cw.problems() for _ in range(8)))
        assert await sign_ins(http, url) == 1
        async with http.post(f"{url}/_sim/reset") as resp:  # a restarted server: every token is gone
            assert resp.status == 200
        await asyncio.gather(*(cw.problems() for _ in range(8)))
        assert await sign_ins(http, url) == 1  # the journal was reset with the server: one new sign-in
