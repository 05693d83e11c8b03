"""A TCP fault proxy: the network between the gateway and its database, failing on demand. Every connection
the gateway opens goes through it to the upstream server; the campaign (or a test) in the same event loop
changes what the network does while connections are open:

- `cut()`: every open connection reset at once (RST both ways), as a load balancer or a failover does;
- `stall(s)`: no byte moves either way for `s` seconds, connections held open (a partition, a GC pause);
- `latency_s`: every chunk held this long before it is passed on;
- `refuse(s)`: new connections reset as soon as they open, for `s` seconds (the database unreachable).
"""

from __future__ import annotations

import asyncio
import contextlib
import socket
import struct
from collections import Counter
from dataclasses import dataclass, field

from .pg_server import free_port

CHUNK = 64 * 1024


@dataclass(eq=False)
class _Link:
    client: asyncio.StreamWriter
    upstream: asyncio.StreamWriter
    pumps: list[asyncio.Task[None]] = field(default_factory=list)


def _reset(writer: asyncio.StreamWriter) -> None:
    """Close with RST, not FIN: the peer sees 'connection reset', as when a middlebox drops the flow."""
    sock = writer.get_extra_info("socket")
    if sock is not None:
        with contextlib.suppress(OSError):
            sock.setsockopt(socket.SOL_SOCKET, socket.SO_LINGER, struct.pack("ii", 1, 0))
    writer.transport.abort()


class FaultProxy:
    def __init__(self, upstream_port: int, upstream_host: str = "127.0.0.1", port: int | None = None) -> None:
        self.upstream = (upstream_host, upstream_port)
        self.port = port or free_port()
        self.latency_s = 0.0
        self.counts: Counter[str] = Counter()  # connections, cut, refused, stalls
        self._links: set[_Link] = set()
        self._flowing = asyncio.Event()
        self._flowing.set()
        self._refusing_until = 0.0
        self._server: asyncio.Server | None = None

    @property
    def address(self) -> str:
        return f"127.0.0.1:{self.port}"

    async def start(self) -> FaultProxy:
        self._server = await asyncio.start_server(self._accept, "127.0.0.1", self.port)
        return self

    async def close(self) -> None:
        if self._server is not None:
            self._server.close()
        self.cut(count=False)
        if self._server is not None:
            await self._server.wait_closed()

    async def __aenter__(self) -> FaultProxy:
        return await self.start()

    async def __aexit__(self, *_: object) -> None:
        await self.close()

    # -- faults --------------------------------------------------------------------------------------

    def cut(self, count: bool = True) -> int:
        """Reset every open connection; how many there were."""
        links, self._links = list(self._links), set()
        for link in links:
            _reset(link.client)
            _reset(link.upstream)
            for pump in link.pumps:
                pump.cancel()
        if count:
            self.counts["connections cut"] += len(links)
            self.counts["cuts"] += 1
        return len(links)

    async def stall(self, seconds: float) -> None:
        """Hold every byte, both ways, on every connection (new ones too) for `seconds`."""
        self.counts["stalls"] += 1
        self._flowing.clear()
        try:
            await asyncio.sleep(seconds)
        finally:
            self._flowing.set()

    def refuse(self, seconds: float) -> None:
        """Reset new connections for `seconds` from now (open ones are left alone: `cut()` them too)."""
        self._refusing_until = asyncio.get_running_loop().time() + seconds

    @property
    def open_connections(self) -> int:
        return len(self._links)

    # -- the relay -----------------------------------------------------------------------------------

    async def _accept(self, reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        self.counts["connections"] += 1
        if asyncio.get_running_loop().time() < self._refusing_until:
            self.counts["connections refused"] += 1
            _reset(writer)
            return
        try:
            up_reader, up_writer = await asyncio.open_connection(*self.upstream)
        except OSError:
            self.counts["upstream unreachable"] += 1
            _reset(writer)
            return
        link = _Link(writer, up_writer)
        self._links.add(link)
        link.pumps = [
            asyncio.create_task(self._pump(reader, up_writer, link)),
            asyncio.create_task(self._pump(up_reader, writer, link)),
        ]

    async def _pump(self, source: asyncio.StreamReader, sink: asyncio.StreamWriter, link: _Link) -> None:
        try:
            while True:
                data = await source.read(CHUNK)
                if not data:
                    break
                await self._flowing.wait()
                if self.latency_s:
                    await asyncio.sleep(self.latency_s)
                await self._flowing.wait()  # a stall that began during the latency holds this chunk too
                sink.write(data)
                await sink.drain()
        except (OSError, asyncio.IncompleteReadError):
            pass
        finally:
            if link in self._links:  # one side closed: close the other (FIN), as a plain relay does
                self._links.discard(link)
                for w in (link.client, link.upstream):
                    with contextlib.suppress(Exception):
                        w.close()
