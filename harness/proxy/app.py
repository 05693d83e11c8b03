"""The recording proxy as two aiohttp applications: the proxy itself (every path, every method, forwarded) and
its admin port (`/_proxy/`), kept apart so the proxied API keeps every path of its own and a client of the API
cannot read the recording.

Admin routes: `GET /_proxy/` (what it stands in front of, counts), `GET /_proxy/journal` (the exchanges in the
simulators' journal shape: `since`, `limit`, `violations`, `warnings`, `operation`), `DELETE /_proxy/journal`,
`GET /_proxy/har` (HAR 1.2) and `GET /_proxy/report` (the scorecard model as JSON).
"""

from __future__ import annotations

import asyncio
import contextlib
import secrets
import ssl
import time
from collections.abc import AsyncIterator, Mapping, Sequence
from dataclasses import dataclass, field
from typing import Any

import aiohttp
from aiohttp import web
from yarl import URL

from harness.traffic import har, rules, scorecard
from harness.traffic.analysis import Profile, profile
from harness.traffic.exchange import Exchange
from harness.traffic.masking import Masking

from ..version import version
from .forward import Capture, forward
from .harfile import HarFile
from .recorder import Recorder

LOOPBACK = "127.0.0.1"
BIG = 1024 * 1024  # request line and header limits: the upstream's front door decides, not the proxy's parser
FLAGS = {"true": True, "1": True, "false": False, "0": False}


@dataclass(frozen=True, slots=True)
class ProxySettings:
    kind: str  # cityworks | opengov | arcgis | city-api | open311
    upstream: str  # http(s)://host[:port][/base]
    version: str | None = None  # Cityworks: the version whose rules (auth scheme, operations) apply
    options: Mapping[str, str] = field(default_factory=dict)  # class and field names the rules read
    capture_limit: int = 8 * 1024 * 1024  # bytes of each body kept (all of them are hashed and forwarded)
    journal_size: int = 10_000  # exchanges kept
    max_bytes: int = 512 * 1024 * 1024  # bodies kept, all exchanges together
    upstream_timeout: float | None = None  # None: wait as long as the client does (see forward.py)
    ca_file: str | None = None  # CA bundle for an HTTPS upstream (default: the system's)
    insecure: bool = False  # do not check an HTTPS upstream's certificate
    redact: bool = False  # personal data pseudonymised in the journal, the HAR file and the reports
    har_file: str | None = None  # the conversation written here as it happens (harfile.py)

    def __post_init__(self) -> None:
        url = URL(self.upstream)
        if url.scheme not in ("http", "https") or not url.host:
            raise ValueError(f"--upstream must be an http:// or https:// URL, got {self.upstream!r}")
        if url.query_string or url.fragment:
            raise ValueError("--upstream takes no query or fragment: the client's path and query follow it")
        if self.capture_limit < 0 or self.journal_size < 1 or self.max_bytes < 0:
            raise ValueError("the capture limit and --max-bytes must be >= 0, the journal size >= 1")


class Proxy:
    def __init__(self, settings: ProxySettings) -> None:
        self.settings = settings
        self.upstream = URL(settings.upstream)
        self.profile: Profile = profile(settings.kind, settings.version, dict(settings.options))
        keys = self.profile.dialect.secret_keys if self.profile.dialect is not None else frozenset()
        self.masking = Masking(keys, secrets.token_bytes(32) if settings.redact else None)
        self.recorder = Recorder(self.profile, self.masking, settings.journal_size, max_bytes=settings.max_bytes)
        self.started = time.time()
        self._session: aiohttp.ClientSession | None = None

    # -- the proxy -------------------------------------------------------------------------------------------

    def _ssl(self) -> ssl.SSLContext | bool:
        if self.settings.insecure:
            return False
        return ssl.create_default_context(cafile=self.settings.ca_file) if self.settings.ca_file else True

    async def _client(self, app: web.Application) -> AsyncIterator[None]:
        # No pool limit (the upstream's front door decides), no cookie jar (a client's cookies are its own and
        # travel as its headers), no timeout of its own unless asked.
        connector = aiohttp.TCPConnector(limit=0, ssl=self._ssl())
        timeout = aiohttp.ClientTimeout(total=None, sock_connect=None)
        async with aiohttp.ClientSession(
            connector=connector, timeout=timeout, cookie_jar=aiohttp.DummyCookieJar(), auto_decompress=False
        ) as session:
            self._session = session
            yield
            self._session = None

    async def handle(self, request: web.Request) -> web.StreamResponse:
        assert self._session is not None
        capture = Capture(self.settings.capture_limit)
        started = time.time()
        try:
            return await forward(
                request, self._session, self.upstream, tap=capture, upstream_timeout=self.settings.upstream_timeout
            )
        finally:
            self.recorder.record(
                request.method,
                request.path,
                request.rel_url.raw_query_string,
                capture.request_headers,
                started,
                time.time(),
                capture,
            )

    async def _har_file(self, app: web.Application) -> AsyncIterator[None]:
        assert self.settings.har_file is not None
        out = HarFile(self.settings.har_file, self.settings.upstream, self.masking, self.profile.describe(), version())
        out.open()
        self.recorder.listeners.append(out.add)
        writer = asyncio.create_task(out.run())
        try:
            yield
        finally:
            writer.cancel()
            with contextlib.suppress(asyncio.CancelledError):
                await writer
            self.recorder.listeners.remove(out.add)
            out.close()

    def app(self) -> web.Application:
        app = web.Application()
        app.cleanup_ctx.append(self._client)
        if self.settings.har_file is not None:
            app.cleanup_ctx.append(self._har_file)
        app.router.add_route("*", "/{tail:.*}", self.handle)
        return app

    # -- what it recorded ------------------------------------------------------------------------------------

    def exchanges(self) -> list[Exchange]:
        return self.recorder.judged()

    def har(self) -> dict[str, Any]:
        return har.document(self.exchanges(), self.settings.upstream, self.masking, self.profile.describe(), version())

    def report(self, command: str) -> dict[str, Any]:
        exchanges = self.exchanges()
        findings = rules.judge(self.profile, exchanges)
        return scorecard.model(
            self.profile.kind,
            findings,
            exchanges,
            self.recorder.journal,
            command=command,
            started=self.started,
            duration_s=time.time() - self.started,
            dropped=self.recorder.dropped,
        )

    # -- the admin port ----------------------------------------------------------------------------------------

    def admin_app(self) -> web.Application:
        app = web.Application()
        app.router.add_get("/_proxy/", self._status)
        app.router.add_get("/_proxy/journal", self._journal)
        app.router.add_delete("/_proxy/journal", self._clear)
        app.router.add_get("/_proxy/har", self._har)
        app.router.add_get("/_proxy/report", self._report)
        return app

    def _stats(self) -> dict[str, int]:
        return self.recorder.stats()

    async def _status(self, request: web.Request) -> web.Response:
        kind = self.profile.kind
        listed = [
            {"rule": r.name, "side": r.side, "requirements": list(r.requirements[kind]), "needs": r.needs}
            for r in rules.rules_for(kind)
        ]
        described = {"proxy": kind, "upstream": self.settings.upstream, **self.profile.describe()}
        return web.json_response({**described, "journal": self._stats(), "rules": listed})

    async def _journal(self, request: web.Request) -> web.Response:
        q = request.query
        try:
            since = int(q.get("since", "0"))
            limit = int(q["limit"]) if "limit" in q else None
            flags = {name: FLAGS[q.get(name, "false").lower()] for name in ("violations", "warnings")}
        except (ValueError, KeyError):
            return _error(400, "invalid_filter", "since and limit are integers; violations and warnings true or false")
        if limit is not None and limit < 1:
            return _error(400, "invalid_filter", "limit must be at least 1")
        entries: Sequence[Exchange] = await self.recorder.judged_soon(since)
        operation = q.get("operation")
        entries = [
            ex
            for ex in entries
            if (not flags["violations"] or ex.violations)
            and (not flags["warnings"] or ex.warnings)
            and (operation is None or (ex.operation or "").lower() == operation.lower())
        ]
        if limit:
            entries = entries[-limit:]
        return web.json_response({**self._stats(), "entries": self.recorder.journal(entries)})

    async def _clear(self, request: web.Request) -> web.Response:
        self.recorder.clear()
        return web.json_response({"cleared": True})

    async def _har(self, request: web.Request) -> web.Response:
        await self.recorder.judged_soon()  # the analysis in small steps first, beside the traffic
        return web.json_response(self.har())

    async def _report(self, request: web.Request) -> web.Response:
        await self.recorder.judged_soon()
        return web.json_response(self.report(f"GET {request.url}"))


def _error(status: int, code: str, message: str) -> web.Response:
    return web.json_response({"error": {"code": code, "message": message}}, status=status)


class Serving:
    """The proxy and its admin port served on loopback (or given) addresses, `async with`."""

    def __init__(
        self, proxy: Proxy, host: str = LOOPBACK, port: int = 0, admin_host: str = LOOPBACK, admin_port: int = 0
    ) -> None:
        self.proxy = proxy
        self.where = ((host, port), (admin_host, admin_port))
        self.runners: list[web.AppRunner] = []
        self.url = self.admin_url = ""

    async def start(self) -> Serving:
        urls = []
        for app, (host, port) in zip((self.proxy.app(), self.proxy.admin_app()), self.where, strict=True):
            # handler_cancellation: a client that gives up cancels its handler, so the upstream call goes with it.
            runner = web.AppRunner(
                app, access_log=None, handler_cancellation=True, max_line_size=BIG, max_field_size=BIG
            )
            await runner.setup()
            self.runners.append(runner)
            await web.TCPSite(runner, host, port).start()
            bound_host, bound_port = runner.addresses[0][:2]
            shown = f"[{bound_host}]" if ":" in bound_host else bound_host
            urls.append(f"http://{shown}:{bound_port}")
        self.url, self.admin_url = urls
        return self

    async def stop(self) -> None:
        runners, self.runners = self.runners, []
        for runner in reversed(runners):
            await runner.cleanup()

    async def __aenter__(self) -> Serving:
        try:
            return await self.start()
        except BaseException:
            await self.stop()
            raise

    async def __aexit__(self, *exc: Any) -> None:
        await self.stop()
