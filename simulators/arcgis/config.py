"""ArcGIS geocoder simulator options: where the service lives and whether it wants a token."""

from __future__ import annotations

import argparse
from dataclasses import dataclass
from typing import Any

from simulators.kit import SimConfig
from simulators.kit.spec import check_defects

# Deliberately wrong behaviours, to prove a conformance suite notices them. Never on by default.
DEFECTS = {
    "empty-address-instead-of-error": "no address near the point answers an empty address, not the error",
    "ignore-outsr": "outSR is ignored: locations always come back in WGS84",
    "ignore-token": "a server that requires a token answers without one",
    "refuse-magic-keys": "findAddressCandidates refuses the magicKeys its own suggest gave",
    "street-interpolated": "findAddressCandidates places an address on its street, ~33 m from the address point",
}


@dataclass(frozen=True, slots=True, kw_only=True)
class ArcgisConfig(SimConfig):
    # The Esri World Geocoder by default; a customer server is e.g. instance "server", service "Locators/City".
    instance: str = "arcgis"
    service: str = "World"
    require_token: bool = False
    tokens: tuple[str, ...] = ("harness-token",)
    search_radius_m: float = 150.0  # reverseGeocode's default `distance`
    # OpenAddresses CSV or GeoJSON of the city's own address points, answered before anything else.
    addresses: str | None = None
    defects: frozenset[str] = frozenset()
    # A city's locator serves `suggest` only when published with suggestions enabled (Esri: built with Create
    # Locator, ArcGIS Server 10.3+/10.6+); the World service always does. Off: a locator published without it.
    suggest: bool = True
    # A magicKey this server did not issue: "error" (400, inferred) or "ignore" (geocode the text as if no key
    # came). Esri documents neither.
    unknown_magic_key: str = "error"

    def __post_init__(self) -> None:
        parts = [self.instance, *self.service.split("/")]
        if not all(p and p.replace("_", "").replace("-", "").isalnum() for p in parts) or len(parts) > 3:
            raise ValueError("instance and service are path segments (service may be folder/name)")
        check_defects(self.defects, DEFECTS)
        if self.unknown_magic_key not in ("error", "ignore"):
            raise ValueError("unknown_magic_key is 'error' or 'ignore'")
        if self.search_radius_m <= 0:
            raise ValueError("search_radius_m must be positive")
        if self.addresses:
            from .addresses import load  # a bad file is refused here, named with its line, before serving

            load(self.addresses)

    @property
    def synthesizes(self) -> bool:
        """Esri's World Geocoder answers anywhere on land; a city's own locator only where it has points."""
        return self.service.lower() == "world"

    @property
    def suggests(self) -> bool:
        return self.synthesizes or self.suggest

    @property
    def service_path(self) -> str:
        return f"/{self.instance}/rest/services/{self.service}/GeocodeServer"


def add_arguments(group: Any) -> None:
    group.add_argument("--instance", default="arcgis", help="the ArcGIS Server instance segment (default arcgis)")
    group.add_argument("--service", default="World", help="the locator service, optionally folder/name (default World)")
    group.add_argument("--require-token", action="store_true", help="answer 499 Token Required without a token")
    group.add_argument("--token", action="append", dest="tokens", help="a token the server accepts (repeatable)")
    group.add_argument("--search-radius", type=float, default=150.0, help="default reverse-geocode distance, metres")
    group.add_argument(
        "--addresses",
        metavar="FILE",
        help="the city's address points: OpenAddresses CSV (LON,LAT,NUMBER,STREET,...) or GeoJSON points",
    )
    group.add_argument(
        "--no-suggest",
        dest="suggest",
        action="store_false",
        help="a city locator published without suggestions (the World service always suggests)",
    )
    group.add_argument(
        "--unknown-magic-key",
        choices=("error", "ignore"),
        default="error",
        help="what a magicKey this server did not issue gets (inferred; default error)",
    )
    group.add_argument(
        "--defect",
        action="append",
        default=[],
        choices=sorted(DEFECTS),
        help="a deliberately wrong behaviour, to prove a suite notices it (repeatable)",
    )


def config_from_args(args: argparse.Namespace) -> dict[str, Any]:
    out: dict[str, Any] = {
        "instance": args.instance,
        "service": args.service,
        "require_token": args.require_token,
        "search_radius_m": args.search_radius,
        "addresses": args.addresses,
        "defects": frozenset(args.defect),
        "suggest": args.suggest,
        "unknown_magic_key": args.unknown_magic_key,
    }
    if args.tokens:
        out["tokens"] = tuple(args.tokens)
    return out
