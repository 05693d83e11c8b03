"""Cityworks authentication: opaque signed tokens, and where each version expects them.

Before 23 the token travels as the `token` parameter; from 23 on as `Authorization: cityworks <token>`.
A client using the other version's scheme is refused with Status 2 (Unauthorized), as the server would.
"""

from __future__ import annotations

import base64
import hashlib
import hmac
import json
import secrets
import time
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Any

from simulators.kit.clock import Clock

from .config import CityworksConfig
from .dialect import (
    CityworksError,
)
from .errors import EmployeeNotFound, InvalidCredentials, Unauthorized

AUTH_SERVICE = "General/Authentication"
HEADER_SCHEME = "cityworks"


@dataclass(frozen=True, slots=True)
class TokenClaims:
    login: str
    employee_sid: int
    expires: float
    kind: str  # "site" or "online"


class TokenSigner:
    """Tokens are base64 JSON {EmployeeSid, Expires, IssuedTime, LoginName, Signature, Token}, as the real
    ones look; the signature makes them unforgeable. The key lives with the backend, so a reset
    invalidates every token issued before it (clients must log in again, as after a server restart)."""

    def __init__(self, clock: Clock | None = None) -> None:
        self.clock = clock or Clock()  # the site's clock: a scenario's clock step moves expiry with it
        self._key = secrets.token_bytes(32)
        self._verified: dict[str, TokenClaims] = {}  # a session cache, as the real server keeps one

    def issue(self, login: str, employee_sid: int, ttl_s: float, kind: str = "site") -> str:
        issued = self.clock.time()
        claims = {
            "EmployeeSid": employee_sid,
            "Expires": round(issued + ttl_s, 3),
            "IssuedTime": round(issued, 3),
            "Kind": kind,
            "LoginName": login,
            "Token": secrets.token_hex(16),
        }
        claims["Signature"] = self._sign(claims)
        return base64.b64encode(json.dumps(claims, sort_keys=True).encode()).decode()

    def verify(self, token: str) -> TokenClaims | None:
        claims = self._verified.get(token)
        if claims is not None:
            return claims if claims.expires >= self.clock.time() else None
        claims = self._check(token)
        if claims is not None:
            if len(self._verified) >= 10_000:
                self._verified.clear()
            self._verified[token] = claims
        return claims

    def _check(self, token: str) -> TokenClaims | None:
        try:
            claims = json.loads(base64.b64decode(token.encode(), validate=True))
            signature = claims.pop("Signature")
            if not isinstance(signature, str) or not hmac.compare_digest(signature, self._sign(claims)):
                return None
            if claims["Expires"] < self.clock.time():
                return None
            return TokenClaims(claims["LoginName"], claims["EmployeeSid"], claims["Expires"], claims["Kind"])
        except (ValueError, KeyError, TypeError, AttributeError):
            return None

    def _sign(self, claims: dict[str, Any]) -> str:
        text = json.dumps({k: v for k, v in claims.items() if k != "Signature"}, sort_keys=True)
        return hmac.new(self._key, text.encode(), hashlib.sha256).hexdigest()


def unauthorized(text: str) -> CityworksError:
    return Unauthorized(text, AUTH_SERVICE)


def token_from_request(config: CityworksConfig, token_param: str | None, authorization: str | None) -> str:
    """The token a call carries, by the rules of this version."""
    if config.header_auth:
        if authorization:
            scheme, _, value = authorization.partition(" ")
            if scheme.lower() != HEADER_SCHEME or not value.strip():
                raise unauthorized(
                    f"Unsupported authorization scheme {scheme!r}; use 'Authorization: cityworks <token>'"
                )
            return value.strip()
        if token_param and config.accept_token_param_on_23:
            return token_param
        if token_param:
            raise unauthorized("The token parameter is not accepted; send 'Authorization: cityworks <token>'")
        raise unauthorized("Authorization required")
    if token_param:
        return token_param
    raise unauthorized(
        "Token required" + (" (the Authorization header is not used by this version)" if authorization else "")
    )


def check_password(state: Any, login: Any, password: Any, signer: TokenSigner) -> Any:
    """The employee for these credentials; a Cityworks Online token is accepted as the password."""
    if not isinstance(login, str) or not isinstance(password, str) or not login or not password:
        raise InvalidCredentials(
            "LoginName and Password are required",
            AUTH_SERVICE,
        )
    employee = state.employee(login)
    if employee is None:
        raise EmployeeNotFound(
            f"No employee with login {login}",
            AUTH_SERVICE,
        )
    if hmac.compare_digest(password.encode(), employee["password"].encode()):
        return employee
    if state.config.online_login:
        claims = signer.verify(password)
        if claims is not None and claims.kind == "online" and claims.login.lower() == login.lower():
            return employee
    raise InvalidCredentials(
        "Invalid login name or password",
        AUTH_SERVICE,
    )


def expiry_ttl(config: CityworksConfig, expires: Any) -> float:
    """`Expires` on Authenticate: an ISO date/time when the token should lapse; default the configured ttl."""
    if not expires:
        return config.token_ttl_s
    try:
        when = datetime.fromisoformat(str(expires).replace("Z", "+00:00"))
    except ValueError:
        return config.token_ttl_s
    if when.tzinfo is None:
        when = when.replace(tzinfo=UTC)
    return max(1.0, min(when.timestamp() - time.time(), 30 * 86_400))
