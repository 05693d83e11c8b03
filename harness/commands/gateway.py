"""`civic-harness gateway`: the reference gateway in the foreground, configured by a TOML file and
CIVIC_HARNESS_* variables."""

from __future__ import annotations

import argparse
import asyncio
import dataclasses
import os
from collections.abc import Sequence

from ..stack import Stack
from .common import complain, serve

NAME = "gateway"
HELP = "run the reference gateway in the foreground"


def add_arguments(p: argparse.ArgumentParser, argv: Sequence[str] = ()) -> None:
    p.add_argument("--host", default="127.0.0.1", help="address to listen on (default 127.0.0.1)")
    p.add_argument("--port", type=int, default=8311, help="port to listen on; 0 picks a free one (default 8311)")
    p.add_argument("--config", help="a TOML file with a [gateway] table; CIVIC_HARNESS_* variables override it")
    p.add_argument("--database-url", help="overrides the configured DATABASE_URL (sqlite:///file or postgresql://)")
    p.add_argument(
        "--under-test",
        action="store_true",
        help="timings for a conformance suite's checks: no scheduler (the suite runs the jobs), retries at once, "
        "vendor calls time out after 2 s",
    )


def run(args: argparse.Namespace, passthrough: Sequence[str] = (), argv: Sequence[str] = ()) -> int:
    from gateway.settings import UNDER_TEST, Settings

    try:
        settings = Settings.load(args.config)
    except (ValueError, OSError) as exc:
        return complain(str(exc))
    if args.database_url:
        settings = dataclasses.replace(settings, database_url=args.database_url)
    if args.under_test:
        settings = dataclasses.replace(settings, **UNDER_TEST)
    from gateway.observability.logs import configure

    # one structured line per event on stderr, the configured secrets never in one
    configure(settings.log_format, settings.log_level, secrets=(settings.admin_token, *settings.api_keys))
    generated = "CIVIC_HARNESS_ADMIN_TOKEN" not in os.environ and not args.config

    async def announce(s: Stack) -> None:
        print(f"listening on {s.url('gateway')}", flush=True)
        if generated:  # a token nobody configured: shown once, so the operator can use it
            print(f"admin token (generated for this run): {settings.admin_token}", flush=True)

    asyncio.run(serve(Stack({}, host=args.host, ports={"gateway": args.port}, gateway=settings), announce))
    return 0
