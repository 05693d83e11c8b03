"""The fault campaign: citizens report through the gateway while Cityworks fails a set share of its calls
in every way the kit knows and the gateway process is killed (SIGKILL) and started again mid-delivery.
At the end, the gateway's public side is compared with what Cityworks holds.

What must hold (H-REL-1):
- every report the gateway acknowledged is still there after the kills, and is at Cityworks exactly once;
- every public comment is at Cityworks exactly once, in the order the gateway took them;
- every photo is at Cityworks byte for byte (SHA-256), once;
- nothing private crosses over: the citizen's e-mail and phone never on the public side, and Cityworks'
  internal comments never on the public side, while its "To SCF:" comments come over once.
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
from dataclasses import asdict, dataclass, field
from pathlib import Path
from typing import Any

import aiohttp
from shapely.geometry import mapping

from simulators.kit import city
from simulators.kit.faults import APPLY_THEN_FAIL, ERROR, MALFORMED, RATE_LIMIT, RESET, TIMEOUT

from .bundled import simulator_config
from .gateway_process import FAST, GatewayProcess, gateway_env
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
SCF = "To SCF:"


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
    drain_timeout_s: float = 600.0
    vendor_defects: tuple[str, ...] = ()  # Cityworks simulator defects: prove the checks catch a broken vendor


@dataclass
class Report:
    config: dict[str, Any]
    counts: Counter[str] = field(default_factory=Counter)
    faults: dict[str, int] = field(default_factory=dict)
    problems: list[str] = field(default_factory=list)
    seconds: dict[str, float] = field(default_factory=dict)

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


class Campaign:
    def __init__(self, config: CampaignConfig) -> None:
        self.config = config
        self.rng = random.Random(config.seed)
        self.admin_token = secrets.token_urlsafe(24)
        self.api_key = secrets.token_urlsafe(12)
        self.report = Report(config=asdict(config))
        self.sent: list[Sent] = []
        self.gateway: GatewayProcess | None = None
        self.http: aiohttp.ClientSession | None = None
        self.cw = ""
        self.code = ""
        self._restarting = asyncio.Event()
        self._restarting.set()  # set = the gateway is up
        self._cw_token = ""
        self.integration = 0

    # -- the gateway, through its APIs, riding out restarts -----------------------------------------

    async def _call(self, method: str, path: str, *, admin: bool = False, **kwargs: Any) -> tuple[int, Any]:
        """One call to whichever gateway process is up; a connection lost to a kill is tried again once the
        gateway is back (a citizen's app does the same). Returns (status, parsed body)."""
        assert self.http is not None and self.gateway is not None
        headers = {"Authorization": f"Bearer {self.admin_token}"} if admin else {}
        for _ in range(40):
            await self._restarting.wait()
            url = self.gateway.url + path
            data = kwargs.get("data")
            if callable(data):  # a multipart form cannot be sent twice: build it per try
                kwargs = {**kwargs, "data": data()}
            try:
                async with self.http.request(method, url, headers=headers, **kwargs) as resp:
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
        integration = await self._admin(
            "POST",
            "/integrations",
            json={"name": "Cityworks", "vendor": "cityworks", "version": "23", "base_url": self.cw,
                  "username": "harness", "secret": "harness"},
        )  # fmt: skip

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
        email, phone = f"citizen{n}@campaign.example", f"555-01{n:05d}"
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
        sent = Sent(body[0]["service_request_id"], email, phone, _sha(photo))
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
        """SIGKILL when Cityworks holds evenly spaced shares of the reports (so each kill lands while
        delivery is busy), then start again on the same database."""
        assert self.gateway is not None
        base = await self._vendor_requests()
        marks = [self.config.requests * (k + 1) // (self.config.kills + 1) for k in range(self.config.kills)]
        for mark in marks:
            while await self._vendor_requests() - base < mark:  # noqa: ASYNC110 - the count is another server's
                await asyncio.sleep(0.05)
            self._restarting.clear()
            await self.gateway.kill()
            self.report.counts["gateway kills"] += 1
            await self.gateway.start()
            self._restarting.set()

    async def _vendor_requests(self) -> int:
        assert self.http is not None
        async with self.http.get(f"{self.cw}/_sim/counts") as resp:
            return (await resp.json())["counts"]["requests"]

    # -- the end ---------------------------------------------------------------------------------------

    async def _drain(self) -> None:
        """Delivery finishes what is left, faults still on; reconcile re-queues any dead letter."""
        deadline = time.monotonic() + self.config.drain_timeout_s
        while time.monotonic() < deadline:
            pending = (await self._admin("GET", "/outbox?state=pending"))["items"]
            if not pending:
                dead = (await self._admin("GET", "/outbox?state=dead"))["items"]
                if not dead:
                    return
                self.report.counts["dead letters re-queued by reconcile"] += len(dead)
                await self._admin("POST", "/jobs/reconcile/run", json={"integration_id": self.integration})
            await asyncio.sleep(0.5)
        self.report.problems.append(f"the outbox did not drain within {self.config.drain_timeout_s:.0f} s")

    async def _cityworks(self, path: str, data: dict[str, Any]) -> Any:
        assert self.http is not None
        async with self.http.post(
            f"{self.cw}/Services/{path}",
            data={"data": json.dumps(data)},
            headers={"Authorization": f"cityworks {self._cw_token}"},
        ) as resp:
            return (await resp.json())["Value"]

    async def _sim(self, action: str, **payload: Any) -> Any:
        assert self.http is not None
        async with self.http.post(f"{self.cw}/_sim/actions/{action}", json=payload) as resp:
            body = await resp.json()
            if resp.status != 200:
                raise RuntimeError(f"simulator action {action}: {body}")
            return body["result"]

    async def _vendor_side_comments(self) -> dict[str, tuple[str, str]]:
        """Cityworks staff write on some delivered requests: an internal note (naming the caller) and a note
        for the citizen ("To SCF:"). A status poll then brings over what it should."""
        added: dict[str, tuple[str, str]] = {}
        for sent in self.sent[:: max(1, len(self.sent) // 20)]:
            srs = await self._by_reference(sent.public_id)
            if not srs:
                continue
            internal = f"internal note on {sent.public_id}: caller {sent.email}"
            public = f"crew scheduled for {sent.public_id}"
            await self._sim("add-comment", RequestId=srs[0]["RequestId"], text=internal)
            await self._sim("add-comment", RequestId=srs[0]["RequestId"], text=public, to_scf=True)
            added[sent.public_id] = (internal, public)
        await self._admin("POST", "/jobs/status_poll/run", json={"integration_id": self.integration})
        return added

    async def _by_reference(self, public_id: str) -> list[dict[str, Any]]:
        return await self._cityworks("Ams/ServiceRequest/ByOtherSystemId", {"OtherSystemId": public_id}) or []

    async def _media_sha(self, url: str) -> str:
        assert self.http is not None and self.gateway is not None
        path = "/open311/" + url.split("/open311/", 1)[1]  # the URL names whichever process wrote the answer
        async with self.http.get(self.gateway.url + path) as resp:
            return hashlib.sha256(await resp.read()).hexdigest()

    async def _compare(self, staff: dict[str, tuple[str, str]]) -> None:
        """The gateway's public side is the truth the vendor must match; what citizens were told was taken
        must be on it. (A citizen who lost a connection to a kill and sent again may have made a second
        report or comment: that is Open311 without idempotency keys, not a loss or a duplicate delivery.)"""
        counts, problems = self.report.counts, self.report.problems
        counts["reports acknowledged"] = len(self.sent)
        counts["comments acknowledged"] = sum(len(s.comments) for s in self.sent)
        for sent in self.sent:
            status, public = await self._call("GET", f"/open311/v2/requests/{sent.public_id}.json?extensions=true")
            if status != 200:
                problems.append(f"{sent.public_id}: acknowledged, then lost by the gateway ({status})")
                continue
            _, comments = await self._call("GET", f"/open311/v2/requests/{sent.public_id}/comments.json")
            shown = json.dumps([public, comments])
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

            srs = await self._by_reference(sent.public_id)
            if len(srs) != 1:
                problems.append(f"{sent.public_id}: {len(srs)} service requests at Cityworks")
                if not srs:
                    continue
            else:
                counts["reports at the vendor exactly once"] += 1
            held = await self._sim("get-request", RequestId=srs[0]["RequestId"])
            theirs = [text for c in held["comments"] if (text := c.get("Comments") or "") in ours]
            if theirs == ours:
                counts["comments at the vendor once and in order"] += len(ours)
            else:
                problems.append(f"{sent.public_id}: comments at Cityworks {theirs}, on the public side {ours}")
            held_photos = sorted(a["sha256"] for a in held["attachments"])
            if held_photos == photos:
                counts["photos at the vendor byte-exact and once"] += len(photos)
            else:
                problems.append(f"{sent.public_id}: photos at Cityworks {held_photos}, public side {photos}")
            if sent.public_id in staff:
                internal, note = staff[sent.public_id]
                texts = [c["description"] for c in comments]
                if any(internal in t for t in texts) or sent.email in shown:
                    problems.append(f"{sent.public_id}: a Cityworks internal comment is on the public side")
                else:
                    counts["internal vendor comments kept private"] += 1
                if texts.count(note) == 1:
                    counts["'To SCF:' comments on the public side once"] += 1
                else:
                    problems.append(f"{sent.public_id}: the 'To SCF:' comment is {texts.count(note)} times public")

    # -- the whole run ---------------------------------------------------------------------------------

    async def run(self) -> Report:
        config, seconds = self.config, self.report.seconds
        started = time.monotonic()
        cw_config = simulator_config(
            "cityworks", version="23", seed=config.seed, defects=frozenset(config.vendor_defects)
        )
        with tempfile.TemporaryDirectory(prefix="civic-campaign-") as scratch:
            database = config.database_url or f"sqlite:///{Path(scratch) / 'gateway.db'}"
            env = gateway_env(self.admin_token, self.api_key, {**FAST, "VENDOR_TIMEOUT_S": "2"})
            async with Stack({"cityworks": cw_config}) as sims, aiohttp.ClientSession() as http:
                self.http, self.cw = http, sims.url("cityworks")
                self.gateway = GatewayProcess(database, env)
                await self.gateway.start()
                try:
                    await self._setup()
                    self._cw_token = await self._login()
                    p = per_kind_probability(config.fault_rate, len(FAULTS))
                    for fault in FAULTS:
                        await self._faults("POST", {**fault, "probability": p})
                    killer = asyncio.create_task(self._killer())
                    t0 = time.monotonic()
                    await self._citizens()
                    seconds["citizens"] = time.monotonic() - t0
                    await self._drain()
                    seconds["citizens and delivery"] = time.monotonic() - t0
                    if not killer.done():  # every kill mark is below the number of reports
                        self.report.problems.append("delivery ended before every kill was made")
                        killer.cancel()
                    await asyncio.gather(killer, return_exceptions=True)
                    applied = await self._faults("GET")
                    self.report.faults = {r["kind"]: r["applied"] for r in applied["faults"]}
                    await self._faults("DELETE")
                    async with http.get(f"{self.cw}/_sim/journal", params={"limit": "1"}) as resp:
                        self.report.counts["vendor calls"] = (await resp.json())["total"]
                    await self._compare(await self._vendor_side_comments())
                finally:
                    await self.gateway.stop()
        seconds["total"] = time.monotonic() - started
        return self.report

    async def _login(self) -> str:
        assert self.http is not None
        async with self.http.post(
            f"{self.cw}/Services/General/Authentication/Authenticate",
            data={"data": json.dumps({"LoginName": "harness", "Password": "harness"})},
        ) as resp:
            return (await resp.json())["Value"]["Token"]

    async def _faults(self, method: str, body: Any = None) -> Any:
        assert self.http is not None
        async with self.http.request(method, f"{self.cw}/_sim/faults", json=body) as resp:
            if resp.status >= 400:
                raise RuntimeError(f"faults {method}: {resp.status} {await resp.text()}")
            return await resp.json()


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


def run_campaign(config: CampaignConfig) -> Report:
    return asyncio.run(Campaign(config).run())
