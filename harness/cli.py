"""`civic-harness`: a thin command line over the library; each command is a module of harness/commands/."""

from __future__ import annotations

import argparse
import difflib
import errno
import functools
import re
import sys
from collections.abc import Sequence

from .commands import COMMANDS
from .commands.common import UsageError, complain
from .version import version


def build_parser(argv: Sequence[str] = ()) -> argparse.ArgumentParser:
    """`argv` lets a command offer options that depend on it (`sim NAME` adds that simulator's own). Each
    command's own parser is kept in the parser's defaults (`parsers`), for did-you-mean."""
    parser = argparse.ArgumentParser(
        prog="civic-harness",
        description="Simulators, contracts, conformance suites and load tests for civic 311 integrations.",
    )
    parser.add_argument("--version", action="version", version=f"civic-harness {version()}")
    sub = parser.add_subparsers(dest="command", required=True, metavar="COMMAND")
    parsers: dict[str, argparse.ArgumentParser] = {}
    parser.set_defaults(parsers=parsers)
    for name, command in COMMANDS.items():
        sub_parser = sub.add_parser(
            name,
            help=command.HELP,
            description=command.HELP,
            epilog=getattr(command, "EPILOG", None),
            formatter_class=argparse.RawDescriptionHelpFormatter,
        )
        command.add_arguments(sub_parser, argv)
        parsers[name] = sub_parser
    return parser


@functools.cache
def suite_options() -> frozenset[str]:
    """The options the conformance suites take (conformance/plugin.py), which conformance and certify hand on."""
    from conformance import plugin

    names: set[str] = set()

    class Recorder:
        def getgroup(self, *_: object, **__: object) -> Recorder:
            return self

        def addoption(self, *opts: str, **_: object) -> None:
            names.update(opts)

    plugin.pytest_addoption(Recorder())  # type: ignore[arg-type]
    return frozenset(names)


def did_you_mean(own: argparse.ArgumentParser, command: str, unknown: Sequence[str]) -> str | None:
    """For an option the command does not know that is close to one it does: the sentence saying so. Where
    unknown options go on to pytest, the suites' own are left alone and only a near miss is called one (so
    `--cw-password` is not taken for `--password`, nor pytest's `--junitxml` for `--junit`)."""
    known = [o for action in own._actions for o in action.option_strings]
    handed_on = bool(getattr(COMMANDS[command], "PASSTHROUGH", False))
    for token in unknown:
        name = token.split("=", 1)[0]
        if not name.startswith("--") or name in known or (handed_on and name in suite_options()):
            continue
        close = difflib.get_close_matches(name, known, n=1, cutoff=0.85 if handed_on else 0.75)
        if close:
            return f"{command} has no option {name}; did you mean {close[0]}?"
    return None


def near_miss(parser: argparse.ArgumentParser, argv: Sequence[str]) -> str | None:
    """A misspelt command, vendor (a choice given right after the command) or option, said before argparse
    judges the rest: its own words for these would be "the following arguments are required: --url" and a
    usage block, which hide the typo that caused them."""
    parsers: dict[str, argparse.ArgumentParser] = parser.get_default("parsers")
    if not argv or argv[0].startswith("-"):
        return None
    command, rest = argv[0], list(argv[1:])
    if command not in parsers:
        close = difflib.get_close_matches(command, list(parsers), n=1, cutoff=0.6)
        hint = f"did you mean {close[0]}?" if close else "the commands: " + ", ".join(parsers)
        return f"no command {command!r}; {hint}"
    own = parsers[command]
    choice = next((a for a in own._actions if not a.option_strings and a.choices), None)
    if choice is not None and rest and not rest[0].startswith("-") and rest[0] not in choice.choices:
        options = [str(c) for c in choice.choices]
        close = difflib.get_close_matches(rest[0], options, n=1, cutoff=0.6)
        hint = f"did you mean {close[0]}?" if close else "one of " + ", ".join(options)
        return f"{command} has no {choice.metavar or choice.dest} {rest[0]!r}; {hint}"
    given = [a.split("=", 1)[0] for a in rest if a.startswith("--")]
    suggestion = did_you_mean(own, command, given)
    if suggestion:
        return suggestion
    # an option the command requires, missing, and a near miss of it given (a looser match: it must be one)
    missing = [
        o for a in own._actions if a.required and a.option_strings and not set(a.option_strings) & set(given)
        for o in a.option_strings if o.startswith("--")
    ]  # fmt: skip
    for name in given:
        close = difflib.get_close_matches(name, missing, n=1, cutoff=0.6)
        if close:
            return f"{command} has no option {name}; did you mean {close[0]}?"
    return None


def main(argv: Sequence[str] | None = None) -> int:
    argv = list(sys.argv[1:] if argv is None else argv)
    try:
        parser = build_parser(argv)
    except UsageError as exc:
        return complain(str(exc))
    mistake = near_miss(parser, argv)
    if mistake:
        return complain(mistake)
    args, passthrough = parser.parse_known_args(argv)
    command = COMMANDS[args.command]
    suggestion = did_you_mean(args.parsers[args.command], args.command, passthrough)
    if suggestion:
        return complain(suggestion)
    if passthrough and not getattr(command, "PASSTHROUGH", False):
        parser.error(f"unrecognized arguments: {' '.join(passthrough)}")
    try:
        return command.run(args, passthrough, argv)
    except KeyboardInterrupt:
        return 130
    except OSError as exc:  # e.g. the port is taken
        if exc.errno == errno.EADDRINUSE:
            where = re.search(r"\('([^']+)', (\d+)\)", str(exc))
            at = f"{where.group(1)}:{where.group(2)}" if where else "the port asked for"
            return complain(f"{at} is in use: another server listens there (address already in use); pick another")
        return complain(str(exc))
    except UsageError as exc:
        return complain(str(exc))


if __name__ == "__main__":
    raise SystemExit(main())
