"""`civic-harness capture VENDOR --url URL -o FILE`: a scenario of what a real (sandbox) server holds, read with
read-only calls, personal data scrubbed; prints what it read."""

from __future__ import annotations

import argparse
import os
import sys
from collections import Counter
from collections.abc import Sequence
from pathlib import Path

import requests
import yaml

from .common import complain

NAME = "capture"
HELP = "write a scenario of a vendor server's configuration and records (read-only calls, personal data scrubbed)"
EPILOG = """\
Reads only: Cityworks sign-in, problem types, QA, templates, request search and reads, comments; OpenGov GETs;
city API signed GETs (widgets offered, listing content, --property through property-taxes, --user's links and
their content). A city API capture cannot see account numbers and PINs whole: it writes stand-ins.
Then edit the file and play it: civic-harness sim cityworks --scenario FILE, or up --scenario DIR.
"""
PASSWORD_ENV = {"cityworks": "CIVIC_HARNESS_CW_PASSWORD", "opengov": "CIVIC_HARNESS_OG_PASSWORD"}
SECRET_ENV = "CIVIC_HARNESS_WID_SECRET"  # as the city API provider suite takes it
VENDORS = (*PASSWORD_ENV, "city-api")


def add_arguments(p: argparse.ArgumentParser, argv: Sequence[str] = ()) -> None:
    p.add_argument("vendor", choices=sorted(VENDORS), help="the vendor API to read")
    p.add_argument(
        "--url", required=True, help="the site root (Cityworks: the part before /Services; city API: before /{widget})"
    )
    p.add_argument("--username", default="harness")
    p.add_argument(
        "--password", help="password (better: CIVIC_HARNESS_CW_PASSWORD / CIVIC_HARNESS_OG_PASSWORD; never echoed)"
    )
    city = p.add_argument_group("city-api")
    city.add_argument("--key-id", help="the signing key id (default: each widget's own id, as the contract says)")
    city.add_argument("--secret", help=f"the signing secret (better: {SECRET_ENV}; never echoed)")
    city.add_argument(
        "--property", action="append", default=[], metavar="PARCEL_OR_ADDRESS", help="a property to read (repeatable)"
    )
    city.add_argument("--properties-file", metavar="FILE", help="properties to read, one parcel id or address a line")
    city.add_argument(
        "--user", action="append", default=[], metavar="CITIZEN", help="a citizen whose linked accounts to read"
    )
    p.add_argument("-o", "--output", required=True, metavar="FILE", help="the scenario file to write (YAML)")
    p.add_argument("--name", help="the scenario's name (default: captured-VENDOR)")
    p.add_argument(
        "--max-records", type=int, default=1000, metavar="N", help="records read at most (0: configuration only)"
    )


def run(args: argparse.Namespace, passthrough: Sequence[str] = (), argv: Sequence[str] = ()) -> int:
    from contracts.scenario import ScenarioError, check

    from .. import preflight
    from ..capture import city_api, cityworks, opengov

    module = {"cityworks": cityworks, "opengov": opengov, "city-api": city_api}[args.vendor]
    if args.max_records < 0:
        return complain("--max-records: 0 or more")
    problem = preflight.url_problem(args.url) or _unwritable(Path(args.output))
    if problem:
        return complain(problem)  # before any read: a capture is minutes on a large city
    try:
        if module is city_api:
            section, read = _city_api(args)
        else:
            password = args.password or os.environ.get(PASSWORD_ENV[args.vendor])
            if not password:
                password = "harness"
                _warn(preflight.defaulted("password", f"--password or {PASSWORD_ENV[args.vendor]}", password))
            section, read = module.capture(args.url, args.username, password, args.max_records)
    except module.CaptureError as exc:
        return complain(str(exc))
    except requests.RequestException as exc:
        return complain(preflight.unreachable(args.url, exc))
    document = {"version": 1, "name": args.name or f"captured-{args.vendor}", "vendors": {args.vendor: section}}
    try:
        check(document, args.output)  # what is written can be played
    except ScenarioError as exc:
        return complain(f"the capture does not make a valid scenario: {'; '.join(exc.problems[:5])}")
    Path(args.output).write_text(yaml.safe_dump(document, sort_keys=False, allow_unicode=True), encoding="utf-8")
    calls = read.pop("calls", 0)
    counts = ", ".join(counted(n, what) for what, n in read.items())
    print(f"read {counts or 'nothing'} in {calls} read-only calls; wrote {args.output}")
    return 0


def counted(n: int, what: str) -> str:
    """`2 properties` but `1 property`: the first plural word of `what` made singular for one."""
    if n != 1:
        return f"{n} {what}"
    words = what.split(" ")
    for i, word in enumerate(words):
        if word.endswith("s"):
            if word.endswith("ies"):
                words[i] = word[:-3] + "y"
            elif word.endswith(("uses", "sses")):
                words[i] = word[:-2]
            else:
                words[i] = word[:-1]
            break
    return f"1 {' '.join(words)}"


def _unwritable(output: Path) -> str | None:
    folder = output.parent
    if output.is_dir():
        return f"-o {output} is a directory: give the scenario file to write"
    if not folder.is_dir():
        return f"-o {output}: there is no directory {folder}"
    if not os.access(folder, os.W_OK) or (output.exists() and not os.access(output, os.W_OK)):
        return f"-o {output} cannot be written"
    return None


def _warn(message: str) -> None:
    print(f"civic-harness: {message}", file=sys.stderr)


def _city_api(args: argparse.Namespace) -> tuple[dict, Counter[str]]:
    from simulators.city_api.config import DEFAULT_SECRET

    from .. import preflight
    from ..capture import city_api

    secret = args.secret or os.environ.get(SECRET_ENV)
    if not secret:
        secret = DEFAULT_SECRET  # public: the simulators' own; a secret given is never printed
        _warn(preflight.defaulted("signing secret", f"--secret or {SECRET_ENV}", DEFAULT_SECRET))
    properties = list(args.property)
    if args.properties_file:
        try:
            lines = Path(args.properties_file).read_text(encoding="utf-8").splitlines()
        except (OSError, UnicodeDecodeError) as exc:
            raise city_api.CaptureError(f"cannot read --properties-file {args.properties_file}: {exc}") from None
        properties += [line.strip() for line in lines if line.strip() and not line.lstrip().startswith("#")]
    return city_api.capture(args.url, args.key_id, secret, properties, list(dict.fromkeys(args.user)))
