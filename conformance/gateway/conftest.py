"""Fixtures of the gateway suite: the gateway under test (a given URL with its admin token, or the bundled
reference gateway), fresh vendor simulators per check, and a city set up through the gateway's admin API."""

from __future__ import annotations

import asyncio
import contextlib
import os
import secrets
import tempfile
from collections.abc import AsyncIterator, Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import aiohttp
import pytest
from sqlalchemy.engine import make_url

from conformance import evidence
from conformance.targets import target_urls

from .client import Gateway, city_geojson

NAME = "gateway"


@dataclass(frozen=True)
class Target:
    url: str
    admin_token: str
    api_key: str
    bundled: bool
    city_api: str | None = None  # the city widget API the gateway's widgets may call (WID-*)


@pytest.fixture(scope="session")
def gw_target(request: pytest.FixtureRequest) -> Iterator[Target]:
    config = request.config
    url = target_urls(config).get(NAME)
    if url is not None:
        token = os.environ.get("CIVIC_HARNESS_GW_ADMIN_TOKEN")
        key = config.getoption("gw_api_key") or os.environ.get("CIVIC_HARNESS_GW_API_KEY")
        if not token or not key:
            raise pytest.UsageError("a gateway target needs CIVIC_HARNESS_GW_ADMIN_TOKEN and an api_key (--gw-api-key)")
        yield Target(url, token, key, bundled=False, city_api=target_urls(config).get("city-api"))
        return
    from harness.bundled import gateway_settings, simulator_config
    from harness.stack import ThreadedStack

    given = config.getoption("gw_database_url")
    worker = getattr(config, "workerinput", {}).get("workerid")
    with (
        tempfile.TemporaryDirectory(prefix="civic-harness-gw-") as scratch,
        worker_database(given, worker) if given and worker else contextlib.nullcontext(given) as chosen,
    ):
        database = chosen or f"sqlite:///{Path(scratch) / 'gateway.db'}"
        settings = gateway_settings(
            database_url=database,
            api_keys=(secrets.token_urlsafe(12),),
            widget_allow_only=True,  # widgets call the stack's own city API simulator and nothing else
        )
        # The city widget API simulator runs beside the gateway, which allow-lists exactly its address.
        sims = {"city-api": simulator_config("city-api", seed=3)}
        with ThreadedStack(sims, gateway=settings) as stack:
            urls = stack.urls
            evidence.watch(urls["city-api"], "session")
            yield Target(urls["gateway"], settings.admin_token, settings.api_keys[0], True, urls["city-api"])


@contextlib.contextmanager
def worker_database(url: str, worker: str) -> Iterator[str]:
    """An xdist worker's own database beside the given one, so workers never share a gateway's state:
    PostgreSQL `<name>_<worker>` (created fresh on the given server, dropped at the end; needs CREATEDB),
    or SQLite `<file>-<worker><suffix>`."""
    parsed = make_url(url)
    if parsed.get_backend_name() == "sqlite":
        path = Path(parsed.database or "gateway.db")
        yield str(parsed.set(database=str(path.with_name(f"{path.stem}-{worker}{path.suffix}"))))
        return
    name = f"{parsed.database}_{worker}"
    admin = parsed.set(drivername="postgresql").render_as_string(hide_password=False)

    drop = f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)'

    async def run(*statements: str) -> None:  # one by one: CREATE DATABASE cannot share a transaction
        import asyncpg

        conn = await asyncpg.connect(admin)
        try:
            for sql in statements:
                await conn.execute(sql)
        finally:
            await conn.close()

    asyncio.run(run(drop, f'CREATE DATABASE "{name}"'))
    try:
        yield parsed.set(database=name).render_as_string(hide_password=False)
    finally:
        asyncio.run(run(drop))


@pytest.fixture
async def gw(gw_target: Target) -> AsyncIterator[Gateway]:
    async with aiohttp.ClientSession() as http:
        yield Gateway(gw_target.url, http, gw_target.admin_token, gw_target.api_key)


@pytest.fixture
def city_api(gw_target: Target) -> str:
    """The city widget API simulator the gateway may call: the bundled one, or `--target city-api=URL` (one
    the gateway under test allow-lists)."""
    if gw_target.city_api is None:
        pytest.skip("the widget checks need --target city-api=URL: a city API simulator your gateway may call")
    return gw_target.city_api


@pytest.fixture
async def sims(request: pytest.FixtureRequest) -> AsyncIterator[dict[str, str]]:
    """Fresh Cityworks (version from the `cityworks_version` mark, default 23) and ArcGIS simulators."""
    from harness.bundled import simulator_config
    from harness.stack import Stack

    mark = request.node.get_closest_marker("cityworks_version")
    version = mark.args[0] if mark else "23"
    configs = {
        # answers checked against their formats (an inferred switch): the gateway must send values that fit
        "cityworks": simulator_config("cityworks", version=version, seed=5, check_answer_values=True),
        "arcgis": simulator_config("arcgis"),
    }
    async with Stack(configs) as stack:
        yield {name: evidence.watch(stack.url(name), journal=stack.journal(name), name=name) for name in configs}


@pytest.fixture
async def linked(gw: Gateway, sims: dict[str, str], request: pytest.FixtureRequest) -> Gateway:
    """A Cityworks integration to the fresh simulator (with its locator), an agency over the demo city."""
    mark = request.node.get_closest_marker("cityworks_version")
    version = mark.args[0] if mark else "23"
    tag = secrets.token_hex(4)
    locator = f"{sims['arcgis']}/arcgis/rest/services/World/GeocodeServer"
    integration = await gw.ok(
        "POST",
        "/integrations",
        json={
            "name": f"Cityworks {tag}",
            "vendor": "cityworks",
            "version": version,
            "base_url": sims["cityworks"],
            "username": "harness",
            "secret": "harness",
            "geocoder_url": locator,
        },
    )
    status, geography = await gw.upload_geography(f"City {tag}", "city.geojson", city_geojson())
    assert status == 201, geography
    agency = await gw.ok(
        "POST",
        "/agencies",
        json={"name": f"Works {tag}", "geography_id": geography["id"], "integration_id": integration["id"]},
    )
    gw.ids.update(integration=integration["id"], agency=agency["id"], geography=geography["id"], tag=tag)
    gw.ids.update(sims)
    return gw


@pytest.fixture
async def og_linked(gw: Gateway) -> AsyncIterator[Gateway]:
    """An OpenGov integration to fresh OpenGov and ArcGIS simulators, an agency over the demo city."""
    async with link_opengov(gw) as linked:
        yield linked


@contextlib.asynccontextmanager
async def link_opengov(gw: Gateway, scenario: Any = None) -> AsyncIterator[Gateway]:
    """og_linked, with the OpenGov simulator playing a scenario (contracts.scenario.Scenario) from its start
    when one is given: its records, its settings (a page limit) and its timeline."""
    from harness.bundled import simulator_config
    from harness.stack import Stack

    # whole answers in the journal: a check counts the records each page answered
    opengov = simulator_config("opengov", seed=4, journal_body_limit=1 << 20)
    configs = {"opengov": opengov, "arcgis": simulator_config("arcgis")}
    async with Stack(configs, scenario=scenario) as stack:
        og, arcgis = (
            evidence.watch(stack.url(name), journal=stack.journal(name), name=name) for name in ("opengov", "arcgis")
        )
        tag = secrets.token_hex(4)
        integration = await gw.ok(
            "POST",
            "/integrations",
            json={
                "name": f"OpenGov {tag}",
                "vendor": "opengov",
                "version": "v1",
                "base_url": og,
                "username": "harness",
                "secret": "harness",
                "geocoder_url": f"{arcgis}/arcgis/rest/services/World/GeocodeServer",
            },
        )
        _, geography = await gw.upload_geography(f"City {tag}", "c.geojson", city_geojson())
        agency = await gw.ok(
            "POST",
            "/agencies",
            json={"name": f"Parks {tag}", "geography_id": geography["id"], "integration_id": integration["id"]},
        )
        gw.ids.update(integration=integration["id"], agency=agency["id"], opengov=og, arcgis=arcgis, tag=tag)
        yield gw


def pytest_configure(config: pytest.Config) -> None:
    config.addinivalue_line("markers", "cityworks_version(v): the Cityworks version the check's simulator speaks")
