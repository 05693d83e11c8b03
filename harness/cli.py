"""`civic-harness`: a thin command line over the library; each command is a module of harness/commands/."""

from __future__ import annotations

import argparse
import sys
from collections.abc import Sequence

from .commands import COMMANDS
from .commands.common import UsageError, complain


def build_parser(argv: Sequence[str] = ()) -> argparse.ArgumentParser:
    """`argv` lets a command offer options that depend on it (`sim NAME` adds that simulator's own)."""
    parser = argparse.ArgumentParser(
        prog="civic-harness",
        description="Simulators, contracts, conformance suites and load tests for civic 311 integrations.",
    )
    sub = parser.add_subparsers(dest="command", required=True, metavar="COMMAND")
    for name, command in COMMANDS.items():
        command.add_arguments(sub.add_parser(name, help=command.HELP), argv)
    return parser


def main(argv: Sequence[str] | None = None) -> int:
    argv = list(sys.argv[1:] if argv is None else argv)
    try:
        parser = build_parser(argv)
    except UsageError as exc:
        return complain(str(exc))
    args, passthrough = parser.parse_known_args(argv)
    command = COMMANDS[args.command]
    if passthrough and not getattr(command, "PASSTHROUGH", False):
        parser.error(f"unrecognized arguments: {' '.join(passthrough)}")
    try:
        return command.run(args, passthrough, argv)
    except KeyboardInterrupt:
        return 130
    except OSError as exc:  # e.g. the port is taken
        return complain(str(exc))
    except UsageError as exc:
        return complain(str(exc))


if __name__ == "__main__":
    raise SystemExit(main())
