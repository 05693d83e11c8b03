"""The pytest runner `civic-harness conformance` and `certify` share (harness/commands/): the suites run with
pytest in this process.

Exit codes: 0 every selected check passed; 1 a check failed; 2 usage error or unreachable target.
"""

from __future__ import annotations

import argparse
import os
import shlex
import sys
from collections.abc import Sequence
from pathlib import Path

import pytest
import requests
from rich.console import Console

from conformance import frontdoor, suites

from . import preflight

EXIT_OK, EXIT_FAILED, EXIT_USAGE = 0, 1, 2
INI = suites.ROOT / "pytest.ini"
# How each provider suite spells its options (the suites are plain pytest; this maps the CLI onto them).
CERTIFY_OPTIONS = {
    "cityworks": {
        "version": "--cw-version",
        "username": "--cw-user",
        "licences": "--cw-licences",
        "hidden_problems": "--cw-hidden-problems",
        "hidden_templates": "--cw-hidden-templates",
    },
    "arcgis": {"service_path": "--geo-service-path", "token": "--geo-token"},
    "opengov": {"username": "--og-user"},
    "city-api": {"key_id": "--wid-key-id", "property": "--wid-property", "address": "--wid-address"},
}
HARNESS_IDS = "H-"  # the prefix of the harness's own requirement IDs, left off a vendor's certificate
PASSWORD_ENV = {"cityworks": "CIVIC_HARNESS_CW_PASSWORD", "opengov": "CIVIC_HARNESS_OG_PASSWORD"}
SECRET_ENV = {"city-api": "CIVIC_HARNESS_WID_SECRET"}
ACCOUNTS_ENV = {"city-api": "CIVIC_HARNESS_WID_ACCOUNT"}


SECRET_OPTIONS = {"--password", "--secret", "--token", "--account"}


def replay_command(argv: Sequence[str]) -> str:
    """The command line as the reports show it: secrets replaced, so a report can be shared."""
    shown: list[str] = []
    hide_next = False
    for arg in argv:
        name, eq, _ = arg.partition("=")
        if hide_next:
            shown.append("***")
            hide_next = False
        elif name in SECRET_OPTIONS:
            shown.append(f"{name}=***" if eq else arg)
            hide_next = not eq
        else:
            shown.append(arg)
    return shlex.join(["civic-harness", *shown])


def report_options(args: argparse.Namespace, argv: Sequence[str]) -> list[str]:
    out = [f"--report-command={replay_command(argv)}"]
    if getattr(args, "junit", None):
        out.append(f"--junitxml={Path(args.junit).resolve()}")
    if getattr(args, "json", None):
        out.append(f"--report-json={Path(args.json).resolve()}")
    if getattr(args, "html", None):
        out.append(f"--report-html={Path(args.html).resolve()}")
    return out


def _pytest(paths: Sequence[str], extra: Sequence[str], args: argparse.Namespace | None = None) -> int:
    # A failure is one line in the scorecard's "failed checks" (its IDs, what was expected, what came back);
    # pytest's tracebacks only when asked for (-v, or any --tb).
    asked = any(a == "-v" or a.startswith(("-vv", "--verbose", "--tb")) for a in extra)
    quiet = [] if asked else ["--tb=no"]
    argv = [*paths, "-c", str(INI), "--rootdir", str(suites.ROOT), "--scorecard", *quiet, *extra]
    code = pytest.main(argv)
    if code == pytest.ExitCode.OK:
        result = EXIT_OK
    elif code == pytest.ExitCode.TESTS_FAILED:
        result = EXIT_FAILED
    else:
        result = EXIT_USAGE  # interrupted, internal error, usage error, or nothing collected
    if args is not None:
        summary(args, result)
    return result


def summary(args: argparse.Namespace, result: int) -> None:
    """The closing lines: the verdict and where the reports are (rich: coloured on a terminal, plain in CI)."""
    console = Console(stderr=False, highlight=False)
    verdict = {EXIT_OK: "[green]all selected checks passed[/]", EXIT_FAILED: "[red]checks failed[/]"}.get(
        result, "[yellow]the run did not complete[/]"
    )
    lines = [f"civic-harness: {verdict} (exit {result})"]
    for label, option in (("JUnit XML", "junit"), ("JSON", "json"), ("HTML scorecard", "html")):
        path = getattr(args, option, None)
        if path:
            lines.append(f"  {label}: {Path(path).resolve()}")
    console.print("\n".join(lines))


def target_problem(target: str, passthrough: Sequence[str]) -> str | None:
    """Why `conformance --target NAME=URL` cannot run against it (None: it can): a provider's target is
    checked as `certify` checks it, with the suite options given (`--cw-user=...`) and the environment's
    secrets; another is checked to answer HTTP."""
    name, _, url = target.partition("=")
    if not url:
        return f"--target expects NAME=URL, got {target!r}"
    if name not in PREFLIGHT_OPTIONS:
        return reachable(url)
    given = argparse.ArgumentParser(add_help=False)
    for option in PREFLIGHT_OPTIONS[name].values():
        given.add_argument(option)
    options, _ = given.parse_known_args(list(passthrough))
    values = {
        field: getattr(options, option.lstrip("-").replace("-", "_"))
        for field, option in PREFLIGHT_OPTIONS[name].items()
    }
    if name in PASSWORD_ENV:
        values["password"] = values.get("password") or os.environ.get(PASSWORD_ENV[name])
    if name in SECRET_ENV:
        values["secret"] = values.get("secret") or os.environ.get(SECRET_ENV[name])
    if name == "cityworks":
        values["suite_options"] = True  # a wrong hidden id is named as the user spelt its option
    if name == "gateway":  # the suite reads the gateway's admin token from the environment only
        values["token"] = os.environ.get("CIVIC_HARNESS_GW_ADMIN_TOKEN")
    try:
        preflight.check(preflight.Target(name, url, **values))
    except preflight.NotReady as exc:
        return f"--target {name}: {exc}"
    return None


# The suite options (conformance/plugin.py) a target's pre-flight needs, by preflight.Target field.
PREFLIGHT_OPTIONS = {
    "cityworks": {
        "version": "--cw-version",
        "username": "--cw-user",
        "password": "--cw-password",
        "hidden_problems": "--cw-hidden-problems",
        "hidden_templates": "--cw-hidden-templates",
    },
    "opengov": {"username": "--og-user", "password": "--og-password"},
    "arcgis": {"service_path": "--geo-service-path", "token": "--geo-token"},
    "city-api": {"key_id": "--wid-key-id", "secret": "--wid-secret"},
    "gateway": {},
}


def reachable(url: str) -> str | None:
    """None when something answers HTTP at `url`, else the reason."""
    try:
        requests.get(url, timeout=10)
    except requests.RequestException as exc:
        return f"{url} is unreachable: {exc.__class__.__name__}"
    return None


MOST_WORKERS = 4  # each worker runs a whole bundled stack; past four the suites' longest checks set the time


def workers(requested: str, targets: Sequence[str], passthrough: Sequence[str]) -> int | str:
    """How many pytest-xdist workers run the checks, or why not as many as asked.

    Each worker starts its own bundled stack (free ports, its own SQLite file), so bundled runs split well.
    Checks against an external server reset and read that one shared state: two workers would race on it,
    so `--target` runs keep to one process. With `--gw-database-url` each worker makes its own database
    beside the given one, which needs the right to create databases: one process unless asked."""
    if requested == "auto":
        given_db = any(a.partition("=")[0] == "--gw-database-url" for a in passthrough)
        return 1 if targets or given_db else max(1, min(os.cpu_count() or 1, MOST_WORKERS))
    try:
        n = int(requested)
    except ValueError:
        return f"--workers expects a number or auto, got {requested!r}"
    if n < 1:
        return "--workers must be at least 1"
    if n > 1 and targets:
        return f"--workers {n} with --target: the workers would share one server's state; run with --workers 1"
    return n


def run_conformance(
    args: argparse.Namespace, passthrough: Sequence[str] = (), argv: Sequence[str] | None = None
) -> int:
    try:
        chosen = suites.select(args.suite)
    except LookupError as exc:
        print(f"civic-harness: {exc}", file=sys.stderr)
        return EXIT_USAGE
    if not chosen:
        print("civic-harness: no conformance suite is built yet", file=sys.stderr)
        return EXIT_USAGE
    n = workers(args.workers, args.target, passthrough)
    if isinstance(n, str):
        print(f"civic-harness: {n}", file=sys.stderr)
        return EXIT_USAGE
    for target in args.target:
        problem = target_problem(target, passthrough)
        if problem:
            print(f"civic-harness: {problem}", file=sys.stderr)
            return EXIT_USAGE
    # One seed drives the bundled data and hypothesis, so a failure replays with the same --seed.
    extra = [f"--harness-seed={args.seed}", f"--hypothesis-seed={args.seed}", *(f"--target={t}" for t in args.target)]
    if n > 1 and not any(a == "--numprocesses" or a.startswith(("-n", "--numprocesses=")) for a in passthrough):
        extra += ["-n", str(n)]
    if args.keyword:
        extra += ["-k", args.keyword]
    if args.marker:
        extra += ["-m", args.marker]
    if args.quiet:
        extra.append("-q")
    extra += report_options(args, argv if argv is not None else ["conformance", *sys.argv[2:]])
    print(
        f"civic-harness conformance: suites {', '.join(chosen)}; seed {args.seed}; {n} worker{'s' if n > 1 else ''}",
        flush=True,
    )
    return _pytest([str(p) for p in chosen.values()], [*extra, *passthrough], args)


def run_certify(args: argparse.Namespace, passthrough: Sequence[str] = (), argv: Sequence[str] | None = None) -> int:
    available = suites.provider_suites()
    if args.name not in available:
        print(f"civic-harness: no provider suite {args.name!r}; built: {', '.join(available)}", file=sys.stderr)
        return EXIT_USAGE
    if args.name in SECRET_ENV and not (getattr(args, "secret", None) or os.environ.get(SECRET_ENV[args.name])):
        print(
            f"civic-harness: certifying {args.name} needs the signing secret: {SECRET_ENV[args.name]}", file=sys.stderr
        )
        return EXIT_USAGE
    if args.name in PASSWORD_ENV and not (args.password or os.environ.get(PASSWORD_ENV[args.name])):
        where = f"--password or {PASSWORD_ENV[args.name]}"
        print(f"civic-harness: {preflight.defaulted('password', where, 'harness')}", file=sys.stderr)
    try:
        found = preflight.check(
            preflight.Target(
                args.name,
                args.url,
                version=getattr(args, "version", None),
                username=getattr(args, "username", None),
                password=args.password or os.environ.get(PASSWORD_ENV.get(args.name, ""), None),
                service_path=getattr(args, "service_path", None),
                token=getattr(args, "token", None),
                key_id=getattr(args, "key_id", None),
                secret=getattr(args, "secret", None) or os.environ.get(SECRET_ENV.get(args.name, "")),
                hidden_problems=getattr(args, "hidden_problems", None),
                hidden_templates=getattr(args, "hidden_templates", None),
            )
        )
    except preflight.NotReady as exc:
        print(f"civic-harness: {exc}", file=sys.stderr)
        return EXIT_USAGE
    mapping = CERTIFY_OPTIONS.get(args.name, {})
    # A vendor's certificate: the IDs its suite covers, without the harness's own (every H-* ID is in the
    # catalogue's "Harness-wide" section: the simulators H-SIM-*, provider states H-SCN-6 — not the vendor's API).
    extra = [
        f"--target={args.name}={args.url}",
        "--scorecard-scope=covered",
        f"--scorecard-exclude={HARNESS_IDS}",
        "-q",
    ]
    seed = getattr(args, "seed", 0)
    extra += [f"--harness-seed={seed}", f"--hypothesis-seed={seed}"]
    for option in (
        "version",
        "username",
        "licences",
        "hidden_problems",
        "hidden_templates",
        "service_path",
        "token",
        "key_id",
        "property",
        "address",
    ):
        value = getattr(args, option, None)
        if value is not None and option in mapping:
            extra.append(f"{mapping[option]}={value}")
    front_door = getattr(args, "front_door", None)
    if front_door is not None:
        try:
            frontdoor.parse(front_door)
        except ValueError as exc:
            print(f"civic-harness: {exc}", file=sys.stderr)
            return EXIT_USAGE
        extra.append(f"--front-door={front_door}")
    examples = getattr(args, "examples", None)
    if examples is not None:
        if examples < 1:
            print("civic-harness: --examples must be at least 1", file=sys.stderr)
            return EXIT_USAGE
        extra.append(f"--contract-examples={examples}")
    if getattr(args, "no_shrink", False):
        extra.append("--contract-no-shrink")
    if getattr(args, "read_only", False):
        extra.append("--read-only")
    if args.password is not None and args.name in PASSWORD_ENV:
        os.environ[PASSWORD_ENV[args.name]] = args.password  # not on a command line others can read
    if getattr(args, "secret", None) is not None and args.name in SECRET_ENV:
        os.environ[SECRET_ENV[args.name]] = args.secret
    if getattr(args, "account", None) and args.name in ACCOUNTS_ENV:
        os.environ[ACCOUNTS_ENV[args.name]] = ",".join(args.account)
    extra += report_options(args, argv if argv is not None else ["certify", *sys.argv[2:]])
    print(f"civic-harness certify: {args.name} at {args.url}: {found}", flush=True)
    if getattr(args, "read_only", False):
        print("read-only: checks that would create or change a record there are skipped", flush=True)
    elif args.name != "arcgis":  # a locator is only read
        print(
            "this run writes to the target (test records it creates are listed at the end); --read-only writes nothing",
            flush=True,
        )
    return _pytest([str(available[args.name])], [*extra, *passthrough], args)
