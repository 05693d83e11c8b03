"""The ArcGIS geocoder simulator: Esri's World Geocoder or a customer's ArcGIS Server locator."""

from __future__ import annotations

import asyncio
import functools
from collections.abc import AsyncIterator

from aiohttp import web

from simulators.kit import CONFIG, SimulatorSpec
from simulators.kit import create_app as kit_create_app

from .actions import ACTIONS
from .addresses import load
from .config import ArcgisConfig, add_arguments, config_from_args
from .dialect import DIALECT
from .routes import ROUTES
from .scenario import SUPPORT as SCENARIO_SUPPORT
from .seed import seed_state
from .state import GeocoderState
from .world import warm


async def warm_up(app: web.Application) -> AsyncIterator[None]:
    """Read the towns and the land mask in a thread as the server starts, so no caller's first call waits
    the seconds that takes (the World service; the towns also name what an address file leaves blank), and sort
    an address file's texts for suggest."""
    config: ArcgisConfig = app[CONFIG]  # type: ignore[assignment]
    loop = asyncio.get_running_loop()
    if config.synthesizes or config.addresses:
        loop.run_in_executor(None, warm, config.synthesizes)
    if config.addresses and config.suggests:  # suggest's sorted texts of a large file take a second to build
        loop.run_in_executor(None, lambda: load(config.addresses).sorted_keys())
    yield


SPEC = SimulatorSpec(
    name="arcgis",
    contract="arcgis-geocode",
    dialect=DIALECT,
    new_backend=GeocoderState,
    seed=seed_state,
    routes=ROUTES,
    config_type=ArcgisConfig,
    actions=ACTIONS,
    add_arguments=add_arguments,
    config_from_args=config_from_args,
    description="ArcGIS REST GeocodeServer: reverseGeocode, findAddressCandidates and suggest",
    cleanup_ctx=(warm_up,),
    scenario=SCENARIO_SUPPORT,
)


create_app = functools.partial(kit_create_app, SPEC)  # create_app(seed=1, ...)

__all__ = ["SPEC", "ArcgisConfig", "GeocoderState", "create_app"]
