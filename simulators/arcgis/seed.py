"""A city's address points for the ArcGIS simulator, deterministic from the seed: City Hall on the demo
city's sample point (so the point every tool prints has an address), the rest on streets of made-up names."""

from __future__ import annotations

from collections.abc import Mapping
from typing import TYPE_CHECKING

from simulators.kit import Seeder
from simulators.kit import city as demo_city

if TYPE_CHECKING:
    from .state import GeocoderState

STREET_TYPES = ("St", "Ave", "Rd", "Blvd", "Dr", "Ln", "Ct", "Way", "Pl")


def seed_state(state: GeocoderState, seed: int, sizes: Mapping[str, int]) -> None:
    s = Seeder(seed)
    streets = [f"{s.faker.last_name()} {STREET_TYPES[i % len(STREET_TYPES)]}" for i in range(80)]
    # City Hall stands on the demo city's sample point, so the point every tool prints has an address.
    points = [(1, "Civic Center Plaza", demo_city.POSTAL_CODES[0], demo_city.SAMPLE_POINT["long"],
               demo_city.SAMPLE_POINT["lat"])]  # fmt: skip
    for n, (lon, lat) in enumerate(demo_city.random_points(s.rng, sizes["addresses"])):
        street = streets[s.rng.randrange(len(streets))]  # the street drawn before the number, as always
        postal = demo_city.POSTAL_CODES[n % len(demo_city.POSTAL_CODES)]
        points.append((s.rng.randrange(1, 9999), street, postal, lon, lat))
    state.add_addresses(points)
