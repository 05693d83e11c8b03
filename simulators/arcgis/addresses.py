"""A city's own address points from a file (OpenAddresses CSV or GeoJSON), indexed for nearest-point and
text lookups. A file is read once per process (cached by path, size and modification time), so a control
plane reset or reseed does not read it again.

The points are kept as columns (numpy arrays of coordinates, lists of interned strings), not an object per
point: half a million objects would cost seconds to build and a pause at every full garbage collection."""

from __future__ import annotations

import csv
import sys
import threading
from collections.abc import Callable
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


class AddressPoint(NamedTuple):
    lon: float
    lat: float
    number: str
    street: str
    unit: str
    city: str
    district: str
    region: str
    postcode: str


class Columns(NamedTuple):
    lon: np.ndarray
    lat: np.ndarray
    fields: dict[str, list[str]]  # FIELDS -> one string per point


class AddressIndex:
    """The points in a lon/lat grid of cells about the default search radius, and a dict from the folded
    'number street' text to the point (or points) carrying it."""

    def __init__(self, path: str, columns: Columns) -> None:
        self.path = path
        self.lon, self.lat, self._fields = columns
        self._grid = Grid(self.lon, self.lat, cell_deg=0.002)
        streets: dict[str, str] = {}
        by_text: dict[str, Any] = {}  # text -> index, or a list of them when the text repeats (rarely)
        for i, (number, street) in enumerate(zip(self._fields["number"], self._fields["street"], strict=True)):
            folded = streets.get(street)
            if folded is None:
                folded = streets[street] = fold(street)
            key = f"{number.lower() if number.isalnum() and number.isascii() else fold(number)} {folded}"
            hit = by_text.get(key)
            if hit is None:
                by_text[key] = i
            elif isinstance(hit, int):
                by_text[key] = [hit, i]
            else:
                hit.append(i)
        self._by_text = by_text
        self._sorted: list[str] | None = None

    def __len__(self) -> int:
        return len(self.lon)

    def __getitem__(self, i: int) -> AddressPoint:
        f = self._fields
        return AddressPoint(float(self.lon[i]), float(self.lat[i]), *(f[name][i] for name in FIELDS))

    def nearest(self, lon: float, lat: float, radius_m: float) -> int | None:
        return self._grid.nearest_within(lon, lat, radius_m)

    def find(self, text: str) -> list[tuple[int, int]]:
        """(score, index): the text starts with the point's number and street; 100 when what follows agrees
        with the point's unit, city, region and postcode (or nothing follows), 80 when it does not."""
        words = fold(text).split(" ")
        out: list[tuple[int, int]] = []
        for cut in range(len(words), 1, -1):
            hit = self._by_text.get(" ".join(words[:cut]))
            if hit is not None:
                rest = set(words[cut:])
                out += [(100 if self._agrees(i, rest) else 80, i) for i in ([hit] if isinstance(hit, int) else hit)]
                break
        out.sort(key=lambda t: (-t[0], t[1]))
        return out

    def exact(self, key: str) -> list[int]:
        """The points whose folded 'number street' is `key`."""
        hit = self._by_text.get(key)
        return [] if hit is None else [hit] if isinstance(hit, int) else list(hit)

    def sorted_keys(self) -> list[str]:
        """The folded 'number street' texts in order, for prefix searches (suggest; `exact` gives each text's
        points); sorted on first use, not when the file is read, since most runs never suggest."""
        if self._sorted is None:
            self._sorted = sorted(self._by_text)
        return self._sorted

    def _agrees(self, i: int, rest: set[str]) -> bool:
        p = self[i]
        known = {w for f in (p.unit, p.city, p.district, p.region, p.postcode) for w in fold(f).split(" ") if w}
        return rest <= known | {"usa", "us", "united", "states"} or not rest


def _check(lon: list[Any], lat: list[Any], fields: dict[str, list[str]], where: Callable[[int], str]) -> Columns:
    """Coordinates as arrays and every point checked; the first bad one is named by `where(index)`."""
    try:
        x, y = np.array(lon, dtype=np.float64), np.array(lat, dtype=np.float64)
    except (TypeError, ValueError):
        for i, (a, b) in enumerate(zip(lon, lat, strict=True)):
            try:
                float(a), float(b)
            except (TypeError, ValueError):
                raise AddressFileError(f"{where(i)}: coordinates {a!r}, {b!r} are not numbers") from None
        raise
    bad = ~(np.isfinite(x) & np.isfinite(y) & (np.abs(x) <= 180) & (np.abs(y) <= 90))
    if bad.any():
        i = int(np.argmax(bad))
        raise AddressFileError(f"{where(i)}: coordinates {x[i]}, {y[i]} are not a longitude and latitude")
    for i, (number, street) in enumerate(zip(fields["number"], fields["street"], strict=True)):
        if not number or not street:
            raise AddressFileError(f"{where(i)}: an address point needs a number and a street")
    return Columns(x, y, fields)


def _read_csv(path: Path) -> Columns:
    with path.open(newline="", encoding="utf-8-sig") as f:
        reader = csv.reader(f)
        header = [h.strip().lower() for h in next(reader, [])]
        missing = [c.upper() for c in REQUIRED if c not in header]
        if missing:
            raise AddressFileError(f"{path}:1: the header lacks {', '.join(missing)} (OpenAddresses CSV)")
        everything = list(reader)
    rows = [r for r in everything if r]
    blank = len(rows) != len(everything)

    def where(i: int) -> str:  # the file's line of the i-th point (blank lines are skipped)
        line = [n for n, r in enumerate(everything, start=2) if r][i] if blank else i + 2
        return f"{path}:{line}"

    width = len(header)
    for i, row in enumerate(rows):
        if len(row) != width:
            raise AddressFileError(f"{where(i)}: {len(row)} fields where the header has {width}")
    n = len(rows)
    column = {name: header.index(name) for name in ("lon", "lat", *FIELDS) if name in header}

    def values(name: str) -> list[str]:
        if name not in column:
            return [""] * n
        at = column[name]
        return list(map(sys.intern, (row[at].strip() for row in rows)))  # repeated streets: one string each

    fields = {name: values(name) for name in FIELDS}
    return _check([r[column["lon"]] for r in rows], [r[column["lat"]] for r in rows], fields, where)


def _text(value: Any) -> str:
    return "" if value is None else sys.intern(str(value).strip())


def _read_geojson(path: Path) -> Columns:
    try:
        doc = orjson.loads(path.read_bytes())
    except orjson.JSONDecodeError as exc:
        raise AddressFileError(f"{path}: not JSON ({exc})") from None
    features = doc.get("features") if isinstance(doc, dict) and doc.get("type") == "FeatureCollection" else None
    if not isinstance(features, list):
        raise AddressFileError(f"{path}: not a GeoJSON FeatureCollection")
    lon: list[Any] = []
    lat: list[Any] = []
    fields: dict[str, list[str]] = {name: [] for name in FIELDS}
    spellings = [(name, name.upper(), name.title()) for name in FIELDS]  # number, NUMBER, Number
    for n, feature in enumerate(features):
        geometry = feature.get("geometry") if isinstance(feature, dict) else None
        coords = geometry.get("coordinates") if isinstance(geometry, dict) else None
        if not isinstance(geometry, dict) or geometry.get("type") != "Point" or not isinstance(coords, list):
            raise AddressFileError(f"{path}: feature {n}: not a Point feature")
        if len(coords) < 2:
            raise AddressFileError(f"{path}: feature {n}: a Point needs two coordinates")
        props = feature.get("properties") or {}
        if not isinstance(props, dict):
            raise AddressFileError(f"{path}: feature {n}: properties is not an object")
        lon.append(coords[0])
        lat.append(coords[1])
        get = props.get
        for name, upper, title in spellings:
            value = get(name)
            if value is None:
                value = get(upper)
                if value is None:
                    value = get(title)
            fields[name].append(_text(value))
    return _check(lon, lat, fields, lambda i: f"{path}: feature {i}")


def read(path: str | Path) -> Columns:
    p = Path(path)
    if not p.is_file():
        raise AddressFileError(f"{p}: no such file")
    try:
        columns = _read_geojson(p) if p.suffix.lower() in (".geojson", ".json") else _read_csv(p)
    except UnicodeDecodeError as exc:
        raise AddressFileError(f"{p}: not UTF-8 text ({exc.reason})") from None
    except csv.Error as exc:
        raise AddressFileError(f"{p}: not CSV ({exc})") from None
    if not len(columns.lon):
        raise AddressFileError(f"{p}: no address points")
    return columns


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
