"""The demo city every simulator seeds its records in, so their coordinates agree with each other and with
the gateway's demo geography: the library's demo-city scenario (contracts/scenarios/demo-city.yaml), as
shapely geometry. A fictional city placed on real coordinates (WGS84, lon/lat)."""

from __future__ import annotations

import random

import shapely
from shapely.geometry import Point, Polygon

from contracts.scenario import demo_city

_CITY = demo_city()
NAME = _CITY.name
STATE = _CITY.state
STATE_NAME = _CITY.state_name
COUNTY = _CITY.county
POSTAL_CODES = _CITY.postal_codes
BOUNDARY = Polygon(_CITY.boundary)
shapely.prepare(BOUNDARY)
CENTER = BOUNDARY.representative_point()
SAMPLE_POINT = (
    dict(_CITY.sample_point) if _CITY.sample_point else {"lat": round(CENTER.y, 6), "long": round(CENTER.x, 6)}
)


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
