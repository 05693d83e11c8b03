"""Request signing of the city widget contract (contracts/city-widget.yaml, `x-signing`): the one
implementation the simulator, the gateway and the conformance suite share. Pure: no I/O, no clock.

    canonical = "\\n".join(["v1", key_id, timestamp, nonce, METHOD, request_target, sha256_hex(body)])
    Civic-Widget-Signature: v1=<lowercase hex HMAC-SHA256(secret as UTF-8, canonical as UTF-8)>

`request_target` is the path and query exactly as on the request line (percent-encoding untouched), so
signer and verifier never have to agree on a canonical query order.
"""

from __future__ import annotations

import hashlib
import hmac
import re
import secrets as _secrets
from collections.abc import Mapping
from dataclasses import dataclass

VERSION = "v1"
KEY_ID = "Civic-Widget-Key-Id"
TIMESTAMP = "Civic-Widget-Timestamp"
NONCE = "Civic-Widget-Nonce"
SIGNATURE = "Civic-Widget-Signature"
HEADERS = (KEY_ID, TIMESTAMP, NONCE, SIGNATURE)
WINDOW_S = 300
NONCE_RE = re.compile(r"^[A-Za-z0-9_-]{16,64}$")
KEY_ID_RE = re.compile(r"^[A-Za-z0-9_.-]{1,64}$")
TIMESTAMP_RE = re.compile(r"^[0-9]{1,12}$")
SIGNATURE_RE = re.compile(r"^v1=[0-9a-f]{64}$")


class SignatureError(Exception):
    """Why a request's signature is refused; `code` is the contract's error code."""

    def __init__(self, code: str, message: str) -> None:
        super().__init__(message)
        self.code, self.message = code, message


def body_hash(body: bytes) -> str:
    return hashlib.sha256(body).hexdigest()


def canonical_string(key_id: str, timestamp: int | str, nonce: str, method: str, target: str, body: bytes) -> str:
    return "\n".join([VERSION, key_id, str(timestamp), nonce, method.upper(), target, body_hash(body)])


def signature(secret: str, canonical: str) -> str:
    digest = hmac.new(secret.encode("utf-8"), canonical.encode("utf-8"), hashlib.sha256).hexdigest()
    return f"{VERSION}={digest}"


def new_nonce() -> str:
    return _secrets.token_urlsafe(18)  # 24 characters of [A-Za-z0-9_-]


def sign(
    key_id: str, secret: str, method: str, target: str, body: bytes, now: float, nonce: str | None = None
) -> dict[str, str]:
    """The four headers that sign one request."""
    ts = int(now)
    nonce = nonce or new_nonce()
    canonical = canonical_string(key_id, ts, nonce, method, target, body)
    return {KEY_ID: key_id, TIMESTAMP: str(ts), NONCE: nonce, SIGNATURE: signature(secret, canonical)}


@dataclass(frozen=True, slots=True)
class Verified:
    key_id: str
    nonce: str
    timestamp: int


def verify(
    headers: Mapping[str, str],
    method: str,
    target: str,
    body: bytes,
    secrets: Mapping[str, tuple[str, ...]],
    now: float,
    window_s: int = WINDOW_S,
) -> Verified:
    """Check a request's signature; raise SignatureError with the contract's code.

    `secrets`: key id -> the secrets accepted for it (more than one while a secret is rotated).
    Replay (a nonce seen before) is the caller's check, after this one passes, so an attacker cannot fill
    the nonce memory with unsigned junk.
    """
    values = {name: headers.get(name) for name in HEADERS}
    missing = [name for name, value in values.items() if not value]
    if missing:
        raise SignatureError("missing_signature", f"the request is not signed: missing {', '.join(missing)}")
    key_id, ts, nonce, sig = (str(values[name]) for name in HEADERS)
    if not KEY_ID_RE.match(key_id) or not NONCE_RE.match(nonce) or not TIMESTAMP_RE.match(ts):
        raise SignatureError("bad_signature", "malformed signature headers")
    if abs(now - int(ts)) > window_s:
        raise SignatureError("stale_timestamp", f"timestamp is more than {window_s} s from the server's clock")
    accepted = secrets.get(key_id)
    if not accepted:
        raise SignatureError("unknown_key", f"no secret for key id {key_id!r} on this widget")
    canonical = canonical_string(key_id, ts, nonce, method, target, body)
    if not any(hmac.compare_digest(signature(s, canonical), sig) for s in accepted):
        raise SignatureError("bad_signature", "the signature does not match the request")
    return Verified(key_id, nonce, int(ts))


class NonceMemory:
    """Nonces seen within the window, per key id: a second use is a replay. Bounded by the window, since
    older requests already fail the timestamp check."""

    def __init__(self, window_s: int = WINDOW_S) -> None:
        self.window_s = window_s
        self._seen: dict[tuple[str, str], float] = {}
        self._next_sweep = 0.0

    def remember(self, key_id: str, nonce: str, now: float) -> bool:
        """True the first time (key id, nonce) is seen within the window, False on a replay."""
        if now >= self._next_sweep:
            horizon = now - 2 * self.window_s
            self._seen = {k: t for k, t in self._seen.items() if t >= horizon}
            self._next_sweep = now + self.window_s / 10
        key = (key_id, nonce)
        if key in self._seen:
            return False
        self._seen[key] = now
        return True

    def __len__(self) -> int:
        return len(self._seen)
