"""A scenario's timeline, played in one simulator: vendor-side events at a time, or when the client created a
record and then polled it so often. It schedules what the kit already has — operator actions, fault rules —
and never implements them a second time.

Time-keyed steps are timers on the event loop, counted from when the scenario started (loaded or reset).
Client-keyed steps watch the journal: each finished client call is shown to the pending steps (the journal's
listener, set only while such steps wait, so a simulator without them pays nothing), in the event loop, after
the handler's effect and before the answer goes out — "after 2 polls" means the third poll sees the change,
and a step on page 1 of a listing changes the records before the client asks for page 2 (other users writing
while a client pages: the window a limit/offset client reads shifts under it).
"""

from __future__ import annotations

import asyncio
import inspect
import json
import logging
import time
from dataclasses import dataclass, field
from datetime import UTC, datetime
from typing import Any

from contracts.scenario import Step

from .faults import FaultSet
from .journal import Entry, Journal, query_pairs
from .scenario import matches
from .spec import ActionError, SimulatorSpec

log = logging.getLogger("civic_harness.simulators")
WAITING, TRIGGERED, DUE, DONE, FAILED = "waiting", "triggered", "due", "done", "failed"


@dataclass(slots=True)
class StepRun:
    step: Step
    state: str = WAITING
    target: dict[str, Any] | None = None
    polls: int = 0
    pages: int = 0  # a `listed` step's matching pages read so far
    fired_at: float | None = None
    outcome: Any = None

    def as_json(self) -> dict[str, Any]:
        step = self.step
        out: dict[str, Any] = {
            "index": step.index,
            "name": step.name,
            "vendor": step.vendor,
            "does": step.describe(),
            "state": self.state,
        }
        if step.at_s is not None:
            out["at_s"] = step.at_s
        if step.created is not None:
            out.update(when=dict(step.created), polls=self.polls, after_polls=step.after_polls)
        if step.listed is not None:
            out.update(when={"listed": dict(step.listed), "page": step.page}, pages=self.pages)
        if self.target is not None:
            out["target"] = self.target
        if self.fired_at is not None:
            out["fired_at"] = datetime.fromtimestamp(self.fired_at, UTC).isoformat(timespec="milliseconds")
        if self.outcome is not None:
            out["outcome"] = self.outcome
        return out


@dataclass(slots=True)
class Timeline:
    """One simulator's steps of a scenario. `backend` reads the current backend (reset swaps it)."""

    spec: SimulatorSpec
    journal: Journal
    faults: FaultSet
    backend: Any  # a callable: () -> the current backend
    steps: list[StepRun]
    speed: float = 1.0  # times run this much faster (a suite plays a two-minute window in two seconds)
    started: float | None = None
    _timers: list[asyncio.TimerHandle] = field(default_factory=list)
    _faults: list[int] = field(default_factory=list)  # the rules its steps added, removed when it stops
    _tasks: set[asyncio.Task[Any]] = field(default_factory=set)

    @classmethod
    def of(
        cls, spec: SimulatorSpec, journal: Journal, faults: FaultSet, backend: Any, steps: list[Step], speed: float
    ) -> Timeline:
        return cls(spec, journal, faults, backend, [StepRun(s) for s in steps], speed)

    def start(self) -> None:
        loop = asyncio.get_running_loop()
        self.started = time.time()
        for run in self.steps:
            if run.step.at_s is not None:
                self._timers.append(loop.call_later(run.step.at_s / self.speed, self._fire, run))
        if any(run.step.created is not None or run.step.listed is not None for run in self.steps):
            self.journal.listener = self._saw

    def stop(self) -> None:
        for timer in self._timers:
            timer.cancel()
        self._timers.clear()
        for rule_id in self._faults:
            self.faults.remove(rule_id)
        self._faults.clear()
        for task in self._tasks:
            task.cancel()
        if self.journal.listener == self._saw:
            self.journal.listener = None

    def as_json(self) -> dict[str, Any]:
        started = datetime.fromtimestamp(self.started, UTC).isoformat(timespec="milliseconds") if self.started else None
        return {"started": started, "speed": self.speed, "steps": [run.as_json() for run in self.steps]}

    # -- what the client did -----------------------------------------------------------------------

    def _saw(self, entry: Entry) -> None:
        if entry.source != "client":
            return
        try:
            # The page the call read, cut once and before any step acts: a step earlier in the list (a created
            # record's poll) may change the backend on this same call, and a listed step's window and target
            # must be the page the client received.
            waiting = [run for run in self.steps if run.state in (WAITING, TRIGGERED)]
            page = self._page_of(entry) if any(run.step.listed is not None for run in waiting) else ()
            for run in waiting:  # a step changes only its own state
                if run.step.created is not None:
                    self._advance(run, entry)
                elif run.step.listed is not None and page:
                    self._turn(run, *page)
        except Exception:  # a timeline bug must never break the vendor call it watched
            log.exception("simulator %s: the scenario timeline failed on a client call", self.spec.name)

    def _advance(self, run: StepRun, entry: Entry) -> None:
        support = self.spec.scenario
        assert support is not None and support.find_created is not None and run.step.created is not None
        answered = entry.status is not None and 200 <= entry.status < 300 and entry.operation is not None
        if not answered:
            return
        assert entry.operation is not None
        if run.state == WAITING:
            if entry.operation.lower() not in support.creates:
                return
            target = support.find_created(self.backend(), run.step.created)
            if target is None:
                return
            run.target, run.state = target, TRIGGERED  # the creating call is no poll
        elif self._is_poll(run.step, entry.operation):
            run.polls += 1
        if run.polls >= run.step.after_polls:
            self._due(run)

    def _page_of(self, entry: Entry) -> tuple[Any, ...]:
        """(listing values, records on the page) of an answered client call; () when it read no page."""
        support = self.spec.scenario
        if support is None or support.page_read is None or entry.operation is None:
            return ()
        if entry.status is None or not 200 <= entry.status < 300:
            return ()
        found = support.page_read(self.backend(), entry.operation, entry.path, list(query_pairs(entry.query)))
        return found or ()

    def _turn(self, run: StepRun, listing: dict[str, Any], records: list[dict[str, Any]]) -> None:
        """A page of a listing was read: the step's page (the Nth matching one) fires it, on the page's first
        record, before the client can ask for the next page. An empty answer is no page: it is where a listing
        ends, which one client reads and another (stopping at a short page) does not, so counting it would make
        `page: N` mean different pages for the same records; and it has no record to act on."""
        assert run.step.listed is not None
        if not records or not matches(listing, run.step.listed):
            return
        run.pages += 1
        if run.pages < run.step.page:
            return
        run.target = dict(records[0])
        self._due(run)

    def _due(self, run: StepRun) -> None:
        """The step's moment has come: it fires now, or `after.seconds` later."""
        run.state = DUE
        if run.step.after_s:
            later = asyncio.get_running_loop().call_later(run.step.after_s / self.speed, self._fire, run)
            self._timers.append(later)
        else:
            self._fire(run)

    def _is_poll(self, step: Step, operation: str | None) -> bool:
        if operation is None:
            return False
        if step.poll is not None:
            return operation.lower() == step.poll.lower()
        support = self.spec.scenario
        return support is not None and operation.lower() in support.polls

    # -- what the vendor does ----------------------------------------------------------------------

    def _fire(self, run: StepRun) -> None:
        run.fired_at = time.time()
        step = run.step
        try:
            if step.action is not None:
                self._act(run)
                return
            if step.fault is not None:
                rule = self.faults.add(dict(step.fault))
                self._faults.append(rule.id)
                if step.for_s is not None:
                    timer = asyncio.get_running_loop().call_later(step.for_s / self.speed, self.faults.remove, rule.id)
                    self._timers.append(timer)
                run.outcome = {"fault": rule.as_json()}
            elif step.expire_sessions:
                support = self.spec.scenario
                assert support is not None and support.expire_sessions is not None
                support.expire_sessions(self.backend())
                run.outcome = {"sessions": "expired"}
            else:  # the vendor's clock; a local time is the backend's own zone's
                backend = self.backend()
                zone = getattr(backend, "zone", UTC)
                if step.clock_set is not None:
                    moment = step.clock_set
                    backend.clock.set(moment if moment.tzinfo else moment.replace(tzinfo=zone))
                else:
                    backend.clock.jump(step.clock_jump_s or 0.0)
                run.outcome = {"clock": backend.clock.now().astimezone(zone).isoformat(timespec="seconds")}
            run.state = DONE
        except Exception as exc:
            log.exception("simulator %s: %s failed", self.spec.name, step.label)
            run.state, run.outcome = FAILED, {"error": str(exc)}

    def _act(self, run: StepRun) -> None:
        """An operator action, journaled as one (source operator), as if a city worker did it in the UI."""
        step = run.step
        action = next(a for a in self.spec.actions if a.name == step.action)
        payload = {**(run.target or {}), **step.payload}
        raw = json.dumps(payload).encode()
        started = time.perf_counter()
        entry = self.journal.start(
            source="operator",
            method="POST",
            path=f"/_sim/actions/{action.name}",
            query="",
            headers=[("X-Sim-Timeline", f"{step.index}")],
            content_type="application/json",
            body=raw,
        )
        entry.operation = f"action:{action.name}"

        def finish(status: int, body: Any) -> None:
            run.state, run.outcome = (DONE if status < 400 else FAILED), body
            self.journal.finish(
                entry,
                status=status,
                content_type="application/json",
                body=json.dumps(body, default=str).encode(),
                started=started,
            )

        try:
            result = action.run(self.backend(), payload)
        except ActionError as exc:
            finish(exc.status, {"error": {"code": exc.code, "message": exc.message}})
            return
        if inspect.isawaitable(result):
            task = asyncio.ensure_future(result)
            self._tasks.add(task)

            def done(t: asyncio.Task[Any]) -> None:
                self._tasks.discard(t)
                if t.cancelled():
                    return
                if isinstance(t.exception(), ActionError):
                    err = t.exception()
                    assert isinstance(err, ActionError)
                    finish(err.status, {"error": {"code": err.code, "message": err.message}})
                elif t.exception() is not None:
                    finish(500, {"error": {"code": "failed", "message": str(t.exception())}})
                else:
                    finish(200, {"action": action.name, "result": t.result()})

            task.add_done_callback(done)
            return
        finish(200, {"action": action.name, "result": result})
