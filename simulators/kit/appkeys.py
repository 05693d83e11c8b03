"""Typed application state shared by the kit and the simulators (`web.AppKey`, never string keys)."""

from __future__ import annotations

from typing import Any

from aiohttp import web

from .contract import ContractValidator, Operation
from .faults import FaultSet
from .journal import Journal
from .spec import Dialect, SimConfig, SimulatorSpec

SPEC = web.AppKey("sim_spec", SimulatorSpec)
CONFIG = web.AppKey("sim_config", SimConfig)
DIALECT = web.AppKey("sim_dialect", Dialect)
JOURNAL = web.AppKey("sim_journal", Journal)
FAULTS = web.AppKey("sim_faults", FaultSet)
VALIDATOR = web.AppKey("sim_validator", ContractValidator)


class BackendSlot:
    """Reset and seed swap the backend while the app runs, so the app holds this slot, not the backend."""

    __slots__ = ("current",)

    def __init__(self, backend: Any) -> None:
        self.current = backend


BACKEND = web.AppKey("sim_backend", BackendSlot)


class ScenarioSlot:
    """The scenario a simulator plays (None: plain seeded data) and its running timeline."""

    __slots__ = ("before", "scenario", "speed", "timeline")

    def __init__(self, scenario: Any = None, speed: float = 1.0) -> None:
        self.scenario = scenario  # contracts.scenario.Scenario | None
        self.speed = speed  # the timeline runs this much faster than its file says
        self.timeline: Any = None  # timeline.Timeline | None
        # What a loaded scenario replaced (backend, scenario, speed), for DELETE /_sim/scenario to put back.
        self.before: tuple[Any, Any, float] | None = None


SCENARIO = web.AppKey("sim_scenario", ScenarioSlot)
# Per-request: the matched contract operation (set by the pipeline), for handlers that care.
OPERATION = web.RequestKey("sim_operation", Operation | None)


def backend(request: web.Request) -> Any:
    """The simulator's current backend (read it per request: reset replaces it)."""
    return request.app[BACKEND].current
