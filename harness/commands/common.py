"""What the commands share: exit codes, a usage error on stderr, and serving a Stack until interrupted."""

from __future__ import annotations

import asyncio
import signal
import sys
from collections.abc import Awaitable, Callable, Iterable
from pathlib import Path
from typing import Any

from ..stack import Stack

EXIT_OK, EXIT_FAILED, EXIT_USAGE = 0, 1, 2


class UsageError(Exception):
    """A command line that cannot run as given; the message is the one sentence the user sees (exit 2)."""


def complain(message: str) -> int:
    print(f"civic-harness: {message}", file=sys.stderr)
    return EXIT_USAGE


def warn(message: str) -> None:
    print(f"civic-harness: {message}", file=sys.stderr, flush=True)


def warn_unplayed(scenario: Any, simulators: Iterable[str]) -> None:
    """A scenario that gives a simulator nothing to play (no section of its vendor, no timeline step): that
    simulator serves its seeded data, which a newcomer who picked the wrong file would not otherwise see."""
    from contracts.scenario import VENDORS

    where = Path(scenario.source).name if scenario.source else scenario.name
    for name in simulators:
        if name in VENDORS and scenario.section(name) is None and not scenario.steps_for(name):
            warn(f"{where} has no {name} section: serving the seeded data")


async def serve(stack: Stack, announce: Callable[[Stack], Awaitable[None]]) -> None:
    """Start the stack, announce it, and serve until SIGINT or SIGTERM."""
    stop = asyncio.Event()
    loop = asyncio.get_running_loop()
    for sig in (signal.SIGINT, signal.SIGTERM):
        loop.add_signal_handler(sig, stop.set)
    async with stack:
        await announce(stack)
        await stop.wait()
