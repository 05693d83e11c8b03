"""Shared by the wire-fact tests (docs/WIRE-NOTES.md): a simulator on a free port and the strict journal's
verdict on the call a fact describes. Each test sends one client's exact wire shape with a plain HTTP client."""

from __future__ import annotations

from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from typing import Any

import aiohttp

from harness.sim_control import SimControl
from harness.stack import Stack
from simulators.kit import SimConfig


@asynccontextmanager
async def running(name: str, config: SimConfig) -> AsyncIterator[tuple[str, aiohttp.ClientSession]]:
    """The simulator `name` and a session whose cookie jar keeps cookies set by a loopback IP address."""
    jar = aiohttp.CookieJar(unsafe=True)
    async with Stack({name: config}) as stack, aiohttp.ClientSession(cookie_jar=jar) as http:
        yield stack.url(name), http


async def last_entry(http: aiohttp.ClientSession, url: str, path: str) -> dict[str, Any]:
    """The newest journal entry, which must be the call under test (its path contains `path`)."""
    entries = (await SimControl(http, url).journal(limit=1))["entries"]
    assert entries, "nothing journaled"
    entry = entries[-1]
    assert path.lower() in entry["path"].lower(), (path, entry["path"])
    return entry


async def assert_no_violation(http: aiohttp.ClientSession, url: str, path: str) -> dict[str, Any]:
    """Strict mode journaled the accepted call without a violation: the real server takes this shape."""
    entry = await last_entry(http, url, path)
    assert entry["violations"] == [], entry["violations"]
    return entry
