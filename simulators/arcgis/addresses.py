"""A city's own address points from a file (OpenAddresses CSV or GeoJSON), indexed for nearest-point and
text lookups. A file is read once per process (cached by path, size and modification time), so a control
plane reset or reseed does not read it again."""

from __future__ import annotations

import csv
import math
import threading
from pathlib import Path
from typing import Any, NamedTuple

import numpy as np
import orjson

from .grid import Grid
from .places import fold

# OpenAddresses' columns; LON, LAT, NUMBER and STREET are required, the rest may be missing or blank.
FIELDS = ("number", "street", "unit", "city", "district", "region", "postcode")
REQUIRED = ("lon", "lat", "number", "street")


class AddressFileError(ValueError):
    """A file that cannot be read as address points; the message names the file and the line or feature."""


class AddressPoint(NamedTuple):  # a tuple of strings and floats: the garbage collector stops tracking it
    lon: float
    lat: float
    number: str
    street: str
    unit: str
    city: str
    district: str
    region: str
    postcode: str


class AddressIndex:
    """The points as plain tuples (untracked by the garbage collector) in a lon/lat grid of cells about
    the default search radius, and a dict from the folded 'number street' text to the points carrying it."""

    def __init__(self, path: str, points: list[AddressPoint]) -> None:
        self.path = path
        self._rows = [tuple(p) for p in points]
        self._grid = Grid(np.array([p.lon for p in points]), np.array([p.lat for p in points]), cell_deg=0.002)
        by_text: dict[str, list[int]] = {}
        for i, p in enumerate(points):
            by_text.setdefault(fold(f"{p.number} {p.street}"), []).append(i)
        self._by_text = {text: tuple(hits) for text, hits in by_text.items()}

    def __len__(self) -> int:
        return len(self._rows)

    def __getitem__(self, i: int) -> AddressPoint:
        return AddressPoint._make(self._rows[i])

    def nearest(self, lon: float, lat: float, radius_m: float) -> int | None:
        return self._grid.nearest_within(lon, lat, radius_m)

    def find(self, text: str) -> list[tuple[int, int]]:
        """(score, index): the text starts with the point's number and street; 100 when what follows agrees
        with the point's unit, city, region and postcode (or nothing follows), 80 when it does not."""
        words = fold(text).split(" ")
        out: list[tuple[int, int]] = []
        for cut in range(len(words), 1, -1):
            hits = self._by_text.get(" ".join(words[:cut]))
            if hits:
                rest = set(words[cut:])
                out += [(100 if self._agrees(i, rest) else 80, i) for i in hits]
                break
        out.sort(key=lambda t: (-t[0], t[1]))
        return out

    def _agrees(self, i: int, rest: set[str]) -> bool:
        p = self[i]
        known = {w for f in (p.unit, p.city, p.district, p.region, p.postcode) for w in fold(f).split(" ") if w}
        return rest <= known | {"usa", "us", "united", "states"} or not rest


def _text(value: Any) -> str:
    return "" if value is None else str(value).strip()


def _point(where: str, lon: Any, lat: Any, values: dict[str, str]) -> AddressPoint:
    try:
        x, y = float(lon), float(lat)
    except (TypeError, ValueError):
        raise AddressFileError(f"{where}: coordinates {lon!r}, {lat!r} are not numbers") from None
    if not (math.isfinite(x) and math.isfinite(y) and -180 <= x <= 180 and -90 <= y <= 90):
        raise AddressFileError(f"{where}: coordinates {x}, {y} are not a longitude and latitude")
    if not values["number"] or not values["street"]:
        raise AddressFileError(f"{where}: an address point needs a number and a street")
    return AddressPoint(x, y, **values)


def _read_csv(path: Path) -> list[AddressPoint]:
    intern: dict[str, str] = {}  # streets, cities and postcodes repeat: one string each
    with path.open(newline="", encoding="utf-8-sig") as f:
        reader = csv.reader(f)
        header = [h.strip().lower() for h in next(reader, [])]
        missing = [c.upper() for c in REQUIRED if c not in header]
        if missing:
            raise AddressFileError(f"{path}:1: the header lacks {', '.join(missing)} (OpenAddresses CSV)")
        column = {name: header.index(name) for name in ("lon", "lat", *FIELDS) if name in header}
        width = len(header)
        out = []
        for line, row in enumerate(reader, start=2):
            if not row:
                continue
            if len(row) != width:
                raise AddressFileError(f"{path}:{line}: {len(row)} fields where the header has {width}")
            values = {n: intern.setdefault(v := row[column[n]].strip(), v) if n in column else "" for n in FIELDS}
            out.append(_point(f"{path}:{line}", row[column["lon"]], row[column["lat"]], values))
    return out


def _read_geojson(path: Path) -> list[AddressPoint]:
    try:
        doc = orjson.loads(path.read_bytes())
    except orjson.JSONDecodeError as exc:
        raise AddressFileError(f"{path}: not JSON ({exc})") from None
    features = doc.get("features") if isinstance(doc, dict) and doc.get("type") == "FeatureCollection" else None
    if not isinstance(features, list):
        raise AddressFileError(f"{path}: not a GeoJSON FeatureCollection")
    intern: dict[str, str] = {}
    out = []
    for n, feature in enumerate(features):
        where = f"{path}: feature {n}"
        geometry = feature.get("geometry") if isinstance(feature, dict) else None
        coords = geometry.get("coordinates") if isinstance(geometry, dict) else None
        if not isinstance(geometry, dict) or geometry.get("type") != "Point" or not isinstance(coords, list):
            raise AddressFileError(f"{where}: not a Point feature")
        if len(coords) < 2:
            raise AddressFileError(f"{where}: a Point needs two coordinates")
        props = feature.get("properties") or {}
        if not isinstance(props, dict):
            raise AddressFileError(f"{where}: properties is not an object")
        lowered = {str(k).lower(): v for k, v in props.items()}
        values = {name: intern.setdefault(v := _text(lowered.get(name)), v) for name in FIELDS}
        out.append(_point(where, coords[0], coords[1], values))
    return out


def read(path: str | Path) -> list[AddressPoint]:
    p = Path(path)
    if not p.is_file():
        raise AddressFileError(f"{p}: no such file")
    try:
        points = _read_geojson(p) if p.suffix.lower() in (".geojson", ".json") else _read_csv(p)
    except UnicodeDecodeError as exc:
        raise AddressFileError(f"{p}: not UTF-8 text ({exc.reason})") from None
    except csv.Error as exc:
        raise AddressFileError(f"{p}: not CSV ({exc})") from None
    if not points:
        raise AddressFileError(f"{p}: no address points")
    return points


_lock = threading.Lock()
_cache: dict[tuple[str, int, int], AddressIndex] = {}


def load(path: str) -> AddressIndex:
    """The file's index, read once per process and version of the file."""
    p = Path(path).resolve()
    try:
        stat = p.stat()
    except OSError:
        raise AddressFileError(f"{path}: no such file") from None
    key = (str(p), stat.st_size, stat.st_mtime_ns)
    with _lock:
        if key not in _cache:
            _cache[key] = AddressIndex(path, read(p))
        return _cache[key]
