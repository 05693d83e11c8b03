"""`civic-harness campaign`: the fault campaign from the command line, with a summary and a JSON report.
Exit 0 when every check held, 1 when one did not, 2 for a usage error."""

from __future__ import annotations

import argparse
import json
import sys
from collections.abc import Sequence
from pathlib import Path

from rich.console import Console
from rich.table import Table

from loadtests.gateway_series import FIGURES
from loadtests.sampler import write
from loadtests.thresholds import Thresholds

from ..campaign import SIDES, CampaignConfig, Report, run_campaign
from ..progress import Shown

NAME = "campaign"
HELP = "reports through the gateway under vendor faults and gateway kills, then nothing lost"


def add_arguments(p: argparse.ArgumentParser, argv: Sequence[str] = ()) -> None:
    d = CampaignConfig()
    p.add_argument("--vendor", choices=("cityworks", "opengov"), default=d.vendor, help="default cityworks")
    p.add_argument("--requests", type=int, default=d.requests, help=f"reports to submit (default {d.requests})")
    p.add_argument(
        "--fault-rate", type=float, default=d.fault_rate, help="share of vendor calls that fail (default 0.2)"
    )
    p.add_argument("--kills", type=int, default=d.kills, help=f"SIGKILLs of the gateway (default {d.kills})")
    p.add_argument("--comments", type=int, default=d.comments, help="public comments per report (default 2)")
    p.add_argument("--photo-every", type=int, default=d.photo_every, help="every n-th report/comment has a photo")
    p.add_argument("--concurrency", type=int, default=d.concurrency, help="citizens at once (default 8)")
    p.add_argument("--database-url", help="the gateway's database (default: a scratch SQLite file)")
    p.add_argument("--seed", type=int, default=d.seed)
    p.add_argument(
        "--stall",
        type=float,
        default=d.stall_s,
        help="fail when delivery makes no vendor call for this many seconds (default 120)",
    )
    p.add_argument("--json", metavar="PATH", help="write the report as JSON")
    p.add_argument(
        "--plots",
        metavar="FILE",
        help="the gateway's time series through the run (kills and the faults' window marked) as an HTML page, "
        "its data beside it as .json",
    )
    p.add_argument(
        "--gateway-threshold",
        action="append",
        default=[],
        metavar="NAME=VALUE",
        help=f"an upper bound on a figure of the gateway's metrics over the run: {', '.join(FIGURES)}",
    )
    p.add_argument("--sample-every", type=float, default=1.0, metavar="S", help="seconds between scrapes (default 1)")
    p.add_argument(
        "--vendor-defect",
        action="append",
        default=[],
        metavar="NAME",
        help="run Cityworks with a defect (e.g. reorder-comments) to see the campaign catch it",
    )


def run(args: argparse.Namespace, passthrough: Sequence[str] = (), argv: Sequence[str] = ()) -> int:
    if args.requests < 1 or not 0 <= args.fault_rate < 1 or args.kills < 0 or args.photo_every < 1:
        print(
            "civic-harness: --requests >= 1, 0 <= --fault-rate < 1, --kills >= 0, --photo-every >= 1", file=sys.stderr
        )
        return 2
    limits = Thresholds()
    try:
        for option in args.gateway_threshold:
            limits.add_gateway_option(option)
    except ValueError as exc:
        print(f"civic-harness: {exc}", file=sys.stderr)
        return 2
    if args.sample_every <= 0:
        print("civic-harness: --sample-every is positive", file=sys.stderr)
        return 2
    known = SIDES[args.vendor].defects
    unknown = sorted(set(args.vendor_defect) - set(known))
    if unknown:
        print(f"civic-harness: unknown defect {', '.join(unknown)}; known: {', '.join(sorted(known))}", file=sys.stderr)
        return 2
    config = CampaignConfig(
        requests=args.requests,
        fault_rate=args.fault_rate,
        kills=args.kills,
        comments=args.comments,
        photo_every=args.photo_every,
        concurrency=args.concurrency,
        database_url=args.database_url,
        seed=args.seed,
        stall_s=args.stall,
        vendor=args.vendor,
        vendor_defects=tuple(args.vendor_defect),
        sample_every_s=args.sample_every,
        gateway_thresholds=limits.gateway,
    )
    with Shown("campaign", config.requests) as shown:
        report = run_campaign(config, progress=shown.update)
    if args.json:
        Path(args.json).write_text(json.dumps(report.as_json(), indent=2) + "\n")
    if args.plots:
        title = f"civic-harness campaign: {config.vendor}, {config.requests} reports, {config.kills} kills"
        write(args.plots, title, report.samples, limits.gateway, report.events, config.sample_every_s)
        print(f"the gateway's time series: {args.plots} (data: {Path(args.plots).with_suffix('.json')})")
    show(report, Console())
    return 0 if report.ok else 1


def show(report: Report, console: Console) -> None:
    table = Table(title="fault campaign", show_header=False)
    for name, value in sorted(report.counts.items()):
        table.add_row(name, str(value))
    table.add_row("faults applied", ", ".join(f"{k} {v}" for k, v in report.faults.items()))
    table.add_row("seconds", ", ".join(f"{k} {v:.1f}" for k, v in report.seconds.items()))
    console.print(table)
    for problem in report.problems[:50]:
        console.print(f"[red]FAIL[/red] {problem}", highlight=False)
    if len(report.problems) > 50:
        console.print(f"... and {len(report.problems) - 50} more")
    console.print("[green]every check held[/green]" if report.ok else f"[red]{len(report.problems)} problems[/red]")
