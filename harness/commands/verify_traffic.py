"""`civic-harness verify-traffic FILE.har`: a recorded conversation judged by requirement ID, offline, with the
same scorecard as `conformance`."""

from __future__ import annotations

import argparse
import json
import time
from collections.abc import Sequence
from pathlib import Path

from .common import complain
from .traffic_reports import add_traffic_arguments, command_line, finish, options_of

NAME = "verify-traffic"
HELP = "judge a recorded conversation (a HAR file) by requirement ID"
EPILOG = """\
The HAR file may come from `civic-harness proxy` (which records the API it stood in front of) or from any tool
that writes HAR 1.2 (a browser, mitmproxy, ...; then say which API with --api). Every exchange is matched to its
contract operation and judged again from its bytes.

exit codes:
  0  no rule failed (rules with nothing to judge are NOT COVERED, listed, never passes)
  1  a rule failed (see the scorecard)
  2  the file cannot be read as HAR, or the API is unknown
"""


def add_arguments(p: argparse.ArgumentParser, argv: Sequence[str] = ()) -> None:
    from harness.traffic.analysis import KINDS

    p.add_argument("har", metavar="FILE.har", help="the recorded conversation")
    p.add_argument("--api", choices=KINDS, help="the API the traffic went to (default: as the proxy recorded it)")
    add_traffic_arguments(p)


def run(args: argparse.Namespace, passthrough: Sequence[str] = (), argv: Sequence[str] = ()) -> int:
    from harness.proxy.recorder import Recorder
    from harness.traffic import har, scorecard
    from harness.traffic.masking import Masking
    from harness.traffic.verify import verify

    began = time.time()
    try:
        doc = json.loads(Path(args.har).read_text(encoding="utf-8"))
        verified = verify(doc, args.api, args.api_version, options_of(args))
    except OSError as exc:
        return complain(f"cannot read {args.har}: {exc.strerror or exc}")
    except json.JSONDecodeError as exc:
        return complain(f"{args.har} is not JSON (line {exc.lineno}): not a HAR file")
    except (har.NotHar, ValueError) as exc:
        return complain(f"{args.har}: {exc}")
    p = verified.profile
    keys = p.dialect.secret_keys if p.dialect is not None else frozenset()
    render = Recorder(p, Masking(keys)).journal
    model = scorecard.model(
        p.kind,
        verified.findings,
        verified.exchanges,
        render,
        command=command_line(argv or ["verify-traffic", args.har]),
        started=began,
        duration_s=time.time() - began,
    )
    print(f"{len(verified.exchanges)} exchange(s) with {p.kind}" + (f" {p.version}" if p.version else ""))
    return finish(args, model, f"traffic {p.kind}")
