"""The gateway's throughput, measured against the bundled simulators in a process of their own.

    python benchmarks/gateway_sync.py submissions [--duration 20] [--connections 16] [--rate R]
    python benchmarks/gateway_sync.py sync [--sizes 10000,30000,100000]

`submissions`: Open311 POSTs (form-encoded, no photo) from wrk on core 1 against the gateway (SQLite file,
scheduler on) on core 0 — alone there with `--layout split` (the default; the simulators share core 1
with wrk), or with every simulator in its process with `--layout shared`; reports the accepted submissions
per second and the outbox backlog over the run (is delivery keeping up?). `--rate` paces wrk (a Lua
`delay()` per connection) to offer about R submissions/s, so accepting does not take delivery's share of
the core. `sync`: category sync of N upstream problem types and import of N service requests, each timed
through the admin API's recorded job runs, at several N (does the cost grow linearly?). Needs `wrk` and
`taskset` for `submissions`.
"""

from __future__ import annotations

import argparse
import json
import re
import subprocess
import sys
import tempfile
import time
import urllib.parse
import urllib.request
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parent.parent


def http(method: str, url: str, token: str | None = None, body: Any = None, timeout: float = 600) -> Any:
    data = json.dumps(body).encode() if body is not None else None
    headers = {"Content-Type": "application/json"}
    if token:
        headers["Authorization"] = f"Bearer {token}"
    req = urllib.request.Request(url, data=data, method=method, headers=headers)
    with urllib.request.urlopen(req, timeout=timeout) as resp:
        text = resp.read()
        return json.loads(text) if text else None


def start_stack(core: str) -> tuple[subprocess.Popen, dict[str, Any]]:
    """The gateway, Cityworks and ArcGIS simulators in one process on `core`, demo city set up."""
    proc = subprocess.Popen(
        ["taskset", "-c", core, sys.executable, "-m", "harness.cli", "up", "--json"],
        cwd=ROOT,
        stdout=subprocess.PIPE,
        text=True,
    )
    line = proc.stdout.readline()
    if not line:
        raise SystemExit("the stack did not start")
    return proc, json.loads(line)


def start_split(
    gateway_core: str, vendor_core: str, outbox_concurrency: int
) -> tuple[list[subprocess.Popen], dict[str, Any]]:
    """The gateway alone on `gateway_core` (SQLite file, scheduler on, production settings); the Cityworks
    and ArcGIS simulators, the vendor side, on `vendor_core` with the load generator: what the gateway
    can take, not what it can take while also playing the vendors."""
    import asyncio

    from harness.democity import DEMO_API_KEY, seed_demo_city
    from harness.gateway_process import gateway_argv, gateway_env
    from simulators.kit import city

    procs, urls = [], {}
    for name in ("cityworks", "arcgis"):
        proc = subprocess.Popen(
            ["taskset", "-c", vendor_core, sys.executable, "-m", "harness.cli", "sim", name, "--port", "0"],
            cwd=ROOT, stdout=subprocess.PIPE, text=True,
        )  # fmt: skip
        procs.append(proc)
        urls[name] = proc.stdout.readline().split()[-1]
    token = "benchmark-admin-token-0000000000"
    scratch = tempfile.mkdtemp(prefix="civic-bench-")
    env = gateway_env(token, DEMO_API_KEY, {"OUTBOX_CONCURRENCY": str(outbox_concurrency)})
    proc = subprocess.Popen(
        ["taskset", "-c", gateway_core, *gateway_argv(f"sqlite:///{scratch}/gateway.db")],
        cwd=ROOT, env=env, stdout=subprocess.PIPE, text=True,
    )  # fmt: skip
    procs.append(proc)
    gateway = proc.stdout.readline().split()[-1]
    asyncio.run(seed_demo_city(gateway, token, urls))
    summary = {"gateway": gateway, "simulators": urls, "admin_token": token, "sample_point": city.SAMPLE_POINT}
    return procs, summary


def job(summary: dict[str, Any], name: str, integration: int | None = None) -> dict[str, Any]:
    body = {"integration_id": integration} if integration else {}
    return http("POST", f"{summary['gateway']}/admin/v1/jobs/{name}/run", summary["admin_token"], body)


def cityworks_integration(summary: dict[str, Any]) -> int:
    items = http("GET", f"{summary['gateway']}/admin/v1/integrations", summary["admin_token"])["items"]
    return next(i["id"] for i in items if i["vendor"] == "cityworks")


def delivered(summary: dict[str, Any]) -> int:
    """Service requests the Cityworks simulator holds (the admin API lists at most 500 outbox rows)."""
    return http("GET", f"{summary['simulators']['cityworks']}/_sim/counts")["counts"]["requests"]


def submissions(args: argparse.Namespace) -> None:
    if args.layout == "split":
        procs, summary = start_split("0", "1", args.outbox_concurrency)
    else:
        proc, summary = start_stack("0")
        procs = [proc]
    try:
        integration = cityworks_integration(summary)
        job(summary, "category_sync", integration)
        point = summary["sample_point"]
        services = json.load(
            urllib.request.urlopen(
                f"{summary['gateway']}/open311/v2/services.json?lat={point['lat']}&long={point['long']}", timeout=30
            )
        )
        cats = http("GET", f"{summary['gateway']}/admin/v1/categories", summary["admin_token"])["items"]
        synced = {c["code"] for c in cats if c["integration_id"] == integration and c["active"]}
        code = next(s["service_code"] for s in services if s["service_code"] in synced)
        form = urllib.parse.urlencode(
            {
                "api_key": "harness-demo-key",
                "service_code": code,
                "lat": point["lat"],
                "long": point["long"],
                "description": "benchmark",
            }
        )
        with tempfile.NamedTemporaryFile("w", suffix=".lua", delete=False) as lua:
            lua.write(
                'wrk.method = "POST"\n'
                f"wrk.body = {json.dumps(form)}\n"
                'wrk.headers["Content-Type"] = "application/x-www-form-urlencoded"\n'
            )
            if args.rate:  # paced: each connection waits so that together they offer about `rate` per second
                lua.write(f"function delay() return {args.connections * 1000 / args.rate:.1f} end\n")
        url = f"{summary['gateway']}/open311/v2/requests.json"
        base = delivered(summary)
        samples = []
        wrk = subprocess.Popen(
            ["taskset", "-c", "1", "wrk", "-t1", f"-c{args.connections}", f"-d{args.duration}s", "-s", lua.name, url],
            stdout=subprocess.PIPE,
            text=True,
        )
        started = time.time()
        while wrk.poll() is None:
            time.sleep(max(1.0, args.duration / 10))
            samples.append((round(time.time() - started, 1), delivered(summary) - base))
        out = wrk.stdout.read()
        rps = float(re.search(r"Requests/sec:\s+([\d.]+)", out).group(1))
        total = int(re.search(r"(\d+) requests in", out).group(1))
        errors = re.search(r"Non-2xx or 3xx responses: (\d+)", out)
        load_s = time.time() - started
        during = delivered(summary) - base
        while delivered(summary) - base < total and time.time() - started < load_s + 300:
            time.sleep(1)
        drained_s = time.time() - started
        print(
            f"# gateway submissions, {time.strftime('%Y-%m-%d %H:%M')}, {args.layout} layout, "
            f"{args.connections} connections, {args.duration}s, offered {args.rate or 'as fast as accepted'}/s, "
            f"outbox concurrency {args.outbox_concurrency if args.layout == 'split' else 'default'}"
        )
        print(f"accepted: {rps:.0f} submissions/s ({total} in all); non-2xx: {int(errors.group(1)) if errors else 0}")
        print(f"delivered to Cityworks while loading: {during / load_s:.0f}/s ({during} of {total})")
        print("delivered so far (s, SRs): " + ", ".join(f"{t}:{n}" for t, n in samples))
        print(f"all {total} delivered {drained_s - load_s:.0f} s after the load stopped")
    finally:
        for proc in procs:
            proc.terminate()
            proc.wait(30)


def sync(args: argparse.Namespace) -> None:
    sizes = [int(s) for s in args.sizes.split(",")]
    print(f"# category sync and import, {time.strftime('%Y-%m-%d %H:%M')}; seconds from the recorded job runs")
    print("N, category_sync s, per 1k, import s, per 1k, imported")
    for n in sizes:
        proc, summary = start_stack("0-1")
        try:
            cw = summary["simulators"]["cityworks"]
            http("POST", f"{cw}/_sim/seed", body={"seed": 3, "problems": n, "requests": n, "comments": 0})
            integration = cityworks_integration(summary)
            agencies = http("GET", f"{summary['gateway']}/admin/v1/agencies", summary["admin_token"])["items"]
            for agency in (a for a in agencies if a["integration_id"] == integration):
                http("PATCH", f"{summary['gateway']}/admin/v1/agencies/{agency['id']}", summary["admin_token"],
                     {"importer_enabled": True})  # fmt: skip
            cats = job(summary, "category_sync", integration)
            imported = job(summary, "import", integration)
            c_s, i_s = cats["duration_ms"] / 1000, imported["duration_ms"] / 1000
            print(
                f"{n}, {c_s:.1f}, {c_s / n * 1000:.3f}, {i_s:.1f}, {i_s / n * 1000:.3f}, "
                f"{imported['counts'].get('imported', 0)} ({cats['status']}/{imported['status']})",
                flush=True,
            )
        finally:
            proc.terminate()
            proc.wait(30)


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("what", choices=["submissions", "sync"])
    parser.add_argument("--duration", type=int, default=20)
    parser.add_argument("--connections", type=int, default=16)
    parser.add_argument(
        "--outbox-concurrency",
        type=int,
        default=32,
        help="split layout: requests the gateway delivers at once (its setting; the gateway's default is 8)",
    )
    parser.add_argument(
        "--rate", type=float, default=0, help="offer about this many submissions/s (default: as fast as accepted)"
    )
    parser.add_argument("--sizes", default="10000,30000,100000")
    parser.add_argument(
        "--layout",
        choices=["split", "shared"],
        default="split",
        help="split: the gateway alone on core 0, simulators and wrk on core 1; shared: everything on core 0",
    )
    args = parser.parse_args()
    submissions(args) if args.what == "submissions" else sync(args)


if __name__ == "__main__":
    main()
