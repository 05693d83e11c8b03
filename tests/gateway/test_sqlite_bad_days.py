"""SQLite's bad days (H-REL-5): the disk under the database file fills up, the file cannot be written. A
gateway process (so the test can limit it) keeps serving reads; every write is a 503 in its API's format,
nothing of it is kept (the file passes SQLite's integrity check, no report without its outbox row); and
writes go through again, without a restart, once there is space or the file is writable.

The disk fills in two ways: the gateway's file size limit (RLIMIT_FSIZE, set on the running process with
prlimit: any user can) or, where the test may mount, a small tmpfs filled up by another file."""

from __future__ import annotations

import contextlib
import json
import os
import resource
import signal
import sqlite3
import subprocess
from collections.abc import AsyncIterator, Iterator
from pathlib import Path

import aiohttp
import pytest

from conformance.gateway.client import Gateway
from conformance.gateway.helpers import INSIDE, PNG
from harness.gateway_process import GatewayProcess, gateway_env

from .conftest import demo_city

TOKEN, KEY = "bad-days-admin-token-0001", "bad-days-api-key"


@contextlib.contextmanager
def tmpfs(path: Path, size: str) -> Iterator[None]:
    path.mkdir()
    if subprocess.run(
        ["mount", "-t", "tmpfs", "-o", f"size={size}", "tmpfs", str(path)], capture_output=True
    ).returncode:
        pytest.skip("mounting a tmpfs is not permitted here")
    try:
        yield
    finally:
        subprocess.run(["umount", "-l", str(path)], check=False)


def fill(path: Path) -> None:
    """Write zeros until the file system is full."""
    with path.open("wb") as fh, contextlib.suppress(OSError):
        while True:
            fh.write(b"\0" * 65536)


async def start(database: Path, http: aiohttp.ClientSession) -> tuple[GatewayProcess, Gateway]:
    # A process over its file size limit gets SIGXFSZ, which ends it; ignored, the write fails instead (EFBIG)
    # as it would on a full disk. An ignored signal stays ignored in the child.
    before = signal.signal(signal.SIGXFSZ, signal.SIG_IGN)
    try:
        process = GatewayProcess(f"sqlite:///{database}", gateway_env(TOKEN, KEY, {"SCHEDULER_TICK_S": "0"}))
        url = await process.start()
    finally:
        signal.signal(signal.SIGXFSZ, before)
    return process, Gateway(url, http, TOKEN, KEY)


@pytest.fixture
async def http() -> AsyncIterator[aiohttp.ClientSession]:
    async with aiohttp.ClientSession() as session:
        yield session


async def report(g: Gateway, text: str, photo: bytes | None = None) -> tuple[int, str]:
    form = aiohttp.FormData()
    for k, v in {"api_key": KEY, "service_code": "SL", **INSIDE, "description": text}.items():
        form.add_field(k, v)
    if photo is not None:
        form.add_field("media", photo, filename="p.png", content_type="image/png")
    async with g.http.post(f"{g.url}/open311/v2/requests.json", data=form) as resp:
        return resp.status, await resp.text()


async def comment(g: Gateway, public_id: str, text: str) -> tuple[int, str]:
    form = aiohttp.FormData()
    for k, v in {"api_key": KEY, "description": text}.items():
        form.add_field(k, v)
    form.add_field("media", PNG, filename="p.png", content_type="image/png")
    async with g.http.post(f"{g.url}/open311/v2/requests/{public_id}/comments.json", data=form) as resp:
        return resp.status, await resp.text()


def assert_refused(answer: tuple[int, str]) -> None:
    status, body = answer
    assert status == 503, body
    assert json.loads(body)[0]["code"] == 503


def whole(database: Path) -> dict[str, int]:
    """SQLite's own integrity check, and what the file holds: every request with its first outbox row."""
    with contextlib.closing(sqlite3.connect(f"file:{database}?mode=ro", uri=True)) as db:
        assert db.execute("PRAGMA integrity_check").fetchone() == ("ok",)
        orphans = db.execute(
            "SELECT count(*) FROM requests r WHERE NOT EXISTS "
            "(SELECT 1 FROM outbox o WHERE o.request_id = r.id AND o.kind = 'create_request')"
        ).fetchone()[0]
        assert orphans == 0, "a request without its outbox row: half a report was kept"
        return {t: db.execute(f"SELECT count(*) FROM {t}").fetchone()[0] for t in ("requests", "comments", "media")}


@pytest.mark.slow
@pytest.mark.req("H-REL-5")
@pytest.mark.parametrize("how", ["file-size-limit", "small-tmpfs"])
async def test_a_full_disk_refuses_writes_cleanly_and_they_resume_when_space_returns(tmp_path, http, how):
    where = tmp_path / "disk"
    with tmpfs(where, "3m") if how == "small-tmpfs" else contextlib.nullcontext(where.mkdir()):
        database = where / "gateway.db"
        process, g = await start(database, http)
        try:
            await demo_city(g)
            status, body = await report(g, "before")
            assert status == 201, body
            public_id = json.loads(body)[0]["service_request_id"]
            held = whole(database)
            assert process.proc is not None
            filler = where / "filler"
            if how == "file-size-limit":
                resource.prlimit(process.proc.pid, resource.RLIMIT_FSIZE, (1, resource.RLIM_INFINITY))
            else:
                fill(filler)
            assert_refused(await report(g, "no room"))
            assert_refused(await report(g, "no room, with a photo", PNG * 200))
            assert_refused(await comment(g, public_id, "no room either"))
            status, _, body = await g.open311("GET", f"/requests/{public_id}.json")  # reads go on
            assert status == 200, body
            assert whole(database) == held, "nothing of a refused write is kept"
            if how == "file-size-limit":
                resource.prlimit(process.proc.pid, resource.RLIMIT_FSIZE, (resource.RLIM_INFINITY,) * 2)
            else:
                filler.unlink()
            status, body = await report(g, "after")  # the same process: no restart
            assert status == 201, body
            assert (await comment(g, public_id, "a comment again"))[0] == 201
            after = whole(database)
            assert after["requests"] == held["requests"] + 1 and after["comments"] == held["comments"] + 1
        finally:
            await process.stop()


def read_only(path: Path) -> contextlib.AbstractContextManager[None]:
    """The file cannot be opened for writing: its mode for a user, the immutable flag for root."""

    @contextlib.contextmanager
    def flag() -> Iterator[None]:
        if os.geteuid() != 0:
            path.chmod(0o444)
            try:
                yield
            finally:
                path.chmod(0o644)
            return
        if subprocess.run(["chattr", "+i", str(path)], capture_output=True).returncode:
            pytest.skip("the immutable flag cannot be set here")
        try:
            yield
        finally:
            subprocess.run(["chattr", "-i", str(path)], check=False)

    return flag()


@pytest.mark.slow
@pytest.mark.req("H-REL-5")
async def test_a_read_only_database_file_refuses_writes_and_serves_again_once_writable(tmp_path, http):
    """The gateway (re)started on a file it may not write: it serves reads, refuses writes with 503, and
    writes again once the file is writable. Before: the connections SQLite had opened read-only stayed so,
    and every write was refused until the gateway was restarted."""
    database = tmp_path / "gateway.db"
    process, g = await start(database, http)
    await demo_city(g)
    assert (await report(g, "before"))[0] == 201
    await process.stop()
    held = whole(database)
    with read_only(database):
        process, g = await start(database, http)
        try:
            assert_refused(await report(g, "read-only"))
            status, _, body = await g.open311("GET", "/requests.json")
            assert status == 200 and [r["description"] for r in json.loads(body)] == ["before"], body
        except BaseException:
            await process.stop()
            raise
    try:
        answers = [(await report(g, f"writable again {n}"))[0] for n in range(3)]
        # A connection opened read-only fails its first write and is dropped; the next opens the file anew.
        assert answers[-1] == 201 and set(answers) <= {201, 503}, answers
    finally:
        await process.stop()
    assert whole(database)["requests"] == held["requests"] + answers.count(201)
