"""`civic-harness sim NAME`: one simulator in the foreground, with its own options after the kit's."""

from __future__ import annotations

import argparse
import asyncio
from collections.abc import Sequence
from typing import Any

from simulators.kit import SimConfig, SimulatorSpec

from ..registry import SIMULATORS, NotBuilt, load_simulator
from ..stack import Stack
from .common import UsageError, complain, serve, warn_unplayed

NAME = "sim"
HELP = "run one simulator in the foreground"
EPILOG = (
    "Each simulator has options of its own (OpenGov's --page-limit and --timezone, Cityworks' --version, ...): "
    "`civic-harness sim NAME --help` lists them."
)


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


def spec_named(argv: Sequence[str]) -> SimulatorSpec | None:
    """The simulator `sim NAME` names, so its own options can be offered; None when no name is given yet."""
    if len(argv) < 2 or argv[0] != NAME or argv[1].startswith("-"):
        return None
    try:
        return load_simulator(argv[1])
    except NotBuilt:
        raise UsageError(f"the {argv[1]} simulator is not built yet in this version") from None
    except (LookupError, ImportError, TypeError) as exc:
        raise UsageError(str(exc)) from None


def add_arguments(p: argparse.ArgumentParser, argv: Sequence[str] = ()) -> None:
    p.add_argument("name", help=f"one of {', '.join(SIMULATORS)} (or module:SPEC)")
    p.add_argument("--host", default="127.0.0.1", help="address to listen on (default 127.0.0.1)")
    p.add_argument("--port", type=int, default=0, help="port to listen on; 0 picks a free one (default)")
    p.add_argument("--seed", type=int, default=0, help="seed for the generated data (default 0)")
    p.add_argument(
        "--scenario",
        metavar="FILE|DIR|NAME",
        help="play a scenario: a file, a directory of files (one city), or a library name such as demo-city "
        "(contracts/scenarios/); its section of this vendor replaces the generated data, its timeline starts "
        "with the simulator, and /_sim/reset returns to its start",
    )
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
    spec = spec_named(argv)
    if spec is not None and spec.add_arguments is not None:
        spec.add_arguments(p.add_argument_group(f"{spec.name} options"))


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


def run(args: argparse.Namespace, passthrough: Sequence[str] = (), argv: Sequence[str] = ()) -> int:
    from contracts.scenario import ScenarioError, load

    spec = load_simulator(args.name)
    try:
        config = sim_config(spec, args)
        scenario = load(args.scenario) if args.scenario else None
    except ScenarioError as exc:
        return complain(f"{exc.source}: " + "; ".join(exc.problems[:10]))
    except ValueError as exc:  # options that each parse but do not fit together
        return complain(str(exc))
    if scenario is not None:
        warn_unplayed(scenario, [spec.name])
    stack = Stack({args.name: config}, host=args.host, ports={args.name: args.port}, scenario=scenario)

    async def announce(s: Stack) -> None:
        print(f"listening on {s.url(args.name)}", flush=True)

    try:
        asyncio.run(serve(stack, announce))
    except ScenarioError as exc:  # what only the simulator can judge (its actions, sizes, options)
        return complain(f"{exc.source}: " + "; ".join(exc.problems[:10]))
    return 0
