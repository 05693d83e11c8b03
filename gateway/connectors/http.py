"""One shared aiohttp session for every vendor call: timeouts on every call, retries with exponential
backoff and full jitter, 429 Retry-After honoured, and failures sorted by what they mean for a write.

- `Rejected`: the vendor answered and refused (4xx, an error envelope). Retrying the same call is pointless.
- `Uncertain`: the call may have taken effect (timeout, reset, 5xx after sending). A write must look its
  effect up at the vendor before trying again.
- `Unavailable`: the call certainly did not take effect (connection refused, 429, 503 before sending).
"""

from __future__ import annotations

import asyncio
import json
import random
from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any

import aiohttp


class VendorError(Exception):
    kind = "vendor"

    def __init__(self, message: str, status: int | None = None, retry_after: float | None = None) -> None:
        super().__init__(message)
        self.message, self.status, self.retry_after = message, status, retry_after


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
            raise Uncertain(f"the vendor answered malformed JSON ({self.body[:60]!r})", self.status) from None


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
    def __init__(self, session: aiohttp.ClientSession, policy: RetryPolicy | None = None, seed: int | None = None):
        self.session = session
        self.policy = policy or RetryPolicy()
        self.rng = random.Random(seed)

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
            if reply.status == 429 or (reply.status == 503 and idempotent):
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
        try:
            async with self.session.request(
                method, url, data=data, params=params, headers=headers, json=json_body, timeout=timeout
            ) as resp:
                body = await resp.read()
                return Reply(resp.status, resp.content_type, body, retry_after_seconds(resp.headers.get("Retry-After")))
        except aiohttp.ClientConnectorError as exc:  # never reached the server
            raise Unavailable(f"cannot connect to {url}: {exc.__class__.__name__}") from None
        except (
            TimeoutError,
            aiohttp.ServerDisconnectedError,
            aiohttp.ClientPayloadError,
            aiohttp.ClientOSError,
        ) as exc:
            raise Uncertain(f"{method} {url}: {exc.__class__.__name__}") from None


def retry_after_seconds(value: str | None) -> float | None:
    if not value:
        return None
    try:
        return max(0.0, float(value))
    except ValueError:
        return None
