"""A client for a simulator's control plane (`/_sim/`, contracts/simulator-control.yaml), for code that sets
a simulator up or reads what it saw over HTTP: the gateway conformance suite, the campaign, the demo city.

    control = SimControl(http, "http://127.0.0.1:8081")
    await control.add_faults({"kind": "error", "status": 503, "count": 1})
    record = await control.action("get-request", RequestId=7)
    entries = (await control.journal(source="client", limit=1000))["entries"]

A refused call raises `SimControlError` carrying the control plane's error code and message.
"""

from __future__ import annotations

from typing import Any

import aiohttp


class SimControlError(RuntimeError):
    def __init__(self, call: str, status: int, body: Any) -> None:
        error = body.get("error") if isinstance(body, dict) else None
        detail = f"{error.get('code')}: {error.get('message')}" if isinstance(error, dict) else repr(body)[:500]
        super().__init__(f"{call} → {status} {detail}")
        self.status, self.body = status, body
        self.code = error.get("code") if isinstance(error, dict) else None


class SimControl:
    def __init__(self, http: aiohttp.ClientSession, base_url: str) -> None:
        self.http, self.base = http, base_url.rstrip("/")

    async def _call(self, method: str, path: str, *, expect: int = 200, **kwargs: Any) -> Any:
        async with self.http.request(method, f"{self.base}/_sim/{path}", **kwargs) as resp:
            try:
                body = await resp.json(content_type=None)
            except ValueError:
                body = await resp.text()
            if resp.status != expect:
                raise SimControlError(f"{method} /_sim/{path}", resp.status, body)
            return body

    async def action(self, name: str, **payload: Any) -> Any:
        """Run an operator action (what a city worker does in the vendor's UI); its result."""
        return (await self._call("POST", f"actions/{name}", json=payload))["result"]

    async def add_faults(self, *rules: dict[str, Any]) -> list[dict[str, Any]]:
        """Add fault rules, all or none; the rules as the simulator holds them (with their ids)."""
        body: Any = rules[0] if len(rules) == 1 else list(rules)
        return (await self._call("POST", "faults", expect=201, json=body))["faults"]

    async def faults(self) -> list[dict[str, Any]]:
        """The active rules (a rule with a count is gone once it has fired that often)."""
        return (await self._call("GET", "faults"))["faults"]

    async def clear_faults(self) -> None:
        await self._call("DELETE", "faults")

    async def journal(self, **filters: str | int | bool) -> dict[str, Any]:
        """Recorded exchanges, oldest first, with `total` (every call ever) and `held`; filters as the
        contract names them (operation, route, path, method, since, violations, source, limit)."""
        params = {k: (str(v).lower() if isinstance(v, bool) else str(v)) for k, v in filters.items()}
        return await self._call("GET", "journal", params=params)

    async def clear_journal(self) -> None:
        await self._call("DELETE", "journal")

    async def counts(self) -> dict[str, int]:
        return (await self._call("GET", "counts"))["counts"]

    async def load_scenario(self, document: dict[str, Any], speed: float = 1) -> dict[str, Any]:
        """Play a scenario (contracts/scenario.schema.json) from now, its timeline `speed` times faster."""
        return await self._call("POST", "scenario", params={"speed": str(speed)}, json=document)

    async def scenario(self) -> dict[str, Any]:
        """The scenario being played and each timeline step's state (waiting, triggered, due, done, failed)."""
        return await self._call("GET", "scenario")

    async def reset(self) -> None:
        """Back to the start state: the seeded data as started, no faults, an empty journal."""
        await self._call("POST", "reset")
