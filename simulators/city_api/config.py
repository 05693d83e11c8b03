"""City widget API simulator options: which widgets it serves, their secrets, the signing window."""

from __future__ import annotations

import argparse
from dataclasses import dataclass
from typing import Any

from contracts.widget_signing import KEY_ID_RE, WINDOW_S
from simulators.kit import SimConfig
from simulators.kit.spec import check_defects

# The six domains of seed 000, each served as one widget at /{widget}/v1/...
WIDGETS = ("property-taxes", "utilities", "programs", "jobs", "volunteer", "engagement")
DEFAULT_SECRET = "harness-widget-secret"

# Deliberately wrong behaviours, to prove the provider suite notices them. Never on by default.
DEFECTS = {
    "accept-unsigned": "requests without signature headers are served",
    "accept-bad-signature": "the HMAC is not compared: a tampered or wrongly keyed request is served",
    "no-timestamp-window": "any timestamp is accepted, however old",
    "no-replay-check": "a nonce may be used again",
    "skip-verification": "an account links with any verification value",
    "leak-other-links": "content shows every linked account, whoever linked it",
    "unstable-etag": "the ETag changes on every answer, so nothing ever reads as unchanged",
    "static-etag": "the ETag never changes, so a new bill goes unnoticed",
    "ignore-due-dates": "a bill past its due date shows as due: a delinquent property or a past-due account looks fine",
    "no-autopay-text": "an account on autopay is not said to be",
}


@dataclass(frozen=True, slots=True, kw_only=True)
class CityApiConfig(SimConfig):
    widgets: tuple[str, ...] = WIDGETS
    # widget id -> accepted secrets (more than one while rotating); a widget without an entry uses the default.
    secrets: tuple[tuple[str, str], ...] = ()
    default_secret: str = DEFAULT_SECRET
    window_s: int = WINDOW_S
    code_ttl_s: int = 600
    defects: frozenset[str] = frozenset()

    def __post_init__(self) -> None:
        check_defects(self.defects, DEFECTS)
        unknown = sorted(set(self.widgets) - set(WIDGETS))
        if unknown or not self.widgets:
            raise ValueError(f"widgets are some of {', '.join(WIDGETS)}; got {unknown or 'none'}")
        for key_id, secret in self.secrets:
            if key_id not in self.widgets or not secret:
                raise ValueError(f"a secret is for one of the served widgets and not empty: {key_id!r}")
        if not 1 <= self.window_s <= 3600 or self.code_ttl_s < 1:
            raise ValueError("window_s is 1..3600 seconds, code_ttl_s positive")
        assert all(KEY_ID_RE.match(w) for w in WIDGETS)

    def secrets_for(self, widget: str) -> tuple[str, ...]:
        own = tuple(s for k, s in self.secrets if k == widget)
        return own or (self.default_secret,)

    def describe(self) -> dict[str, Any]:
        """As SimConfig's, with secrets shown only as which widgets have their own."""
        out = SimConfig.describe(self)
        out["secrets"] = sorted({k for k, _ in self.secrets})
        out["default_secret"] = "(set)"
        return out


def add_arguments(group: Any) -> None:
    group.add_argument(
        "--widget", action="append", dest="widgets", choices=WIDGETS, help="serve only these widgets (repeatable)"
    )
    group.add_argument(
        "--secret",
        action="append",
        default=[],
        metavar="WIDGET:SECRET",
        help=f"a widget's signing secret (repeatable; twice for one widget while rotating; default {DEFAULT_SECRET!r})",
    )
    group.add_argument("--window", type=int, default=WINDOW_S, help="signature timestamp window, seconds")
    group.add_argument(
        "--defect", action="append", default=[], choices=sorted(DEFECTS), help="a deliberately wrong mode"
    )


def config_from_args(args: argparse.Namespace) -> dict[str, Any]:
    secrets = []
    for item in args.secret:
        widget, sep, secret = item.partition(":")
        if not sep:
            raise ValueError(f"--secret expects WIDGET:SECRET, got {widget!r}")
        secrets.append((widget, secret))
    return {
        "secrets": tuple(secrets),
        "window_s": args.window,
        "defects": frozenset(args.defect),
        **({"widgets": tuple(args.widgets)} if args.widgets else {}),
    }
