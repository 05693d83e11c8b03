"""The geocoder's backend: address points in the demo city, found by nearest point (reverse) or by text
(forward). Distances are metres on a local plane, fine at city scale."""

from __future__ import annotations

import math
import re
from collections.abc import Mapping
from typing import Any

from shapely import STRtree
from shapely.geometry import Point

from simulators.kit import Seeder
from simulators.kit import city as demo_city

from .config import ArcgisConfig
from .dialect import CANNOT_QUERY, NO_ADDRESS, ArcgisError

LAT0 = demo_city.CENTER.y
M_PER_DEG_LAT = 110_540.0
M_PER_DEG_LON = 111_320.0 * math.cos(math.radians(LAT0))
STREET_TYPES = ("St", "Ave", "Rd", "Blvd", "Dr", "Ln", "Ct", "Way", "Pl")


def to_plane(lon: float, lat: float) -> tuple[float, float]:
    return lon * M_PER_DEG_LON, lat * M_PER_DEG_LAT


def normalise(text: str) -> str:
    return re.sub(r"[^a-z0-9 ]", "", re.sub(r"\s+", " ", text.lower())).strip()


class GeocoderState:
    seed_sizes: Mapping[str, int] = {"addresses": 6000}

    def __init__(self, config: ArcgisConfig) -> None:
        self.config = config
        self.addresses: list[dict[str, Any]] = []
        self._tree: STRtree | None = None
        self._by_text: dict[str, list[int]] = {}

    def seed(self, seed: int, sizes: Mapping[str, int]) -> Mapping[str, int]:
        s = Seeder(seed)
        streets = [f"{s.faker.last_name()} {STREET_TYPES[i % len(STREET_TYPES)]}" for i in range(80)]
        # City Hall stands on the demo city's sample point, so the point every tool prints has an address.
        self._add(
            1,
            "Civic Center Plaza",
            demo_city.POSTAL_CODES[0],
            demo_city.SAMPLE_POINT["long"],
            demo_city.SAMPLE_POINT["lat"],
        )
        for n, (lon, lat) in enumerate(demo_city.random_points(s.rng, sizes["addresses"])):
            street = streets[s.rng.randrange(len(streets))]
            self._add(
                s.rng.randrange(1, 9999), street, demo_city.POSTAL_CODES[n % len(demo_city.POSTAL_CODES)], lon, lat
            )
        self._reindex()
        return self.counts()

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

    def counts(self) -> Mapping[str, int]:
        return {"addresses": len(self.addresses)}

    def snapshot(self) -> Any:
        return self.addresses

    # -- reverse -----------------------------------------------------------------------------------

    def reverse(self, lon: float, lat: float, distance_m: float | None) -> dict[str, Any]:
        """The nearest address within `distance_m`, or ArcGIS's "no address" error."""
        radius = distance_m if distance_m is not None else self.config.search_radius_m
        if self._tree is None or not self.addresses:
            raise ArcgisError(400, CANNOT_QUERY, [NO_ADDRESS])
        hits = self._tree.query_nearest(Point(*to_plane(lon, lat)), max_distance=radius)
        if len(hits) == 0:
            raise ArcgisError(400, CANNOT_QUERY, [NO_ADDRESS])
        return self.addresses[int(hits[0])]

    # -- forward -----------------------------------------------------------------------------------

    def find(self, text: str, max_locations: int) -> list[tuple[int, dict[str, Any]]]:
        """(score, address) best first: 100 exact street address, 90 it starts the text, 80 it is contained."""
        query = normalise(text)
        if not query:
            return []
        scored: dict[int, int] = {}
        head = query.split(" ")
        for i in self._by_text.get(query, []):
            scored[i] = 100
        # "100 main st harnessville nc 27601": try the leading words as the street address
        for cut in range(len(head), 1, -1):
            for i in self._by_text.get(" ".join(head[:cut]), []):
                scored.setdefault(i, 90 if cut < len(head) else 100)
        if not scored:
            for i, a in enumerate(self.addresses):
                if query in normalise(a["Address"]):
                    scored[i] = 80
        ranked = sorted(scored.items(), key=lambda kv: (-kv[1], kv[0]))[:max_locations]
        return [(score, self.addresses[i]) for i, score in ranked]


def labels(a: Mapping[str, Any]) -> dict[str, str]:
    return {
        "Match_addr": f"{a['Address']}, {a['City']}, {a['Region']}, {a['Postal']}",
        "LongLabel": f"{a['Address']}, {a['City']}, {a['RegionAbbr']}, {a['Postal']}, {a['CountryCode']}",
        "ShortLabel": a["Address"],
    }
