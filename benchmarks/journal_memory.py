"""Is the request journal bounded? RSS of the Cityworks simulator (its own process, core 0, journal on with
its default 10,000 entries) after 10,000 requests and after 1,000,000, driven by wrk on core 1.

    python benchmarks/journal_memory.py [--total 1000000] [--connections 64]
"""

from __future__ import annotations

import argparse
import json
import subprocess
import sys
import time
import urllib.request
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent))
from hot_path import BY_ID, start, token


def rss_mb(pid: int) -> float:
    for line in Path(f"/proc/{pid}/status").read_text().splitlines():
        if line.startswith("VmRSS:"):
            return int(line.split()[1]) / 1024
    raise RuntimeError("no VmRSS")


def served(url: str) -> int:
    with urllib.request.urlopen(f"{url}/_sim/journal?limit=1", timeout=30) as resp:
        return json.load(resp)["total"]


def drive(url: str, header: str, until: int, connections: int) -> None:
    while served(url) < until:
        left = until - served(url)
        seconds = max(1, min(30, left // 5000))
        subprocess.run(
            ["taskset", "-c", "1", "wrk", "-t1", f"-c{connections}", f"-d{seconds}s", "-H", header, url + BY_ID],
            capture_output=True,
            check=True,
        )


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--total", type=int, default=1_000_000)
    parser.add_argument("--connections", type=int, default=64)
    args = parser.parse_args()
    proc, url = start("cityworks")
    try:
        header = f"Authorization: cityworks {token(url)}"
        started = time.time()
        drive(url, header, 10_000, args.connections)
        early, early_n = rss_mb(proc.pid), served(url)
        drive(url, header, args.total, args.connections)
        late, late_n = rss_mb(proc.pid), served(url)
        with urllib.request.urlopen(f"{url}/_sim/journal?limit=1", timeout=30) as resp:
            held = json.load(resp)["held"]
        print(f"# journal memory, {time.strftime('%Y-%m-%d %H:%M')}, {time.time() - started:.0f} s")
        print(f"after {early_n:,} requests: RSS {early:.1f} MB")
        print(
            f"after {late_n:,} requests: RSS {late:.1f} MB ({(late / early - 1) * 100:+.1f} %), journal holds {held:,}"
        )
    finally:
        proc.terminate()
        proc.wait(10)


if __name__ == "__main__":
    main()
