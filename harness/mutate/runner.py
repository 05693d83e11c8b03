"""A mutation run: the baseline trial (no mutation: certify must pass, and it tells which checks call which
operations), then one trial per mutation in parallel worker processes (`jobs`), each running only the checks
that call the mutation's operations. A mutation no check reaches is `not reached` without a trial."""

from __future__ import annotations

import asyncio
import json
import random
import sys
import tempfile
import time
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from .catalogue import catalogue
from .mutation import WRITTEN, Mutation
from .trial import NOT_REACHED, SURVIVED
from .vendors import vendor

PREFLIGHT_CHECK = ""  # the calls certify's pre-flight makes, before any check runs
TRIAL_TIMEOUT_S = 900


class BaselineFailed(Exception):
    """certify does not pass against the unmutated simulator: no mutation could be judged."""


@dataclass(frozen=True, slots=True)
class Plan:
    vendor: str
    version: str | None
    jobs: int = 2
    certify: tuple[str, ...] = ()  # extra certify arguments for every trial (e.g. --examples 3)
    only: tuple[str, ...] = ()  # mutation id prefixes to keep
    sample: int | None = None  # a seeded sample of the generated mutations (every written one is kept)
    seed: int = 0


def select(mutations: Sequence[Mutation], plan: Plan) -> list[Mutation]:
    chosen = [m for m in mutations if not plan.only or m.id.startswith(plan.only)]
    if plan.sample is None:
        return chosen
    written = [m for m in chosen if m.source == WRITTEN]
    generated = [m for m in chosen if m.source != WRITTEN]
    picked = random.Random(plan.seed).sample(generated, min(plan.sample, len(generated)))
    return sorted(picked, key=generated.index) + written


def reach(m: Mutation, calls: dict[str, dict[str, int]]) -> list[str] | None:
    """The checks a mutation can change (their node ids); None: every check (it acts on every call, or on
    the simulator itself); [] when no check calls its operations."""
    if not m.operations or m.simulator:
        return None
    checks = [c for c, ops in calls.items() if c != PREFLIGHT_CHECK and m.operations & set(ops)]
    if not checks and m.operations & set(calls.get(PREFLIGHT_CHECK, {})):
        return None  # only the pre-flight calls it: the full run decides
    return checks


class Workers:
    """`jobs` long-lived trial processes (trial.py --serve), each running one trial at a time."""

    def __init__(self, jobs: int, work: Path) -> None:
        self.work = work
        self.idle: asyncio.Queue[asyncio.subprocess.Process | None] = asyncio.Queue()
        for _ in range(max(1, jobs)):
            self.idle.put_nowait(None)  # started on first use
        self.started: list[asyncio.subprocess.Process] = []

    async def _start(self) -> asyncio.subprocess.Process:
        log = (self.work / f"worker-{len(self.started)}.log").open("wb")
        proc = await asyncio.create_subprocess_exec(
            sys.executable,
            "-m",
            "harness.mutate.trial",
            "--serve",
            stdin=asyncio.subprocess.PIPE,
            stdout=asyncio.subprocess.PIPE,
            stderr=log,
        )
        self.started.append(proc)
        return proc

    async def trial(self, spec: dict[str, Any]) -> dict[str, Any]:
        name = (spec["mutation"] or "baseline").replace(":", "_").replace("/", "_")
        spec_file, out, log = (self.work / f"{name}.{ext}" for ext in ("spec.json", "json", "log"))
        spec = {**spec, "out": str(out), "log": str(log)}
        spec_file.write_text(json.dumps(spec), encoding="utf-8")
        proc = await self.idle.get()
        try:
            if proc is None or proc.returncode is not None:
                proc = await self._start()
            assert proc.stdin is not None and proc.stdout is not None
            proc.stdin.write(f"{spec_file}\n".encode())
            await proc.stdin.drain()
            answer = await asyncio.wait_for(proc.stdout.readline(), TRIAL_TIMEOUT_S)
            if not answer:
                await proc.wait()
        except (TimeoutError, ConnectionError):
            if proc is not None and proc.returncode is None:
                proc.kill()
                await proc.wait()
        finally:
            self.idle.put_nowait(proc)
        if not out.exists():
            tail = log.read_text(encoding="utf-8", errors="replace")[-1500:] if log.exists() else ""
            return {"mutation": spec["mutation"], "outcome": "void", "errors": [f"the trial did not finish: {tail}"]}
        return json.loads(out.read_text())

    async def close(self) -> None:
        for proc in self.started:
            if proc.returncode is None and proc.stdin is not None:
                proc.stdin.close()
        for proc in self.started:
            try:
                await asyncio.wait_for(proc.wait(), 30)
            except TimeoutError:
                proc.kill()
                await proc.wait()


async def execute(plan: Plan, progress: Callable[[str], None] = print) -> dict[str, Any]:
    v = vendor(plan.vendor)
    version = plan.version or v.default_version()
    mutations = select(catalogue(v, version), plan)
    started = time.monotonic()
    base = {"vendor": v.name, "version": version, "certify": list(plan.certify)}
    with tempfile.TemporaryDirectory(prefix="civic-mutate-") as tmp:
        workers = Workers(plan.jobs, Path(tmp))
        try:
            return await _execute(plan, v.name, version, mutations, base, workers, progress, started)
        finally:
            await workers.close()


async def _execute(
    plan: Plan,
    name: str,
    version: str | None,
    mutations: list[Mutation],
    base: dict[str, Any],
    workers: Workers,
    progress: Callable[[str], None],
    started: float,
) -> dict[str, Any]:
    baseline = await workers.trial({**base, "mutation": None, "select": None})
    if baseline["outcome"] != SURVIVED:
        raise BaselineFailed(
            f"certify {name} does not pass against the unmutated simulator ({baseline['outcome']}, "
            f"exit {baseline.get('exit')}): {json.dumps(baseline.get('killed_by') or baseline.get('errors'))[:600]}"
        )
    calls = baseline["calls"] or {}
    progress(f"baseline passed in {baseline['duration_s']:.0f} s; {len(mutations)} mutations, {plan.jobs} jobs")
    results: dict[str, dict[str, Any]] = {}
    pending = []
    for m in mutations:
        checks = reach(m, calls)
        if checks == []:
            results[m.id] = {"mutation": m.id, "outcome": NOT_REACHED, "changed": 0, "changes": []}
        else:
            pending.append((m, checks))
    done = 0

    async def one(m: Mutation, checks: list[str] | None) -> None:
        nonlocal done
        results[m.id] = await workers.trial({**base, "mutation": m.id, "select": checks})
        done += 1
        if done % 10 == 0 or done == len(pending):
            progress(f"{done}/{len(pending)} trials, {time.monotonic() - started:.0f} s")

    await asyncio.gather(*(one(m, c) for m, c in pending))
    return {
        "vendor": name,
        "version": version,
        "certify": list(plan.certify),
        "sample": plan.sample,
        "seed": plan.seed,
        "jobs": plan.jobs,
        "duration_s": round(time.monotonic() - started, 1),
        "baseline_s": baseline["duration_s"],
        "mutations": [(m, results[m.id]) for m in mutations],
    }
