"""`civic-harness proxy KIND --upstream URL`: a transparent reverse proxy in front of a vendor's API (or a gateway's
Open311 API) that journals and judges every exchange; on stop it writes the HAR file and, with --report, the
scorecard."""

from __future__ import annotations

import argparse
import asyncio
import signal
from collections.abc import Sequence
from pathlib import Path

from .common import EXIT_OK, complain
from .traffic_reports import add_traffic_arguments, command_line, finish, options_of

NAME = "proxy"
HELP = "stand in front of an API, journal and judge the live traffic by requirement ID"
EPILOG = """\
Point the client (a gateway's integration URL, an app's base URL) at --listen instead of the API; the proxy
forwards every call unchanged to --upstream and keeps the conversation. While it runs, the admin port serves
/_proxy/journal (the exchanges, in the simulators' journal shape, secrets masked), /_proxy/har and
/_proxy/report. On Ctrl-C (or SIGTERM) it writes the HAR file (--har, or DIR/traffic.har with --report) and the
reports asked for, and exits 1 if a rule failed.

exit codes:
  0  stopped; no rule failed (or no reports asked for)
  1  stopped; a rule failed (see the scorecard)
  2  a usage error (bad upstream, port taken)
"""


def _address(text: str) -> tuple[str, int]:
    host, sep, port = text.rpartition(":")
    if not sep or not port.isdigit() or not 0 <= int(port) <= 65535:
        raise argparse.ArgumentTypeError("expected HOST:PORT (port 0 picks a free one)")
    return (host.strip("[]") or "127.0.0.1"), int(port)


def add_arguments(p: argparse.ArgumentParser, argv: Sequence[str] = ()) -> None:
    from harness.traffic.analysis import KINDS

    p.add_argument("api", choices=KINDS, help="the API behind the proxy, whose contract and rules apply")
    p.add_argument("--upstream", required=True, metavar="URL", help="the API's base URL (http:// or https://)")
    p.add_argument("--listen", type=_address, default=("127.0.0.1", 8390), metavar="HOST:PORT",
                   help="where clients call the proxy (default 127.0.0.1:8390)")  # fmt: skip
    p.add_argument("--admin", type=_address, default=("127.0.0.1", 0), metavar="HOST:PORT",
                   help="the admin port, /_proxy/... (default 127.0.0.1 and a free port, printed)")  # fmt: skip
    p.add_argument("--har", metavar="FILE",
                   help="write the conversation to FILE as HAR 1.2 as it happens, complete on stop (default with "
                   "--report: DIR/traffic.har)")  # fmt: skip
    p.add_argument("--upstream-timeout", type=float, metavar="SECONDS",
                   help="give up on a silent upstream after this long and drop the client's connection (default: "
                   "wait as long as the client does, which is what it would do without the proxy)")  # fmt: skip
    p.add_argument("--upstream-ca", metavar="FILE", help="CA certificates (PEM) for an HTTPS upstream")
    p.add_argument("--insecure", action="store_true", help="do not check an HTTPS upstream's certificate")
    p.add_argument("--redact", action="store_true",
                   help="pseudonymise e-mail addresses in the journal, the HAR file and the reports")  # fmt: skip
    p.add_argument("--capture-limit", type=int, default=8 * 1024 * 1024, metavar="BYTES",
                   help="bytes of each body kept for judging and HAR (all are forwarded; default 8 MiB)")  # fmt: skip
    p.add_argument("--journal-size", type=int, default=10_000, help="exchanges kept (default 10,000)")
    p.add_argument("--max-bytes", type=int, default=512 * 1024 * 1024, metavar="BYTES",
                   help="bodies kept, all exchanges together (default 512 MiB); the oldest go first")  # fmt: skip
    add_traffic_arguments(p)


def run(args: argparse.Namespace, passthrough: Sequence[str] = (), argv: Sequence[str] = ()) -> int:
    from harness.proxy.app import Proxy, ProxySettings, Serving

    har_path = args.har or (str(Path(args.report) / "traffic.har") if args.report else None)
    try:
        proxy = Proxy(
            ProxySettings(
                args.api,
                args.upstream,
                version=args.api_version,
                options=options_of(args),
                capture_limit=args.capture_limit,
                journal_size=args.journal_size,
                max_bytes=args.max_bytes,
                upstream_timeout=args.upstream_timeout,
                ca_file=args.upstream_ca,
                insecure=args.insecure,
                redact=args.redact,
                har_file=har_path,
            )
        )
    except (ValueError, OSError) as exc:
        return complain(str(exc))

    async def serve() -> None:
        stop = asyncio.Event()
        loop = asyncio.get_running_loop()
        for sig in (signal.SIGINT, signal.SIGTERM):
            loop.add_signal_handler(sig, stop.set)
        (host, port), (admin_host, admin_port) = args.listen, args.admin
        async with Serving(proxy, host, port, admin_host, admin_port) as s:
            print(f"proxying {s.url} -> {args.upstream} ({args.api})", flush=True)
            print(f"journal at {s.admin_url}/_proxy/journal, HAR at {s.admin_url}/_proxy/har", flush=True)
            await stop.wait()

    asyncio.run(serve())
    if proxy.recorder.dropped:
        print(f"{proxy.recorder.dropped} older exchange(s) were dropped from memory (--journal-size, --max-bytes): the "
              "verdicts are the newest ones'; the HAR file holds them all", flush=True)  # fmt: skip
    if har_path:
        print(f"wrote {har_path}")
    if not (args.report or args.junit or args.json or args.html):
        return EXIT_OK
    return finish(args, proxy.report(command_line(argv)), f"traffic {args.api}")
