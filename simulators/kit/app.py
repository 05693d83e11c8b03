"""`create_app(spec, config)`: one simulator as an aiohttp application, with the kit around it."""

from __future__ import annotations

import contextlib
from collections.abc import Callable, Iterable
from typing import Any

from aiohttp import web

from contracts import load_contract
from contracts.scenario import Scenario, ScenarioError

from .appkeys import BACKEND, CONFIG, DIALECT, FAULTS, JOURNAL, SCENARIO, SPEC, VALIDATOR, BackendSlot, ScenarioSlot
from .contract import ContractValidator
from .control import CONTROL_ROUTES, answering_bad_json, build_backend
from .faults import FaultSet
from .journal import Journal
from .pipeline import Handler, Kit, behind_kit
from .routing import CONTROL_CATCH_ALLS, UNROUTED, VENDOR_CATCH_ALL, control_no_route, vendor_no_route
from .scenario import build, check_against, config_for
from .scenario_control import SCENARIO_ROUTES, operations, start_playing, stop_playing
from .spec import SimConfig, SimulatorSpec


def create_app(
    spec: SimulatorSpec, config: SimConfig | None = None, *, scenario: Scenario | None = None, **options: Any
) -> web.Application:
    """A simulator as an aiohttp application: from a config, or from the config's fields (`seed=1`); with a
    scenario (contracts/scenario.py), its section's records and its timeline, which starts with the app. A
    scenario this simulator cannot play raises ScenarioError (a ValueError) naming each problem's JSON path."""
    config = config if config is not None else spec.config_type(**options)
    if not isinstance(config, spec.config_type):
        raise TypeError(f"{spec.name} needs a {spec.config_type.__name__}, got {type(config).__name__}")
    if scenario is not None:
        # A refused setting (an unknown zone) is named by check_against below with every other problem.
        with contextlib.suppress(ScenarioError):
            config = config_for(spec, config, scenario)
    dialect = spec.dialect_for(config)
    app = web.Application(client_max_size=config.max_body_bytes)
    app[SPEC] = spec
    app[CONFIG] = config
    app[DIALECT] = dialect
    app[JOURNAL] = Journal(config.journal_size, config.journal_body_limit, dialect.secret_keys)
    app[FAULTS] = FaultSet(config.seed)
    app[VALIDATOR] = ContractValidator(
        load_contract(spec.contract),
        case_insensitive=dialect.case_insensitive_paths,
        json_loads=dialect.json_loads,
        mount=spec.mount,
    )
    if scenario is None:
        app[BACKEND] = BackendSlot(build_backend(spec, config, config.seed, {}))
    else:
        check_against(spec, config, operations(app), scenario, starting=True)
        app[BACKEND] = BackendSlot(build(spec, config, config.seed, scenario))
    app[SCENARIO] = ScenarioSlot(scenario)
    app.on_startup.append(start_playing)
    app.on_cleanup.append(stop_playing)
    app.cleanup_ctx.extend(spec.cleanup_ctx)
    app.router.add_routes(_wrapped([*CONTROL_ROUTES, *SCENARIO_ROUTES], answering_bad_json))
    # Before the vendor's routes, so none of them (several are catch-alls) ever sees a control path.
    for name, path in CONTROL_CATCH_ALLS:
        app.router.add_route("*", path, control_no_route, name=name)
    kit = Kit.of(app)
    app.router.add_routes(_wrapped(spec.routes, lambda handler: behind_kit(handler, kit)))
    # Last: whatever no route above takes, any path (newlines too), answered as the router would.
    app.router.add_route("*", VENDOR_CATCH_ALL, behind_kit(vendor_no_route, kit), name=UNROUTED)
    return app


def _wrapped(routes: Iterable[web.RouteDef], wrap: Callable[[Handler], Handler]) -> list[web.RouteDef]:
    return [web.RouteDef(r.method, r.path, wrap(r.handler), r.kwargs) for r in routes]
