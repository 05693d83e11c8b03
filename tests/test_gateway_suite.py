"""The gateway conformance suite, run as CI runs it (`civic-harness conformance --suite gateway`) against the
bundled reference gateway, on a SQLite file and on the local PostgreSQL: the same checks pass on both."""

from __future__ import annotations

import asyncio
import subprocess
import sys

import asyncpg
import pytest

from .certify_runner import ROOT, VERDICT
from .gateway.conftest import PG_ADMIN_URL

EXPECTED = {
    "AGY-1", "AGY-2", "AGY-3", "AGY-5", "GEO-3", "GEO-4", "GEO-5", "OG-RQR-3", "OG-RQR-4", "CW-CAT-1", "CW-QA-1",
    "CW-QA-2", "CW-QA-3", "CW-QA-4", "CW-SUB-1", "CW-SUB-2", "CW-COM-1", "CW-ICM-1", "CW-UPD-1", "CW-IMG-1",
    "CW-VER-1", "CW-VER-2", "CW-COM-2", "AGY-4", "CW-IMP-1", "OG-CAT-1", "OG-REQ-1", "GEO-1", "GEO-2", "OG-RQR-1",
    "OG-RQR-2", "OG-COM-1", "OG-UPD-1", "OG-UPD-2", "OG-UPD-3", "OG-COM-2", "OG-REQ-2", "CW-MODE-1", "H-SCN-4",
    "OG-PAGE-1", *(f"WID-{n}" for n in range(1, 17)),
}  # fmt: skip


def fetch(url: str, sql: str, *args: str) -> list[str]:
    async def rows() -> list[str]:
        conn = await asyncpg.connect(url)
        try:
            return [r[0] for r in await conn.fetch(sql, *args)]
        finally:
            await conn.close()

    return asyncio.run(rows())


def worker_databases(name: str) -> list[str]:
    return fetch(PG_ADMIN_URL, "SELECT datname FROM pg_database WHERE datname LIKE $1", f"{name}_gw%")


def gateway_tables(url: str) -> list[str]:
    return fetch(url, "SELECT table_name FROM information_schema.tables WHERE table_schema = 'public'")


def run_suite(*args: str) -> tuple[int, str, dict[str, str]]:
    result = subprocess.run(
        [sys.executable, "-m", "harness.cli", "conformance", "--suite", "gateway", "-q", *args],
        cwd=ROOT,
        capture_output=True,
        text=True,
        timeout=600,
    )
    return result.returncode, result.stdout + result.stderr, dict(VERDICT.findall(result.stdout))


@pytest.mark.heavy
@pytest.mark.timeout(900)  # the run's own limit is 600 s; pytest-timeout's 300 s would kill the worker first
@pytest.mark.req("H-CON-1")
@pytest.mark.parametrize("backend", ["sqlite", pytest.param("postgres", marks=pytest.mark.slow)])
def test_the_gateway_suite_passes_on_both_databases(backend, request):
    # Two xdist workers, each with its own bundled stack, the verdicts gathered by the controller; on
    # PostgreSQL each worker makes its own database beside the given one and drops it at the end.
    args = ["--workers", "2"]
    if backend == "postgres":
        url = request.getfixturevalue("postgres_url")
        args.append(f"--gw-database-url={url}")
    code, output, verdicts = run_suite(*args)
    assert code == 0, output[-3000:]
    assert "2 workers" in output, output[:500]
    if backend == "postgres":
        name = url.rsplit("/", 1)[1]
        assert not worker_databases(name), "the workers' databases are dropped"
        assert not gateway_tables(url), "each worker used a database of its own, never the given one"
    assert {rid for rid, verdict in verdicts.items() if verdict == "PASS"} >= EXPECTED, output[-3000:]
    assert "FAIL" not in verdicts.values()
