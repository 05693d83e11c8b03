"""Addresses the World Geocoder answers anywhere on land, synthesized and deterministic.

A point belongs to its nearest real town (places.py). Around the town's centre lies a made-up street grid:
east-west streets every ROW_M metres, a house every HOUSE_M metres along them, odd numbers counting out from
the centre's meridian ('E' east of it, 'W' west). A street's name is a bijection of its row, permuted per
town, so an address text leads back to its point: findAddressCandidates finds what reverseGeocode made
(within SPAN/2 rows, about 1,300 km, of a town: everywhere but inner Antarctica, where rows repeat). A text
naming a street so far out that reverse geocoding would name another town is no address at all.
Everything is arithmetic on the point and stable hashes: no state, same answer in every process."""

from __future__ import annotations

import math
import re
from typing import Any

from simulators.kit import city as demo_city

from . import land
from .places import M_PER_DEG_LAT, M_PER_DEG_LON, Place, fold, ground_m, places, stable_hash

# The demo city is a town of its own: points inside it are addressed in Harnessville, as its seeded points are.
DEMO_TOWN = Place(
    id=0,
    name=demo_city.NAME,
    lon=demo_city.CENTER.x,
    lat=demo_city.CENTER.y,
    region=demo_city.STATE_NAME,
    region_abbr=demo_city.STATE,
    country_code="USA",
    country_name="United States",
    postal=demo_city.POSTAL_CODES[0],
)

ROW_M = 100.0
HOUSE_M = 10.0
ROOTS = (
    "Oak", "Maple", "Cedar", "Pine", "Elm", "Willow", "Birch", "Ash", "Chestnut", "Walnut", "Hickory", "Spruce",
    "Laurel", "Holly", "Magnolia", "Poplar", "Juniper", "Aspen", "Cypress", "Sycamore", "Mill", "Church", "Lake",
    "Hill", "River", "Spring", "Meadow", "Forest", "Garden", "Bridge", "Market", "Station", "Harbor", "Valley",
    "Ridge", "Sunset", "Highland", "Orchard", "Union", "Bell", "Stone",
)  # fmt: skip
ENDINGS = ("", "wood", "field", "view", "dale", "brook", "ton", "ley")
TYPES = ("St", "Ave", "Rd", "Dr", "Ln", "Way", "Blvd", "Ct", "Pl", "Ter")
PREFIXES = ("", "Old ", "New ", "Upper ", "Lower ", "Little ", "Great ", "Far ")  # only rows far from town
NAMES = tuple(root + ending for root in ROOTS for ending in ENDINGS)
N = len(NAMES)
MULT = 97  # spreads neighbouring rows over unrelated names; coprime with N, so the map is a bijection
SPAN = N * len(TYPES) * len(PREFIXES)  # distinct streets per town: rows beyond ±SPAN/2 repeat
assert math.gcd(MULT, N) == 1
_NAME_INDEX = {fold(n): i for i, n in enumerate(NAMES)}
_TYPE_INDEX = {t.lower(): i for i, t in enumerate(TYPES)}
_PREFIX_INDEX = {p.strip().lower(): i for i, p in enumerate(PREFIXES) if p}
_MULT_INV = pow(MULT, -1, N)


def _zigzag(row: int) -> int:
    return 2 * row if row >= 0 else -2 * row - 1


def _unzigzag(k: int) -> int:
    return k // 2 if k % 2 == 0 else -(k + 1) // 2


def street_name(town: int, row: int) -> str:
    k = _zigzag(row) % SPAN
    offset = stable_hash("streets", town)
    name = (k % N * MULT + offset) % N
    rest = k // N
    kind = (rest + offset // N) % len(TYPES)
    return f"{PREFIXES[rest // len(TYPES)]}{NAMES[name]} {TYPES[kind]}"


def street_row(town: int, words: list[str]) -> int | None:
    """The row whose street is `words` (folded, e.g. ['old', 'oakwood', 'st']), or None."""
    prefix = 0
    if len(words) == 3 and words[0] in _PREFIX_INDEX:
        prefix, words = _PREFIX_INDEX[words[0]], words[1:]
    if len(words) != 2 or words[0] not in _NAME_INDEX or words[1] not in _TYPE_INDEX:
        return None
    offset = stable_hash("streets", town)
    low = ((_NAME_INDEX[words[0]] - offset) * _MULT_INV) % N
    kind = (_TYPE_INDEX[words[1]] - offset // N) % len(TYPES)
    # rest = prefix * len(TYPES) + r with (rest + offset // N) % len(TYPES) == kind
    r = kind
    return _unzigzag((prefix * len(TYPES) + r) * N + low)


def frame(town: Place) -> tuple[float, float]:
    return M_PER_DEG_LON * math.cos(math.radians(town.lat)), M_PER_DEG_LAT


def record(town: Place, row: int, col: int) -> dict[str, Any]:
    mx, my = frame(town)
    lon = town.lon + (col + 0.5) * HOUSE_M / mx
    lat = town.lat + row * ROW_M / my
    side, k = ("E", col) if col >= 0 else ("W", -col - 1)
    number = str(2 * k + 1)
    street = f"{side} {street_name(town.id, row)}"
    return {
        "AddNum": number,
        "Address": f"{number} {street}",
        "StName": street,
        "City": town.name,
        "Subregion": "",
        "Region": town.region,
        "RegionAbbr": town.region_abbr,
        "Postal": town.postal,
        "CountryCode": town.country_code,
        "CntryName": town.country_name,
        "lon": round(max(-180.0, min(180.0, lon)), 7),
        "lat": round(max(-90.0, min(90.0, lat)), 7),
    }


def synthesize(lon: float, lat: float) -> dict[str, Any]:
    """The address of the house nearest (lon, lat) on its town's grid (at most ~50 m away)."""
    town = DEMO_TOWN if demo_city.contains(lon, lat) else places().nearest(lon, lat)
    mx, my = frame(town)
    row = round((lat - town.lat) * my / ROW_M)
    col = math.floor((lon - town.lon) * mx / HOUSE_M)
    return record(town, row, col)


def belongs(town: Place, lon: float, lat: float) -> bool:
    """Whether reverse geocoding near (lon, lat) names `town`: it is the nearest town, give or take the
    distance a house lies from the point asked (a point near the line between two towns)."""
    if town.id == DEMO_TOWN.id:
        return demo_city.contains(lon, lat)
    nearest = places().nearest(lon, lat)
    return nearest.id == town.id or ground_m(lon, lat, town.lon, town.lat) <= (
        ground_m(lon, lat, nearest.lon, nearest.lat) + 2 * ROW_M
    )


_ADDRESS = re.compile(r"^(\d{1,7}) ([ew]) (.+)$")


def locate(text: str, limit: int) -> list[tuple[int, dict[str, Any]]]:
    """(score, address) for a synthesized address text: '731 W Oakwood Ave, Paris, France'."""
    parts = [fold(p) for p in text.split(",")]
    head = _ADDRESS.match(parts[0]) if parts else None
    if head is None:
        return []
    number, side, street_words = int(head.group(1)), head.group(2), head.group(3).split(" ")
    # The street ends at its type word; what follows in the same part belongs to the town (no commas given).
    end = next((i + 1 for i, w in enumerate(street_words) if w in _TYPE_INDEX), len(street_words))
    street, tail = street_words[:end], street_words[end:]
    words = tail + [w for p in parts[1:] for w in p.split(" ") if w]
    found: list[tuple[int, int, dict[str, Any]]] = []
    for cut in range(len(words), 0, -1):  # the longest leading words that name a town
        name = " ".join(words[:cut])
        towns = [DEMO_TOWN] * (name == fold(DEMO_TOWN.name)) + places().named(name)
        if not towns:
            continue
        rest = set(words[cut:])
        for town in towns:
            row = street_row(town.id, street)
            if row is None or number < 1:
                continue
            k = (number - 1) // 2
            col = k if side == "e" else -k - 1
            house = record(town, row, col)
            if not belongs(town, house["lon"], house["lat"]):
                continue  # a street of the town's grid so far out that reverse geocoding never names it
            known = {w for f in (town.region, town.region_abbr, town.postal, town.country_name, town.country_code)
                     for w in fold(f).split(" ") if w}  # fmt: skip
            score = 100 if rest <= known else 90 if rest & known else 85
            found.append((score, town.id, house))
        break
    found.sort(key=lambda t: (-t[0], t[1]))
    return [(score, house) for score, _, house in found[:limit]]


def warm(with_land: bool) -> None:
    places()
    if with_land:
        land.bits()
