"""One shared aiohttp session for every vendor call: timeouts on every call, retries with exponential
backoff and full jitter, 429 Retry-After honoured, and failures sorted by what they mean for a write.

- `Rejected`: the vendor answered and refused (4xx, an error envelope). Retrying the same call is pointless.
- `Uncertain`: the call may have taken effect (timeout, reset, 5xx after sending). A write must look its
  effect up at the vendor before trying again.
- `Unavailable`: the call certainly did not take effect (connection refused, 429, 503 before sending).

Each failure also names its `fault` where it is known (`timeout`, `reset`, `disconnected`, `connect`,
`http_503`, `malformed_json`, `envelope`, ...): the metrics count vendor calls by it. A connector wraps each
of its operations in `Http.observed(vendor, operation)`, which times it, counts it by outcome and, with
tracing on, makes it a client span whose `traceparent` every attempt sends.
"""

from __future__ import annotations

import asyncio
import contextlib
import json
import random
import time
from collections.abc import AsyncIterator, Mapping
from dataclasses import dataclass
from typing import Any

import aiohttp

from ..observability import Observer
from ..observability.tracing import CLIENT, failed


class VendorError(Exception):
    kind = "vendor"

    def __init__(
        self, message: str, status: int | None = None, retry_after: float | None = None, fault: str | None = None
    ) -> None:
        super().__init__(message)
        self.message, self.status, self.retry_after = message, status, retry_after
        # what went wrong, in a word from a small set (a metric label); None where nothing more is known
        self.fault = (
            fault if fault is not None else (f"http_{status}" if status is not None and status >= 400 else None)
        )


class Rejected(VendorError):
    kind = "rejected"


class Uncertain(VendorError):
    kind = "uncertain"


class Unavailable(VendorError):
    kind = "unavailable"


@dataclass(frozen=True, slots=True)
class Reply:
    status: int
    content_type: str
    body: bytes
    retry_after: float | None = None

    def json(self) -> Any:
        try:
            return json.loads(self.body)
        except (ValueError, RecursionError):  # nested too deeply to parse is malformed too
            raise Uncertain(
                f"the vendor answered malformed JSON ({self.body[:60]!r})", self.status, fault="malformed_json"
            ) from None


@dataclass(frozen=True, slots=True)
class RetryPolicy:
    attempts: int = 4
    base_s: float = 0.2
    cap_s: float = 5.0
    timeout_s: float = 15.0
    max_retry_after_s: float = 30.0

    def backoff(self, attempt: int, rng: random.Random) -> float:
        """Full jitter (AWS architecture blog): uniform in [0, min(cap, base * 2^attempt)]."""
        return rng.uniform(0, min(self.cap_s, self.base_s * 2**attempt))


class Http:
    def __init__(
        self,
        session: aiohttp.ClientSession,
        policy: RetryPolicy | None = None,
        seed: int | None = None,
        observer: Observer | None = None,
    ):
        self.session = session
        self.policy = policy or RetryPolicy()
        self.rng = random.Random(seed)
        self.observer = observer or Observer()

    @contextlib.asynccontextmanager
    async def observed(self, vendor: str, operation: str) -> AsyncIterator[None]:
        """One vendor operation (its retries included): timed, counted by outcome and fault, and a client span
        when tracing is on. `operation` is a name, never a URL with ids in it (it is a metric label)."""
        observer = self.observer
        started = time.perf_counter()
        outcome, fault = "ok", None
        with observer.tracing.span(
            f"{vendor} {operation}", kind=CLIENT, attributes={"vendor": vendor, "vendor.operation": operation}
        ) as span:
            try:
                yield
            except VendorError as err:
                outcome, fault = err.kind, err.fault
                failed(span, f"{err.kind}: {fault or 'vendor error'}")
                raise
            except Exception:
                outcome = "error"
                failed(span, "error")
                raise
            finally:
                if span is not None:
                    span.set_attribute("vendor.outcome", outcome)
                    if fault:
                        span.set_attribute("vendor.fault", fault)
                observer.metrics.vendor_call(vendor, operation, outcome, fault, time.perf_counter() - started)

    async def request(
        self,
        method: str,
        url: str,
        *,
        idempotent: bool,
        data: Any = None,
        params: Mapping[str, str] | None = None,
        headers: Mapping[str, str] | None = None,
        json_body: Any = None,
    ) -> Reply:
        """Retries what cannot have taken effect; for an idempotent call, everything transient."""
        policy = self.policy
        last: VendorError | None = None
        for attempt in range(policy.attempts):
            if attempt:
                await asyncio.sleep(self._delay(attempt, last))
            try:
                reply = await self._once(method, url, data, params, headers, json_body)
            except Unavailable as err:
                last = err
                continue
            except Uncertain as err:
                if not idempotent:
                    raise
                last = err
                continue
            if reply.status == 429 or (reply.status == 503 and idempotent):  # fault: http_429 / http_503
                last = Unavailable(f"HTTP {reply.status} from {method} {url}", reply.status, reply.retry_after)
                continue
            if reply.status >= 500:
                err = Uncertain(f"HTTP {reply.status} from {method} {url}", reply.status)
                if not idempotent:
                    raise err
                last = err
                continue
            return reply
        assert last is not None
        raise last

    def _delay(self, attempt: int, last: VendorError | None) -> float:
        if last is not None and last.retry_after is not None:
            return min(last.retry_after, self.policy.max_retry_after_s)
        return self.policy.backoff(attempt, self.rng)

    async def _once(self, method, url, data, params, headers, json_body) -> Reply:  # type: ignore[no-untyped-def]
        timeout = aiohttp.ClientTimeout(total=self.policy.timeout_s)
        if self.observer.tracing.enabled:  # the vendor sees which trace the call belongs to
            headers = dict(headers or {})
            self.observer.tracing.inject(headers)
        try:
            async with self.session.request(
                method, url, data=data, params=params, headers=headers, json=json_body, timeout=timeout
            ) as resp:
                body = await resp.read()
                return Reply(resp.status, resp.content_type, body, retry_after_seconds(resp.headers.get("Retry-After")))
        except aiohttp.ClientConnectorError as exc:  # never reached the server
            raise Unavailable(f"cannot connect to {url}: {exc.__class__.__name__}", fault="connect") from None
        except (
            TimeoutError,
            aiohttp.ServerDisconnectedError,
            aiohttp.ClientPayloadError,
            aiohttp.ClientOSError,
        ) as exc:
            raise Uncertain(f"{method} {url}: {exc.__class__.__name__}", fault=fault_of(exc)) from None


def fault_of(exc: BaseException) -> str:
    """A transport failure in a word."""
    if isinstance(exc, TimeoutError):
        return "timeout"
    if isinstance(exc, aiohttp.ServerDisconnectedError):
        return "disconnected"
    if isinstance(exc, aiohttp.ClientPayloadError):
        return "payload"
    return "reset"  # ClientOSError: the connection reset or broken mid-exchange


def retry_after_seconds(value: str | None) -> float | None:
    if not value:
        return None
    try:
        return max(0.0, float(value))
    except ValueError:
        return None
