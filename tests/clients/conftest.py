"""The real-client corpus: public clients of the simulated APIs, installed from PyPI and npm as test
dependencies and run unmodified (only their base URL and credentials given) against the simulators and the
gateway over loopback. Servers are shared per module; each test reads what arrived from the server's side
(a simulator's journal, the gateway's database) as well as what the client got back."""

from __future__ import annotations

import asyncio
import fcntl
import json
import os
import shutil
import sqlite3
import subprocess
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import aiohttp
import pytest
import requests

from conformance.gateway.client import Gateway
from gateway.settings import Settings
from harness.stack import ThreadedStack

from ..gateway.conftest import ADMIN_TOKEN, API_KEY, demo_city

NODE_DIR = Path(__file__).parent / "node"


def journal(sim_url: str, **filters: Any) -> list[dict[str, Any]]:
    """A simulator's journal, oldest first, read through its control plane as any tool would."""
    answer = requests.get(f"{sim_url}/_sim/journal", params=filters, timeout=10)
    answer.raise_for_status()
    return answer.json()["entries"]


def clear_journal(sim_url: str) -> None:
    requests.delete(f"{sim_url}/_sim/journal", timeout=10).raise_for_status()


class CityGateway:
    """The reference gateway with the demo city (tests/gateway/conftest.py's `demo_city`) on a SQLite file."""

    def __init__(self, url: str, database: Path, ids: dict[str, int]) -> None:
        self.url, self.database, self.ids = url, database, ids
        self.open311 = f"{url}/open311/v2"

    def rows(self, sql: str, *args: Any) -> list[sqlite3.Row]:
        """What the gateway stored, read from its own database."""
        with sqlite3.connect(self.database) as db:
            db.row_factory = sqlite3.Row
            return db.execute(sql, args).fetchall()


async def _seed(url: str) -> dict[str, int]:
    async with aiohttp.ClientSession() as http:
        city = await demo_city(Gateway(url, http, ADMIN_TOKEN, API_KEY))
        return dict(city.ids)


@pytest.fixture(scope="module")
def city_gateway(tmp_path_factory: pytest.TempPathFactory) -> Iterator[CityGateway]:
    database = tmp_path_factory.mktemp("gateway") / "gw.db"
    settings = Settings(
        database_url=f"sqlite:///{database}", admin_token=ADMIN_TOKEN, api_keys=(API_KEY,), scheduler_tick_s=0
    )
    with ThreadedStack({}, gateway=settings) as stack:
        url = stack.urls["gateway"]
        yield CityGateway(url, database, asyncio.run(_seed(url)))


def _npm_ci() -> None:
    """`npm ci` from the committed lock file, once per lock file (a stamp records which), under a file lock so
    parallel pytest workers install once."""
    lock = NODE_DIR / "package-lock.json"
    stamp = NODE_DIR / "node_modules" / ".civic-harness-lock"
    with open(NODE_DIR / ".npm-ci.lock", "w") as guard:
        fcntl.flock(guard, fcntl.LOCK_EX)
        if stamp.exists() and stamp.read_text() == lock.read_text():
            return
        subprocess.run(
            ["npm", "ci", "--no-audit", "--no-fund", "--ignore-scripts"],
            cwd=NODE_DIR,
            check=True,
            capture_output=True,
            timeout=600,
        )
        stamp.write_text(lock.read_text())


@pytest.fixture(scope="session")
def node_clients() -> Any:
    """Runs a script of tests/clients/node/ (a public npm client driven through its own API) with a JSON argument
    and returns the JSON it prints. Node and npm are on every machine CI runs on; without them the npm half of
    the corpus is skipped locally and fails in CI."""
    if not (shutil.which("node") and shutil.which("npm")):
        if os.environ.get("CI"):
            pytest.fail("node and npm are needed for the npm half of the client corpus")
        pytest.skip("node/npm not installed")
    _npm_ci()

    def run(script: str, **args: Any) -> dict[str, Any]:
        done = subprocess.run(
            ["node", script, json.dumps(args)], cwd=NODE_DIR, capture_output=True, text=True, timeout=120
        )
        assert done.returncode == 0, done.stderr[-3000:]
        return json.loads(done.stdout)

    return run


class Geocoder:
    """The ArcGIS geocoder simulator (World service, the demo city's addresses) and the points the clients use."""

    def __init__(self, url: str) -> None:
        from simulators.kit import city

        self.url = url
        self.service = f"{url}/arcgis/rest/services/World/GeocodeServer"
        self.lat, self.lon = city.SAMPLE_POINT["lat"], city.SAMPLE_POINT["long"]
        self.address = "1 Civic Center Plaza, Harnessville, NC"  # City Hall sits on the sample point
        self.label = "1 Civic Center Plaza, Harnessville, North Carolina, 27601"

    def journal(self, operation: str) -> list[dict[str, Any]]:
        """This module's calls to one GeocodeServer operation (path suffix), oldest first."""
        return [e for e in journal(self.url) if e["path"].endswith(f"/GeocodeServer/{operation}")]


@pytest.fixture(scope="module")
def arcgis() -> Iterator[Geocoder]:
    from simulators.arcgis import ArcgisConfig

    with ThreadedStack({"arcgis": ArcgisConfig(seed=4)}) as stack:
        yield Geocoder(stack.urls["arcgis"])
