"""A sign-in flood against the gateway (issue 22, finding 2): N loops post wrong passwords to
`/portal/v1/sessions` as fast as the gateway answers, for D seconds, while a citizen from another client
address (127.0.0.2, a real other loopback address) signs in with the right password once a second. Reported:
the flood's answers by status, the legitimate sign-ins' latencies and statuses, and the gateway's RSS before
the flood, its peak during it and after it.

    python benchmarks/sign_in_flood.py [--loops 24] [--duration 20] [--spread one|many] [--repeat 1]
                                       [--gateway-root PATH]

`--gateway-root`: run the gateway of another checkout (e.g. a worktree of the commit before issue 22, whose
sign-up answers 201 at once) for a before/after on the same machine.

`--spread one`: every flood request from one client (127.0.0.1), each for another e-mail address (so only
the client limit answers it). The flood never guesses the legitimate citizen's own password: that account
would be held by its own limit (429 for a window, except for a browser that signed in to it before).
`--spread many`: each flood request names another client (X-Forwarded-For, the gateway started with
forwarded_for_hops=1) and another e-mail address, as a botnet would: no failure limit applies, only the
bound on password hashing stands between the flood and the gateway's memory and latency.

The gateway runs in its own process on core 0 (`taskset`), the flood and the legitimate client on core 1.
Targets (issue 22): a legitimate sign-in under 1 s, RSS growth (after - before) under 50 MB.
"""

from __future__ import annotations

import argparse
import asyncio
import os
import re
import secrets
import statistics
import subprocess
import sys
import tempfile
import time
from collections import Counter
from pathlib import Path

import aiohttp

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))
from conformance.gateway.client import CONFIRMATION_CODE  # noqa: E402

ADMIN_TOKEN = "flood-benchmark-admin-token"
CITIZEN = {"email": "legit@example.org", "password": "the right password"}
LEGIT_CLIENT = "127.0.0.2"


def rss_mb(pid: int) -> float:
    for line in Path(f"/proc/{pid}/status").read_text().splitlines():
        if line.startswith("VmRSS:"):
            return int(line.split()[1]) / 1024
    raise RuntimeError("no VmRSS")


def hash_s() -> float:
    """One password hash at the gateway's cost on core 0, alone: how busy the machine is right now."""
    code = (
        "import time; from gateway.domain.citizens import hash_password as h; "
        "t = time.perf_counter(); h('calibration'); print(time.perf_counter() - t)"
    )
    out = subprocess.run(
        ["taskset", "-c", "0", sys.executable, "-c", code],
        cwd=ROOT,
        env={**os.environ, "PYTHONPATH": str(ROOT)},
        capture_output=True,
        text=True,
        check=True,
    )
    return float(out.stdout)


def start_gateway(database: str, spread: str, root: Path = ROOT) -> tuple[subprocess.Popen, str]:
    env = {
        **os.environ,
        "PYTHONPATH": str(root),
        "CIVIC_HARNESS_ADMIN_TOKEN": ADMIN_TOKEN,
        "CIVIC_HARNESS_SCHEDULER_TICK_S": "0",
        "CIVIC_HARNESS_FORWARDED_FOR_HOPS": "1" if spread == "many" else "0",
    }
    cli = [sys.executable, "-c", "import sys; from harness.cli import main; sys.exit(main())"]
    proc = subprocess.Popen(
        ["taskset", "-c", "0", *cli, "gateway", "--port", "0", "--database-url", database],
        cwd=root,
        env=env,
        stdout=subprocess.PIPE,
        stderr=subprocess.DEVNULL,
        text=True,
    )
    line = proc.stdout.readline()
    found = re.search(r"listening on (http://\S+)", line)
    if not found:
        proc.terminate()
        raise RuntimeError(f"the gateway did not start: {line!r}")
    return proc, found.group(1)


async def sign_in(http: aiohttp.ClientSession, url: str, body: dict, headers: dict | None = None) -> int:
    async with http.post(f"{url}/portal/v1/sessions", json=body, headers=headers) as resp:
        await resp.read()
        return resp.status


async def flood(url: str, spread: str, until: float, counts: Counter) -> None:
    async with aiohttp.ClientSession(connector=aiohttp.TCPConnector(limit=0)) as http:
        while time.monotonic() < until:
            if spread == "many":
                client = f"10.{secrets.randbelow(256)}.{secrets.randbelow(256)}.{secrets.randbelow(254) + 1}"
                body = {"email": f"victim-{secrets.token_hex(4)}@example.org", "password": "guess-123456"}
                status = await sign_in(http, url, body, {"X-Forwarded-For": client})
            else:
                body = {"email": f"victim-{secrets.token_hex(4)}@example.org", "password": "guess-123456"}
                status = await sign_in(http, url, body)
            counts[status] += 1


async def legit(url: str, until: float, results: list[tuple[int, float]]) -> None:
    connector = aiohttp.TCPConnector(local_addr=(LEGIT_CLIENT, 0))
    async with aiohttp.ClientSession(connector=connector) as http:
        await asyncio.sleep(1.0)  # the flood under way first
        while time.monotonic() < until - 1:
            started = time.monotonic()
            status = await sign_in(http, url, CITIZEN)
            results.append((status, time.monotonic() - started))
            await asyncio.sleep(max(0.0, 1.0 - (time.monotonic() - started)))


async def watch(pid: int, until: float, samples: list[float]) -> None:
    while time.monotonic() < until:
        samples.append(rss_mb(pid))
        await asyncio.sleep(0.1)


async def run(url: str, pid: int, loops: int, duration: float, spread: str) -> dict:
    async with aiohttp.ClientSession() as http:
        async with http.post(f"{url}/portal/v1/citizens", json=CITIZEN) as resp:
            before_issue_22 = resp.status == 201  # an older gateway: signed up at once
        if not before_issue_22:
            async with http.get(
                f"{url}/admin/v1/mail",
                params={"to": CITIZEN["email"]},
                headers={"Authorization": f"Bearer {ADMIN_TOKEN}"},
            ) as resp:
                code = CONFIRMATION_CODE.search((await resp.json())["items"][0]["body"]).group(1)
            async with http.post(f"{url}/portal/v1/citizens/confirm", json={"code": code}) as resp:
                assert resp.status == 201, await resp.text()
        assert await sign_in(http, url, CITIZEN) == 200
        await sign_in(http, url, {"email": "nobody@example.org", "password": "warm up the dummy hash"})
    await asyncio.sleep(1.0)
    idle = []
    async with aiohttp.ClientSession(connector=aiohttp.TCPConnector(local_addr=(LEGIT_CLIENT, 0))) as http:
        for _ in range(3):
            started = time.monotonic()
            assert await sign_in(http, url, CITIZEN) == 200
            idle.append(time.monotonic() - started)
    before = rss_mb(pid)
    counts: Counter = Counter()
    results: list[tuple[int, float]] = []
    samples: list[float] = []
    until = time.monotonic() + duration
    await asyncio.gather(
        *(flood(url, spread, until, counts) for _ in range(loops)),
        legit(url, until, results),
        watch(pid, until, samples),
    )
    await asyncio.sleep(2.0)
    after = rss_mb(pid)
    ok = [s for status, s in results if status == 200]
    return {
        "flood": dict(sorted(counts.items())),
        "legit": Counter(status for status, _ in results),
        "legit_p50_s": statistics.median(ok) if ok else float("nan"),
        "legit_max_s": max(ok) if ok else float("nan"),
        "idle_s": statistics.median(idle),
        "before": before,
        "peak": max(samples),
        "after": after,
    }


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--loops", type=int, default=24)
    parser.add_argument("--duration", type=float, default=20.0)
    parser.add_argument("--spread", choices=("one", "many"), default="one")
    parser.add_argument("--repeat", type=int, default=1)
    parser.add_argument("--gateway-root", type=Path, default=ROOT)
    args = parser.parse_args()
    lines = Path("/proc/cpuinfo").read_text().splitlines()
    cpu = next((x.split(":", 1)[1].strip() for x in lines if x.startswith("model name")), "?")
    print(f"# sign-in flood, {time.strftime('%Y-%m-%d %H:%M')}, {os.cpu_count()} CPUs ({cpu})")
    print(f"# {args.loops} loops x {args.duration:.0f} s, spread {args.spread}; gateway on core 0, clients on core 1")
    print(f"# gateway from {args.gateway_root.resolve()}")
    os.sched_setaffinity(0, {1})
    for _ in range(args.repeat):
        with tempfile.TemporaryDirectory() as scratch:
            proc, url = start_gateway(f"sqlite:///{scratch}/gw.db", args.spread, args.gateway_root.resolve())
            try:
                r = asyncio.run(run(url, proc.pid, args.loops, args.duration, args.spread))
            finally:
                proc.terminate()
                proc.wait(10)
        legit = ", ".join(f"{k}: {v}" for k, v in sorted(r["legit"].items()))
        print(
            f"one hash on core 0 {hash_s():.2f} s, a sign-in without flood {r['idle_s']:.2f} s | "
            f"flood answers {r['flood']} | legitimate sign-ins ({legit}) p50 {r['legit_p50_s']:.2f} s, "
            f"max {r['legit_max_s']:.2f} s | RSS before {r['before']:.0f} MB, peak {r['peak']:.0f} MB, "
            f"after {r['after']:.0f} MB (growth {r['after'] - r['before']:+.0f} MB)"
        )


if __name__ == "__main__":
    main()
