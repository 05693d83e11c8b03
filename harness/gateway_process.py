"""The gateway as a child process, so a test or a campaign can kill it (SIGKILL) and start it again on the
same database: what a crash does, which an in-process server cannot show."""

from __future__ import annotations

import asyncio
import os
import re
import signal
import subprocess
import sys
from collections.abc import Iterator, Mapping
from contextlib import contextmanager
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
LISTENING = re.compile(r"listening on (http://\S+)\n")
# Short leases, claims and backoffs: a killed instance's work is taken over within a second or two.
FAST = {
    "SCHEDULER_TICK_S": "0.1",
    "OUTBOX_CLAIM_S": "1",
    "JOB_LEASE_S": "1",
    "OUTBOX_RETRY_BASE_S": "0.05",
    "LOG_LEVEL": "WARNING",  # a line per request and job run would drown a test's or a campaign's output
}


def gateway_env(admin_token: str, api_key: str, settings: Mapping[str, str] = FAST) -> dict[str, str]:
    return {
        **os.environ,
        "CIVIC_HARNESS_ADMIN_TOKEN": admin_token,
        "CIVIC_HARNESS_API_KEYS": api_key,
        **{f"CIVIC_HARNESS_{k}": v for k, v in settings.items()},
    }


def gateway_argv(database_url: str) -> list[str]:
    return [sys.executable, "-m", "harness.cli", "gateway", "--port", "0", "--database-url", database_url]


def _url(line: str) -> str:
    found = LISTENING.fullmatch(line)
    if found is None:
        raise RuntimeError(f"the gateway did not start: {line.strip()!r}")
    return found.group(1)


@contextmanager
def gateway_process(database_url: str, env: Mapping[str, str]) -> Iterator[tuple[subprocess.Popen, str]]:
    proc = subprocess.Popen(gateway_argv(database_url), cwd=ROOT, env=dict(env), stdout=subprocess.PIPE, text=True)
    try:
        yield proc, _url(proc.stdout.readline())
    finally:
        if proc.poll() is None:
            proc.terminate()
            proc.wait(10)


class GatewayProcess:
    """The same, from asyncio: `await start()` -> URL, `await kill()` (SIGKILL), `await stop()`."""

    def __init__(self, database_url: str, env: Mapping[str, str]) -> None:
        self.database_url, self.env = database_url, dict(env)
        self.proc: asyncio.subprocess.Process | None = None
        self.url = ""

    async def start(self) -> str:
        self.proc = await asyncio.create_subprocess_exec(
            *gateway_argv(self.database_url),
            cwd=ROOT,
            env=self.env,
            stdout=asyncio.subprocess.PIPE,
        )
        assert self.proc.stdout is not None
        line = await asyncio.wait_for(self.proc.stdout.readline(), 60)
        self.url = _url(line.decode())
        return self.url

    async def kill(self) -> None:
        if self.proc is not None and self.proc.returncode is None:
            self.proc.send_signal(signal.SIGKILL)
            await self.proc.wait()

    async def stop(self) -> None:
        if self.proc is not None and self.proc.returncode is None:
            self.proc.terminate()
            try:
                await asyncio.wait_for(self.proc.wait(), 15)
            except TimeoutError:
                await self.kill()
