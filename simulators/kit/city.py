"""The demo city every simulator seeds its records in, so their coordinates agree with each other and with
the gateway's demo geography. A fictional city placed on real coordinates (WGS84, lon/lat)."""

from __future__ import annotations

import random

import shapely
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
shapely.prepare(BOUNDARY)
CENTER = BOUNDARY.representative_point()
SAMPLE_POINT = {"lat": round(CENTER.y, 6), "long": round(CENTER.x, 6)}


def contains(lon: float, lat: float) -> bool:
    return BOUNDARY.contains(Point(lon, lat))


def random_points(rng: random.Random, n: int) -> list[tuple[float, float]]:
    """`n` uniformly random (lon, lat) inside the city: rejection sampling from the bounding box,
    tested in vectorised batches so 100,000 points take a fraction of a second."""
    minx, miny, maxx, maxy = BOUNDARY.bounds
    out: list[tuple[float, float]] = []
    while len(out) < n:
        batch = max(16, int((n - len(out)) * 1.5))
        xs = [rng.uniform(minx, maxx) for _ in range(batch)]
        ys = [rng.uniform(miny, maxy) for _ in range(batch)]
        inside = shapely.contains_xy(BOUNDARY, xs, ys)
        out += [(round(x, 6), round(y, 6)) for x, y, ok in zip(xs, ys, inside, strict=True) if ok]
    return out[:n]


def random_point(rng: random.Random) -> tuple[float, float]:
    return random_points(rng, 1)[0]
