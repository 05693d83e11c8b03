"""`/_sim/scenario`: load a scenario into a running simulator, read its timeline's progress, drop it.

A scenario is checked in full (the file, then what only this simulator can judge) and its backend built
before anything is swapped in: a refused scenario changes nothing. Reset returns to the scenario's start.
"""

from __future__ import annotations

import asyncio
import time

from aiohttp import web

from contracts.scenario import Scenario, ScenarioError, check, parse_text

from .appkeys import BACKEND, CONFIG, FAULTS, JOURNAL, SCENARIO, SPEC, VALIDATOR
from .control import build_backend, control_error
from .scenario import build, check_against
from .timeline import Timeline


def operations(app: web.Application) -> dict[str, str]:
    names = [op.operation_id for op in app[VALIDATOR].operations]
    return {n.lower(): n for n in names}


def seed_of(app: web.Application, scenario: Scenario | None) -> int:
    return scenario.seed if scenario is not None and scenario.seed is not None else app[CONFIG].seed


def play(app: web.Application) -> None:
    """(Re)start the timeline of the app's scenario from its first moment; stop the one running."""
    slot = app[SCENARIO]
    if slot.timeline is not None:
        slot.timeline.stop()
        slot.timeline = None
    if slot.scenario is None:
        return
    steps = list(slot.scenario.steps_for(app[SPEC].name))
    slot.timeline = Timeline.of(app[SPEC], app[JOURNAL], app[FAULTS], lambda: app[BACKEND].current, steps, slot.speed)
    slot.timeline.start()


async def start_playing(app: web.Application) -> None:
    play(app)


async def stop_playing(app: web.Application) -> None:
    slot = app[SCENARIO]
    if slot.timeline is not None:
        slot.timeline.stop()


async def restart(app: web.Application, scenario: Scenario | None, speed: float = 1.0, *, clean: bool) -> None:
    """A fresh backend (from the scenario, or the plain seed) and the timeline from its start; the faults the
    old timeline added are gone. `clean` (reset): no faults at all and an empty journal; otherwise the faults
    added through /_sim/faults and the journal stay, so a provider state played for one check neither undoes a
    certify run's own faults nor hides what the journal saw. Built off the event loop: a large city takes
    seconds."""
    spec, config = app[SPEC], app[CONFIG]
    seed = seed_of(app, scenario)
    loop = asyncio.get_running_loop()
    if scenario is None:
        backend = await loop.run_in_executor(None, build_backend, spec, config, seed, {})
    else:
        backend = await loop.run_in_executor(None, build, spec, config, seed, scenario)
    slot = app[SCENARIO]
    if slot.timeline is not None:
        slot.timeline.stop()
        slot.timeline = None
    app[BACKEND].current = backend
    slot.scenario, slot.speed = scenario, speed
    if clean:
        app[FAULTS].seed = seed
        app[FAULTS].clear()
        app[JOURNAL].clear()
    play(app)


async def load_scenario(request: web.Request) -> web.Response:
    """The body: a scenario document as JSON, or its YAML text. `?speed=N`: its timeline runs N times faster
    (1 to 10,000), so a check plays a two-minute window in seconds."""
    app = request.app
    try:
        speed = float(request.query.get("speed", "1"))
        if not 1 <= speed <= 10_000:
            raise ValueError
    except ValueError:
        return control_error(400, "invalid_speed", "speed must be a number from 1 to 10000")
    raw = await request.read()
    started = time.perf_counter()
    try:
        scenario = check(parse_text(raw, "request body"), "request body")
        check_against(app[SPEC], app[CONFIG], operations(app), scenario)
        slot = app[SCENARIO]
        before = slot.before or (app[BACKEND].current, slot.scenario, slot.speed)
        await restart(app, scenario, speed, clean=False)
        slot.before = before  # the first load's: a state played over a state still returns to the site's own
    except ScenarioError as exc:
        return control_error(422, "invalid_scenario", "; ".join(exc.problems), details=exc.problems)
    return web.json_response(
        {
            "scenario": scenario.name,
            "seed": seed_of(app, scenario),
            "counts": dict(app[BACKEND].current.counts()),
            "steps": len(scenario.steps_for(app[SPEC].name)),
            "seconds": round(time.perf_counter() - started, 3),
        }
    )


async def reset(request: web.Request) -> web.Response:
    """Back to the start: the scenario's records and the first moment of its timeline (or the seeded data),
    no faults, an empty journal."""
    app = request.app
    scenario = app[SCENARIO].scenario
    await restart(app, scenario, app[SCENARIO].speed, clean=True)
    return web.json_response(
        {
            "reset": True,
            "seed": seed_of(app, scenario),
            "scenario": scenario.name if scenario is not None else None,
            "counts": dict(app[BACKEND].current.counts()),
        }
    )


async def get_scenario(request: web.Request) -> web.Response:
    slot = request.app[SCENARIO]
    scenario = slot.scenario
    if scenario is None:
        return web.json_response({"scenario": None})
    return web.json_response(
        {
            "scenario": scenario.name,
            "description": scenario.description,
            "requirements": list(scenario.requirements),
            "seed": seed_of(request.app, scenario),
            **(slot.timeline.as_json() if slot.timeline is not None else {"started": None, "steps": []}),
        }
    )


async def drop_scenario(request: web.Request) -> web.Response:
    """Back to what the simulator held before a scenario was loaded — its records as they were then, with what
    clients wrote since its start, and the scenario it was started with — so a provider state played for one
    check gives the site back. Its timeline is not played again (its steps would fire twice). Nothing loaded:
    the plain seeded data."""
    app = request.app
    slot = app[SCENARIO]
    if slot.before is None:
        await restart(app, None, clean=False)
    else:
        backend, scenario, speed = slot.before
        if slot.timeline is not None:
            slot.timeline.stop()
            slot.timeline = None
        app[BACKEND].current, slot.scenario, slot.speed, slot.before = backend, scenario, speed, None
    scenario = slot.scenario
    return web.json_response(
        {"scenario": scenario.name if scenario is not None else None, "seed": seed_of(app, scenario)}
    )


SCENARIO_ROUTES = [
    web.post("/_sim/reset", reset),
    web.get("/_sim/scenario", get_scenario),
    web.post("/_sim/scenario", load_scenario),
    web.delete("/_sim/scenario", drop_scenario),
]
