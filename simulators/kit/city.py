"""The demo city every simulator seeds its records in, so their coordinates agree with each other and with
the gateway's demo geography. A fictional city placed on real coordinates (WGS84, lon/lat)."""

from __future__ import annotations

from shapely.geometry import Point, Polygon

NAME = "Harnessville"
STATE = "NC"
STATE_NAME = "North Carolina"
COUNTY = "Harness County"
POSTAL_CODES = ("27601", "27603", "27604", "27605", "27607", "27608", "27610")
# An irregular outline (not a box) so point-in-polygon checks are meaningful near the edges.
BOUNDARY = Polygon(
    [
        (-78.700, 35.740),
        (-78.600, 35.735),
        (-78.560, 35.770),
        (-78.590, 35.830),
        (-78.660, 35.845),
        (-78.710, 35.800),
        (-78.700, 35.740),
    ]
)
CENTER = BOUNDARY.representative_point()
SAMPLE_POINT = {"lat": round(CENTER.y, 6), "long": round(CENTER.x, 6)}


def contains(lon: float, lat: float) -> bool:
    return BOUNDARY.contains(Point(lon, lat))


def random_point(rng) -> tuple[float, float]:
    """A uniformly random (lon, lat) inside the city, by rejection sampling from its bounding box."""
    minx, miny, maxx, maxy = BOUNDARY.bounds
    while True:
        lon, lat = rng.uniform(minx, maxx), rng.uniform(miny, maxy)
        if contains(lon, lat):
            return round(lon, 6), round(lat, 6)
