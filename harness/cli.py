"""`civic-harness`: a thin command line over the library (Stack, simulators, conformance runner)."""

from __future__ import annotations

import argparse
import asyncio
import dataclasses
import json
import os
import signal
import sys
import tempfile
from collections.abc import Sequence
from pathlib import Path
from typing import Any

from simulators.kit import SimConfig, SimulatorSpec
from simulators.kit import city as demo_city

from .registry import SIMULATORS, NotBuilt, built_simulators, load_simulator
from .stack import Stack

EXIT_USAGE = 2


def _user(text: str) -> tuple[str, str]:
    login, sep, password = text.partition(":")
    if not sep or not login or not password:
        raise argparse.ArgumentTypeError("expected LOGIN:PASSWORD")
    return login, password


def _front_door(text: str) -> str:
    from contracts.front_door import parse

    try:
        parse(text)
    except ValueError as exc:
        raise argparse.ArgumentTypeError(str(exc)) from None
    return text


def _kit_arguments(p: argparse.ArgumentParser) -> None:
    p.add_argument("--host", default="127.0.0.1", help="address to listen on (default 127.0.0.1)")
    p.add_argument("--port", type=int, default=0, help="port to listen on; 0 picks a free one (default)")
    p.add_argument("--seed", type=int, default=0, help="seed for the generated data (default 0)")
    p.add_argument("--no-strict", dest="strict", action="store_false", help="accept requests that break the contract")
    p.add_argument(
        "--no-response-validation",
        dest="validate_responses",
        action="store_false",
        help="do not check the simulator's own answers against the contract",
    )
    p.add_argument("--journal-size", type=int, default=10_000, help="entries kept in the request journal")
    p.add_argument(
        "--front-door",
        type=_front_door,
        metavar="none|iis[:name=bytes,...]",
        help="the web server in front of the API and its limits, answered with its own error page (default: iis for "
        "Cityworks and OpenGov with IIS's maxUrl 4096, maxQueryString 2048, maxAllowedContentLength 30000000; none "
        "for the others), e.g. iis:maxQueryString=8192",
    )
    p.add_argument(
        "--user",
        dest="users",
        action="append",
        type=_user,
        metavar="LOGIN:PASSWORD",
        help="a user the simulator accepts (repeatable; default harness:harness)",
    )


def _report_arguments(p: argparse.ArgumentParser) -> None:
    reports = p.add_argument_group("reports")
    reports.add_argument(
        "--junit", metavar="FILE", help="JUnit XML: one testcase per check, requirement IDs as properties"
    )
    reports.add_argument("--json", metavar="FILE", help="the run as JSON: verdict per requirement ID, every check")
    reports.add_argument(
        "--html", metavar="FILE", help="a self-contained scorecard page with the evidence of every failure"
    )


def build_parser(sim_spec: SimulatorSpec | None = None) -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(
        prog="civic-harness",
        description="Simulators, contracts, conformance suites and load tests for civic 311 integrations.",
    )
    sub = parser.add_subparsers(dest="command", required=True, metavar="COMMAND")

    sim = sub.add_parser("sim", help="run one simulator in the foreground")
    sim.add_argument("name", help=f"one of {', '.join(SIMULATORS)} (or module:SPEC)")
    _kit_arguments(sim)
    if sim_spec is not None and sim_spec.add_arguments is not None:
        sim_spec.add_arguments(sim.add_argument_group(f"{sim_spec.name} options"))

    up = sub.add_parser("up", help="every bundled simulator and the gateway on free ports, with a demo city")
    up.add_argument("--host", default="127.0.0.1")
    up.add_argument("--seed", type=int, default=0)
    up.add_argument("--json", action="store_true", help="print one JSON line with the URLs, then keep serving")
    up.add_argument("--database-url", help="the gateway's database (default: a fresh SQLite file, removed at exit)")
    up.add_argument(
        "--arcgis-addresses",
        metavar="FILE",
        help="the city's address points for the ArcGIS simulator (OpenAddresses CSV or GeoJSON), answered first",
    )

    gw = sub.add_parser("gateway", help="run the reference gateway in the foreground")
    gw.add_argument("--host", default="127.0.0.1", help="address to listen on (default 127.0.0.1)")
    gw.add_argument("--port", type=int, default=8311, help="port to listen on; 0 picks a free one (default 8311)")
    gw.add_argument("--config", help="a TOML file with a [gateway] table; CIVIC_HARNESS_* variables override it")
    gw.add_argument("--database-url", help="overrides the configured DATABASE_URL (sqlite:///file or postgresql://)")

    conf = sub.add_parser("conformance", help="run the conformance suites and print the scorecard")
    conf.add_argument("--suite", action="append", help="providers, gateway, or one suite name (repeatable)")
    conf.add_argument("--seed", type=int, default=0, help="seed for the bundled stack and hypothesis")
    conf.add_argument("--target", action="append", default=[], metavar="NAME=URL", help="an external server")
    conf.add_argument("-k", dest="keyword", help="pytest -k expression")
    conf.add_argument("-m", dest="marker", help="pytest -m expression")
    conf.add_argument("-q", "--quiet", action="store_true")
    conf.add_argument(
        "--workers",
        default="auto",
        metavar="N|auto",
        help="processes running the checks, each with its own bundled stack (pytest-xdist); auto: one per core, "
        "at most 4; 1 with --target (a shared server) or --gw-database-url (more make a database each beside it)",
    )
    _report_arguments(conf)

    cert = sub.add_parser("certify", help="certify a vendor API against its contract, verdict per requirement ID")
    cert.add_argument("name", help="which provider suite: cityworks, opengov, arcgis or city-api")
    cert.add_argument(
        "--url",
        required=True,
        help="the API's base URL (Cityworks: the site, before /Services; city-api: one widget's base URL)",
    )
    cert.add_argument("--version", help="the vendor version the API speaks (Cityworks: 2013 ... 23)")
    cert.add_argument("--username", help="login name")
    cert.add_argument(
        "--password", help="password (better: CIVIC_HARNESS_CW_PASSWORD in the environment; never echoed)"
    )
    cert.add_argument("--licences", help="APIs the site is licensed for (Cityworks: sr, wo or sr,wo)")
    cert.add_argument(
        "--hidden-problems",
        metavar="SID,...",
        help="Cityworks: problem types the site keeps from the public, so ForPublicOnly can be checked on a real "
        "server (the simulator's control plane adds its own)",
    )
    cert.add_argument(
        "--service-path", help="ArcGIS: the locator's path, e.g. /arcgis/rest/services/World/GeocodeServer"
    )
    cert.add_argument("--token", help="ArcGIS: a token, when the server requires one")
    cert.add_argument(
        "--secret", help="city-api: the widget's signing secret (better: CIVIC_HARNESS_WID_SECRET; never echoed)"
    )
    cert.add_argument("--key-id", help="city-api: the key id the widget expects (default: its last path segment)")
    cert.add_argument(
        "--account",
        action="append",
        help="city-api: NUMBER:VERIFICATION of a test account to link (repeatable; two prove citizens are kept apart)",
    )
    cert.add_argument("--property", help="city-api: a parcel id a property-dependent widget knows")
    cert.add_argument("--address", help="city-api: an address a property-dependent widget knows")
    cert.add_argument(
        "--front-door",
        metavar="none|iis[:name=bytes,...]",
        help="the web server limits in front of the API, as IIS names them (default: iis for cityworks and opengov "
        "— maxQueryString 2048, maxUrl 4096, maxAllowedContentLength 30000000 —, none for the others; a site's own: "
        "iis:maxQueryString=8192); a generated call beyond them that the web server refuses with its own HTML page "
        "is reported, not held against the API",
    )
    cert.add_argument(
        "--examples",
        type=int,
        metavar="N",
        help="generated calls per operation and mode in the contract checks (default: each suite's own)",
    )
    cert.add_argument(
        "--no-shrink",
        action="store_true",
        help="report a failing generated call as drawn, without shrinking it to a smaller one first (faster)",
    )
    _report_arguments(cert)

    load = sub.add_parser("load", help="run a locust load profile headless, judged by thresholds")
    from .load_cli import add_arguments as load_arguments

    load_arguments(load)

    camp = sub.add_parser(
        "campaign", help="reports through the gateway under vendor faults and gateway kills, then nothing lost"
    )
    from .campaign_cli import add_arguments as campaign_arguments

    campaign_arguments(camp)
    return parser


def sim_config(spec: SimulatorSpec, args: argparse.Namespace) -> SimConfig:
    kwargs: dict[str, Any] = {
        "seed": args.seed,
        "strict": args.strict,
        "validate_responses": args.validate_responses,
        "journal_size": args.journal_size,
    }
    if args.users:
        kwargs["users"] = tuple(args.users)
    if args.front_door is not None:
        kwargs["front_door"] = args.front_door
    if spec.config_from_args is not None:
        kwargs.update(spec.config_from_args(args))
    return spec.config_type(**kwargs)


async def _serve(stack: Stack, announce: Any) -> None:
    stop = asyncio.Event()
    loop = asyncio.get_running_loop()
    for sig in (signal.SIGINT, signal.SIGTERM):
        loop.add_signal_handler(sig, stop.set)
    async with stack:
        await announce(stack)
        await stop.wait()


def cmd_sim(spec: SimulatorSpec, args: argparse.Namespace) -> int:
    try:
        config = sim_config(spec, args)
    except ValueError as exc:  # options that each parse but do not fit together
        print(f"civic-harness: {exc}", file=sys.stderr)
        return EXIT_USAGE
    stack = Stack({args.name: config}, host=args.host, ports={args.name: args.port})

    async def announce(s: Stack) -> None:
        print(f"listening on {s.url(args.name)}", flush=True)

    asyncio.run(_serve(stack, announce))
    return 0


def cmd_up(args: argparse.Namespace) -> int:
    from gateway.settings import Settings

    from .democity import DEMO_API_KEY, DEMO_CITIZEN, seed_demo_city

    names = built_simulators()
    options: dict[str, dict[str, Any]] = {}
    if args.arcgis_addresses:
        options["arcgis"] = {"addresses": args.arcgis_addresses}
    try:
        configs = {name: load_simulator(name).config_type(seed=args.seed, **options.get(name, {})) for name in names}
    except ValueError as exc:  # e.g. an address file that cannot be read, named with its line
        print(f"civic-harness: {exc}", file=sys.stderr)
        return EXIT_USAGE
    with tempfile.TemporaryDirectory(prefix="civic-harness-") as scratch:
        database = args.database_url or f"sqlite:///{Path(scratch) / 'gateway.db'}"
        settings = Settings(database_url=database, api_keys=(DEMO_API_KEY,))
        stack = Stack(configs, host=args.host, gateway=settings)

        async def announce(s: Stack) -> None:
            simulators = {n: u for n, u in s.urls.items() if n != "gateway"}
            await seed_demo_city(s.url("gateway"), settings.admin_token, simulators)
            summary = {
                "gateway": s.url("gateway"),
                "simulators": simulators,
                "admin_token": settings.admin_token,
                "sample_point": demo_city.SAMPLE_POINT,
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
            print(f"sample point inside {demo_city.NAME}: {demo_city.SAMPLE_POINT}")
            print("serving until interrupted (Ctrl-C)", flush=True)

        asyncio.run(_serve(stack, announce))
    return 0


def cmd_gateway(args: argparse.Namespace) -> int:
    from gateway.settings import Settings

    try:
        settings = Settings.load(args.config)
    except (ValueError, OSError) as exc:
        print(f"civic-harness: {exc}", file=sys.stderr)
        return EXIT_USAGE
    if args.database_url:
        settings = dataclasses.replace(settings, database_url=args.database_url)
    generated = "CIVIC_HARNESS_ADMIN_TOKEN" not in os.environ and not args.config

    async def announce(s: Stack) -> None:
        print(f"listening on {s.url('gateway')}", flush=True)
        if generated:  # a token nobody configured: shown once, so the operator can use it
            print(f"admin token (generated for this run): {settings.admin_token}", flush=True)

    asyncio.run(_serve(Stack({}, host=args.host, ports={"gateway": args.port}, gateway=settings), announce))
    return 0


def not_built(what: str) -> int:
    print(f"civic-harness: {what} is not built yet in this version", file=sys.stderr)
    return EXIT_USAGE


def main(argv: Sequence[str] | None = None) -> int:
    argv = list(sys.argv[1:] if argv is None else argv)
    spec: SimulatorSpec | None = None
    if len(argv) >= 2 and argv[0] == "sim" and not argv[1].startswith("-"):
        try:
            spec = load_simulator(argv[1])
        except NotBuilt:
            return not_built(f"the {argv[1]} simulator")
        except (LookupError, ImportError, TypeError) as exc:
            print(f"civic-harness: {exc}", file=sys.stderr)
            return EXIT_USAGE
    parser = build_parser(spec)
    args, passthrough = parser.parse_known_args(argv)
    if passthrough and args.command not in ("conformance", "certify"):
        parser.error(f"unrecognized arguments: {' '.join(passthrough)}")
    try:
        if args.command == "sim":
            assert spec is not None
            return cmd_sim(spec, args)
        if args.command == "up":
            return cmd_up(args)
        if args.command == "conformance":
            from .conformance_cli import run_conformance

            return run_conformance(args, passthrough, argv)
        if args.command == "gateway":
            return cmd_gateway(args)
        if args.command == "certify":
            from .conformance_cli import run_certify

            return run_certify(args, passthrough, argv)
        if args.command == "load":
            from .load_cli import run_load

            return run_load(args)
        if args.command == "campaign":
            from .campaign_cli import run as run_campaign

            return run_campaign(args)
    except KeyboardInterrupt:
        return 130
    except OSError as exc:  # e.g. the port is taken
        print(f"civic-harness: {exc}", file=sys.stderr)
        return EXIT_USAGE
    return EXIT_USAGE


if __name__ == "__main__":
    raise SystemExit(main())
