"""`civic-harness certify NAME --url URL`: one provider suite against a vendor's API, verdict per requirement
ID. Options it does not know are handed to pytest (the suite's own, e.g. --og-requester-class)."""

from __future__ import annotations

import argparse
from collections.abc import Sequence

from .reports import add_report_arguments

NAME = "certify"
HELP = "certify a vendor API against its contract, verdict per requirement ID"
PASSTHROUGH = True  # unknown options go to pytest
EPILOG = """\
exit codes:
  0  every check the suite ran passed
  1  a check failed: the vendor's API does not do what a requirement says (see the scorecard)
  2  a usage error, or a target that is not ready (unreachable, not the API, wrong credentials or version),
     said in one sentence before any check runs

suite options (handed to the suite as given):
  --cw-password P             Cityworks password (better: CIVIC_HARNESS_CW_PASSWORD; never echoed)
  --og-password P             OpenGov password (better: CIVIC_HARNESS_OG_PASSWORD; never echoed)
  --og-requester-class NAME   OpenGov: the requester class on the site (default cgRequestersClass)
  --og-comment-class NAME     OpenGov: the comment child class (default cgRequests_cgCommentsClass)
  --geo-point LON,LAT         ArcGIS: where the locator has an address (default: the demo city)
  --geo-far-point LON,LAT     ArcGIS: where it has none (default -30,-45, the South Atlantic)
  and any pytest option, e.g. -x (stop at the first failure) or -k EXPRESSION
"""


def add_arguments(p: argparse.ArgumentParser, argv: Sequence[str] = ()) -> None:
    p.add_argument("name", help="which provider suite: cityworks, opengov, arcgis or city-api")
    p.add_argument(
        "--url",
        required=True,
        help="the API's base URL (Cityworks: the site, before /Services; city-api: one widget's base URL)",
    )
    p.add_argument("--version", help="the vendor version the API speaks (Cityworks: 2013 ... 23)")
    p.add_argument("--username", help="login name")
    p.add_argument(
        "--password",
        help="password (better in the environment: CIVIC_HARNESS_CW_PASSWORD for cityworks, CIVIC_HARNESS_OG_PASSWORD "
        "for opengov; never echoed)",
    )
    p.add_argument(
        "--licences",
        "--licence",
        "--licenses",
        "--license",
        dest="licences",
        help="APIs the site is licensed for (Cityworks: sr, wo or sr,wo; any spelling)",
    )
    p.add_argument(
        "--read-only",
        action="store_true",
        help="write nothing to the target: only the checks that create or change no record run (the others are "
        "skipped, their IDs shown as skipped)",
    )
    p.add_argument("--seed", type=int, default=0, help="seed of the generated calls, to replay a run (default 0)")
    p.add_argument(
        "--hidden-problems",
        metavar="SID,...",
        help="Cityworks: problem types the site keeps from the public, so ForPublicOnly can be checked on a real "
        "server (the simulator's control plane adds its own)",
    )
    p.add_argument(
        "--hidden-templates",
        metavar="ID,...",
        help="Cityworks: work-order templates the site keeps from the public (WOTemplateIds), so ForPublicOnly on "
        "templates can be checked on a real server (the simulator's control plane adds its own)",
    )
    p.add_argument("--service-path", help="ArcGIS: the locator's path, e.g. /arcgis/rest/services/World/GeocodeServer")
    p.add_argument("--token", help="ArcGIS: a token, when the server requires one")
    p.add_argument(
        "--secret", help="city-api: the widget's signing secret (better: CIVIC_HARNESS_WID_SECRET; never echoed)"
    )
    p.add_argument("--key-id", help="city-api: the key id the widget expects (default: its last path segment)")
    p.add_argument(
        "--account",
        action="append",
        help="city-api: NUMBER:VERIFICATION of a test account to link (repeatable; two prove citizens are kept apart)",
    )
    p.add_argument("--property", help="city-api: a parcel id a property-dependent widget knows")
    p.add_argument("--address", help="city-api: an address a property-dependent widget knows")
    p.add_argument(
        "--front-door",
        metavar="none|iis[:name=bytes,...]",
        help="the web server limits in front of the API, as IIS names them (default: iis for cityworks and opengov "
        "— maxQueryString 2048, maxUrl 4096, maxAllowedContentLength 30000000 —, none for the others; a site's own: "
        "iis:maxQueryString=8192); a generated call beyond them that the web server refuses with its own HTML page "
        "is reported, not held against the API",
    )
    p.add_argument(
        "--examples",
        type=int,
        metavar="N",
        help="generated calls per operation and mode in the contract checks (default: each suite's own)",
    )
    p.add_argument(
        "--no-shrink",
        action="store_true",
        help="report a failing generated call as drawn, without shrinking it to a smaller one first (faster)",
    )
    add_report_arguments(p)


def run(args: argparse.Namespace, passthrough: Sequence[str] = (), argv: Sequence[str] = ()) -> int:
    from ..conformance_cli import run_certify

    return run_certify(args, passthrough, argv)
