"""The recording proxy is transparent (H-PRX-1): a client behind it sees what it would see without it — status,
reason, end-to-end headers, bodies byte for byte and streamed both ways, an upstream's reset or silence as a
dropped connection and never an answer the upstream did not give, HTTPS upstreams — and the admin port shows
each exchange in the simulators' journal shape with secrets masked. A real upstream on loopback, real sockets."""

from __future__ import annotations

import asyncio
import hashlib
import json
import ssl
import subprocess
from collections.abc import AsyncIterator
from pathlib import Path
from typing import Any

import aiohttp
import pytest
from aiohttp import web
from yarl import URL

from harness.proxy.app import Proxy, ProxySettings, Serving
from harness.proxy.forward import inbound_headers
from simulators.kit.pipeline import reset_connection

BIG = 3 * 1024 * 1024 + 17  # several chunks either way


async def echo(request: web.Request) -> web.Response:
    body = await request.read()
    seen = [[k, v] for k, v in request.headers.items()]
    answer = web.json_response(
        {
            "headers": seen,
            "size": len(body),
            "sha256": hashlib.sha256(body).hexdigest(),
            "query": request.rel_url.raw_query_string,
        },
        status=201,
        reason="Made Here",
    )
    answer.headers.add("Set-Cookie", "a=1; HttpOnly")
    answer.headers.add("Set-Cookie", "b=2")
    answer.headers["X-Upstream"] = "yes"
    return answer


async def download(request: web.Request) -> web.StreamResponse:
    answer = web.StreamResponse()  # no length: chunked, as a streaming server sends it
    await answer.prepare(request)
    block = bytes(range(256)) * 4096
    sent = 0
    while sent < BIG:
        piece = block[: BIG - sent]
        await answer.write(piece)
        sent += len(piece)
    await answer.write_eof()
    return answer


async def drop(request: web.Request) -> web.StreamResponse:
    reset_connection(request)
    raise asyncio.CancelledError


async def silent(request: web.Request) -> web.Response:
    await asyncio.sleep(30)
    return web.Response(text="too late")


def upstream_app() -> web.Application:
    app = web.Application(client_max_size=16 * 1024 * 1024)
    app.router.add_route("*", "/echo", echo)
    app.router.add_get("/download", download)
    app.router.add_get("/drop", drop)
    app.router.add_get("/silent", silent)
    return app


async def serve(app: web.Application, ssl_context: ssl.SSLContext | None = None) -> AsyncIterator[str]:
    runner = web.AppRunner(app, access_log=None, shutdown_timeout=0.1)
    await runner.setup()
    await web.TCPSite(runner, "127.0.0.1", 0, ssl_context=ssl_context).start()
    port = runner.addresses[0][1]
    try:
        yield f"{'https' if ssl_context else 'http'}://127.0.0.1:{port}"
    finally:
        await runner.cleanup()


@pytest.fixture
async def upstream() -> AsyncIterator[str]:
    async for url in serve(upstream_app()):
        yield url


async def through(upstream: str, **settings: Any) -> AsyncIterator[tuple[Proxy, Serving]]:
    proxy = Proxy(ProxySettings("open311", upstream, **settings))
    async with Serving(proxy) as serving:
        yield proxy, serving


async def journal(http: aiohttp.ClientSession, serving: Serving) -> list[dict[str, Any]]:
    async with http.get(f"{serving.admin_url}/_proxy/journal") as resp:
        assert resp.status == 200
        return (await resp.json())["entries"]


@pytest.mark.req("H-PRX-1")
async def test_status_headers_and_bodies_pass_as_sent(upstream):
    async for proxy, s in through(upstream):
        async with aiohttp.ClientSession() as http:

            async def chunks() -> AsyncIterator[bytes]:
                for _ in range(3):
                    yield b"x" * (BIG // 3)

            headers = {
                "Authorization": "Bearer s3cret",
                "X-Custom": "kept",
                "Connection": "keep-alive, X-Private",  # names a field that is for this connection only
                "X-Private": "dropped",
                "Keep-Alive": "timeout=5",
            }
            url = URL(f"{s.url}/echo?a=1&b=%2F", encoded=True)  # sent as written, escapes and all
            async with http.post(url, data=chunks(), headers=headers) as resp:
                assert (resp.status, resp.reason) == (201, "Made Here")
                assert resp.headers.getall("Set-Cookie") == ["a=1; HttpOnly", "b=2"]
                assert resp.headers["X-Upstream"] == "yes"
                seen = await resp.json()
            names = {k.lower(): v for k, v in seen["headers"]}
            assert names["authorization"] == "Bearer s3cret" and names["x-custom"] == "kept"
            assert "x-private" not in names and "keep-alive" not in names, "hop-by-hop fields stop at the proxy"
            assert names["via"] == "1.1 civic-harness"
            assert seen["size"] == 3 * (BIG // 3) and seen["query"] == "a=1&b=%2F"
            async with http.get(f"{s.url}/download") as resp:
                got = await resp.read()
            assert len(got) == BIG and got == (bytes(range(256)) * 4096 * 4)[:BIG]
            first, second = await journal(http, s)
            kept = proxy.exchanges()[1]
    assert first["headers"]["Authorization"] == "***", "secrets are masked as the simulators mask them"
    assert first["body_size"] == 3 * (BIG // 3) and first["status"] == 201 and first["outcome"] == "answered"
    assert second["response_size"] == BIG and second["response_truncated"] is True  # the journal shows 4 KiB
    assert kept.response_body == got and kept.response_sha256 == hashlib.sha256(got).hexdigest()  # HAR: all


def test_hop_by_hop_fields_of_an_answer_stop_at_the_proxy():
    back = inbound_headers(
        [("Connection", "close, X-Trace"), ("X-Trace", "1"), ("Transfer-Encoding", "chunked"), ("ETag", '"v1"')]
    )
    assert list(back.items()) == [("ETag", '"v1"')]


@pytest.mark.req("H-PRX-1")
async def test_a_reset_or_silence_upstream_is_a_dropped_connection_never_an_invented_answer(upstream):
    async for _, s in through(upstream, upstream_timeout=0.3):
        async with aiohttp.ClientSession() as http:
            for path in ("/drop", "/silent"):
                with pytest.raises(aiohttp.ClientConnectionError):  # no 502 / 504 from the proxy
                    async with http.get(f"{s.url}{path}") as resp:
                        await resp.read()
            outcomes = {(e["path"], e["status"], e["outcome"]) for e in await journal(http, s)}
    # (aiohttp's client tries a dropped GET once more by itself, and is dropped again)
    assert outcomes == {("/drop", None, "reset"), ("/silent", None, "timeout")}


@pytest.mark.req("H-PRX-1")
async def test_without_a_timeout_of_its_own_the_client_decides_and_unreachable_is_dropped(upstream):
    async for _, s in through(upstream):
        async with aiohttp.ClientSession() as http:
            with pytest.raises(asyncio.TimeoutError):
                async with http.get(f"{s.url}/silent", timeout=aiohttp.ClientTimeout(total=0.3)) as resp:
                    await resp.read()
            for _ in range(50):  # the proxy learns of it when the connection closes
                entries = await journal(http, s)
                if entries:
                    break
                await asyncio.sleep(0.05)
    assert [e["outcome"] for e in entries] == ["client-gone"]
    closed = upstream.rsplit(":", 1)[0] + ":9"  # discard: nothing listens there on loopback
    async for _, s in through(closed):
        async with aiohttp.ClientSession() as http:
            with pytest.raises(aiohttp.ClientConnectionError):
                async with http.get(f"{s.url}/echo") as resp:
                    await resp.read()
            # aiohttp's client tries a dropped GET once more by itself: both attempts were dropped
            assert {e["outcome"] for e in await journal(http, s)} == {"unreachable"}


def self_signed(directory: Path) -> tuple[Path, Path]:
    key, cert = directory / "key.pem", directory / "cert.pem"
    subprocess.run(
        ["openssl", "req", "-x509", "-newkey", "rsa:2048", "-nodes", "-days", "2", "-subj", "/CN=127.0.0.1",
         "-addext", "subjectAltName=IP:127.0.0.1", "-keyout", str(key), "-out", str(cert)],
        check=True,
        capture_output=True,
    )  # fmt: skip
    return key, cert


@pytest.mark.req("H-PRX-1")
async def test_an_https_upstream(tmp_path):
    key, cert = self_signed(tmp_path)
    context = ssl.create_default_context(ssl.Purpose.CLIENT_AUTH)
    context.load_cert_chain(cert, key)
    async for url in serve(upstream_app(), context):
        async for _, s in through(url, ca_file=str(cert)):
            async with aiohttp.ClientSession() as http, http.post(f"{s.url}/echo", data=b"over tls") as resp:
                assert resp.status == 201 and (await resp.json())["size"] == 8
        async for _, s in through(url):  # the system's CAs do not know this certificate: no answer is made up
            async with aiohttp.ClientSession() as http:
                with pytest.raises(aiohttp.ClientConnectionError):
                    async with http.get(f"{s.url}/echo") as resp:
                        await resp.read()


@pytest.mark.req("H-PRX-1")
async def test_the_admin_port_refuses_bad_filters_in_its_own_shape(upstream):
    async for _, s in through(upstream):
        async with aiohttp.ClientSession() as http:
            async with http.get(f"{s.admin_url}/_proxy/journal?limit=zero") as resp:
                assert resp.status == 400 and (await resp.json())["error"]["code"] == "invalid_filter"
            async with http.get(f"{s.admin_url}/_proxy/har") as resp:
                assert (await resp.json())["log"]["version"] == "1.2"
            async with http.get(f"{s.admin_url}/_proxy/report") as resp:
                assert (await resp.json())["format"] == "civic-harness-report/1"
            async with http.get(f"{s.url}/_proxy/journal") as resp:  # the proxied API keeps every path
                assert resp.status == 404 and "headers" not in await resp.text()


@pytest.mark.req("H-PRX-1")
async def test_the_har_file_is_written_as_the_exchanges_come_and_complete_on_stop(upstream, tmp_path):
    path = tmp_path / "run" / "traffic.har"
    async for proxy, s in through(upstream, har_file=str(path), journal_size=1):
        async with aiohttp.ClientSession() as http:
            for n in range(3):
                async with http.post(f"{s.url}/echo?n={n}", data=b"x", headers={"Cookie": "session=secret"}) as resp:
                    assert resp.status == 201
        assert len(proxy.exchanges()) == 1  # the ring keeps one; the file keeps every exchange
    doc = json.loads(path.read_text(encoding="utf-8"))
    entries = doc["log"]["entries"]
    assert doc["log"]["version"] == "1.2" and doc["log"]["_civicHarness"]["kind"] == "open311"
    assert [e["request"]["url"].rsplit("=", 1)[1] for e in entries] == ["0", "1", "2"]
    sent = {h["name"]: h["value"] for h in entries[0]["request"]["headers"]}
    assert sent["Cookie"] == "***" and "_violations" not in entries[0]  # not judged yet: verify-traffic judges
