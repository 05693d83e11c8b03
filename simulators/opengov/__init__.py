"""The OpenGov Enterprise Asset Management (formerly Cartegraph) simulator."""

from __future__ import annotations

import functools

from simulators.kit import SimulatorSpec
from simulators.kit import create_app as kit_create_app

from .actions import ACTIONS
from .config import OpengovConfig, add_arguments, config_from_args
from .dialect import DIALECT
from .routes import ROUTES
from .scenario import SUPPORT as SCENARIO_SUPPORT
from .seed import seed_state
from .state import OpengovState

SPEC = SimulatorSpec(
    name="opengov",
    contract="opengov",
    dialect=DIALECT,
    new_backend=OpengovState,
    seed=seed_state,
    routes=ROUTES,
    config_type=OpengovConfig,
    actions=ACTIONS,
    add_arguments=add_arguments,
    config_from_args=config_from_args,
    description="OpenGov EAM (Cartegraph) REST API: requests, request issues, requesters, comments, tasks",
    scenario=SCENARIO_SUPPORT,
)
create_app = functools.partial(kit_create_app, SPEC)  # create_app(seed=1, ...)

__all__ = ["SPEC", "OpengovConfig", "OpengovState", "create_app"]
