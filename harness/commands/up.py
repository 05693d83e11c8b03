"""`civic-harness up`: every bundled simulator and the gateway on free ports, with the demo city set up."""

from __future__ import annotations

import argparse
import asyncio
import json
import tempfile
from collections.abc import Sequence
from pathlib import Path
from typing import Any

from simulators.kit import city as demo_city

from ..registry import built_simulators, load_simulator
from ..stack import Stack
from .common import complain, serve

NAME = "up"
HELP = "every bundled simulator and the gateway on free ports, with a demo city"


def add_arguments(p: argparse.ArgumentParser, argv: Sequence[str] = ()) -> None:
    p.add_argument("--host", default="127.0.0.1")
    p.add_argument("--seed", type=int, default=0)
    p.add_argument("--json", action="store_true", help="print one JSON line with the URLs, then keep serving")
    p.add_argument("--database-url", help="the gateway's database (default: a fresh SQLite file, removed at exit)")
    p.add_argument(
        "--arcgis-addresses",
        metavar="FILE",
        help="the city's address points for the ArcGIS simulator (OpenAddresses CSV or GeoJSON), answered first",
    )


def routes(made: dict[str, Any]) -> list[dict[str, str]]:
    """Each demo service and the vendor its reports go to."""
    vendors = {i["id"]: i["name"] for i in made["integrations"].values()}
    return [
        {
            "service_code": c["code"],
            "name": c["name"],
            "vendor": vendors.get(c.get("integration_id"), "no vendor (kept by the gateway)"),
        }
        for c in made["categories"].values()
    ]


def run(args: argparse.Namespace, passthrough: Sequence[str] = (), argv: Sequence[str] = ()) -> int:
    from gateway.settings import Settings

    from ..democity import DEMO_API_KEY, DEMO_CITIZEN, INTERVALS, seed_demo_city

    names = built_simulators()
    options: dict[str, dict[str, Any]] = {}
    if args.arcgis_addresses:
        options["arcgis"] = {"addresses": args.arcgis_addresses}
    try:
        configs = {name: load_simulator(name).config_type(seed=args.seed, **options.get(name, {})) for name in names}
    except ValueError as exc:  # e.g. an address file that cannot be read, named with its line
        return complain(str(exc))
    with tempfile.TemporaryDirectory(prefix="civic-harness-") as scratch:
        database = args.database_url or f"sqlite:///{Path(scratch) / 'gateway.db'}"
        settings = Settings(database_url=database, api_keys=(DEMO_API_KEY,))
        stack = Stack(configs, host=args.host, gateway=settings)

        async def announce(s: Stack) -> None:
            simulators = {n: u for n, u in s.urls.items() if n != "gateway"}
            made = await seed_demo_city(s.url("gateway"), settings.admin_token, simulators)
            services = routes(made)
            summary = {
                "gateway": s.url("gateway"),
                "simulators": simulators,
                "admin_token": settings.admin_token,
                "sample_point": demo_city.SAMPLE_POINT,
                "services": services,
            }
            if args.json:
                print(json.dumps(summary), flush=True)
                return
            print(f"{'gateway':<10} {s.url('gateway')}/open311/v2/discovery.json  (admin: {s.url('gateway')}/admin/v1)")
            for name, url in simulators.items():
                print(f"{name:<10} {url}  (control plane {url}/_sim/)")
            print(f"admin token: {settings.admin_token}")
            if "city-api" in simulators:
                print(f"citizen portal: {s.url('gateway')}/portal/sign-in  ({DEMO_CITIZEN[0]} / {DEMO_CITIZEN[1]})")
            print(f"Open311 api_key: {DEMO_API_KEY}")
            print("services (Open311 service_code: name -> where a report goes):")
            for service in services:
                print(f"  {service['service_code']}: {service['name']} -> {service['vendor']}")
            print(
                f"a report reaches its vendor within {settings.scheduler_tick_s:g} s (the scheduler's tick); the "
                f"vendor's changes come back at the next status poll (every {INTERVALS['status_poll']} s). Follow one: "
                "GET /admin/v1/requests/{service_request_id}"
            )
            print(f"sample point inside {demo_city.NAME}: {demo_city.SAMPLE_POINT}")
            print("serving until interrupted (Ctrl-C)", flush=True)

        asyncio.run(serve(stack, announce))
    return 0
