"""How much of a request body the gateway reads. A body that declares itself too large is refused before a
byte of it is read; a multipart or chunked one (whose size is not known up front) is counted as it
streams and refused the moment it passes the limit, so nothing larger is ever held in memory. Parts are
taken as sent: a part's own Content-Encoding is not inflated (RFC 7578 forms never need it, and it would
be a decompression bomb's way in). A body must also arrive in time (`body_deadline`): a client that
declares a body and trickles it, or stops, does not hold its connection and handler for long."""

from __future__ import annotations

import asyncio
from typing import Any

from aiohttp import BodyPartReader, web

from ..appkeys import SETTINGS
from ..settings import FORM_ROOM

MAX_GEOGRAPHY_BYTES = 50 * 1024 * 1024  # a city's boundary as a zipped shapefile can be large
GEOGRAPHY_UPLOAD = ("POST", "/admin/v1/geographies")


class TooLarge(Exception):
    def __init__(self, what: str, limit: int) -> None:
        super().__init__(f"{what} is larger than {limit} bytes")
        self.what, self.limit = what, limit


def body_limit(request: web.Request) -> int:
    """The one place that says how large a request body may be."""
    if (request.method, request.path) == GEOGRAPHY_UPLOAD:
        return MAX_GEOGRAPHY_BYTES + FORM_ROOM
    return request.app[SETTINGS].max_body_bytes


def declared_too_large(request: web.Request) -> bool:
    length = request.content_length
    return length is not None and length > body_limit(request)


class Budget:
    """Bytes a multipart body may still use, across all its parts."""

    def __init__(self, limit: int) -> None:
        self.limit, self.left = limit, limit

    async def read(self, part: BodyPartReader, what: str, limit: int | None = None) -> bytes:
        """One part, whole, refused as soon as it passes its own limit or the body's."""
        data = bytearray()
        while chunk := await part.read_chunk(64 * 1024):
            data += chunk
            self.left -= len(chunk)
            if self.left < 0:
                raise TooLarge("the request body", self.limit)
            if limit is not None and len(data) > limit:
                raise TooLarge(what, limit)
        return bytes(data)


def budget(request: web.Request) -> Budget:
    return Budget(body_limit(request))


class BodyTimeout(TimeoutError):
    """The request body did not arrive in time (raised by the handler's pending read)."""

    def __init__(self, seconds: float) -> None:
        super().__init__(f"the request body did not arrive in time ({seconds:g} s and more for a large one)")


@web.middleware
async def body_deadline(request: web.Request, handler: Any) -> web.StreamResponse:
    """Every body arrives within `body_timeout_s`, plus a second per `body_min_rate` bytes already received:
    when it has not, the read the handler is waiting on raises BodyTimeout (a 408, and the connection closes).
    A body already received, or none, is not watched."""
    content = request.content
    if not request.body_exists or content.is_eof():
        return await handler(request)
    settings = request.app[SETTINGS]
    loop = asyncio.get_running_loop()
    started = loop.time()
    timer: asyncio.TimerHandle | None = None

    def check() -> None:
        nonlocal timer
        if content.is_eof():
            return
        allowed = started + settings.body_timeout_s + content.total_bytes / settings.body_min_rate
        if loop.time() < allowed:
            timer = loop.call_at(allowed, check)
            return
        content.set_exception(BodyTimeout(settings.body_timeout_s))

    timer = loop.call_at(started + settings.body_timeout_s, check)
    try:
        return await handler(request)
    finally:
        timer.cancel()
