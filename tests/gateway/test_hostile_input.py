"""Hostile input (H-REL-3): bodies larger than the gateway reads are refused with 413 in the API's own
error format before they are read whole — declared ones before a byte of the body, chunked and multipart
ones as soon as they pass the limit — and archives that would unpack to far more than they weigh, or not
unpack at all, are refused without being inflated."""

from __future__ import annotations

import asyncio
import io
import json
import time
import zipfile
from typing import Any

import aiohttp
import pytest
from yarl import URL

from conformance.gateway.helpers import INSIDE, PNG, shapefile_zip
from gateway.connectors.http import Reply, Uncertain
from gateway.domain import DomainError
from gateway.domain import geography as geo

from .conftest import ADMIN_TOKEN, API_KEY, demo_city, start_gateway

SQUARE = [(-78.7, 35.7), (-78.7, 35.8), (-78.6, 35.8), (-78.6, 35.7), (-78.7, 35.7)]
LIMIT = 64 * 1024  # max_upload_bytes in these tests: the body limit is this plus 1 MiB of form


@pytest.fixture
async def small(tmp_path):
    async for g in start_gateway(f"sqlite:///{tmp_path / 'gateway.db'}", max_upload_bytes=LIMIT):
        yield g


async def read_answer(reader: asyncio.StreamReader) -> tuple[int, Any]:
    """One HTTP/1.1 answer, as soon as it is complete (the server may keep the connection open)."""
    head = await reader.readuntil(b"\r\n\r\n")
    status = int(head.split(b" ", 2)[1])
    headers = {k.strip().lower(): v.strip() for k, _, v in (line.partition(b":") for line in head.split(b"\r\n")[1:])}
    if headers.get(b"transfer-encoding") == b"chunked":
        body = b""
        while size := int((await reader.readline()).strip(), 16):
            body += await reader.readexactly(size)
            await reader.readline()
    else:
        body = await reader.readexactly(int(headers.get(b"content-length", b"0")))
    return status, json.loads(body or b"null")


async def raw_exchange(url: str, head: str, chunks: list[bytes]) -> tuple[int, Any, int]:
    """Send a request head and then body chunks, stopping as soon as the server answers. Returns (status,
    JSON body, body bytes sent before the answer came)."""
    u = URL(url)
    reader, writer = await asyncio.open_connection(u.host, u.port)
    sent = 0
    try:
        writer.write(head.encode())
        await writer.drain()
        answer = asyncio.ensure_future(read_answer(reader))
        for chunk in chunks:
            if answer.done():
                break
            try:
                writer.write(chunk)
                await writer.drain()
            except ConnectionError:
                break
            sent += len(chunk)
            await asyncio.sleep(0)
        status, body = await asyncio.wait_for(answer, 30)
    finally:
        writer.close()
    return status, body, sent


@pytest.mark.req("H-REL-3")
@pytest.mark.parametrize(
    ("path", "content_type"),
    [
        ("/open311/v2/requests.json", "application/x-www-form-urlencoded"),
        ("/admin/v1/categories", "application/json"),
        ("/admin/v1/geographies", "multipart/form-data; boundary=x"),
        ("/portal/v1/citizens", "application/json"),
        ("/portal/v1/citizens/confirm", "application/json"),
    ],
)
async def test_a_declared_oversized_body_is_refused_before_it_is_read(small, path, content_type):
    head = (
        f"POST {path} HTTP/1.1\r\nHost: gw\r\nAuthorization: Bearer {ADMIN_TOKEN}\r\n"
        f"Content-Type: {content_type}\r\nContent-Length: {10 * 1024**3}\r\n\r\n"
    )
    # Ten gigabytes announced, a few bytes sent: an answer can only come if the gateway did not wait for them.
    status, body, _ = await raw_exchange(small.url, head, [b"x" * 100])
    assert status == 413, body
    if path.startswith("/open311"):
        assert body[0]["code"] == 413 and "larger than" in body[0]["description"]
    else:
        assert body["error"]["code"] == "too_large"


def multipart_chunks(fields: list[tuple[str, str | None, bytes]], boundary: str = "b0undary") -> list[bytes]:
    """A multipart body sent with chunked transfer encoding, 16 KiB at a time."""
    body = b""
    for name, filename, data in fields:
        disposition = f'form-data; name="{name}"' + (f'; filename="{filename}"' if filename else "")
        body += f"--{boundary}\r\nContent-Disposition: {disposition}\r\n\r\n".encode() + data + b"\r\n"
    body += f"--{boundary}--\r\n".encode()
    pieces = [body[i : i + 16384] for i in range(0, len(body), 16384)]
    return [f"{len(p):x}\r\n".encode() + p + b"\r\n" for p in pieces] + [b"0\r\n\r\n"]


def chunked_head(path: str, boundary: str = "b0undary") -> str:
    return (
        f"POST {path} HTTP/1.1\r\nHost: gw\r\nAuthorization: Bearer {ADMIN_TOKEN}\r\n"
        f"Content-Type: multipart/form-data; boundary={boundary}\r\nTransfer-Encoding: chunked\r\n\r\n"
    )


@pytest.mark.req("H-REL-3")
async def test_a_chunked_photo_over_the_limit_is_refused_as_it_streams(small):
    photo = PNG + b"\0" * (8 * LIMIT)
    fields = [("api_key", None, API_KEY.encode()), ("service_code", None, b"X"), ("media", "p.png", photo)]
    chunks = multipart_chunks(fields)
    status, body, sent = await raw_exchange(small.url, chunked_head("/open311/v2/requests.json"), chunks)
    assert status == 413 and "media is larger than" in body[0]["description"], body
    assert sent < sum(map(len, chunks)), "the whole photo was read before the refusal"
    status, _, text = await small.open311("GET", "/requests.json")
    assert status == 200 and json.loads(text) == [], "a refused report was stored"


@pytest.mark.req("H-REL-3")
async def test_many_small_fields_cannot_add_up_past_the_body_limit(small):
    """No field is large, but together they pass the body's limit (a photo's worth plus 1 MiB of form)."""
    fields = [("description", None, b"d" * 60_000) for _ in range(40)]
    chunks = multipart_chunks(fields)
    status, body, sent = await raw_exchange(small.url, chunked_head("/open311/v2/requests.json"), chunks)
    assert status == 413 and "the request body is larger than" in body[0]["description"], body
    assert sent < sum(map(len, chunks))


@pytest.mark.req("H-REL-3")
async def test_a_geography_upload_over_its_limit_is_refused_as_it_streams(small):
    big = b"\0" * (52 * 1024 * 1024)
    chunks = multipart_chunks([("name", None, b"Huge"), ("file", "huge.geojson", big)])
    status, body, sent = await raw_exchange(small.url, chunked_head("/admin/v1/geographies"), chunks)
    assert status == 413 and body["error"]["code"] == "too_large", body
    assert sent < len(big)


def zip_bomb(unpacked: int) -> bytes:
    """A zipped "shapefile" whose .shp is `unpacked` bytes of zeros: deflate shrinks it a thousandfold."""
    out = io.BytesIO()
    with zipfile.ZipFile(out, "w", zipfile.ZIP_DEFLATED) as z:
        with z.open("bomb/area.shp", "w") as f:
            for _ in range(unpacked // (1 << 20)):
                f.write(bytes(1 << 20))
        z.writestr("bomb/area.shx", b"\0" * 100)
        z.writestr("bomb/area.dbf", b"\0" * 100)
    return out.getvalue()


@pytest.mark.req("H-REL-3", "AGY-2")
def test_a_zip_bomb_is_refused_before_it_is_inflated():
    bomb = zip_bomb(400 * 1024 * 1024)
    assert len(bomb) < 1024 * 1024  # it uploads easily under every limit
    started = time.process_time()
    with pytest.raises(DomainError) as err:
        geo.parse_upload("city.zip", bomb)
    assert "unpacks to" in err.value.message
    # Inflating 400 MB takes about a second of CPU; reading the sizes from the directory takes nothing.
    assert time.process_time() - started < 0.5


@pytest.mark.req("H-REL-3", "AGY-2")
@pytest.mark.parametrize("damage", ["truncated", "many-members", "crc"])
def test_a_damaged_archive_is_refused_with_a_reason(damage):
    good = shapefile_zip([list(reversed(SQUARE))])
    if damage == "truncated":
        data = good[: len(good) // 2]
    elif damage == "many-members":
        out = io.BytesIO()
        with zipfile.ZipFile(out, "w") as z:
            for n in range(100):
                z.writestr(f"junk{n}.txt", b"x")
        data = out.getvalue()
    else:  # one byte of the .shp's stored data flipped: its CRC no longer matches
        at = good.index(b"area.shp") + len("area.shp") + 40
        data = good[:at] + bytes([good[at] ^ 0xFF]) + good[at + 1 :]
    with pytest.raises(DomainError) as err:
        geo.parse_upload("city.zip", data)
    assert err.value.message


@pytest.mark.req("H-REL-3")
async def test_a_report_within_the_limits_still_goes_through(small):
    """The limits refuse the oversized, not the ordinary: a report with a photo is taken."""
    await demo_city(small)
    form = aiohttp.FormData({"api_key": API_KEY, "service_code": "POT", "attribute[size]": "small", **INSIDE})
    form.add_field("media", PNG + b"\0" * (LIMIT - len(PNG)), filename="p.png", content_type="image/png")
    status, _, text = await small.open311("POST", "/requests.json", data=form)
    assert status == 201, text


DEEP = b"[" * 5000 + b"]" * 5000  # valid JSON that Python's parser cannot descend into


@pytest.mark.req("H-REL-3")
@pytest.mark.parametrize(
    "path", ["/admin/v1/categories", "/portal/v1/citizens", "/portal/v1/citizens/confirm", "/portal/v1/sessions"]
)
async def test_json_nested_too_deeply_is_bad_json_not_a_server_error(small, path):
    headers = {"Authorization": f"Bearer {ADMIN_TOKEN}", "Content-Type": "application/json"}
    async with small.http.post(small.url + path, data=DEEP, headers=headers) as resp:
        assert resp.status == 400, await resp.text()
        assert (await resp.json())["error"]["code"] == "invalid_json"


def test_a_vendor_answer_nested_too_deeply_is_malformed_not_a_crash():
    with pytest.raises(Uncertain):
        Reply(200, "application/json", DEEP).json()
