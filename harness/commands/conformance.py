"""`civic-harness conformance`: the suites against the bundled stack (or given targets), with the scorecard.
Options it does not know are handed to pytest."""

from __future__ import annotations

import argparse
from collections.abc import Sequence

from .reports import add_report_arguments

NAME = "conformance"
HELP = "run the conformance suites and print the scorecard"
PASSTHROUGH = True  # unknown options go to pytest
EPILOG = """\
exit codes:
  0  every selected check passed
  1  a check failed (see the scorecard)
  2  a usage error, or a --target that is not ready, said in one sentence before any check runs

A --target's suite options (--cw-version, --cw-user, --cw-password, --og-user, --geo-service-path, ...; see
`civic-harness certify --help`) and any pytest option are handed to the suites as given.
"""


def add_arguments(p: argparse.ArgumentParser, argv: Sequence[str] = ()) -> None:
    p.add_argument("--suite", action="append", help="providers, gateway, or one suite name (repeatable)")
    p.add_argument("--seed", type=int, default=0, help="seed for the bundled stack and hypothesis")
    p.add_argument("--target", action="append", default=[], metavar="NAME=URL", help="an external server")
    p.add_argument("-k", dest="keyword", help="pytest -k expression")
    p.add_argument("-m", dest="marker", help="pytest -m expression")
    p.add_argument("-q", "--quiet", action="store_true")
    p.add_argument(
        "--workers",
        default="auto",
        metavar="N|auto",
        help="processes running the checks, each with its own bundled stack (pytest-xdist); auto: one per core, "
        "at most 4; 1 with --target (a shared server) or --gw-database-url (more make a database each beside it)",
    )
    add_report_arguments(p)


def run(args: argparse.Namespace, passthrough: Sequence[str] = (), argv: Sequence[str] = ()) -> int:
    from ..conformance_cli import run_conformance

    return run_conformance(args, passthrough, argv)
