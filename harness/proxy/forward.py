"""The forwarding core: one client request passed to the upstream and its answer passed back, streamed, with
what the client would have seen without a proxy in between. No recording and no judging here: a `Tap` sees
the bytes as they pass (the recording proxy keeps them). The mutating proxy (harness/mutate/proxy.py) buffers
each exchange to rewrite it, so it has its own loop, but which headers travel is decided here for both.

What the client sees when the upstream gives no answer is our choice, made once here: the proxy never invents
an HTTP answer the upstream did not give (no 502 or 504 of its own, which a client would take for the vendor's).
A reset or an unreachable upstream drops the client's connection with a TCP RST, as the upstream's own reset
would look. An upstream that says nothing keeps the client waiting, as it would without the proxy, until the
client gives up (the handler is cancelled with the connection and the upstream call is abandoned); with an
`upstream_timeout` the proxy gives up first and drops the client's connection the same way.
"""

from __future__ import annotations

import asyncio
import hashlib
from collections.abc import Iterable
from typing import Any, NoReturn

import aiohttp
from aiohttp import web
from multidict import CIMultiDict
from yarl import URL

from harness.traffic.exchange import ANSWERED, CLIENT_GONE, RESET, TIMEOUT, UNREACHABLE
from simulators.kit.pipeline import reset_connection

# RFC 9110 7.6.1: Connection and the fields it names are for one connection only, as are these (Keep-Alive,
# Proxy-Connection, TE, Transfer-Encoding, Upgrade); Proxy-Authorization and Proxy-Authenticate address the proxy
# itself (11.7). Host is the upstream's (the client named the proxy). Content-Length travels again, unchanged,
# whenever the body's length was declared, so a length-delimited body stays one on the other side.
HOP_BY_HOP = frozenset(
    {
        "connection",
        "keep-alive",
        "proxy-connection",
        "proxy-authenticate",
        "proxy-authorization",
        "te",
        "trailer",
        "transfer-encoding",
        "upgrade",
        "host",
    }
)
VIA = "1.1 civic-harness"
# A body of at most this many bytes with a declared length is read and passed on in one piece; anything larger (or
# of no declared length) is streamed chunk by chunk as it arrives.
SMALL = 64 * 1024  # RFC 9110 7.6.3: an intermediary says so on the requests it forwards


class Tap:
    """Sees an exchange's bytes as they pass. The default sees nothing."""

    def request_started(self, headers: list[tuple[str, str]]) -> None: ...

    def request_chunk(self, chunk: bytes) -> None: ...

    def response_started(self, status: int, reason: str, headers: Iterable[tuple[str, str]]) -> None: ...

    def response_chunk(self, chunk: bytes) -> None: ...

    def ended(self, outcome: str) -> None: ...


class Capture(Tap):
    """Keeps up to `limit` bytes of each body and hashes all of them."""

    __slots__ = (
        "limit",
        "outcome",
        "reason",
        "request_body",
        "request_hash",
        "request_headers",
        "request_size",
        "response_body",
        "response_hash",
        "response_headers",
        "response_size",
        "status",
    )

    def __init__(self, limit: int) -> None:
        self.limit = limit
        self.request_body, self.response_body = bytearray(), bytearray()
        self.request_hash, self.response_hash = hashlib.sha256(), hashlib.sha256()
        self.request_size = self.response_size = 0
        self.status: int | None = None
        self.reason = ""
        self.response_headers: tuple[tuple[str, str], ...] = ()
        self.request_headers: list[tuple[str, str]] = []
        self.outcome = ANSWERED

    def request_started(self, headers: list[tuple[str, str]]) -> None:
        self.request_headers = headers

    def request_chunk(self, chunk: bytes) -> None:
        self.request_size += len(chunk)
        self.request_hash.update(chunk)
        if len(self.request_body) < self.limit:
            self.request_body += chunk[: self.limit - len(self.request_body)]

    def response_started(self, status: int, reason: str, headers: Iterable[tuple[str, str]]) -> None:
        self.status, self.reason, self.response_headers = status, reason, tuple(headers)

    def response_chunk(self, chunk: bytes) -> None:
        self.response_size += len(chunk)
        self.response_hash.update(chunk)
        if len(self.response_body) < self.limit:
            self.response_body += chunk[: self.limit - len(self.response_body)]

    def ended(self, outcome: str) -> None:
        self.outcome = outcome


def _end_to_end(pairs: list[tuple[str, str]]) -> list[tuple[str, str]]:
    """The fields that travel on: hop-by-hop ones and those the Connection field names dropped."""
    dropped = HOP_BY_HOP
    for k, v in pairs:
        if k.lower() == "connection":
            dropped = dropped | {n.strip().lower() for n in v.split(",")}
    return [(k, v) for k, v in pairs if k.lower() not in dropped]


def outbound_headers(headers: Iterable[tuple[str, str]]) -> CIMultiDict[str]:
    """The client's headers as the upstream gets them: every end-to-end field, in order, repeated ones too."""
    kept = _end_to_end(list(headers))
    via = [v for k, v in kept if k.lower() == "via"]
    out = CIMultiDict([(k, v) for k, v in kept if k.lower() != "via"] if via else kept)
    out["Via"] = ", ".join([*via, VIA])
    return out


def inbound_headers(headers: Iterable[tuple[str, str]]) -> CIMultiDict[str]:
    """The upstream's answer headers as the client gets them (hop-by-hop ones and those Connection names dropped)."""
    return CIMultiDict(_end_to_end(list(headers)))


async def _request_body(request: web.Request, tap: Tap) -> Any:
    async for chunk in request.content.iter_any():
        tap.request_chunk(chunk)
        yield chunk


async def forward(
    request: web.Request,
    session: aiohttp.ClientSession,
    upstream: URL,
    *,
    tap: Tap | None = None,
    upstream_timeout: float | None = None,
) -> web.StreamResponse:
    """Send `request` to `upstream` (scheme, host and port; the client's raw path and query are kept as sent) and
    answer the client with what came back, already written. On a reset, an unreachable upstream or a timeout the
    client's connection is dropped (RST) and the call ends in `CancelledError`, as aiohttp ends a handler whose
    connection is gone. The tap hears how it ended (`ended`) either way."""
    tap = tap or Tap()
    # As sent: no re-quoting, no dot-segment folding; an upstream with a path of its own gets it in front.
    url = URL(str(upstream).rstrip("/") + request.raw_path, encoded=True)
    received = raw_text(request.raw_headers)
    tap.request_started(received)
    headers = outbound_headers(received)
    data: Any = None
    length = request.content_length
    if length is not None and 0 < length <= SMALL:
        data = await request.read()  # one piece: what a small body arrives as anyway, without a stream's machinery
        tap.request_chunk(data)
    elif request.body_exists:
        data = _request_body(request, tap)
    answer: web.StreamResponse | None = None
    try:
        async with asyncio.timeout(upstream_timeout):
            async with session.request(
                request.method,
                url,
                headers=headers,
                data=data,
                allow_redirects=False,
                skip_auto_headers=("Accept", "Accept-Encoding", "User-Agent", "Content-Type"),
                auto_decompress=False,
            ) as upstream_answer:
                back = inbound_headers(raw_text(upstream_answer.raw_headers))
                tap.response_started(upstream_answer.status, upstream_answer.reason or "", back.items())
                declared = upstream_answer.content_length
                if declared is not None and declared <= SMALL and request.method != "HEAD":
                    content = await upstream_answer.read()
                    tap.response_chunk(content)
                    del back["Content-Length"]  # the response sets it from the same bytes
                    tap.ended(ANSWERED)
                    return web.Response(status=upstream_answer.status, reason=upstream_answer.reason, headers=back,
                                        body=content)  # fmt: skip
                answer = web.StreamResponse(status=upstream_answer.status, reason=upstream_answer.reason, headers=back)
                if "Content-Length" in back:
                    answer.content_length = int(back["Content-Length"])
                await answer.prepare(request)
                async for chunk in upstream_answer.content.iter_any():
                    tap.response_chunk(chunk)
                    await answer.write(chunk)
                await answer.write_eof()
    except TimeoutError:
        _drop(request, tap, TIMEOUT)
    except aiohttp.ClientConnectorError:
        _drop(request, tap, UNREACHABLE)
    except (aiohttp.ClientError, ConnectionError) as exc:
        if isinstance(exc, ConnectionError) and _client_gone(request):
            tap.ended(CLIENT_GONE)
            raise
        _drop(request, tap, RESET)
    except asyncio.CancelledError:
        tap.ended(CLIENT_GONE)  # the client went away (aiohttp cancels the handler with its connection)
        raise
    tap.ended(ANSWERED)
    assert answer is not None  # the streamed answer was written in full
    return answer


def raw_text(raw: Iterable[tuple[bytes, bytes]]) -> list[tuple[str, str]]:
    """Header pairs as they crossed the wire (HTTP/1.1 header bytes are Latin-1), names in their own case."""
    return [(k.decode("latin-1"), v.decode("latin-1")) for k, v in raw]


def _client_gone(request: web.Request) -> bool:
    transport = request.transport
    return transport is None or transport.is_closing()


def _drop(request: web.Request, tap: Tap, outcome: str) -> NoReturn:
    tap.ended(outcome)
    reset_connection(request)
    raise asyncio.CancelledError  # as the simulators' kit ends a reset: aiohttp writes nothing more
