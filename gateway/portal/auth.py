"""What stands between a citizen's sign-in and a guessing attacker (H-AUTH-1, H-AUTH-2): failure limits per
account and per client, the bound on password hashing, CSRF tokens for the HTML forms and the Origin check,
and the device cookie that lets a browser which signed in before past an account's limit.

The keys (CSRF, device cookies) are kept in the database like the pseudonym key (store.user_key), so every
instance of the gateway signs and checks with the same key and a restart does not end open forms."""

from __future__ import annotations

import asyncio
import hashlib
import hmac
import secrets
import time
from typing import Any
from urllib.parse import urlsplit

from aiohttp import web

from ..domain.throttle import Bound, InProgress, Window
from ..settings import Settings
from . import store

CSRF_COOKIE = "civic_form"  # the pre-session cookie a form's token is bound to
SECURE_CSRF_COOKIE = "__Host-civic_form"  # over https: only this host can set it (no sibling-domain injection)
DEVICE_COOKIE = "civic_device"
DEVICE_TTL_S = 180 * 24 * 3600
FORM_KEY = "form_key"
MAX_DELAYED = 1000  # refusals held back at once; beyond, answered at once (a connection each)


class SignInGuard:
    """One per application: the limits' state, the hash bound, the forms' key."""

    def __init__(self, settings: Settings) -> None:
        window = settings.sign_in_window_s
        self.accounts = Window(settings.sign_in_account_failures, window)
        self.clients = Window(settings.sign_in_client_failures, window)
        self.mails = Window(settings.sign_up_mails_per_window, window)
        self.hashing = Bound(
            settings.password_hashes_at_once, settings.password_hash_waiting, settings.password_hash_wait_s
        )
        self.in_progress = InProgress(settings.sign_in_client_at_once)
        self.refusal_delay_s = settings.sign_in_refusal_delay_s
        self.delayed = 0  # refusals being held back now
        self.hops = settings.forwarded_for_hops
        self.public_url = settings.public_url
        self._key: bytes | None = None
        self._key_lock = asyncio.Lock()
        self.engine: Any = None  # the app's database, bound when it is open (app.py)

    async def hold_back(self, seconds: float) -> None:
        """Answer a refusal a little later (sign_in_refusal_delay_s): cheap for the gateway, slow for a loop."""
        delay = min(self.refusal_delay_s, seconds)
        if delay <= 0 or self.delayed >= MAX_DELAYED:
            return
        self.delayed += 1
        try:
            await asyncio.sleep(delay)
        finally:
            self.delayed -= 1

    def first_in_line(self, request: web.Request) -> bool:
        """A client with no failure counted against it: its hashes go before those of clients with some."""
        return self.clients.count(self.client(request)) == 0

    async def key(self) -> bytes:
        if self._key is None:
            async with self._key_lock:
                if self._key is None:
                    self._key = bytes.fromhex(await store.stored_key(self.engine, FORM_KEY))
        return self._key

    def client(self, request: web.Request) -> str:
        """The client's address: the peer, or the address the Nth trusted proxy saw (forwarded_for_hops)."""
        if self.hops:
            seen = [a.strip() for a in ",".join(request.headers.getall("X-Forwarded-For", [])).split(",")]
            seen = [a for a in seen if a]
            if len(seen) >= self.hops:
                return seen[-self.hops]
        return request.remote or "unknown"

    # -- forms ----------------------------------------------------------------------------------------

    def own_origin(self, request: web.Request) -> tuple[str, str]:
        """(scheme, host[:port]) the portal is reached at: public_url when set, else the request's own."""
        if self.public_url:
            parts = urlsplit(self.public_url)
            return parts.scheme.lower(), parts.netloc.lower()
        return request.scheme, request.host.lower()

    def cross_origin(self, request: web.Request) -> bool:
        """A form post whose Origin (or, without one, Referer) is another origin than the portal's. Without
        public_url the scheme is not compared (a proxy may end TLS before the gateway); set public_url for the
        full check."""
        seen = request.headers.get("Origin") or request.headers.get("Referer")
        if seen is None:
            return False  # privacy settings strip both: the form token still has to match
        parts = urlsplit(seen)
        if seen.strip().lower() == "null" or not parts.netloc:
            return True
        scheme, host = self.own_origin(request)
        return parts.netloc.lower() != host or (self.public_url is not None and parts.scheme.lower() != scheme)

    @staticmethod
    def csrf_cookie_name(request: web.Request) -> str:
        return SECURE_CSRF_COOKIE if request.secure else CSRF_COOKIE

    async def form_token(self, request: web.Request, response: web.StreamResponse, form: str) -> str:
        """The token for a form on this page, bound to the browser's pre-session cookie (set if it has none)."""
        name = self.csrf_cookie_name(request)
        nonce = request.cookies.get(name, "")
        if not 16 <= len(nonce) <= 64:
            nonce = secrets.token_urlsafe(24)
            response.set_cookie(name, nonce, httponly=True, samesite="Lax", secure=request.secure, path="/")
        return self._sign(await self.key(), f"form:{form}:{nonce}")

    async def form_token_ok(self, request: web.Request, form: str, token: str) -> bool:
        nonce = request.cookies.get(self.csrf_cookie_name(request), "")
        if not nonce or not token:
            return False
        return hmac.compare_digest(token, self._sign(await self.key(), f"form:{form}:{nonce}"))

    # -- device cookies -------------------------------------------------------------------------------

    async def device_cookie(self, request: web.Request, email: str) -> str:
        expires = int(time.time()) + DEVICE_TTL_S
        payload = f"{expires}.{secrets.token_urlsafe(9)}"
        return f"{payload}.{self._sign(await self.key(), f'device:{email}:{payload}')}"

    async def known_device(self, request: web.Request, email: str) -> bool:
        """The browser signed in to this account before (OWASP's device cookies against lock-out)."""
        value = request.cookies.get(DEVICE_COOKIE, "")
        payload, _, signature = value.rpartition(".")
        expires = payload.split(".", 1)[0]
        if not signature or not expires.isdigit() or int(expires) < time.time():
            return False
        expected = self._sign(await self.key(), f"device:{email}:{payload}")
        return hmac.compare_digest(signature, expected)

    @staticmethod
    def _sign(key: bytes, text: str) -> str:
        return hmac.new(key, text.encode(), hashlib.sha256).hexdigest()
