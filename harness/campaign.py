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
"""

from __future__ import annotations

import asyncio
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
        self.gateway: GatewayProcess | None = None
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

    async def _call(self, method: str, path: str, *, admin: bool = False, **kwargs: Any) -> tuple[int, Any]:
        """One call to whichever gateway process is up; a connection lost to a kill is tried again once the
        gateway is back (a citizen's app does the same). Returns (status, parsed body)."""
        assert self.http is not None and self.gateway is not None
        headers = {"Authorization": f"Bearer {self.admin_token}"} if admin else {}
        for _ in range(40):
            await self._up.wait()
            data = kwargs.get("data")
            if callable(data):  # a multipart form cannot be sent twice: build it per try
                kwargs = {**kwargs, "data": data()}
            try:
                async with self.http.request(method, self.gateway.url + path, headers=headers, **kwargs) as resp:
                    text = await resp.text()
                    return resp.status, (json.loads(text) if text else None)
            except (aiohttp.ClientConnectionError, TimeoutError):
                self.report.counts["citizen retries after a lost connection"] += 1
                await asyncio.sleep(0.2)
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

    async def _killer(self) -> None:
        """SIGKILL when the vendor holds evenly spaced shares of the reports (so each kill lands while
        delivery is busy), then start again on the same database."""
        assert self.gateway is not None
        base = await self._vendor_count()
        marks = [self.config.requests * (k + 1) // (self.config.kills + 1) for k in range(self.config.kills)]
        for mark in marks:
            while await self._vendor_count() - base < mark:  # noqa: ASYNC110 - the count is another server's
                await asyncio.sleep(0.05)
            self._up.clear()
            self.report.events.append(Event(f"kill {self.report.counts['gateway kills'] + 1}", self._now()))
            await self.gateway.kill()
            self.report.counts["gateway kills"] += 1
            try:
                await self.gateway.start()
            finally:  # a gateway that did not come back fails the calls waiting for it, never hangs them
                self._up.set()

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
            self.progress(
                len(self.sent),
                f"{time.monotonic() - started:.0f} s, {len(self.sent)}/{self.config.requests} reports "
                f"accepted, {at_vendor if at_vendor >= 0 else '?'} at the vendor, "
                f"{self.report.counts['gateway kills']}/{self.config.kills} gateway kills",
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

    async def _media_sha(self, url: str) -> str:
        assert self.http is not None and self.gateway is not None
        path = "/open311/" + url.split("/open311/", 1)[1]  # the URL names whichever process wrote the answer
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
        # The report's media_url is its first photo, which may be a comment's: one URL, one photo.
        media = dict.fromkeys(u for u in [public[0].get("media_url"), *(c.get("media_url") for c in comments)] if u)
        photos = sorted([await self._media_sha(u) for u in media if "/open311/" in u])
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
        with tempfile.TemporaryDirectory(prefix="civic-campaign-") as scratch:
            database = config.database_url or f"sqlite:///{Path(scratch) / 'gateway.db'}"
            # A gateway that gives up on a hung vendor after 1 s and delivers 16 requests at once: faults cost
            # the run less time, and more deliveries race each other for the same citizen.
            env = gateway_env(
                self.admin_token, self.api_key, {**FAST, "VENDOR_TIMEOUT_S": "1", "OUTBOX_CONCURRENCY": "16"}
            )
            async with Stack({side_type.sim: sim_config}) as sims, aiohttp.ClientSession() as http:
                self.http, self.side = http, side_type(http, sims.url(side_type.sim))
                vendor = self.side.control
                self.gateway = GatewayProcess(database, env)
                await self.gateway.start()
                gateway = self.gateway
                self.sampler = Sampler(lambda: gateway.url, config.sample_every_s).start()
                try:
                    await self._setup()
                    await self.side.login()
                    p = per_kind_probability(config.fault_rate, len(FAULTS))
                    await vendor.add_faults(*({**fault, "probability": p} for fault in FAULTS))
                    faults_on = self._now()
                    killer = asyncio.create_task(self._killer())
                    ticker = asyncio.create_task(self._tell(started))
                    t0 = time.monotonic()
                    await self._citizens()
                    seconds["citizens"] = time.monotonic() - t0
                    await self._drain()
                    seconds["citizens and delivery"] = time.monotonic() - t0
                    if not killer.done():  # every kill mark is below the number of reports
                        self.report.problems.append("delivery ended before every kill was made")
                        killer.cancel()
                    (outcome,) = await asyncio.gather(killer, return_exceptions=True)
                    if isinstance(outcome, Exception):
                        self.report.problems.append(f"the gateway did not start again after a kill: {outcome}")
                    self.report.faults = {r["kind"]: r["applied"] for r in await vendor.faults()}
                    await vendor.clear_faults()
                    self.report.events.append(
                        Event(f"vendor faults on ({config.fault_rate:.0%})", faults_on, self._now())
                    )
                    self.report.counts["vendor calls"] = await self._vendor_calls()
                    ticker.cancel()
                    await self._compare(await self._staff_comments())
                finally:
                    self.report.samples = await asyncio.to_thread(self.sampler.stop)
                    await self.gateway.stop()
        if config.gateway_thresholds:
            found = figures(self.report.samples) if self.report.samples else {}
            self.report.problems += judge(config.gateway_thresholds, found)
        seconds["total"] = time.monotonic() - started
        return self.report


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
