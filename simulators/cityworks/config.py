"""Cityworks simulator options: which version family it speaks and which APIs it is licensed for."""

from __future__ import annotations

import argparse
import functools
from dataclasses import dataclass
from typing import Any

from simulators.kit import SimConfig
from simulators.kit.clock import zone_named
from simulators.kit.spec import check_defects

MINOR_15 = tuple(f"15.{n}" for n in range(9))
VERSIONS = ("2013", "2014", "2015", *MINOR_15, "23")
LICENCES = frozenset({"sr", "wo"})
# Deliberately wrong behaviours, to prove a conformance suite notices them. Never on by default.
DEFECTS = {
    "ignore-public-flag": "ForPublicOnly is ignored: non-public problems and templates are offered",
    "reorder-comments": "comments come back newest first",
    "corrupt-attachments": "downloads flip the first byte of the file",
    "ignore-licences": "unlicensed APIs answer as if licensed",
    "accept-any-token": "any non-empty token is accepted",
    "drop-customer-calls": "CustomerCall/AddToRequest answers success but records nothing",
}


@functools.lru_cache(maxsize=64)  # asked several times on every call (auth rules, envelope)
def family(version: str) -> str:
    """`2013`, `2014`, `2015`, `15` or `23`: what the contract's `x-versions` name."""
    if version in MINOR_15 or version == "15":
        return "15"
    if version.split(".")[0] == "23" or version.startswith("23"):
        return "23"
    return version


@dataclass(frozen=True, slots=True, kw_only=True)
class CityworksConfig(SimConfig):
    front_door: str = "iis"  # on-premise Cityworks runs on IIS: its request limits answer before the API does
    version: str = "23"
    licences: frozenset[str] = LICENCES
    # Cityworks 23 moved the token into `Authorization: cityworks <token>`. Whether 23 still takes
    # `token=` is not known from public sources, so it is a switch; off = reject it (the stricter reading).
    accept_token_param_on_23: bool = False
    # 2013/2014 are believed to answer with only {Status, Message, Value} (inferred); None = by version.
    legacy_envelope: bool | None = None
    token_ttl_s: int = 8 * 3600
    # The password a login takes when it comes through Cityworks Online (its token) is accepted too.
    online_login: bool = True
    # Where `data`/`token` sent both in the query string and in the form are read from. ASP.NET's Request[name]
    # reads the query first; which accessor Cityworks uses is not public (inferred), so it is a setting.
    parameter_precedence: str = "query"
    # Whether Create checks an answer's value against its AnswerFormat (NUMERIC a number, DATE a date, one answer
    # per question) is not known from public sources: a switch (inferred); off = store any value, as text.
    check_answer_values: bool = False
    # The site's time zone (IANA): Cityworks writes its local time without an offset. UTC by default, which
    # is what a gateway reads when its integration sets no zone.
    timezone: str = "UTC"
    defects: frozenset[str] = frozenset()

    def __post_init__(self) -> None:
        zone_named(self.timezone)
        if self.version not in VERSIONS:
            raise ValueError(f"unknown Cityworks version {self.version!r}; one of {', '.join(VERSIONS)}")
        check_defects(self.defects, DEFECTS)
        if self.parameter_precedence not in ("query", "form"):
            raise ValueError(f"parameter_precedence must be query or form, got {self.parameter_precedence!r}")
        unknown = set(self.licences) - LICENCES
        if unknown or not self.licences:
            raise ValueError(f"licences must be a non-empty subset of sr, wo (got {sorted(self.licences)})")

    @property
    def family(self) -> str:
        return family(self.version)

    @property
    def header_auth(self) -> bool:
        return self.family == "23"

    @property
    def uses_legacy_envelope(self) -> bool:
        if self.legacy_envelope is not None:
            return self.legacy_envelope
        return self.family in ("2013", "2014")


def _licences(text: str) -> frozenset[str]:
    parts = frozenset(p.strip().lower() for p in text.split(",") if p.strip())
    if not parts or parts - LICENCES:
        raise argparse.ArgumentTypeError("expected sr, wo or sr,wo")
    return parts


def add_arguments(group: Any) -> None:
    group.add_argument("--version", default="23", choices=VERSIONS, help="Cityworks version to speak (default 23)")
    group.add_argument(
        "--timezone",
        default="UTC",
        help="the site's time zone (IANA name): dates are written in its local time without an offset (default UTC)",
    )
    group.add_argument(
        "--licences",
        "--licence",
        "--licenses",
        "--license",
        dest="licence",
        type=_licences,
        default=LICENCES,
        help="licensed APIs: sr, wo or sr,wo (any spelling: --licence, --licenses, --license)",
    )
    group.add_argument(
        "--accept-token-param-on-23",
        action="store_true",
        help="on 23, also accept the pre-23 token= parameter (real behaviour unknown)",
    )
    group.add_argument(
        "--envelope",
        choices=("auto", "full", "legacy"),
        default="auto",
        help="response envelope: by version (auto), the 2015+ one (full) or {Status, Message, Value} (legacy)",
    )
    group.add_argument(
        "--parameter-precedence",
        choices=("query", "form"),
        default="query",
        help="where data/token sent both in the query and the form are read from (default query, as ASP.NET's "
        "Request[name]; inferred)",
    )
    group.add_argument("--token-ttl", type=int, default=8 * 3600, help="token lifetime in seconds")
    group.add_argument(
        "--check-answer-values",
        action="store_true",
        help="refuse an answer whose value does not fit its AnswerFormat (NUMERIC, DATE) or a question answered "
        "twice (real behaviour unknown)",
    )
    group.add_argument(
        "--defect",
        action="append",
        default=[],
        choices=sorted(DEFECTS),
        help="a deliberately wrong behaviour, to prove a suite notices it (repeatable): "
        + "; ".join(f"{k}: {v}" for k, v in DEFECTS.items()),
    )


def config_from_args(args: argparse.Namespace) -> dict[str, Any]:
    return {
        "version": args.version,
        "licences": args.licence,
        "accept_token_param_on_23": args.accept_token_param_on_23,
        "legacy_envelope": {"auto": None, "full": False, "legacy": True}[args.envelope],
        "token_ttl_s": args.token_ttl,
        "parameter_precedence": args.parameter_precedence,
        "check_answer_values": args.check_answer_values,
        "timezone": args.timezone,
        "defects": frozenset(args.defect),
    }
