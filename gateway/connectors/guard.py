"""The SSRF guard for every outbound widget call (WID-9): an administrator types the endpoint, so the gateway
must not become a way into the network it runs in. Loopback, private, link-local (cloud metadata), shared,
multicast, reserved and unspecified addresses are refused unless allow-listed; the check runs on the
resolved addresses (so a public name pointing inside is caught), at connect time through the resolver (so a
name that changes its answer between check and connect is caught too), and on every redirect hop.

Allow-list entries (`widget_allow` setting): an IP network (`127.0.0.0/8`), an address, a host name, or any of
those with a port (`127.0.0.1:8123`, `localhost:8123`) to allow only that port."""

from __future__ import annotations

import ipaddress
import socket
from collections.abc import Iterable
from dataclasses import dataclass
from typing import Any

from aiohttp.abc import AbstractResolver, ResolveResult
from aiohttp.resolver import DefaultResolver
from yarl import URL

Address = ipaddress.IPv4Address | ipaddress.IPv6Address
METADATA = {
    ipaddress.ip_address("169.254.169.254"): "a cloud metadata address",
    ipaddress.ip_address("fd00:ec2::254"): "a cloud metadata address",
    ipaddress.ip_address("100.100.100.200"): "a cloud metadata address",
}


class Refused(Exception):
    """The guard will not let this call go out; the message says why (shown to the administrator)."""


def kind_of(ip: Address) -> str | None:
    """What makes an address internal, or None for a public one."""
    if isinstance(ip, ipaddress.IPv6Address) and ip.ipv4_mapped is not None:
        return kind_of(ip.ipv4_mapped)
    if ip in METADATA:
        return METADATA[ip]
    for test, name in (
        ("is_loopback", "a loopback address"),
        ("is_link_local", "a link-local address"),
        ("is_multicast", "a multicast address"),
        ("is_unspecified", "an unspecified address"),
        ("is_private", "a private address"),
        ("is_reserved", "a reserved address"),
    ):
        if getattr(ip, test):
            return name
    return None if ip.is_global else "a non-public address"


@dataclass(frozen=True)
class Entry:
    network: ipaddress.IPv4Network | ipaddress.IPv6Network | None
    host: str | None
    port: int | None

    @classmethod
    def parse(cls, text: str) -> Entry:
        text = text.strip()
        port = None
        body = text
        if text.startswith("["):  # [::1]:8080
            body, _, rest = text[1:].partition("]")
            port = int(rest[1:]) if rest.startswith(":") else None
        elif text.count(":") == 1:
            body, _, raw = text.partition(":")
            port = int(raw)
        try:
            return cls(ipaddress.ip_network(body, strict=False), None, port)
        except ValueError:
            if not body or any(c.isspace() for c in body):
                raise ValueError(f"not an allow-list entry: {text!r}") from None
            return cls(None, body.lower().rstrip("."), port)

    def allows(self, host: str, ip: Address | None, port: int) -> bool:
        if self.port is not None and self.port != port:
            return False
        if self.network is not None:
            return ip is not None and ip in self.network
        return self.host == host.lower().rstrip(".")


class Guard:
    def __init__(self, allow: Iterable[str] = (), only_listed: bool = False) -> None:
        self.entries = tuple(Entry.parse(a) for a in allow)
        self.only_listed = only_listed  # then public addresses need an entry too

    def check_ip(self, host: str, ip: Address, port: int) -> None:
        if any(e.allows(host, ip, port) for e in self.entries):
            return
        kind = kind_of(ip)
        if kind is None and self.only_listed:
            raise Refused(f"{host} is not on the widget allow-list (widget_allow_only is on)")
        if kind is None:
            return
        shown = host if host == str(ip) else f"{host} ({ip})"
        raise Refused(f"{shown} is {kind}; widget endpoints must be public (or allow-listed in widget_allow)")

    async def check_url(self, url: URL, resolver: AbstractResolver | None = None) -> None:
        """Refuse a URL whose scheme is not http(s) or whose host is, or resolves to, an internal address."""
        if url.scheme not in ("http", "https"):
            raise Refused(f"only http and https endpoints are called, not {url.scheme or 'no scheme'}")
        host = url.raw_host or ""
        if not host:
            raise Refused("the endpoint has no host")
        port = url.port or (443 if url.scheme == "https" else 80)
        try:
            literal: Address | None = ipaddress.ip_address(host.strip("[]"))
        except ValueError:
            literal = None
        if literal is not None:
            self.check_ip(host, literal, port)
            return
        try:
            found = await (resolver or DefaultResolver()).resolve(host, port, socket.AF_UNSPEC)
        except OSError as err:
            raise Refused(f"{host} does not resolve: {err.strerror or err}") from None
        except ValueError as err:  # a name the resolver cannot even encode (UnicodeError: a label too long)
            raise Refused(f"{host[:100]} is not a name that can be resolved: {str(err)[:120]}") from None
        for answer in found:
            self.check_ip(host, ipaddress.ip_address(answer["host"]), port)


class GuardedResolver(AbstractResolver):
    """A resolver that refuses internal answers at connect time (a name that re-points between the check and
    the connection is still refused)."""

    def __init__(self, guard: Guard, inner: AbstractResolver | None = None) -> None:
        self.guard, self.inner = guard, inner or DefaultResolver()

    async def resolve(self, host: str, port: int = 0, family: Any = socket.AF_INET) -> list[ResolveResult]:
        found = await self.inner.resolve(host, port, family)
        for answer in found:
            self.guard.check_ip(host, ipaddress.ip_address(answer["host"]), port)
        return found

    async def close(self) -> None:
        await self.inner.close()
