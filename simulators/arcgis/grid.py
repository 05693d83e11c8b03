"""A uniform lon/lat grid over points held in numpy arrays: the points within a radius in a few binary
searches, and no Python object per point (an STRtree keeps one geometry object per point, and half a million
of them make every full garbage collection of the simulator's process take a large fraction of a second)."""

from __future__ import annotations

import math

import numpy as np

M_PER_DEG_LAT = 110_540.0
M_PER_DEG_LON = 111_320.0


class Grid:
    def __init__(self, lon: np.ndarray, lat: np.ndarray, cell_deg: float) -> None:
        self.lon = np.ascontiguousarray(lon, dtype=np.float64)
        self.lat = np.ascontiguousarray(lat, dtype=np.float64)
        self.cell = cell_deg
        self.width = math.ceil(360 / cell_deg) + 1
        keys = self._key(self._ix(self.lon), self._iy(self.lat))
        self.order = np.argsort(keys, kind="stable")
        self.keys = keys[self.order]

    def __len__(self) -> int:
        return len(self.lon)

    def _ix(self, lon: np.ndarray | float) -> np.ndarray:
        return np.floor((np.asarray(lon) + 180.0) / self.cell).astype(np.int64)

    def _iy(self, lat: np.ndarray | float) -> np.ndarray:
        return np.floor((np.asarray(lat) + 90.0) / self.cell).astype(np.int64)

    def _key(self, ix: np.ndarray, iy: np.ndarray) -> np.ndarray:
        return iy * self.width + ix

    def candidates(self, lon: float, lat: float, radius_m: float) -> np.ndarray:
        """Indices of the points in the cells that the radius' bounding box touches (a superset)."""
        dlat = radius_m / M_PER_DEG_LAT
        dlon = min(180.0, radius_m / (M_PER_DEG_LON * max(0.01, math.cos(math.radians(lat)))))
        x0, x1 = int(self._ix(max(-180.0, lon - dlon))), int(self._ix(min(180.0, lon + dlon)))
        rows = np.arange(int(self._iy(max(-90.0, lat - dlat))), int(self._iy(min(90.0, lat + dlat))) + 1)
        lo = np.searchsorted(self.keys, rows * self.width + x0, side="left")
        hi = np.searchsorted(self.keys, rows * self.width + x1, side="right")
        spans = [self.order[a:b] for a, b in zip(lo.tolist(), hi.tolist(), strict=True) if b > a]
        return np.concatenate(spans) if spans else np.empty(0, dtype=np.int64)

    def metres(self, lon: float, lat: float, indices: np.ndarray) -> np.ndarray:
        scale = math.cos(math.radians(lat))
        dx = (self.lon[indices] - lon) * M_PER_DEG_LON * scale
        return np.hypot(dx, (self.lat[indices] - lat) * M_PER_DEG_LAT)

    def nearest_within(self, lon: float, lat: float, radius_m: float) -> int | None:
        hits = self.candidates(lon, lat, radius_m)
        if len(hits) == 0:
            return None
        d = self.metres(lon, lat, hits)
        best = int(np.argmin(d))  # ties: the first in the file's order, as hits keep it within a cell
        return int(hits[best]) if d[best] <= radius_m else None

    def nearest(self, lon: float, lat: float, start_m: float = 20_000.0) -> int:
        """The nearest point however far: the radius grows until a point is in reach, then one more search
        at that point's distance settles which is nearest."""
        radius = start_m
        while True:
            hits = self.candidates(lon, lat, radius)
            if len(hits):
                d = self.metres(lon, lat, hits)
                if float(d.min()) <= radius:
                    return int(hits[int(np.argmin(d))])
                radius = float(d.min()) * 1.0001
                continue
            if radius > 40_000_000:
                raise LookupError("no points")
            radius *= 4
