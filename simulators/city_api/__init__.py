"""The city widget API simulator: the six widget domains of seed 000, one widget per path prefix."""

from __future__ import annotations

import functools

from simulators.kit import SimulatorSpec
from simulators.kit import create_app as kit_create_app

from .actions import ACTIONS
from .config import WIDGETS, CityApiConfig, add_arguments, config_from_args
from .dialect import DIALECT
from .routes import ROUTES, guard
from .scenario import SUPPORT as SCENARIO_SUPPORT
from .seed import seed_state
from .state import CityState

SPEC = SimulatorSpec(
    name="city-api",
    contract="city-widget",
    dialect=DIALECT,
    new_backend=CityState,
    seed=seed_state,
    routes=ROUTES,
    config_type=CityApiConfig,
    actions=ACTIONS,
    add_arguments=add_arguments,
    config_from_args=config_from_args,
    description="City widget API (contracts/city-widget.yaml): six widgets at /{widget}/v1/, HMAC-signed calls",
    mount="/{widget}",
    guard=guard,
    scenario=SCENARIO_SUPPORT,
)
create_app = functools.partial(kit_create_app, SPEC)  # create_app(seed=1, ...)

__all__ = ["SPEC", "WIDGETS", "CityApiConfig", "CityState", "create_app"]
