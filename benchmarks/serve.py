"""One server for the hot-path benchmark, in its own process: `python benchmarks/serve.py MODE`.
Prints its URL once it is ready.

bare       a bare aiohttp handler answering the same bytes as Cityworks' ServiceRequest/ById
cityworks  the Cityworks simulator (version 23, token check, strict contract checks, journal on)
"""

from __future__ import annotations

import asyncio
import sys

from aiohttp import web

from harness.stack import Stack
from simulators.cityworks import SPEC, CityworksConfig, CityworksState
from simulators.cityworks.dialect import envelope

CONFIG = CityworksConfig(seed=1)


def bare_app() -> web.Application:
    state = CityworksState(CONFIG)
    SPEC.seed(state, CONFIG.seed, state.seed_sizes)
    import json

    body = json.dumps(envelope(state.requests[1], legacy=False))

    async def handler(request: web.Request) -> web.Response:
        return web.Response(text=body, content_type="application/json")

    app = web.Application()
    app.router.add_get("/{tail:.*}", handler)
    return app


async def main(mode: str) -> None:
    if mode == "bare":
        runner = web.AppRunner(bare_app(), access_log=None)
        await runner.setup()
        await web.TCPSite(runner, "127.0.0.1", 0).start()
        print(f"http://127.0.0.1:{runner.addresses[0][1]}", flush=True)
        await asyncio.Event().wait()
    async with Stack({"cityworks": CONFIG}) as stack:
        print(stack.url("cityworks"), flush=True)
        await asyncio.Event().wait()


if __name__ == "__main__":
    asyncio.run(main(sys.argv[1]))
