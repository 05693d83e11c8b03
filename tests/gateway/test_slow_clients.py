"""Slow clients (H-REL-3): a request whose headers or body never finish arriving does not hold its connection.
Headers get `header_timeout_s` from their first byte (a bare 408, then the connection closes); a body gets
`body_timeout_s` plus a second per `body_min_rate` bytes received (a 408 in the API's own format, then the
connection closes). A client that is slow but steady still gets through, and an idle kept-alive connection
is the keep-alive timeout's business, not the header deadline's. Raw sockets, so nothing buffers for us."""

from __future__ import annotations

import asyncio
import json
import time
from typing import Any

import pytest
from yarl import URL

from .conftest import ADMIN_TOKEN, start_gateway

HEADER_S, BODY_S, RATE = 0.6, 0.6, 2000  # small deadlines, so each test takes about a second
WAIT_S = 5.0  # how long a test waits for the gateway to give up: far past the deadlines, far below aiohttp's 75 s


@pytest.fixture
async def gateway(tmp_path):
    options = {"header_timeout_s": HEADER_S, "body_timeout_s": BODY_S, "body_min_rate": RATE}
    async for g in start_gateway(f"sqlite:///{tmp_path / 'gateway.db'}", **options):
        yield g


async def connect(url: str) -> tuple[asyncio.StreamReader, asyncio.StreamWriter]:
    u = URL(url)
    return await asyncio.open_connection(u.host, u.port)


async def answer(reader: asyncio.StreamReader) -> tuple[int, dict[bytes, bytes], bytes]:
    """One HTTP/1.1 answer with a Content-Length body."""
    head = await reader.readuntil(b"\r\n\r\n")
    status = int(head.split(b" ", 2)[1])
    headers = {k.strip().lower(): v.strip() for k, _, v in (line.partition(b":") for line in head.split(b"\r\n")[1:])}
    return status, headers, await reader.readexactly(int(headers.get(b"content-length", b"0")))


async def closed_within(reader: asyncio.StreamReader, seconds: float) -> bytes:
    """Everything the server sends until it closes the connection; fails if it is still open after `seconds`."""
    try:
        return await asyncio.wait_for(reader.read(), seconds)
    except TimeoutError:
        pytest.fail(f"the gateway still held the connection after {seconds} s")


async def trickle(writer: asyncio.StreamWriter, pieces: list[bytes], every: float) -> None:
    for piece in pieces:
        try:
            writer.write(piece)
            await writer.drain()
        except ConnectionError:
            return
        await asyncio.sleep(every)


def post(path: str, length: int, content_type: str = "application/json") -> bytes:
    return (
        f"POST {path} HTTP/1.1\r\nHost: gateway\r\nAuthorization: Bearer {ADMIN_TOKEN}\r\n"
        f"Content-Type: {content_type}\r\nContent-Length: {length}\r\n\r\n"
    ).encode()


@pytest.mark.req("H-REL-3")
async def test_headers_trickled_and_never_finished_are_cut_off(gateway):
    reader, writer = await connect(gateway.url)
    started = time.monotonic()
    writer.write(b"GET /open311/v2/services.json HTTP/1.1\r\nHost: gateway\r\n")
    # a header line every 0.1 s, forever: each byte would reset an idle timer, not this deadline
    sender = asyncio.ensure_future(trickle(writer, [b"X-Slow: 1\r\n"] * 100, 0.1))
    try:
        sent = await closed_within(reader, WAIT_S)
    finally:
        sender.cancel()
        writer.close()
    assert HEADER_S * 0.9 <= time.monotonic() - started < HEADER_S + 2
    assert sent.startswith(b"HTTP/1.1 408 ")


@pytest.mark.req("H-REL-3")
async def test_a_connection_that_never_sends_a_request_is_closed(gateway):
    reader, writer = await connect(gateway.url)
    started = time.monotonic()
    try:
        await closed_within(reader, WAIT_S)
    finally:
        writer.close()
    assert time.monotonic() - started < HEADER_S + 2


@pytest.mark.req("H-REL-3")
@pytest.mark.parametrize(
    ("path", "content_type"),
    [
        ("/admin/v1/agencies", "application/json"),
        ("/open311/v2/requests.json", "application/x-www-form-urlencoded"),
        ("/portal/v1/citizens", "application/json"),
    ],
    ids=["admin", "open311", "portal"],
)
async def test_a_body_that_stops_coming_gets_408_in_the_apis_format_and_the_connection_closes(
    gateway, path, content_type
):
    reader, writer = await connect(gateway.url)
    started = time.monotonic()
    writer.write(post(path, 1000, content_type) + b"0123456789")  # 10 of the 1000 bytes, then silence
    try:
        status, headers, body = await asyncio.wait_for(answer(reader), WAIT_S)
        took = time.monotonic() - started
        rest = await closed_within(reader, 2)
    finally:
        writer.close()
    assert status == 408
    assert BODY_S * 0.9 <= took < BODY_S + 2
    assert headers[b"connection"].lower() == b"close" and rest == b""
    value = json.loads(body)
    if path.startswith("/open311/"):
        assert value[0]["code"] == 408 and "did not arrive" in value[0]["description"]
    else:
        assert value["error"]["code"] == "timeout"


@pytest.mark.req("H-REL-3")
async def test_a_body_trickled_byte_by_byte_is_cut_off(gateway):
    reader, writer = await connect(gateway.url)
    started = time.monotonic()
    writer.write(post("/admin/v1/agencies", 1000))
    sender = asyncio.ensure_future(trickle(writer, [b" "] * 1000, 0.02))  # 50 bytes/s: far below the rate
    try:
        status, _, body = await asyncio.wait_for(answer(reader), WAIT_S)
    finally:
        sender.cancel()
        writer.close()
    assert status == 408, body
    assert time.monotonic() - started < BODY_S + 2


@pytest.mark.req("H-REL-3")
async def test_a_slow_but_steady_client_gets_through(gateway):
    """Headers in pieces within their deadline, and a body that takes longer than body_timeout_s but comes
    at more than body_min_rate: served, and the connection stays usable."""
    payload = json.dumps({"name": "Slow but steady"}).encode() + b" " * 2970  # 3000 bytes at ~3,000 bytes/s
    head = post("/admin/v1/agencies", len(payload))
    reader, writer = await connect(gateway.url)
    try:
        started = time.monotonic()
        await trickle(writer, [head[:20], head[20:60], head[60:]], 0.1)
        await trickle(writer, [payload[i : i + 300] for i in range(0, len(payload), 300)], 0.1)
        status, _, body = await asyncio.wait_for(answer(reader), WAIT_S)
        assert status == 201, body
        assert time.monotonic() - started > BODY_S  # it did take longer than the base deadline
        await asyncio.sleep(HEADER_S * 2)  # idle on a kept-alive connection: not the header deadline's business
        writer.write(b"GET /open311/v2/discovery.json HTTP/1.1\r\nHost: gateway\r\n\r\n")
        status, _, _ = await asyncio.wait_for(answer(reader), WAIT_S)
        assert status == 200
        # and the next request on it that never finishes its headers is cut off like the first would be
        writer.write(b"GET /open311/v2/discovery.json HTTP/1.1\r\n")
        started = time.monotonic()
        await closed_within(reader, WAIT_S)
        assert time.monotonic() - started < HEADER_S + 2
    finally:
        writer.close()


def test_the_deadlines_are_settings_with_production_defaults() -> None:
    from gateway.settings import Settings

    defaults: Any = Settings()
    assert (defaults.header_timeout_s, defaults.body_timeout_s, defaults.body_min_rate) == (10.0, 30.0, 16 * 1024)
    with pytest.raises(ValueError, match="body_timeout_s"):
        Settings(body_timeout_s=0)
