"""How the gateway is served: `GatewayRunner` is aiohttp's AppRunner with a header deadline on every
connection, which aiohttp itself does not have (it waits for a request's headers as long as the keep-alive
timeout, 75 s, and longer while bytes keep trickling in).

A request's line and headers must be complete within `header_timeout_s` of its first byte (of the
connection's opening, for the first request): else the client gets a bare 408 and the connection closes, as
nginx's client_header_timeout does. An idle kept-alive connection is still the keep-alive timeout's to
close. Bodies have their own deadline (gateway.api.bodies.body_deadline), where the API's format is known.
"""

from __future__ import annotations

import asyncio
from typing import Any

from aiohttp import web
from aiohttp.web_protocol import RequestHandler

from .appkeys import SETTINGS

TIMED_OUT = (
    b"HTTP/1.1 408 Request Timeout\r\n"
    b"Content-Type: text/plain; charset=utf-8\r\n"
    b"Content-Length: 36\r\n"
    b"Connection: close\r\n"
    b"\r\n"
    b"the request headers did not arrive\r\n"
)


class HeaderDeadline(RequestHandler):
    """aiohttp's connection handler, closing a connection whose request headers are too slow to arrive."""

    __slots__ = ("_header_timeout_s", "_header_timer")

    def __init__(self, manager: Any, *, header_timeout_s: float, **kwargs: Any) -> None:
        super().__init__(manager, **kwargs)
        self._header_timeout_s = header_timeout_s
        self._header_timer: asyncio.TimerHandle | None = None

    def connection_made(self, transport: asyncio.BaseTransport) -> None:
        super().connection_made(transport)
        self._arm()

    def data_received(self, data: bytes) -> None:
        requests_before = self._request_count
        super().data_received(data)
        if self._request_count != requests_before:  # a request's headers are in (or refused as malformed)
            self._disarm()
        elif self._header_timer is None and self._waiting_for_request():
            self._arm()  # the first bytes of the next request on a kept-alive connection

    def connection_lost(self, exc: BaseException | None) -> None:
        self._disarm()
        super().connection_lost(exc)

    def _waiting_for_request(self) -> bool:
        """No request is being handled: bytes arriving now are a new request's line and headers."""
        return self._waiter is not None and not self._waiter.done()

    def _arm(self) -> None:
        self._disarm()
        self._header_timer = self._loop.call_later(self._header_timeout_s, self._too_slow)

    def _disarm(self) -> None:
        if self._header_timer is not None:
            self._header_timer.cancel()
            self._header_timer = None

    def _too_slow(self) -> None:
        self._header_timer = None
        if self.transport is not None and not self._force_close:
            self.transport.write(TIMED_OUT)
            self.force_close()  # closes the transport once the 408 is written


class GatewayServer(web.Server):
    """aiohttp's Server (the protocol factory) making HeaderDeadline connections."""

    def __init__(self, *args: Any, header_timeout_s: float, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self.header_timeout_s = header_timeout_s

    def __call__(self) -> RequestHandler:
        return HeaderDeadline(self, loop=self._loop, header_timeout_s=self.header_timeout_s, **self._kwargs)


class GatewayRunner(web.AppRunner):
    """The gateway application's runner: every way the gateway is served (harness.stack, the CLI) uses it."""

    async def _make_server(self) -> web.Server:
        plain = await super()._make_server()  # the application started, as AppRunner does it
        return GatewayServer(
            plain.request_handler,
            request_factory=plain.request_factory,
            handler_cancellation=plain.handler_cancellation,
            loop=plain._loop,
            header_timeout_s=self.app[SETTINGS].header_timeout_s,
            **plain._kwargs,
        )
