"""`civic-harness load PROFILE`: a locust profile run headless against the bundled stack (started here, demo
city set up) or given URLs, judged by thresholds that decide the exit code: 0 within every threshold, 1 a
threshold broken, 2 usage error or a run that could not happen. Locust writes its own CSV and HTML reports;
`--workers N` runs locust's master and N workers on this machine (the same profiles run on many machines
with locust's distributed mode: see the README).

While locust runs, the gateway's /metrics is sampled (`--sample-every`), and beside locust's report goes a page
of the gateway's own time series — reports taken per second, outbox depth and oldest age, report-to-vendor
latency, vendor errors by kind — with its data as JSON; thresholds on the gateway's figures
(`--gateway-threshold outbox_lag_p95=5`, or a `[gateway]` table) decide the exit code with the others."""

from __future__ import annotations

import argparse
import asyncio
import json
import os
import socket
import subprocess
import sys
import tempfile
import time
from collections.abc import Sequence
from pathlib import Path
from typing import Any

from loadtests import gateway_series
from loadtests.sampler import Sampler, write
from loadtests.thresholds import Thresholds, judge, read_stats

from ..progress import Shown, seconds

EXIT_OK, EXIT_FAILED, EXIT_USAGE = 0, 1, 2
PROFILES = {"citizens": "citizens.py", "vendor-api": "vendor_api.py", "vendor_api": "vendor_api.py", "sync": "sync.py"}
LOADTESTS = Path(__file__).resolve().parents[2] / "loadtests"


NAME = "load"
HELP = "run a locust load profile headless, judged by thresholds"


def add_arguments(p: argparse.ArgumentParser, argv: Sequence[str] = ()) -> None:
    p.add_argument("profile", help="citizens, vendor-api or sync")
    p.add_argument("--users", type=int, default=10, help="simulated users (default 10)")
    p.add_argument("--spawn-rate", type=float, default=5, help="users started per second (default 5)")
    p.add_argument("--run-time", default="30s", help="how long, in locust's form: 30s, 5m, 1h (default 30s)")
    p.add_argument("--target", action="append", default=[], metavar="NAME=URL", help="gateway, cityworks, opengov")
    p.add_argument("--api-key", help="the gateway's Open311 api_key (or CIVIC_HARNESS_LOAD_API_KEY)")
    p.add_argument("--workers", type=int, default=0, help="locust workers on this machine (master/worker mode)")
    p.add_argument("--thresholds", metavar="FILE", help="a TOML file of thresholds (see loadtests/thresholds.py)")
    p.add_argument("--max-fail-ratio", type=float, help="failed requests over all requests, e.g. 0.01")
    for percentile in ("p50", "p95", "p99"):
        p.add_argument(
            f"--{percentile}", action="append", default=[], metavar="NAME=MS", help=f"{percentile} limit per request"
        )
    p.add_argument(
        "--gateway-threshold",
        action="append",
        default=[],
        metavar="NAME=VALUE",
        help=f"an upper bound on a figure of the gateway's metrics: {', '.join(gateway_series.FIGURES)}",
    )
    p.add_argument("--csv", metavar="PREFIX", help="locust's CSV statistics (PREFIX_stats.csv, ...)")
    p.add_argument("--html", metavar="FILE", help="locust's HTML report")
    p.add_argument(
        "--plots",
        metavar="FILE",
        help="the gateway's time series as an HTML page, its data beside it as .json "
        "(default: beside --html as NAME.gateway.html, else PREFIX_gateway.html beside --csv)",
    )
    p.add_argument("--sample-every", type=float, default=1.0, metavar="S", help="seconds between scrapes (default 1)")
    p.add_argument("--backlog", type=int, default=20_000, help="sync: service requests already in Cityworks")


def thresholds_from(args: argparse.Namespace) -> Thresholds:
    thresholds = Thresholds.load(args.thresholds) if args.thresholds else Thresholds()
    if args.max_fail_ratio is not None:
        thresholds.fail_ratio = args.max_fail_ratio
    for percentile in ("p50", "p95", "p99"):
        for option in getattr(args, percentile):
            thresholds.add_option(percentile, option)
    for option in args.gateway_threshold:
        thresholds.add_gateway_option(option)
    return thresholds


def plots_path(args: argparse.Namespace) -> Path | None:
    """Where the gateway's page goes: as asked, else beside locust's report, else beside its CSV files."""
    if args.plots:
        return Path(args.plots)
    if args.html:
        html = Path(args.html)
        return html.with_name(html.stem + ".gateway.html")
    if args.csv:
        return Path(f"{args.csv}_gateway.html")
    return None


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def run(args: argparse.Namespace, passthrough: Sequence[str] = (), argv: Sequence[str] = ()) -> int:
    profile = PROFILES.get(args.profile)
    if profile is None:
        print(f"civic-harness: no load profile {args.profile!r}; profiles: citizens, vendor-api, sync", file=sys.stderr)
        return EXIT_USAGE
    try:
        thresholds = thresholds_from(args)
        targets = dict(t.split("=", 1) for t in args.target)
    except (ValueError, OSError) as exc:
        print(f"civic-harness: {exc}", file=sys.stderr)
        return EXIT_USAGE
    if args.users < 1 or args.workers < 0 or args.sample_every <= 0:
        print("civic-harness: --users is at least 1, --workers at least 0, --sample-every positive", file=sys.stderr)
        return EXIT_USAGE
    if thresholds.gateway and targets and "gateway" not in targets:
        print("civic-harness: gateway thresholds need a gateway (--target gateway=URL)", file=sys.stderr)
        return EXIT_USAGE
    with tempfile.TemporaryDirectory(prefix="civic-harness-load-") as scratch:
        env = {**os.environ, "CIVIC_HARNESS_LOAD_BACKLOG": str(args.backlog)}
        if args.api_key:
            env["CIVIC_HARNESS_LOAD_API_KEY"] = args.api_key
        stack = None
        if not targets:
            stack, targets, credentials = bundled_stack(Path(scratch))
            env.update(credentials)
        env["CIVIC_HARNESS_LOAD_TARGETS"] = json.dumps(targets)
        prefix = args.csv or str(Path(scratch) / "load")
        sampler = Sampler(targets["gateway"], args.sample_every).start() if "gateway" in targets else None
        try:
            code = locust(LOADTESTS / profile, args, prefix, env)
        finally:
            samples = sampler.stop() if sampler is not None else []
            if stack is not None:
                stack.close()
        stats = Path(f"{prefix}_stats.csv")
        if code != 0 or not stats.is_file():
            print(f"civic-harness: locust did not complete (exit {code})", file=sys.stderr)
            return EXIT_USAGE
        broken = judge(thresholds, read_stats(stats))
        broken += gateway_judged(args, thresholds, samples, sampler)
    for line in broken:
        print(f"THRESHOLD BROKEN  {line}")
    if broken:
        print(f"civic-harness load: {len(broken)} threshold(s) broken (exit 1)")
        return EXIT_FAILED
    print("civic-harness load: every threshold held (exit 0)")
    return EXIT_OK


def gateway_judged(
    args: argparse.Namespace, thresholds: Thresholds, samples: list[Any], sampler: Sampler | None
) -> list[str]:
    """The gateway's page and JSON where asked for, and the gateway thresholds it broke."""
    if sampler is None:
        return []
    if not samples:
        print(f"civic-harness load: the gateway's /metrics could not be read ({sampler.failures} tries)")
    target = plots_path(args)
    title = f"civic-harness load {args.profile}: {args.users} users, {args.run_time}"
    if target is not None:
        data = write(target, title, samples, thresholds.gateway, interval_s=args.sample_every)
        print(f"civic-harness load: the gateway's time series: {target} (data: {target.with_suffix('.json')})")
        return list(data["broken"]) if thresholds.gateway else []
    if not thresholds.gateway:
        return []
    found = gateway_series.figures(samples) if samples else {}
    return gateway_series.judge(thresholds.gateway, found) if samples else ["the gateway's metrics were not sampled"]


def locust(path: Path, args: argparse.Namespace, prefix: str, env: dict[str, str]) -> int:
    common = [sys.executable, "-m", "locust", "-f", str(path)]
    run = ["--headless", "-u", str(args.users), "-r", str(args.spawn_rate), "-t", args.run_time]
    run += ["--csv", prefix, "--only-summary", "--exit-code-on-error", "0", "--stop-timeout", "5"]
    if args.html:
        run += ["--html", args.html]
    if not args.workers:
        return watched(subprocess.Popen([*common, *run], env=env), prefix, args.run_time)
    port = free_port()
    master = subprocess.Popen(
        [
            *common,
            *run,
            "--master",
            "--expect-workers",
            str(args.workers),
            "--master-bind-host",
            "127.0.0.1",
            "--master-bind-port",
            str(port),
        ],
        env=env,
    )
    workers = [
        subprocess.Popen(
            [*common, "--worker", "--master-host", "127.0.0.1", "--master-port", str(port)],
            env=env,
            stdout=subprocess.DEVNULL,
        )
        for _ in range(args.workers)
    ]
    try:
        return watched(master, prefix, args.run_time)
    finally:
        for w in workers:
            try:
                w.wait(timeout=30)
            except subprocess.TimeoutExpired:
                w.kill()


def watched(proc: subprocess.Popen, prefix: str, run_time: str = "") -> int:
    """Wait for locust, showing progress from the stats it writes as it runs (`--only-summary` keeps its own
    table for the end): a bar on a terminal, a line every few seconds in a log. Minutes of silence read as a
    hang."""
    started = time.monotonic()
    with Shown("civic-harness load", seconds(run_time)) as shown:
        while True:
            try:
                return proc.wait(timeout=shown.every_s)
            except subprocess.TimeoutExpired:
                pass
            stats = Path(f"{prefix}_stats.csv")
            total = {r.name: r for r in read_stats(str(stats))}.get("Aggregated") if stats.exists() else None
            elapsed = time.monotonic() - started
            if total is None:
                shown.update(elapsed, f"{elapsed:.0f} s, starting")
            else:
                rate = total.requests / elapsed if elapsed else 0.0
                shown.update(
                    elapsed,
                    f"{elapsed:.0f} s, {total.requests:,} requests ({rate:,.0f}/s), {total.failures:,} failed",
                )


def bundled_stack(scratch: Path) -> tuple[Any, dict[str, str], dict[str, str]]:
    """Every simulator and the gateway (scheduler on, so the outbox drains as in production), demo city."""
    from gateway.settings import Settings

    from ..democity import DEMO_API_KEY, seed_demo_city
    from ..registry import built_simulators, load_simulator
    from ..stack import ThreadedStack

    configs = {name: load_simulator(name).config_type(seed=0) for name in built_simulators()}
    # Every locust user comes from 127.0.0.1: the per-client limit on sign-ins under way would answer most
    # of them 429, and the hashing queue's short wait 503, where each stands for a citizen of their own.
    settings = Settings(
        database_url=f"sqlite:///{scratch / 'gateway.db'}",
        api_keys=(DEMO_API_KEY,),
        scheduler_tick_s=1.0,
        sign_in_client_at_once=10_000,
        password_hash_wait_s=30.0,
        password_hash_waiting=10_000,
    )
    stack = ThreadedStack(configs, gateway=settings).start()
    urls = dict(stack.urls)
    simulators = {n: u for n, u in urls.items() if n != "gateway"}
    try:
        asyncio.run(seed_demo_city(urls["gateway"], settings.admin_token, simulators, importer=True))
    except BaseException:
        stack.close()
        raise
    credentials = {"CIVIC_HARNESS_LOAD_API_KEY": DEMO_API_KEY, "CIVIC_HARNESS_LOAD_ADMIN_TOKEN": settings.admin_token}
    return stack, urls, credentials
