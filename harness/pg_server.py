"""A PostgreSQL server of the test's own: `initdb` into a scratch directory, `pg_ctl` on a free loopback
port, so a campaign can stop it (as a crash does: immediate, no checkpoint) and start it again mid-delivery
without touching the machine's shared server. Trust authentication, loopback only, a Unix socket in the data
directory's parent. As root (a container), the server runs as the `postgres` user, which initdb requires."""

from __future__ import annotations

import asyncio
import contextlib
import glob
import os
import pwd
import shutil
import socket
import subprocess
import tempfile
from pathlib import Path
from typing import Any

PG_BIN_GLOB = "/usr/lib/postgresql/*/bin"


def pg_bin() -> Path | None:
    """Where initdb and pg_ctl are: $PG_BIN, then the newest Debian install, then PATH."""
    if os.environ.get("PG_BIN"):
        return Path(os.environ["PG_BIN"])
    found = sorted(
        glob.glob(PG_BIN_GLOB), key=lambda p: int(Path(p).parent.name) if Path(p).parent.name.isdigit() else 0
    )
    if found:
        return Path(found[-1])
    initdb = shutil.which("initdb")
    return Path(initdb).parent if initdb else None


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


class PrivatePostgres:
    """`start()` once (initdb, then the server), `stop(crash=True)` / `start()` as often as wanted, `destroy()`
    at the end. `url` names the `postgres` database over TCP on `port`."""

    def __init__(self, port: int | None = None) -> None:
        bin_dir = pg_bin()
        if bin_dir is None or not (bin_dir / "initdb").exists():
            raise RuntimeError("PostgreSQL's initdb and pg_ctl were not found (set PG_BIN)")
        self.bin = bin_dir
        self.port = port or free_port()
        self.root = Path(tempfile.mkdtemp(prefix="civic-pg-"))
        self.data = self.root / "data"
        self.restarts = 0
        self._as: dict[str, Any] = {}
        if os.geteuid() == 0:  # initdb and postgres refuse to run as root
            user = pwd.getpwnam("postgres")
            os.chown(self.root, user.pw_uid, user.pw_gid)
            self.root.chmod(0o700)
            self._as = {"user": user.pw_uid, "group": user.pw_gid, "extra_groups": []}

    @property
    def url(self) -> str:
        return f"postgresql://postgres@127.0.0.1:{self.port}/postgres"

    def _run(self, *argv: str) -> None:
        done = subprocess.run(
            [str(self.bin / argv[0]), *argv[1:]], capture_output=True, text=True, cwd=self.root, **self._as
        )
        if done.returncode != 0:
            raise RuntimeError(f"{argv[0]} failed ({done.returncode}): {(done.stderr or done.stdout).strip()[-800:]}")

    def init(self) -> None:
        self._run("initdb", "-D", str(self.data), "-U", "postgres", "--auth=trust", "-E", "UTF8", "--no-sync")

    def start_sync(self) -> None:
        if not self.data.exists():
            self.init()
        options = (
            f"-p {self.port} -c listen_addresses=127.0.0.1 -k {self.root} -c fsync=off "
            "-c max_connections=200 -c shared_buffers=32MB"
        )
        self._run("pg_ctl", "-D", str(self.data), "-l", str(self.root / "server.log"), "-o", options, "-w", "start")

    def stop_sync(self, crash: bool = True) -> None:
        """Immediate (a crash: connections dropped, recovery on the next start) or fast (a clean restart)."""
        self._run("pg_ctl", "-D", str(self.data), "-m", "immediate" if crash else "fast", "-w", "stop")

    async def start(self) -> None:
        await asyncio.to_thread(self.start_sync)

    async def stop(self, crash: bool = True) -> None:
        await asyncio.to_thread(self.stop_sync, crash)

    async def restart(self, down_s: float = 0.0, crash: bool = True) -> None:
        await self.stop(crash)
        await asyncio.sleep(down_s)
        await self.start()
        self.restarts += 1

    def destroy(self) -> None:
        if (self.data / "postmaster.pid").exists():
            with contextlib.suppress(RuntimeError):
                self.stop_sync(crash=True)
        shutil.rmtree(self.root, ignore_errors=True)

    def __enter__(self) -> PrivatePostgres:
        self.start_sync()
        return self

    def __exit__(self, *_: object) -> None:
        self.destroy()
