"""The Cityworks simulator: service requests and work orders as Cityworks 2013 to 23 serve them."""

from __future__ import annotations

import functools

from simulators.kit import Operation, SimulatorSpec
from simulators.kit import create_app as kit_create_app

from .actions import ACTIONS
from .config import VERSIONS, CityworksConfig, add_arguments, config_from_args, family
from .dialect import make_dialect
from .routes import ROUTES
from .scenario import SUPPORT as SCENARIO_SUPPORT
from .seed import seed_state
from .state import CityworksState


def serves(config: CityworksConfig, op: Operation) -> bool:
    versions = op.spec.get("x-versions")
    return versions is None or config.family in versions


SPEC = SimulatorSpec(
    name="cityworks",
    contract="cityworks",
    dialect=make_dialect,
    new_backend=CityworksState,
    seed=seed_state,
    routes=ROUTES,
    config_type=CityworksConfig,
    actions=ACTIONS,
    add_arguments=add_arguments,
    config_from_args=config_from_args,
    description="Cityworks REST services (Citizen Engagement / service requests and Work Order Basic)",
    available=serves,
    scenario=SCENARIO_SUPPORT,
)


create_app = functools.partial(kit_create_app, SPEC)  # create_app(seed=1, ...)

__all__ = ["SPEC", "VERSIONS", "CityworksConfig", "CityworksState", "create_app", "family"]
