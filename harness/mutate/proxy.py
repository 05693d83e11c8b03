"""A reverse proxy in front of a simulator, so the suites meet it as they would a vendor's real server.

A real vendor has no `/_sim` control plane: the proxy answers every `/_sim` path as a plain web server
answers a path it does not have (404, HTML) and forwards everything else byte for byte — method, raw path
and query, headers, body — and the answer back the same way. Given front-door limits (contracts/front_door.py),
it also answers like IIS's request filtering: a call over `maxQueryString`, `maxUrl` or `maxAllowedContentLength`
gets IIS's own remote-client 404 page (the 404.15 / 404.14 / 404.13 sub-statuses never reach the wire) and never reaches
the simulator. Given a `Tap` (tap.py), every call and answer passes through it: `civic-harness mutate` turns
the simulator into a server with one defect that way. The project's tests certify through the plain proxy.
"""

from __future__ import annotations

import asyncio
import threading
from collections.abc import Iterator
from concurrent.futures import Future
from contextlib import contextmanager
from typing import Any

import aiohttp
from aiohttp import web
from multidict import CIMultiDict
from yarl import URL

from contracts.front_door import Limits
from harness.proxy.forward import inbound_headers, outbound_headers, raw_text
from simulators.kit.frontdoor import refusal

from .exchange import Request, Response
from .tap import Tap

LOOPBACK = "127.0.0.1"
BIG = 1024 * 1024  # request line and header limits: oversized calls must reach the front door's own rules
# Which headers travel is the recording proxy's rule (harness/proxy/forward.py, RFC 9110 7.6.1), one place for
# both proxies. This one buffers to rewrite, so Content-Length is recomputed from the bytes it forwards.
RECOMPUTED = "Content-Length"
PLAIN_NOT_FOUND = (
    "<html>\r\n<head><title>404 Not Found</title></head>\r\n<body>\r\n<center><h1>404 Not Found</h1></center>\r\n"
    "</body>\r\n</html>\r\n"
)


def refuses(limits: Limits, raw_path: str, length: int | None) -> bool:
    path, _, query = raw_path.partition("?")
    return bool(
        limits.exceeded(len(path.encode("latin-1", "replace")), len(query.encode("latin-1", "replace")), length or 0)
    )


def _iis_not_found() -> web.Response:
    answer = refusal()  # what the simulators' own front door answers: one page, one place
    answer.headers["X-Powered-By"] = "ASP.NET"
    return answer


def create_proxy(upstream: str, front_door: Limits | None = None, tap: Tap | None = None) -> web.Application:
    origin = upstream.rstrip("/")
    session_key = web.AppKey("session", aiohttp.ClientSession)

    async def client(app: web.Application) -> Any:
        timeout = aiohttp.ClientTimeout(total=300)
        async with aiohttp.ClientSession(timeout=timeout, auto_decompress=False) as session:
            app[session_key] = session
            yield

    async def forward(request: web.Request) -> web.StreamResponse:
        raw_path = request.raw_path
        if raw_path.split("?", 1)[0].lower().startswith("/_sim"):
            if front_door is not None:
                return _iis_not_found()
            return web.Response(status=404, text=PLAIN_NOT_FOUND, content_type="text/html")
        if front_door is not None and refuses(front_door, raw_path, request.content_length):
            return _iis_not_found()  # IIS refuses before the application reads the body
        body = await request.read()
        if front_door is not None and refuses(front_door, raw_path, len(body)):
            return _iis_not_found()  # a chunked body over the limit
        sent = Request(
            request.method,
            raw_path.split("?", 1)[0],
            request.rel_url.raw_query_string,
            _without_length(outbound_headers(raw_text(request.raw_headers)).items()),
            body,
            tap.operation(request.method, request.path) if tap is not None else None,
        )
        call = tap.request(sent) if tap is not None else sent
        url = URL(origin + call.path + (f"?{call.query}" if call.query else ""), encoded=True)  # no re-quoting
        try:
            async with request.app[session_key].request(
                call.method,
                url,
                headers=CIMultiDict(call.headers),
                data=call.body if call.body or request.can_read_body else None,
                allow_redirects=False,
                skip_auto_headers=("Accept", "Accept-Encoding", "User-Agent", "Content-Type"),
            ) as upstream_resp:
                content = await upstream_resp.read()
                back = _without_length(inbound_headers(raw_text(upstream_resp.raw_headers)).items())
                answer = Response(upstream_resp.status, back, content)
                if tap is not None:
                    answer = tap.response(call, sent, answer)
                return web.Response(status=answer.status, headers=CIMultiDict(answer.headers), body=answer.body)
        except (TimeoutError, aiohttp.ClientError):
            return web.Response(
                status=502, text="<html><body><h1>502 Bad Gateway</h1></body></html>", content_type="text/html"
            )

    app = web.Application(client_max_size=64 * 1024 * 1024)
    app.cleanup_ctx.append(client)
    app.router.add_route("*", "/{tail:.*}", forward)
    return app


def _without_length(pairs: Any) -> tuple[tuple[str, str], ...]:
    return tuple((k, v) for k, v in pairs if k.lower() != RECOMPUTED.lower())


class ThreadedApp:
    """An aiohttp app served on a loopback port from a background thread's event loop, for synchronous tests."""

    def __init__(self, app: web.Application) -> None:
        self.app = app
        self.url = ""
        self._loop = asyncio.new_event_loop()
        self._thread = threading.Thread(target=self._loop.run_forever, name="vendor-proxy", daemon=True)
        self._runner: web.AppRunner | None = None

    def _call(self, coro: Any) -> Any:
        future: Future[Any] = asyncio.run_coroutine_threadsafe(coro, self._loop)
        return future.result()

    async def _start(self) -> None:
        self._runner = web.AppRunner(self.app, access_log=None, max_line_size=BIG, max_field_size=BIG)
        await self._runner.setup()
        site = web.TCPSite(self._runner, LOOPBACK, 0)
        await site.start()
        host, port = self._runner.addresses[0][:2]
        self.url = f"http://{host}:{port}"

    def __enter__(self) -> ThreadedApp:
        self._thread.start()
        self._call(self._start())
        return self

    def __exit__(self, *exc: Any) -> None:
        if self._runner is not None:
            self._call(self._runner.cleanup())
        self._loop.call_soon_threadsafe(self._loop.stop)
        self._thread.join(10)
        self._loop.close()


@contextmanager
def behind_proxy(upstream: str, front_door: Limits | None = None, tap: Tap | None = None) -> Iterator[str]:
    """The URL of a reverse proxy in front of `upstream` (with IIS's limits when given, through `tap` if given)."""
    with ThreadedApp(create_proxy(upstream, front_door, tap)) as proxy:
        yield proxy.url
