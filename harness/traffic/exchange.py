"""One exchange of a recorded conversation: what the client sent, what it got back (or that it got nothing),
and when. Plain values, no I/O: the proxy fills it as the bytes pass, a HAR file is read back into it, and the
traffic rules judge lists of it."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass, field

from simulators.kit.contract import Violation

# How an exchange ended, as the client saw it.
ANSWERED = "answered"  # a complete answer came back
RESET = "reset"  # the upstream dropped the connection (before or during the answer): the client's was dropped too
TIMEOUT = "timeout"  # the upstream said nothing within the proxy's --upstream-timeout: the client's was dropped
UNREACHABLE = "unreachable"  # no connection to the upstream: the client's was dropped
CLIENT_GONE = "client-gone"  # the client gave up first; the upstream call was abandoned with it
OUTCOMES = (ANSWERED, RESET, TIMEOUT, UNREACHABLE, CLIENT_GONE)

Headers = tuple[tuple[str, str], ...]


@dataclass(slots=True)
class Exchange:
    id: int
    started: float  # epoch seconds when the request arrived
    ended: float  # epoch seconds when the answer ended (or the connection did)
    method: str
    path: str
    query: str  # the raw (still encoded) query string
    request_headers: Headers
    request_body: bytes  # as captured: the whole body up to the capture limit
    request_size: int  # bytes the client sent, all of them
    request_sha256: str  # of all of them
    status: int | None = None  # None when no answer came (reset, timeout, unreachable)
    reason: str = ""
    response_headers: Headers = ()
    response_body: bytes = b""
    response_size: int = 0
    response_sha256: str = ""
    outcome: str = ANSWERED
    # Filled by the analysis (analysis.py): the contract operation and what the contract says of both sides.
    operation: str | None = None
    violations: Sequence[Violation] = ()
    warnings: Sequence[Violation] = ()
    analysed: bool = field(default=False, compare=False)

    def header(self, name: str, side: str = "request") -> str | None:
        """The first value of a header (case-insensitive) on one side."""
        wanted = name.lower()
        pairs = self.request_headers if side == "request" else self.response_headers
        return next((v for k, v in pairs if k.lower() == wanted), None)

    @property
    def content_type(self) -> str:
        return self.header("Content-Type") or ""

    @property
    def response_content_type(self) -> str:
        return self.header("Content-Type", "response") or ""

    @property
    def request_complete(self) -> bool:
        return len(self.request_body) == self.request_size

    @property
    def response_complete(self) -> bool:
        return len(self.response_body) == self.response_size

    @property
    def failed(self) -> bool:
        """No answer, or an answer saying the server failed or refused for now (5xx, 429)."""
        return self.status is None or self.status >= 500 or self.status == 429

    @property
    def url_path(self) -> str:
        return self.path + (f"?{self.query}" if self.query else "")
