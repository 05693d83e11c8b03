from __future__ import annotations

from collections.abc import AsyncIterator
from dataclasses import dataclass
from typing import Any

import aiohttp
import pytest

from harness.sim_control import SimControl
from harness.stack import Stack
from simulators.kit import SimConfig

pytest_plugins = ["pytester"]

KIT_SIM = "tests.kit_sim:SPEC"


@dataclass
class Sim:
    """A running simulator and a client session pointed at it."""

    url: str
    http: aiohttp.ClientSession
    stack: Stack

    async def control(self, method: str, path: str, **kwargs: Any) -> tuple[int, Any]:
        async with self.http.request(method, f"{self.url}/_sim/{path}", **kwargs) as resp:
            return resp.status, await resp.json()

    async def journal(self, **filters: Any) -> list[dict[str, Any]]:
        return (await SimControl(self.http, self.url).journal(**filters))["entries"]

    async def digest(self) -> str:
        status, body = await self.control("GET", "state")
        assert status == 200
        return body["digest"]


async def start_sim(config: SimConfig) -> AsyncIterator[Sim]:
    async with Stack({KIT_SIM: config}) as stack, aiohttp.ClientSession() as http:
        yield Sim(stack.url(KIT_SIM), http, stack)


@pytest.fixture
async def kit_sim() -> AsyncIterator[Sim]:
    async for sim in start_sim(SimConfig(seed=1)):
        yield sim


@pytest.fixture
async def postgres_url() -> AsyncIterator[str]:
    """A fresh database on the local PostgreSQL, dropped afterwards."""
    from .gateway.conftest import fresh_postgres

    async for url in fresh_postgres():
        yield url


def pytest_collection_modifyitems(config: pytest.Config, items: list[pytest.Item]) -> None:
    """Slow checks first: with two xdist workers, a long check started last would leave one worker idle
    while the other finishes it."""
    items.sort(key=lambda item: item.get_closest_marker("slow") is None and item.get_closest_marker("heavy") is None)
