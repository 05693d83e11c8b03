"""The fault campaign: citizens report through the gateway while the vendor (the Cityworks or the OpenGov
simulator) fails a set share of its calls in every way the kit knows and the gateway process is killed
(SIGKILL) and started again mid-delivery. At the end, the gateway's public side is compared with what the
vendor holds.

What must hold (H-REL-1):
- every report the gateway acknowledged is still there after the kills, and is at the vendor exactly once;
- every public comment is at the vendor exactly once, in the order the gateway took them;
- every photo is at the vendor byte for byte (SHA-256), once;
- OpenGov: one requester per citizen, however many reports and however the address was capitalised;
- nothing private crosses over: the citizen's e-mail and phone never on the public side, the vendor's
  internal comments never on the public side, while its public ones ("To SCF:" at Cityworks) come over once.

With database faults (`db_faults`, H-REL-5) the gateway runs on a PostgreSQL server of the campaign's own,
through a TCP fault proxy: the server is restarted (a crash) once while citizens write and then at set points
of the delivery, and connections
are cut, stalled or slowed at random. A write during an outage must be answered 503 (the citizen tries again,
as an app does) — any other 5xx is a problem. With `instances` > 1, that many gateway processes share the
database, citizens spread over them, and each kill takes either the instance holding the delivery lease or
one beside it; delivery runs must never have overlapped.
"""

from __future__ import annotations

import asyncio
import contextlib
import hashlib
import json
import math
import random
import secrets
import tempfile
import time
from collections import Counter
from collections.abc import Callable
from dataclasses import asdict, dataclass, field
from pathlib import Path
from typing import Any

import aiohttp
from shapely.geometry import mapping

from loadtests.gateway_series import Event, Sample, figures, judge
from loadtests.sampler import Sampler
from simulators.cityworks.config import DEFECTS as CW_DEFECTS
from simulators.kit import city
from simulators.kit.faults import APPLY_THEN_FAIL, ERROR, MALFORMED, RATE_LIMIT, RESET, TIMEOUT
from simulators.opengov.config import DEFECTS as OG_DEFECTS

from .bundled import simulator_config
from .db_faults import DatabaseFaults, lease_holders, overlapping_runs
from .gateway_process import FAST, GatewayProcess, gateway_env
from .sim_control import SimControl
from .stack import Stack

# Every failure a vendor call can meet. Latency alone is not a failure; a timeout is.
FAULTS: tuple[dict[str, Any], ...] = (
    {"kind": TIMEOUT, "timeout_s": 4},
    {"kind": RESET},
    {"kind": ERROR, "status": 503},
    {"kind": MALFORMED},
    {"kind": RATE_LIMIT, "retry_after": 1},
    {"kind": APPLY_THEN_FAIL},
)
PNG_HEAD = bytes.fromhex("89504e470d0a1a0a")


@dataclass
class CampaignConfig:
    requests: int = 500
    fault_rate: float = 0.2  # share of vendor calls that fail, all kinds together
    kills: int = 3
    comments: int = 2  # public comments per report
    photo_every: int = 2  # every n-th report carries a photo, and every n-th comment
    concurrency: int = 8
    database_url: str | None = None  # default: a SQLite file in a scratch directory
    seed: int = 1
    stall_s: float = 120.0  # the outbox must keep moving: fail when the vendor sees no call for this long
    vendor: str = "cityworks"  # or "opengov"
    vendor_defects: tuple[str, ...] = ()  # simulator defects: prove the checks catch a broken vendor
    db_faults: tuple[str, ...] = ()  # restart, cut, stall, latency: the gateway on a private PostgreSQL
    db_restarts: int = 2  # database restarts (with "restart"), spread over the delivery like the kills
    db_fault_every_s: float = 10.0  # a network fault between gateway and database this often, on average
    instances: int = 1  # gateway processes on the one database
    sample_every_s: float = 1.0  # the gateway's /metrics is scraped this often for the timeline
    # upper bounds on the gateway's figures over the run (loadtests/gateway_series.py FIGURES): a broken one
    # is a problem like any other
    gateway_thresholds: dict[str, float] = field(default_factory=dict)


@dataclass
class Report:
    config: dict[str, Any]
    counts: Counter[str] = field(default_factory=Counter)
    faults: dict[str, int] = field(default_factory=dict)
    problems: list[str] = field(default_factory=list)
    seconds: dict[str, float] = field(default_factory=dict)
    # the timeline: the gateway's metrics sampled through the run, and the kills and the faults' window on it
    samples: list[Sample] = field(default_factory=list)
    events: list[Event] = field(default_factory=list)

    @property
    def ok(self) -> bool:
        return not self.problems

    def as_json(self) -> dict[str, Any]:
        return {
            "ok": self.ok,
            "config": self.config,
            "counts": dict(sorted(self.counts.items())),
            "faults_applied": self.faults,
            "seconds": {k: round(v, 1) for k, v in self.seconds.items()},
            "problems": self.problems,
        }


@dataclass
class Sent:
    """What a citizen was told was taken: a report, its photo, its comments in order."""

    public_id: str
    email: str
    phone: str
    photo: str | None = None  # sha256
    comments: list[tuple[str, str | None]] = field(default_factory=list)  # (text, photo sha256)


def _photo(rng: random.Random) -> bytes:
    # Unique bytes behind a PNG signature: the gateway checks the type by its magic number, and a byte-exact
    # comparison needs photos that differ.
    return PNG_HEAD + rng.randbytes(rng.randint(200, 4000))


def per_kind_probability(rate: float, kinds: int) -> float:
    """Rules are tried in turn and the first that fires wins: p per rule gives 1 - (1 - p)^k overall."""
    return 1 - math.pow(1 - rate, 1 / kinds)


class CityworksSide:
    """What the campaign needs of Cityworks: its integration, where a report landed, what it holds."""

    name, sim, counted = "cityworks", "cityworks", "requests"
    label, sim_options, defects = "Cityworks", {"version": "23"}, CW_DEFECTS

    def __init__(self, http: aiohttp.ClientSession, url: str) -> None:
        self.http, self.url, self.token = http, url, ""
        self.control = SimControl(http, url)

    def integration(self) -> dict[str, Any]:
        return {"name": "Cityworks", "vendor": "cityworks", "version": "23", "base_url": self.url,
                "username": "harness", "secret": "harness"}  # fmt: skip

    async def login(self) -> None:
        async with self.http.post(
            f"{self.url}/Services/General/Authentication/Authenticate",
            data={"data": json.dumps({"LoginName": "harness", "Password": "harness"})},
        ) as resp:
            self.token = (await resp.json())["Value"]["Token"]

    async def _call(self, path: str, data: dict[str, Any]) -> Any:
        async with self.http.post(
            f"{self.url}/Services/{path}",
            data={"data": json.dumps(data)},
            headers={"Authorization": f"cityworks {self.token}"},
        ) as resp:
            return (await resp.json())["Value"]

    async def find(self, public_id: str) -> list[Any]:
        found = await self._call("Ams/ServiceRequest/ByOtherSystemId", {"OtherSystemId": public_id}) or []
        return [sr["RequestId"] for sr in found]

    async def held(self, vendor_id: Any) -> tuple[list[str], list[str]]:
        """(comment texts oldest first, attachment SHA-256s) as Cityworks holds them."""
        record = await self.control.action("get-request", RequestId=vendor_id)
        return [c.get("Comments") or "" for c in record["comments"]], [a["sha256"] for a in record["attachments"]]

    async def staff_comment(self, vendor_id: Any, text: str, public: bool) -> None:
        await self.control.action("add-comment", RequestId=vendor_id, text=text, to_scf=public)

    async def requesters(self, email: str) -> int | None:
        return None  # Cityworks keeps the caller on the request itself


class OpengovSide:
    name, sim, counted = "opengov", "opengov", "cgRequestsClass"
    label, sim_options, defects = "OpenGov", {}, OG_DEFECTS
    requests_class, comments_class, attachments_class = (
        "cgRequestsClass", "cgRequests_cgCommentsClass", "cgRequests_cgAttachmentsClass"
    )  # fmt: skip

    def __init__(self, http: aiohttp.ClientSession, url: str) -> None:
        self.http, self.url, self.control = http, url, SimControl(http, url)
        self.auth = {"Authorization": aiohttp.encode_basic_auth("harness", "harness")}

    def integration(self) -> dict[str, Any]:
        return {"name": "OpenGov", "vendor": "opengov", "version": "v1", "base_url": self.url,
                "username": "harness", "secret": "harness"}  # fmt: skip

    async def login(self) -> None:
        return None  # HTTP Basic on every call

    async def _get(self, path: str, **params: str) -> Any:
        async with self.http.get(f"{self.url}/api/v1/{path}", params=params, headers=self.auth) as resp:
            return await resp.json()

    async def _records(self, class_name: str, filter: str) -> list[dict[str, Any]]:
        return (await self._get(f"classes/{class_name}", filter=filter, limit="1000"))[class_name]

    async def find(self, public_id: str) -> list[Any]:
        found = await self._records(self.requests_class, f'(([IntegrationID] is equal to "{public_id}"))')
        return [r["Oid"] for r in found]

    async def held(self, vendor_id: Any) -> tuple[list[str], list[str]]:
        base = f"classes/{self.requests_class}/{vendor_id}"
        comments = (await self._get(f"{base}/{self.comments_class}"))[self.comments_class]
        files = (await self._get(f"{base}/{self.attachments_class}"))[self.attachments_class]
        hashes = []
        for f in files:
            async with self.http.get(
                f"{self.url}/api/v1/attachments/{self.attachments_class}/{f['Oid']}", headers=self.auth
            ) as resp:
                hashes.append(hashlib.sha256(await resp.read()).hexdigest())
        ordered = sorted(comments, key=lambda c: c["Oid"])
        return [c.get("CommentField") or "" for c in ordered], hashes

    async def staff_comment(self, vendor_id: Any, text: str, public: bool) -> None:
        await self.control.action("add-comment", Oid=vendor_id, text=text, public=public)

    async def requesters(self, email: str) -> int | None:
        return len(await self._records("cgRequestersClass", f'(([Email] is equal to "{email}"))'))


SIDES = {"cityworks": CityworksSide, "opengov": OpengovSide}


PROGRESS_EVERY_S = 5.0


class Campaign:
    def __init__(self, config: CampaignConfig, progress: Callable[[int, str], None] | None = None) -> None:
        self.config = config
        self.progress = progress  # told (reports accepted, a line) every few seconds while the run goes
        self.rng = random.Random(config.seed)
        self.admin_token = secrets.token_urlsafe(24)
        self.api_key = secrets.token_urlsafe(12)
        self.report = Report(config=asdict(config))
        self.sent: list[Sent] = []
        self.gateways: list[GatewayProcess] = []
        self._down: set[int] = set()  # instances being killed and started again
        self._turn = 0  # round robin over the instances that are up
        self.db: DatabaseFaults | None = None
        self._base = 0  # the vendor's own records before the campaign
        self.database = ""  # what the gateway's DATABASE_URL names; the campaign reads it directly too
        self.http: aiohttp.ClientSession | None = None
        self.side: CityworksSide | OpengovSide | None = None
        self.code = ""
        self.integration = 0
        self._up = asyncio.Event()
        self._up.set()  # set while a gateway process is serving
        self.sampler: Sampler | None = None

    def _now(self) -> float:
        """Seconds on the timeline (the sampler's clock)."""
        return time.monotonic() - self.sampler.started if self.sampler is not None else 0.0

    # -- the gateway, through its APIs, riding out restarts -----------------------------------------

    @property
    def gateway(self) -> GatewayProcess:
        """An instance that is up (round robin), or the first while none is."""
        up = [g for n, g in enumerate(self.gateways) if n not in self._down] or self.gateways
        self._turn += 1
        return up[self._turn % len(up)]

    async def _call(self, method: str, path: str, *, admin: bool = False, **kwargs: Any) -> tuple[int, Any]:
        """One call to a gateway process that is up; a connection lost to a kill is tried again once a
        gateway is back, and a 503 (the database unavailable) a moment later (a citizen's app does the same).
        Any other 5xx is a problem. Returns (status, parsed body)."""
        assert self.http is not None and self.gateways
        headers = {"Authorization": f"Bearer {self.admin_token}"} if admin else {}
        deadline = time.monotonic() + 300
        while time.monotonic() < deadline:
            await self._up.wait()
            data = kwargs.get("data")
            if callable(data):  # a multipart form cannot be sent twice: build it per try
                kwargs = {**kwargs, "data": data()}
            try:
                async with self.http.request(method, self.gateway.url + path, headers=headers, **kwargs) as resp:
                    text = await resp.text()
                    status = resp.status
            except (aiohttp.ClientConnectionError, TimeoutError):
                self.report.counts["citizen retries after a lost connection"] += 1
                await asyncio.sleep(0.2)
                continue
            if status == 503:
                self.report.counts[f"{'writes' if method != 'GET' else 'reads'} answered 503 during an outage"] += 1
                await asyncio.sleep(0.25)
                continue
            if status >= 500 or (status == 400 and "General service error" in text):
                self.report.problems.append(f"{method} {path.split('?')[0]}: {status} {text[:200]}")
            return status, (json.loads(text) if text else None)
        raise RuntimeError(f"{method} {path}: the gateway did not come back")

    async def _admin(self, method: str, path: str, **kwargs: Any) -> Any:
        status, body = await self._call(method, f"/admin/v1{path}", admin=True, **kwargs)
        if status not in (200, 201):
            raise RuntimeError(f"admin {method} {path}: {status} {body}")
        return body

    async def _setup(self) -> None:
        assert self.side is not None
        integration = await self._admin("POST", "/integrations", json=self.side.integration())

        def boundary() -> aiohttp.FormData:
            form = aiohttp.FormData()
            form.add_field("name", city.NAME)
            form.add_field("file", json.dumps(mapping(city.BOUNDARY)).encode(), filename="city.geojson")
            return form

        geography = await self._admin("POST", "/geographies", data=boundary)
        await self._admin(
            "POST",
            "/agencies",
            json={"name": "Public Works", "geography_id": geography["id"], "integration_id": integration["id"]},
        )
        await self._admin("POST", "/jobs/category_sync/run", json={"integration_id": integration["id"]})
        categories = (await self._admin("GET", "/categories"))["items"]
        self.integration = integration["id"]
        self.code = next(c["code"] for c in categories if c["integration_id"] and c["active"] and c["public"])

    # -- citizens --------------------------------------------------------------------------------------

    async def _report(self, n: int) -> None:
        # Fifty citizens, each reporting many times, the address written in varying case: the vendor must
        # still hold one requester per person (OpenGov), whatever the faults and kills did.
        person = n % 50
        email = f"Citizen{person}@Campaign.example" if n % 2 else f"citizen{person}@campaign.example"
        phone = f"555-01{person:05d}"
        fields = {
            "api_key": self.api_key,
            "service_code": self.code,
            "lat": str(city.SAMPLE_POINT["lat"]),
            "long": str(city.SAMPLE_POINT["long"]),
            "description": f"campaign report {n}",
            "email": email,
            "phone": phone,
        }
        photo = _photo(self.rng) if n % self.config.photo_every == 0 else None
        status, body = await self._call("POST", "/open311/v2/requests.json", data=_form(fields, photo))
        if status != 201:
            self.report.problems.append(f"report {n} refused: {status} {body}")
            return
        sent = Sent(body[0]["service_request_id"], email.lower(), phone, _sha(photo))
        self.sent.append(sent)
        for c in range(self.config.comments):
            text = f"campaign report {n} comment {c}"
            shot = _photo(self.rng) if (n + c) % self.config.photo_every == 0 else None
            fields = {"api_key": self.api_key, "description": text}
            path = f"/open311/v2/requests/{sent.public_id}/comments.json"
            status, body = await self._call("POST", path, data=_form(fields, shot))
            if status != 201:
                self.report.problems.append(f"comment {c} on {sent.public_id} refused: {status} {body}")
                return
            sent.comments.append((text, _sha(shot)))

    async def _citizens(self) -> None:
        queue: asyncio.Queue[int] = asyncio.Queue()
        for n in range(self.config.requests):
            queue.put_nowait(n)

        async def citizen() -> None:
            while not queue.empty():
                await self._report(queue.get_nowait())

        await asyncio.gather(*(citizen() for _ in range(self.config.concurrency)))

    async def _at_vendor(self, share: float) -> None:
        """Until the vendor holds this share of the reports (so a fault lands while delivery is busy)."""
        base = self._base
        while await self._vendor_count() - base < self.config.requests * share:  # noqa: ASYNC110
            await asyncio.sleep(0.05)

    async def _killer(self) -> None:
        """SIGKILL at evenly spaced shares of the reports at the vendor, then start again on the same database.
        With several instances, every other kill takes the one holding the delivery lease (the lease must lapse
        and another take over) and the others one beside it (the holder goes on alone)."""
        kills = self.config.kills
        for k in range(kills):
            await self._at_vendor((k + 1) / (kills + 1))
            victim = await self._victim(k)
            self._down.add(victim)
            if len(self._down) == len(self.gateways):
                self._up.clear()
            gateway = self.gateways[victim]
            self.report.events.append(Event(f"kill {self.report.counts['gateway kills'] + 1}", self._now()))
            await gateway.kill()
            self.report.counts["gateway kills"] += 1
            try:
                await self._start(gateway)
            finally:  # a gateway that did not come back fails the calls waiting for it, never hangs them
                self._down.discard(victim)
                self._up.set()

    async def _victim(self, k: int) -> int:
        if len(self.gateways) == 1:
            return 0
        try:
            holders = await lease_holders(self.db.direct_url if self.db else self.database)
        except Exception:  # the database restarting: kill any
            holders = set()
        pids = [str(g.proc.pid) if g.proc else "" for g in self.gateways]
        holding = [n for n, pid in enumerate(pids) if any(h.endswith(f":{pid}") for h in holders)]
        if not holding:
            self.report.counts["kills with no lease held"] += 1
            return k % len(self.gateways)
        if k % 2 == 0:
            self.report.counts["kills of the instance holding the delivery lease"] += 1
            return holding[0]
        self.report.counts["kills beside the instance holding the delivery lease"] += 1
        return next(n for n in range(len(self.gateways)) if n != holding[0])

    async def _start(self, gateway: GatewayProcess) -> None:
        """Start a gateway process; one that finds its database down exits, and is started again."""
        for attempt in range(60):
            try:
                await gateway.start()
                return
            except RuntimeError:
                await gateway.kill()
                self.report.counts["gateway starts retried (database down)"] += 1
                if attempt == 59:
                    raise
                await asyncio.sleep(0.5)

    async def _restarter(self) -> None:
        """Database restarts: the first while the citizens write (half their reports answered), the others at
        even shares of the reports at the vendor (delivery busy)."""
        assert self.db is not None
        restarts = self.config.db_restarts
        for k in range(restarts):
            if k == 0:
                while len(self.sent) < self.config.requests / 2:  # noqa: ASYNC110 - the citizens' own count
                    await asyncio.sleep(0.05)
            else:
                await self._at_vendor(k / restarts)
            await self.db.restart()  # (a no-op unless "restart" is among the faults)

    async def _tell(self, started: float) -> None:
        """A line of progress every few seconds: reports sent, at the vendor, kills, what is still pending."""
        if self.progress is None:
            return
        base = await self._vendor_count()  # the vendor's own records from its seed
        while True:
            await asyncio.sleep(PROGRESS_EVERY_S)
            try:
                at_vendor = await self._vendor_count() - base
            except Exception:  # the vendor's control plane busy: this line says less, the next one tells
                at_vendor = -1
            db = f", database: {dict(self.db.counts)}" if self.db else ""
            self.progress(
                len(self.sent),
                f"{time.monotonic() - started:.0f} s, {len(self.sent)}/{self.config.requests} reports "
                f"accepted, {at_vendor if at_vendor >= 0 else '?'} at the vendor, "
                f"{self.report.counts['gateway kills']}/{self.config.kills} gateway kills{db}",
            )

    async def _vendor_count(self) -> int:
        assert self.side is not None
        return (await self.side.control.counts()).get(self.side.counted, 0)

    # -- the end ---------------------------------------------------------------------------------------

    async def _drain(self) -> None:
        """Delivery finishes what is left, faults still on; reconcile re-queues any dead letter. However long
        the backlog (a long run's is tens of thousands of rows), it only has to keep moving: the campaign
        fails when the vendor has seen no call for `stall_s`."""
        last_calls, last_move = -1, time.monotonic()
        while True:
            pending = (await self._admin("GET", "/outbox?state=pending"))["items"]
            if not pending:
                dead = (await self._admin("GET", "/outbox?state=dead"))["items"]
                if not dead:
                    return
                self.report.counts["dead letters re-queued by reconcile"] += len(dead)
                await self._admin("POST", "/jobs/reconcile/run", json={"integration_id": self.integration})
            calls = await self._vendor_calls()
            if calls != last_calls:
                last_calls, last_move = calls, time.monotonic()
            elif time.monotonic() - last_move > self.config.stall_s:
                self.report.problems.append(f"delivery stalled: no vendor call for {self.config.stall_s:.0f} s")
                return
            await asyncio.sleep(0.5)

    async def _vendor_calls(self) -> int:
        assert self.side is not None
        return (await self.side.control.journal(limit=1))["total"]

    async def _staff_comments(self) -> dict[str, tuple[str, str]]:
        """Vendor staff write on some delivered requests: an internal note (naming the caller) and a note for
        the citizen. A status poll then brings over what it should."""
        assert self.side is not None
        added: dict[str, tuple[str, str]] = {}
        for sent in self.sent[:: max(1, len(self.sent) // 20)]:
            found = await self.side.find(sent.public_id)
            if not found:
                continue
            internal = f"internal note on {sent.public_id}: caller {sent.email}"
            public = f"crew scheduled for {sent.public_id}"
            await self.side.staff_comment(found[0], internal, public=False)
            await self.side.staff_comment(found[0], public, public=True)
            added[sent.public_id] = (internal, public)
        await self._admin("POST", "/jobs/status_poll/run", json={"integration_id": self.integration})
        return added

    async def _media_sha(self, path: str) -> str:
        assert self.http is not None and self.gateways
        async with self.http.get(self.gateway.url + path) as resp:
            return hashlib.sha256(await resp.read()).hexdigest()

    async def _compare(self, staff: dict[str, tuple[str, str]]) -> None:
        """The gateway's public side is the truth the vendor must match; what citizens were told was taken
        must be on it. (A citizen who lost a connection to a kill and sent again may have made a second
        report or comment: that is Open311 without idempotency keys, not a loss or a duplicate delivery.)"""
        assert self.side is not None
        side, counts, problems = self.side, self.report.counts, self.report.problems
        counts["reports acknowledged"] = len(self.sent)
        counts["comments acknowledged"] = sum(len(s.comments) for s in self.sent)
        gate = asyncio.Semaphore(16)

        async def check(sent: Sent) -> None:
            async with gate:
                await self._check(sent, staff)

        await asyncio.gather(*(check(sent) for sent in self.sent))
        for email in sorted({s.email for s in self.sent}):
            people = await side.requesters(email)
            if people is None:
                break
            if people == 1:
                counts["citizens with one requester at the vendor"] += 1
            else:
                problems.append(f"{email}: {people} requesters at {side.label}")

    async def _check(self, sent: Sent, staff: dict[str, tuple[str, str]]) -> None:
        """One acknowledged report: on the public side, at the vendor once, its comments and photos."""
        assert self.side is not None
        side, counts, problems = self.side, self.report.counts, self.report.problems
        status, public = await self._call("GET", f"/open311/v2/requests/{sent.public_id}.json?extensions=true")
        if status != 200:
            problems.append(f"{sent.public_id}: acknowledged, then lost by the gateway ({status})")
            return
        _, comments = await self._call("GET", f"/open311/v2/requests/{sent.public_id}/comments.json")
        shown = json.dumps([public, comments]).lower()
        if sent.email in shown or sent.phone in shown:
            problems.append(f"{sent.public_id}: the citizen's e-mail or phone is on the public side")
        ours = [c["description"] for c in comments if c["description"].startswith("campaign report")]
        missing = [text for text, _ in sent.comments if text not in ours]
        if missing:
            problems.append(f"{sent.public_id}: acknowledged comments lost by the gateway: {missing}")
        # The report's media_url is its first photo, which may be a comment's: one path, one photo (the URL's
        # host is whichever instance answered).
        urls = [public[0].get("media_url"), *(c.get("media_url") for c in comments)]
        media = dict.fromkeys("/open311/" + u.split("/open311/", 1)[1] for u in urls if u and "/open311/" in u)
        photos = sorted([await self._media_sha(u) for u in media])
        told = [p for p in [sent.photo, *(p for _, p in sent.comments)] if p]
        if not set(told) <= set(photos):
            problems.append(f"{sent.public_id}: an acknowledged photo is not on the public side")

        found = await side.find(sent.public_id)
        if len(found) != 1:
            problems.append(f"{sent.public_id}: {len(found)} requests at {side.label}")
            if not found:
                return
        else:
            counts["reports at the vendor exactly once"] += 1
        held_comments, held_photos = await side.held(found[0])
        theirs = [text for text in held_comments if text in ours]
        if theirs == ours:
            counts["comments at the vendor once and in order"] += len(ours)
        else:
            problems.append(f"{sent.public_id}: comments at {side.label} {theirs}, on the public side {ours}")
        if sorted(held_photos) == photos:
            counts["photos at the vendor byte-exact and once"] += len(photos)
        else:
            problems.append(f"{sent.public_id}: photos at {side.label} {sorted(held_photos)}, public side {photos}")
        if sent.public_id in staff:
            internal, note = staff[sent.public_id]
            texts = [c["description"] for c in comments]
            if any(internal.lower() in t.lower() for t in texts):
                problems.append(f"{sent.public_id}: a {side.label} internal comment is on the public side")
            else:
                counts["internal vendor comments kept private"] += 1
            if texts.count(note) == 1:
                counts["public vendor comments on the public side once"] += 1
            else:
                problems.append(f"{sent.public_id}: the vendor's public comment is {texts.count(note)} times public")

    # -- the whole run ---------------------------------------------------------------------------------

    async def run(self) -> Report:
        config, seconds = self.config, self.report.seconds
        started = time.monotonic()
        side_type = SIDES[config.vendor]
        sim_config = simulator_config(
            side_type.sim, seed=config.seed, defects=frozenset(config.vendor_defects), **side_type.sim_options
        )
        # A gateway that gives up on a hung vendor after 1 s and delivers 16 requests at once: faults cost
        # the run less time, and more deliveries race each other for the same citizen. On a failing database,
        # a call gives up after 2 s (the citizen gets a 503 and tries again).
        # A claim holds a row 5 s: longer than a lookup and a write at 1 s each, so a delivery seldom finds its
        # claim lapsed before the write (it then leaves the row to the next run).
        settings = {**FAST, "VENDOR_TIMEOUT_S": "1", "OUTBOX_CONCURRENCY": "16", "DATABASE_TIMEOUT_S": "2"}
        settings["OUTBOX_CLAIM_S"] = "5"
        if config.db_faults:  # a lease outlives a renewal stuck for the database timeout, with room to stop
            settings["JOB_LEASE_S"] = "6"
        env = gateway_env(self.admin_token, self.api_key, settings)
        with tempfile.TemporaryDirectory(prefix="civic-campaign-") as scratch:
            async with contextlib.AsyncExitStack() as stack:
                if config.db_faults:
                    self.db = await stack.enter_async_context(
                        DatabaseFaults(config.db_faults, config.seed, config.db_fault_every_s)
                    )
                    self.database = self.db.gateway_url
                else:
                    self.database = config.database_url or f"sqlite:///{Path(scratch) / 'gateway.db'}"
                sims = await stack.enter_async_context(Stack({side_type.sim: sim_config}))
                http = await stack.enter_async_context(aiohttp.ClientSession())
                self.http, self.side = http, side_type(http, sims.url(side_type.sim))
                self.gateways = [GatewayProcess(self.database, env) for _ in range(config.instances)]
                for gateway in self.gateways:
                    stack.push_async_callback(gateway.stop)
                    await self._start(gateway)
                first = self.gateways[0]  # its /metrics (the outbox figures are the database's, the same on any)
                self.sampler = Sampler(lambda: first.url, config.sample_every_s).start()
                try:
                    await self._deliver_under_faults(started)
                finally:
                    self.report.samples = await asyncio.to_thread(self.sampler.stop)
        if config.gateway_thresholds:
            found = figures(self.report.samples) if self.report.samples else {}
            self.report.problems += judge(config.gateway_thresholds, found)
        seconds["total"] = time.monotonic() - started
        return self.report

    async def _deliver_under_faults(self, started: float) -> None:
        """Setup, citizens and delivery under every fault, then the comparison. A failure that stops the run
        (the gateway never answering, an admin call refused) is a problem of the report, not a crash."""
        config, seconds, problems = self.config, self.report.seconds, self.report.problems
        assert self.side is not None
        vendor = self.side.control
        calm = asyncio.Event()
        faults: dict[str, asyncio.Task[None]] = {}
        ticker = asyncio.create_task(self._tell(started))
        try:
            await self._setup()
            await self.side.login()
            p = per_kind_probability(config.fault_rate, len(FAULTS))
            await vendor.add_faults(*({**fault, "probability": p} for fault in FAULTS))
            faults_on = self._now()
            self._base = await self._vendor_count()
            faults["kill"] = asyncio.create_task(self._killer())
            if self.db is not None:
                faults["database restart"] = asyncio.create_task(self._restarter())
                faults["network fault"] = asyncio.create_task(self.db.network(calm))
            t0 = time.monotonic()
            await self._citizens()
            seconds["citizens"] = time.monotonic() - t0
            await self._drain()
            seconds["citizens and delivery"] = time.monotonic() - t0
            calm.set()  # the network faults end; the kills and restarts must all have been made
            for name, task in faults.items():
                if not task.done() and name != "network fault":  # every mark is below the number of reports
                    problems.append(f"delivery ended before every {name} was made")
                    task.cancel()
                (outcome,) = await asyncio.gather(task, return_exceptions=True)
                if isinstance(outcome, Exception):
                    problems.append(f"{name}: {outcome.__class__.__name__}: {outcome}")
            if self.db is not None:
                await self._drain()  # whatever the last fault held up
                self.report.counts.update(self.db.counts)
            self.report.faults = {r["kind"]: r["applied"] for r in await vendor.faults()}
            await vendor.clear_faults()
            self.report.events.append(Event(f"vendor faults on ({config.fault_rate:.0%})", faults_on, self._now()))
            self.report.counts["vendor calls"] = await self._vendor_calls()
            await self._compare(await self._staff_comments())
            broken, tails = await overlapping_runs(self.db.direct_url if self.db else self.database)
            problems.extend(f"two delivery runs overlapped: {o}" for o in broken[:20])
            if tails:  # a run that lost its lease stops taking rows; the deliveries it had begun still finish
                self.report.counts["delivery runs that lost their lease, overlapping the next"] = len(tails)
                self.report.counts["their longest overlap (ms)"] = round(max(tails) * 1000)
        except RuntimeError as exc:  # an admin call refused, a gateway that never came back
            problems.append(f"the campaign could not go on: {exc}")
        finally:
            for task in [ticker, *faults.values()]:
                task.cancel()
            await asyncio.gather(ticker, *faults.values(), return_exceptions=True)


def _form(fields: dict[str, str], photo: bytes | None) -> Any:
    if photo is None:
        return fields

    def build() -> aiohttp.FormData:
        form = aiohttp.FormData()
        for k, v in fields.items():
            form.add_field(k, v)
        form.add_field("media", photo, filename="photo.png", content_type="image/png")
        return form

    return build


def _sha(data: bytes | None) -> str | None:
    return hashlib.sha256(data).hexdigest() if data is not None else None


def run_campaign(config: CampaignConfig, progress: Callable[[int, str], None] | None = None) -> Report:
    return asyncio.run(Campaign(config, progress).run())
