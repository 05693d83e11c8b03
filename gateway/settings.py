"""Gateway settings, from the environment (CIVIC_HARNESS_*) or a TOML file. Secrets are write-only: they
never appear in a repr, a log line or an answer."""

from __future__ import annotations

import os
import secrets
import tomllib
from collections.abc import Mapping
from dataclasses import dataclass, field, fields
from pathlib import Path
from typing import Any

from .connectors.guard import Entry

ENV_PREFIX = "CIVIC_HARNESS_"


FORM_ROOM = 1024 * 1024  # the form fields around an upload, on top of the upload itself


@dataclass(frozen=True, slots=True, kw_only=True)
class Settings:
    database_url: str = "sqlite:///civic-harness-gateway.db"
    admin_token: str = field(default_factory=lambda: secrets.token_urlsafe(24), repr=False)
    api_keys: tuple[str, ...] = field(default=(), repr=False)  # Open311 keys for writes
    jurisdiction_id: str = "harnessville.example"
    public_url: str | None = None  # how clients reach the gateway (for media URLs); default: the request's
    max_upload_bytes: int = 10 * 1024 * 1024
    max_page_size: int = 1000
    default_page_size: int = 100
    # Background jobs (outbox delivery every tick, integration jobs by their intervals); 0 turns the scheduler
    # off, for a deployment that runs jobs only through the admin API.
    scheduler_tick_s: float = 5.0
    outbox_retry_base_s: float = 2.0  # first retry after up to this many seconds, doubling (with full jitter)
    # How long a claimed outbox row belongs to the instance that claimed it: longer than any vendor call
    # chain, and how long a row waits after its instance died mid-delivery.
    outbox_claim_s: float = 120.0
    outbox_concurrency: int = 8  # requests delivered at once (the rows of one request always in order)
    # A running job renews its lease every third of this; a dead instance's lease lapses after it.
    job_lease_s: float = 30.0
    vendor_timeout_s: float = 15.0  # every vendor call gives up after this long
    # The status poll reads what changed since its cursor where the vendor can filter by modification time,
    # and every open request on every Nth poll (a change that did not move the modification time).
    full_poll_every: int = 12
    # Widget endpoints the SSRF guard lets through although internal (networks, addresses, hosts, with or
    # without a port), e.g. "127.0.0.1:8123" for a city API simulator on this machine. Empty in production.
    widget_allow: tuple[str, ...] = ()
    widget_allow_only: bool = False  # call allow-listed endpoints only (a closed network, or a test run)
    widget_timeout_s: float = 10.0
    widget_poll_s: float = 300.0  # how often subscribed widgets are asked whether their content changed
    poll_overlap_s: float = 60.0  # re-read this much before the cursor: vendor clocks, late commits
    # Citizen sign-in (H-AUTH-1). Failed sign-ins are counted per e-mail address and per client address, in
    # memory per instance (N instances: N times the attempts); over a limit, 429 with Retry-After until the
    # oldest counted failure is older than the window. An attacker who stops cannot keep an account shut for
    # longer than one window; a browser that signed in to the account before (a signed device cookie) is not
    # held back by the account's limit, only by its client's.
    sign_in_account_failures: int = 10  # failures per e-mail address per window
    sign_in_client_failures: int = 30  # failures per client address per window (successes do not count)
    sign_in_window_s: float = 600.0
    # The client address is the connection's peer; behind N trusted proxies that append to X-Forwarded-For,
    # set this to N and the client is the Nth address from the right. 0: the header is ignored (it is forged
    # as easily as any other header when no proxy of yours writes it).
    forwarded_for_hops: int = 0
    # Password hashes (sign-in and sign-up: 32 MiB and ~0.1 s of CPU each) running at once (default: the
    # CPUs this process may use, at most 4), how many more may wait for a turn and for how long; beyond either,
    # the answer is 503 with Retry-After: so a legitimate sign-in waits at most password_hash_wait_s plus one
    # hash, whatever the flood, and the memory held by hashing is at most password_hashes_at_once x 32 MiB.
    password_hashes_at_once: int = field(default_factory=lambda: min(4, len(os.sched_getaffinity(0)) or 1))
    password_hash_waiting: int = 16
    password_hash_wait_s: float = 1.0
    # Sign-ins and sign-ups one client address may have in progress at once; more are 429 (Retry-After: 1),
    # so one client cannot fill the hashing queue ahead of everyone else. A load test that stands for many
    # citizens on one address raises it (civic-harness load does).
    sign_in_client_at_once: int = 2
    # A failed or refused sign-in (401; 429, or 503 for a full queue) is answered after this long (a refusal
    # at most its Retry-After; at most 1,000 answers held at once): a guessing loop that waits for each answer
    # slows to one guess per this many seconds per connection instead of keeping the gateway busy, and a
    # failure holds its client's turn (sign_in_client_at_once) meanwhile.
    sign_in_refusal_delay_s: float = 1.0
    sign_up_mails_per_window: int = 5  # mails to one address per sign_in_window_s (no mail-bombing by sign-up)
    # Slow clients (slowloris): a request's line and headers must arrive within header_timeout_s of its first
    # byte (of the connection, on a new one), else 408 and the connection closes. Its body must arrive within
    # body_timeout_s plus one second per body_min_rate bytes received (a large upload on a slow but steady
    # link goes on; a trickle does not), else 408 in the API's format and the connection closes.
    header_timeout_s: float = 10.0
    body_timeout_s: float = 30.0
    body_min_rate: int = 16 * 1024
    # Observability (docs/OBSERVABILITY.md): Prometheus metrics at /metrics (off: no /metrics and nothing
    # counted); log lines as `text` (key=value) or `json`, one per event, at this level and above. Traces are
    # the OTEL_* variables' (gateway/observability/tracing.py).
    metrics: bool = True
    log_format: str = "text"
    log_level: str = "INFO"

    @property
    def max_body_bytes(self) -> int:
        """The largest request body read at all: one upload and the form around it."""
        return self.max_upload_bytes + FORM_ROOM

    def __post_init__(self) -> None:
        if len(self.admin_token) < 16:
            raise ValueError("admin_token must be at least 16 characters")
        if any(len(k) < 8 for k in self.api_keys):
            raise ValueError("API keys must be at least 8 characters")
        for entry in self.widget_allow:
            Entry.parse(entry)  # a bad entry fails at start, not at the first widget call
        if self.full_poll_every < 1:
            raise ValueError("full_poll_every must be at least 1 (1: every poll reads every open request)")
        if min(self.sign_in_account_failures, self.sign_in_client_failures, self.sign_up_mails_per_window) < 1:
            raise ValueError("sign-in limits are at least 1")
        if self.sign_in_window_s <= 0:
            raise ValueError("sign_in_window_s must be positive")
        if self.sign_in_client_at_once < 1 or self.password_hash_wait_s <= 0 or self.sign_in_refusal_delay_s < 0:
            raise ValueError("sign_in_client_at_once is at least 1 and password_hash_wait_s positive")
        if self.password_hashes_at_once < 1 or self.password_hash_waiting < 0 or self.forwarded_for_hops < 0:
            raise ValueError("password_hashes_at_once is at least 1; password_hash_waiting and hops are not negative")
        if self.header_timeout_s <= 0 or self.body_timeout_s <= 0 or self.body_min_rate < 1:
            raise ValueError("header_timeout_s and body_timeout_s are positive, body_min_rate at least 1 (bytes/s)")
        if self.log_format not in ("text", "json"):
            raise ValueError(f"log_format is text or json, not {self.log_format!r}")
        if self.log_level.upper() not in ("DEBUG", "INFO", "WARNING", "ERROR", "CRITICAL"):
            raise ValueError(f"log_level is debug, info, warning, error or critical, not {self.log_level!r}")
        if not 1 <= self.default_page_size <= self.max_page_size:
            raise ValueError("default_page_size must be between 1 and max_page_size")

    @classmethod
    def load(cls, toml_path: str | Path | None = None, environ: Mapping[str, str] | None = None) -> Settings:
        """A TOML file's `[gateway]` table, then CIVIC_HARNESS_<NAME> variables over it."""
        values: dict[str, Any] = {}
        if toml_path is not None:
            with open(toml_path, "rb") as fh:
                values.update(tomllib.load(fh).get("gateway", {}))
        environ = os.environ if environ is None else environ
        if "DATABASE_URL" in environ and ENV_PREFIX + "DATABASE_URL" not in environ:
            values["database_url"] = environ["DATABASE_URL"]  # the common convention, e.g. on a PaaS
        for f in fields(cls):
            raw = environ.get(ENV_PREFIX + f.name.upper())
            if raw is None:
                continue
            if f.name in ("api_keys", "widget_allow"):
                values[f.name] = tuple(k.strip() for k in raw.split(",") if k.strip())
            elif f.type in ("int", int):
                values[f.name] = int(raw)
            elif f.type in ("float", float):
                values[f.name] = float(raw)
            elif f.type in ("bool", bool):
                if raw.strip().lower() not in ("1", "true", "yes", "on", "0", "false", "no", "off"):
                    raise ValueError(f"{ENV_PREFIX}{f.name.upper()} is true or false, not {raw!r}")
                values[f.name] = raw.strip().lower() in ("1", "true", "yes", "on")
            else:
                values[f.name] = raw
        for name in ("api_keys", "widget_allow"):
            if name in values:
                values[name] = tuple(values[name])
        unknown = set(values) - {f.name for f in fields(cls)}
        if unknown:
            raise ValueError(f"unknown gateway settings: {', '.join(sorted(unknown))}")
        return cls(**values)


# What a gateway under a conformance suite's checks runs with (`civic-harness gateway --under-test`): jobs run
# only when the suite asks (no scheduler racing its runs), a failed delivery is retried at once, and a vendor
# call the suite makes time out gives up in two seconds. Each is the most a check may wait for.
UNDER_TEST: dict[str, float] = {"scheduler_tick_s": 0.0, "outbox_retry_base_s": 0.001, "vendor_timeout_s": 2.0}
SECRET_FIELDS = frozenset({"admin_token", "api_keys"})


def shown(settings: Settings) -> dict[str, Any]:
    """The settings an operator may read back: never a secret, and of the database only its kind."""
    out: dict[str, Any] = {}
    for f in fields(settings):
        if f.name in SECRET_FIELDS:
            continue
        value = getattr(settings, f.name)
        if f.name == "database_url":
            value = str(value).split(":", 1)[0].split("+", 1)[0]  # sqlite / postgresql, never a password
        out[f.name] = list(value) if isinstance(value, tuple) else value
    return out


def under_test_gaps(settings: Mapping[str, Any]) -> list[str]:
    """What a gateway must change to be put under a conformance suite: `CIVIC_HARNESS_X=value (now y)`."""
    return [
        f"{ENV_PREFIX}{name.upper()}={want:g} (now {settings.get(name)!r})"
        for name, want in UNDER_TEST.items()
        if not isinstance(settings.get(name), int | float) or settings[name] > want
    ]
