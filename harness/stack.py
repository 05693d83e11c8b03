"""`Stack`: the bundled simulators and the reference gateway in-process on free loopback ports.

Tests and the CLI both use it. `async with Stack(...)` inside an event loop; `ThreadedStack` runs the same
stack on a loop of its own thread, for synchronous callers (pytest suites, schemathesis, the CLI).
"""

from __future__ import annotations

import asyncio
import dataclasses
import threading
from collections.abc import Mapping
from concurrent.futures import Future
from dataclasses import dataclass
from typing import Any

from aiohttp import web
from yarl import URL

from contracts.scenario import ScenarioError
from simulators.kit import SimConfig, create_app

from .registry import load_simulator

LOOPBACK = "127.0.0.1"
MAX_LINE = 256 * 1024


@dataclass(frozen=True, slots=True)
class Running:
    name: str
    url: str
    app: web.Application
    runner: web.AppRunner


class Stack:
    def __init__(
        self,
        simulators: Mapping[str, SimConfig | None] | None = None,
        *,
        host: str = LOOPBACK,
        ports: Mapping[str, int] | None = None,
        shutdown_timeout: float = 2.0,
        gateway: Any = None,  # gateway.settings.Settings: start the reference gateway too, as "gateway"
        scenario: Any = None,  # contracts.scenario.Scenario: every simulator plays its part of it
    ) -> None:
        self.wanted = dict(simulators or {})
        self.scenario = scenario
        self.gateway = gateway
        self.host = host
        self.ports = dict(ports or {})
        self.shutdown_timeout = shutdown_timeout
        self.running: dict[str, Running] = {}

    @property
    def urls(self) -> dict[str, str]:
        return {name: r.url for name, r in self.running.items()}

    def url(self, name: str) -> str:
        return self.running[name].url

    def app(self, name: str) -> web.Application:
        return self.running[name].app

    def journal(self, name: str) -> Any:
        """A running simulator's request journal, read in-process (what `GET /_sim/journal` serves)."""
        from simulators.kit.appkeys import JOURNAL

        return self.running[name].app[JOURNAL]

    async def start(self) -> Stack:
        try:
            # Every simulator judges the scenario before any serves, so one run names every simulator's problems.
            apps: dict[str, web.Application] = {}
            refused: list[ScenarioError] = []
            for name, config in self.wanted.items():
                try:
                    apps[name] = create_app(load_simulator(name), config, scenario=self.scenario)
                except ScenarioError as exc:
                    refused.append(exc)
            if refused:
                problems = [p for exc in refused for p in exc.problems]
                raise ScenarioError(list(dict.fromkeys(problems)), refused[0].source)
            for name, app in apps.items():
                await self._serve(name, app)
            if self.gateway is not None:
                from gateway.app import create_app as create_gateway

                await self._serve("gateway", create_gateway(self.gateway_settings()))
        except BaseException:
            await self.stop()
            raise
        return self

    def gateway_settings(self) -> Any:
        """The gateway's settings, with this stack's own city API simulator allow-listed (by address and
        port, nothing wider) so widgets can use it while the SSRF guard still refuses every other local port."""
        settings = self.gateway
        ours = tuple(URL(r.url).raw_authority for name, r in self.running.items() if name == "city-api")
        return dataclasses.replace(settings, widget_allow=(*settings.widget_allow, *ours)) if ours else settings

    async def _serve(self, name: str, app: web.Application) -> None:
        # Generous request-line and header limits: vendor servers take long GET query strings (Cityworks'
        # `data=`), and a fuzzer must reach the handler, not aiohttp's parser limit.
        runner_type = web.AppRunner
        if name == "gateway":
            from gateway.serving import GatewayRunner  # with the gateway's slow-client deadlines

            runner_type = GatewayRunner
        runner = runner_type(
            app,
            access_log=None,
            shutdown_timeout=self.shutdown_timeout,
            max_line_size=MAX_LINE,
            max_field_size=MAX_LINE,
        )
        await runner.setup()
        site = web.TCPSite(runner, self.host, self.ports.get(name, 0))
        await site.start()
        host, port = runner.addresses[0][:2]
        shown = f"[{host}]" if ":" in host else host
        self.running[name] = Running(name, f"http://{shown}:{port}", app, runner)

    async def stop(self) -> None:
        running, self.running = self.running, {}
        for r in reversed(list(running.values())):
            await r.runner.cleanup()

    async def __aenter__(self) -> Stack:
        return await self.start()

    async def __aexit__(self, *exc: Any) -> None:
        await self.stop()


class ThreadedStack:
    """A `Stack` served from a background thread's event loop."""

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        self.stack = Stack(*args, **kwargs)
        self._loop = asyncio.new_event_loop()
        self._thread = threading.Thread(target=self._loop.run_forever, name="civic-harness-stack", daemon=True)

    def _call(self, coro: Any) -> Any:
        future: Future[Any] = asyncio.run_coroutine_threadsafe(coro, self._loop)
        return future.result()

    def start(self) -> ThreadedStack:
        self._thread.start()
        try:
            self._call(self.stack.start())
        except BaseException:
            self.close()
            raise
        return self

    def close(self) -> None:
        if self._thread.is_alive():
            self._call(self.stack.stop())
            self._loop.call_soon_threadsafe(self._loop.stop)
            self._thread.join(10)
        self._loop.close()

    @property
    def urls(self) -> dict[str, str]:
        return self.stack.urls

    def __enter__(self) -> ThreadedStack:
        return self.start()

    def __exit__(self, *exc: Any) -> None:
        self.close()
