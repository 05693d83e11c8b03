"""Playing a library scenario (contracts/scenarios/) on a simulator the gateway is linked to, over the control
plane, so a check's failure names the scenario and the timeline step it was waiting on or judging."""

from __future__ import annotations

import asyncio
from dataclasses import dataclass
from typing import Any

import aiohttp

from contracts.scenario import Scenario, library_scenario
from harness.sim_control import SimControl


@dataclass
class Played:
    scenario: Scenario
    control: SimControl

    def says(self, step: str, what: str) -> str:
        """A failure message: the scenario, the step (by its place and name, and what it does), what went wrong."""
        found = self.scenario.step(step)
        return f"scenario {self.scenario.name}, {found.label} ({found.describe()}): {what}"

    async def steps(self) -> dict[str, dict[str, Any]]:
        return {s["name"]: s for s in (await self.control.scenario())["steps"]}

    async def reached(self, step: str, state: str = "done", timeout_s: float = 20) -> dict[str, Any]:
        """Wait until the step is in `state` (done: it fired); its report."""
        seen: dict[str, Any] = {}
        for _ in range(int(timeout_s / 0.05)):
            seen = (await self.steps())[step]
            if seen["state"] == state or seen["state"] == "failed":
                break
            await asyncio.sleep(0.05)
        assert seen.get("state") == state, self.says(step, f"never reached {state}: {seen}")
        return seen

    async def fault_over(self, step: str, timeout_s: float = 20) -> None:
        """Wait until the fault window the step opened has closed."""
        for _ in range(int(timeout_s / 0.05)):
            if not await self.control.faults():
                return
            await asyncio.sleep(0.05)
        raise AssertionError(self.says(step, "the fault window never closed"))


async def play(http: aiohttp.ClientSession, simulator: str, name: str, speed: float = 1) -> Played:
    """The library scenario `name` loaded into the simulator at `simulator` and started."""
    scenario = library_scenario(name)
    control = SimControl(http, simulator)
    await control.load_scenario(dict(scenario.document), speed=speed)
    return Played(scenario, control)
