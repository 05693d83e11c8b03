"""The lon/lat grid behind the ArcGIS simulator's address points and towns finds what a scan of every
point finds: the nearest within a radius, and the nearest however far (the poles and the antimeridian's
neighbourhood included)."""

from __future__ import annotations

import math
import random

import numpy as np
import pytest

from simulators.arcgis.grid import M_PER_DEG_LAT, M_PER_DEG_LON, Grid


def scan(lon: np.ndarray, lat: np.ndarray, x: float, y: float) -> np.ndarray:
    scale = math.cos(math.radians(y))
    return np.hypot((lon - x) * M_PER_DEG_LON * scale, (lat - y) * M_PER_DEG_LAT)


@pytest.mark.parametrize("cell, spread", [(0.002, 0.05), (0.5, 170.0)])
def test_the_grid_finds_what_a_scan_finds(cell, spread):
    rng = random.Random(5)
    lon = np.array([rng.uniform(-spread, spread) for _ in range(3000)])
    lat = np.array([rng.uniform(-min(spread, 85), min(spread, 85)) for _ in range(3000)])
    grid = Grid(lon, lat, cell_deg=cell)
    radius = 150.0 if cell < 0.01 else 200_000.0
    hits = 0
    for _ in range(400):
        x, y = rng.uniform(-spread, spread), rng.uniform(-min(spread, 85), min(spread, 85))
        d = scan(lon, lat, x, y)
        within = grid.nearest_within(x, y, radius)
        if d.min() <= radius:
            hits += 1
            assert within is not None and math.isclose(d[within], d.min())
        else:
            assert within is None
        assert math.isclose(d[grid.nearest(x, y)], d.min())
    assert hits > 20  # the radius case was exercised, not only the misses


def test_an_empty_neighbourhood_grows_until_a_point_is_found():
    grid = Grid(np.array([10.0]), np.array([-80.0]), cell_deg=0.5)
    assert grid.nearest(-170.0, 80.0) == 0
    assert grid.nearest_within(-170.0, 80.0, 1000.0) is None
