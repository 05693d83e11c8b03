"""The geocoder's backend: address points found by nearest point (reverse) or by text (forward), from three
sources in this order: the points of an `--addresses` file (addresses.py), the demo city's seeded points
and those added by the operator, and — for the World service, on land — a synthesized address (world.py).
Distances to the demo city's points are metres on a local plane, fine at city scale."""

from __future__ import annotations

import math
import re
from collections.abc import Iterable, Mapping
from typing import Any

from shapely import STRtree
from shapely.geometry import Point

from simulators.kit import city as demo_city

from . import addresses, land, world
from .config import ArcgisConfig
from .dialect import CANNOT_QUERY, NO_ADDRESS, ArcgisError
from .grid import M_PER_DEG_LAT, M_PER_DEG_LON
from .places import fold, places

LAT0 = demo_city.CENTER.y
# Metres per degree at the demo city's latitude: the plane its points are measured on (grid.py's constants).
PLANE_M_PER_DEG_LON = M_PER_DEG_LON * math.cos(math.radians(LAT0))


def to_plane(lon: float, lat: float) -> tuple[float, float]:
    return lon * PLANE_M_PER_DEG_LON, lat * M_PER_DEG_LAT


def normalise(text: str) -> str:
    return re.sub(r"[^a-z0-9 ]", "", re.sub(r"\s+", " ", text.lower())).strip()


class GeocoderState:
    seed_sizes: Mapping[str, int] = {"addresses": 6000}

    def __init__(self, config: ArcgisConfig) -> None:
        self.config = config
        self.addresses: list[dict[str, Any]] = []
        self._tree: STRtree | None = None
        self._by_text: dict[str, list[int]] = {}
        self._suggest_index: tuple[list[str], list[int]] | None = None
        self.loaded = addresses.load(config.addresses) if config.addresses else None

    def add_addresses(self, points: Iterable[tuple[int, str, str, float, float]]) -> None:
        """Many address points at once (number, street, postal code, lon, lat), indexed once after."""
        for point in points:
            self._add(*point)
        self._reindex()

    def _add(self, number: int, street: str, postal: str, lon: float, lat: float) -> dict[str, Any]:
        address = f"{number} {street}"
        record = {
            "AddNum": str(number),
            "Address": address,
            "StName": street,
            "City": demo_city.NAME,
            "Subregion": demo_city.COUNTY,
            "Region": demo_city.STATE_NAME,
            "RegionAbbr": demo_city.STATE,
            "Postal": postal,
            "CountryCode": "USA",
            "CntryName": "United States",
            "lon": lon,
            "lat": lat,
        }
        self.addresses.append(record)
        return record

    def add_address(self, number: int, street: str, postal: str, lon: float, lat: float) -> dict[str, Any]:
        record = self._add(number, street, postal, lon, lat)
        self._reindex()
        return record

    def _reindex(self) -> None:
        self._tree = STRtree([Point(*to_plane(a["lon"], a["lat"])) for a in self.addresses])
        self._by_text = {}
        for i, a in enumerate(self.addresses):
            self._by_text.setdefault(normalise(a["Address"]), []).append(i)
        self._suggest_index = None

    def suggest_index(self) -> tuple[list[str], list[int]]:
        """The addresses' folded texts in order with their positions, for suggest's prefix search; built on
        first use after a change."""
        if self._suggest_index is None:
            pairs = sorted((fold(a["Address"]), i) for i, a in enumerate(self.addresses))
            self._suggest_index = ([k for k, _ in pairs], [i for _, i in pairs])
        return self._suggest_index

    def counts(self) -> Mapping[str, int]:
        return {"addresses": len(self.addresses), "loaded": len(self.loaded) if self.loaded else 0}

    def snapshot(self) -> Any:
        return self.addresses

    # -- reverse -----------------------------------------------------------------------------------

    def reverse(self, lon: float, lat: float, distance_m: float | None) -> dict[str, Any]:
        """The nearest address within `distance_m`, or ArcGIS's "no address" error."""
        radius = distance_m if distance_m is not None else self.config.search_radius_m
        if self.loaded is not None:
            i = self.loaded.nearest(lon, lat, radius)
            if i is not None:
                return loaded_record(self.loaded[i])
        if self._tree is not None and self.addresses:
            hits = self._tree.query_nearest(Point(*to_plane(lon, lat)), max_distance=radius)
            if len(hits):
                return self.addresses[int(hits[0])]
        if self.config.synthesizes and land.is_land(lon, lat):
            return world.synthesize(lon, lat)
        raise ArcgisError(400, CANNOT_QUERY, [NO_ADDRESS])

    # -- forward -----------------------------------------------------------------------------------

    def find(self, text: str, max_locations: int) -> list[tuple[int, dict[str, Any]]]:
        """(score, address) best first: 100 exact street address, 90 it starts the text, 80 it is contained."""
        query = normalise(text)
        if not query:
            return []
        found: list[tuple[int, dict[str, Any]]] = []
        if self.loaded is not None:
            found += [(score, loaded_record(self.loaded[i])) for score, i in self.loaded.find(text)]
        if self.config.synthesizes:
            found += world.locate(text, max_locations)
        scored: dict[int, int] = {}
        head = query.split(" ")
        for i in self._by_text.get(query, []):
            scored[i] = 100
        # "100 main st harnessville nc 27601": try the leading words as the street address
        for cut in range(len(head), 1, -1):
            for i in self._by_text.get(" ".join(head[:cut]), []):
                scored.setdefault(i, 90 if cut < len(head) else 100)
        if not scored and not found:
            for i, a in enumerate(self.addresses):
                if query in normalise(a["Address"]):
                    scored[i] = 80
        found += [(score, self.addresses[i]) for i, score in sorted(scored.items(), key=lambda kv: (-kv[1], kv[0]))]
        found.sort(key=lambda t: -t[0])  # stable: by score, the sources in their order
        return found[:max_locations]


def loaded_record(p: addresses.AddressPoint) -> dict[str, Any]:
    """A loaded point as the answer's fields; what the file leaves blank (often city and region in
    OpenAddresses, always the country) comes from the nearest real town."""
    town = places().nearest(p.lon, p.lat)
    if not p.region:
        region, abbr = town.region, town.region_abbr
    elif len(p.region) <= 3:  # OpenAddresses gives US states as 'NC'
        abbr = p.region.upper()
        region = town.region if town.region_abbr == abbr else p.region
    else:
        region, abbr = p.region, ""
    return {
        "AddNum": p.number,
        "Address": f"{p.number} {p.street}",
        "StName": p.street,
        "City": p.city or town.name,
        "Subregion": "",
        "Region": region,
        "RegionAbbr": abbr,
        "Postal": p.postcode,
        "CountryCode": town.country_code,
        "CntryName": town.country_name,
        "lon": p.lon,
        "lat": p.lat,
    }


def labels(a: Mapping[str, Any]) -> dict[str, str]:
    """Esri's labels; a part the address lacks (no postal code, no region abbreviation) is left out."""
    match = (a["Address"], a["City"], a["Region"], a["Postal"])
    long = (a["Address"], a["City"], a["RegionAbbr"] or a["Region"], a["Postal"], a["CountryCode"])
    return {
        "Match_addr": ", ".join(part for part in match if part),
        "LongLabel": ", ".join(part for part in long if part),
        "ShortLabel": a["Address"],
    }
