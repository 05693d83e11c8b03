"""`civic-harness up`: every bundled simulator and the gateway on free ports, with the demo city set up."""

from __future__ import annotations

import argparse
import asyncio
import json
import os
import tempfile
from collections.abc import Sequence
from pathlib import Path
from typing import Any

from contracts.scenario import demo_city

from ..registry import built_simulators, load_simulator
from ..stack import Stack
from .common import complain, serve, warn_unplayed

NAME = "up"
HELP = "every bundled simulator and the gateway on free ports, with a demo city"


def add_arguments(p: argparse.ArgumentParser, argv: Sequence[str] = ()) -> None:
    p.add_argument("--host", default="127.0.0.1")
    p.add_argument("--seed", type=int, default=0)
    p.add_argument(
        "--scenario",
        metavar="DIR|FILE|NAME",
        help="play a city's scenario: a directory of scenario files (e.g. one captured per vendor), one file, or a "
        "library name (default: demo-city); each simulator takes its vendor's section and timeline steps, and the "
        "gateway's geography is the scenario's city",
    )
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
    from contracts.scenario import ScenarioError, load
    from gateway.observability.logs import configure
    from gateway.settings import Settings

    from ..democity import DEMO_API_KEY, DEMO_CITIZEN, INTERVALS, seed_demo_city

    names = built_simulators()
    options: dict[str, dict[str, Any]] = {}
    if args.arcgis_addresses:
        options["arcgis"] = {"addresses": args.arcgis_addresses}
    try:
        configs = {name: load_simulator(name).config_type(seed=args.seed, **options.get(name, {})) for name in names}
        scenario = load(args.scenario or "demo-city")
    except ScenarioError as exc:
        return complain(f"{exc.source}: " + "; ".join(exc.problems[:10]))
    except ValueError as exc:  # e.g. an address file that cannot be read, named with its line
        return complain(str(exc))
    if args.scenario:  # the default demo city plays every simulator
        warn_unplayed(scenario, names)
    city = scenario.city or demo_city()  # a scenario of vendors alone plays in the demo city
    sample_point = city.point()
    with tempfile.TemporaryDirectory(prefix="civic-harness-") as scratch:
        database = args.database_url or f"sqlite:///{Path(scratch) / 'gateway.db'}"
        try:  # the gateway's log lines as `gateway` writes them; warnings and worse unless asked (a demo's terminal)
            settings = Settings(
                database_url=database,
                api_keys=(DEMO_API_KEY,),
                log_format=os.environ.get("CIVIC_HARNESS_LOG_FORMAT", "text"),
                log_level=os.environ.get("CIVIC_HARNESS_LOG_LEVEL", "WARNING"),
            )
        except ValueError as exc:
            return complain(str(exc))
        configure(settings.log_format, settings.log_level, secrets=(settings.admin_token, DEMO_API_KEY))
        stack = Stack(configs, host=args.host, gateway=settings, scenario=scenario)

        async def announce(s: Stack) -> None:
            simulators = {n: u for n, u in s.urls.items() if n != "gateway"}
            # each vendor's zone (a Cityworks site's, an OpenGov server's) reaches its integration: the gateway reads
            # and writes that vendor's offset-less dates in it
            zones = {v: z for v in ("cityworks", "opengov") if (z := (scenario.section(v) or {}).get("timezone"))}
            made = await seed_demo_city(s.url("gateway"), settings.admin_token, simulators, city=city, timezones=zones)
            services = routes(made)
            summary = {
                "gateway": s.url("gateway"),
                "simulators": simulators,
                "admin_token": settings.admin_token,
                "scenario": scenario.name,
                "sample_point": sample_point,
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
            print(f"scenario: {scenario.name}; sample point inside {city.name}: {sample_point}")
            print("serving until interrupted (Ctrl-C)", flush=True)

        try:
            asyncio.run(serve(stack, announce))
        except ScenarioError as exc:  # what only a simulator can judge (its actions, sizes, options)
            return complain(f"{exc.source}: " + "; ".join(exc.problems[:10]))
    return 0
