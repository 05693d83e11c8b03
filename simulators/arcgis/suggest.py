"""`suggest` and its `magicKey`: the addresses findAddressCandidates finds, offered as the text is typed.

Esri's reference fixes the shape (`{"suggestions": [{"text", "magicKey", "isCollection"}]}`, `maxSuggestions`
5 by default and 15 at most, `location` preferring nearby places, `searchExtent` confining them) but not the
ranking nor what a magicKey holds. Here (inferred): a suggestion is an address whose label starts with the typed
text, folded (case, accents and punctuation ignored), from the same sources as findAddressCandidates in the same
order — the `--addresses` file, the demo city's points, then (World service) synthesized addresses near
`location` or named in full — each by address; given a `location`, nearest first whatever the source. A magicKey
is the suggestion's source, its reference there and its point, so findAddressCandidates gives back exactly that
address, and a key this server did not make is refused."""

from __future__ import annotations

import base64
import binascii
import bisect
import math
from collections.abc import Callable, Iterator
from typing import Any, NamedTuple

from simulators.kit import city as demo_city

from . import land, world
from .places import fold, ground_m, places
from .state import GeocoderState, labels, loaded_record

DEFAULT_SUGGESTIONS = 5
MAX_SUGGESTIONS = 15  # Esri: "up to the maximum number allowed by the service", 15 on the World service
SCAN = 2_000  # prefix matches read per source before ranking by distance (a short text matches thousands)
NEAR_ROWS = 20  # synthesized streets looked at on each side of `location`'s row (2 km)
NEAR_HOUSES = 100  # houses looked at on each side of `location` for a bare number (1 km)
NEAR_TOWNS_M = 10_000.0  # towns whose houses may lie near `location`
MAX_TOWNS = 8

Extent = tuple[float, float, float, float]  # xmin, ymin, xmax, ymax (WGS84)


def label(a: dict[str, Any]) -> str:
    """The suggestion's text: the address's LongLabel (Esri's suggestions read like it)."""
    return labels(a)["LongLabel"]


def matches(text: str, a: dict[str, Any]) -> bool:
    """The typed text begins the address's label, long (region abbreviated) or as Match_addr (region named)."""
    both = labels(a)
    return fold(both["LongLabel"]).startswith(text) or fold(both["Match_addr"]).startswith(text)


# -- magicKey ---------------------------------------------------------------------------------------


def make_key(source: str, ref: str, a: dict[str, Any]) -> str:
    raw = f"{source}|{a['lon']:.7f}|{a['lat']:.7f}|{ref}".encode()
    return base64.urlsafe_b64encode(raw).decode().rstrip("=")


def read_key(state: GeocoderState, key: str) -> dict[str, Any] | None:
    """The address a magicKey of this server names, or None for any other text."""
    try:
        raw = base64.urlsafe_b64decode(key.strip() + "=" * (-len(key.strip()) % 4)).decode()
        source, lon_text, lat_text, ref = raw.split("|", 3)
        lon, lat = float(lon_text), float(lat_text)
    except (ValueError, binascii.Error, UnicodeDecodeError):
        return None
    found: dict[str, Any] | None = None
    if source == "l" and state.loaded is not None and ref.isdigit() and int(ref) < len(state.loaded):
        found = loaded_record(state.loaded[int(ref)])
    elif source == "c" and ref.isdigit() and int(ref) < len(state.addresses):
        found = state.addresses[int(ref)]
    elif source == "w" and state.config.synthesizes:
        found = next(
            (a for _, a in world.locate(ref, 50) if f"{a['lon']:.7f}|{a['lat']:.7f}" == f"{lon_text}|{lat_text}"), None
        )
    if found is None or f"{found['lon']:.7f}|{found['lat']:.7f}" != f"{lon:.7f}|{lat:.7f}":
        return None  # a key of another seed, or one edited by hand
    return found


# -- suggestions ------------------------------------------------------------------------------------


def prefixed(keys: list[str], text: str) -> Iterator[int]:
    """Positions in the sorted `keys` of those starting with `text`, at most SCAN of them."""
    start = bisect.bisect_left(keys, text)
    for i in range(start, min(len(keys), start + SCAN)):
        if not keys[i].startswith(text):
            return
        yield i


def leading(text: str) -> list[str]:
    """'1 civic center plaza harnessville nc' -> its leading word runs, longest first (an address then more)."""
    words = text.split(" ")
    return [" ".join(words[:cut]) for cut in range(len(words) - 1, 1, -1)]


class Hit(NamedTuple):
    """A possible suggestion, ranked before its record is built (building a loaded point's names its town)."""

    lon: float
    lat: float
    text: str  # the folded address, the order when no location is given
    source: str  # "l" the address file, "c" the demo city's points, "w" synthesized
    ref: str
    build: Callable[[], dict[str, Any]]


def from_loaded(state: GeocoderState, text: str) -> list[Hit]:
    index = state.loaded
    if index is None:
        return []
    keys = index.sorted_keys()
    hits = [(keys[i], ref) for i in prefixed(keys, text) for ref in index.exact(keys[i])]
    for head in leading(text):
        exact = index.exact(head)
        if exact:
            hits += [(head, ref) for ref in exact]
            break
    return [
        Hit(float(index.lon[i]), float(index.lat[i]), key, "l", str(i), lambda i=i: loaded_record(index[i]))
        for key, i in dict.fromkeys(hits)
    ]


def from_city(state: GeocoderState, text: str) -> list[Hit]:
    keys, refs = state.suggest_index()
    hits = [(keys[i], refs[i]) for i in prefixed(keys, text)]
    for head in leading(text):
        at = bisect.bisect_left(keys, head)
        exact = [(head, refs[j]) for j in range(at, len(keys)) if keys[j] == head]
        if exact:
            hits += exact
            break
    return [hit(key, "c", str(i), state.addresses[i]) for key, i in dict.fromkeys(hits)]


def from_world(text: str, raw: str, near: tuple[float, float] | None) -> list[Hit]:
    """Synthesized addresses: the one a complete text names, and those near `location` the text begins."""
    found = [a for _, a in world.locate(raw, MAX_SUGGESTIONS)]
    if near is not None and land.is_land(*near):
        found += _near(text, *near)
    return [hit(fold(a["Address"]), "w", labels(a)["Match_addr"], a) for a in found]


def hit(text: str, source: str, ref: str, a: dict[str, Any]) -> Hit:
    return Hit(a["lon"], a["lat"], text, source, ref, lambda: a)


def _near(text: str, lon: float, lat: float) -> list[dict[str, Any]]:
    """The houses around (lon, lat) whose label begins with `text`. A house's number counts from its own town's
    centre, so each town near the point is asked (NEAR_TOWNS_M): a complete number picks that town's two houses
    (east and west) on every street within NEAR_ROWS of the point, a number still being typed the houses near
    the point whose number it begins; a house counts where reverse geocoding would name its town."""
    number, _, rest = text.partition(" ")
    if not number.isdigit() or len(number) > 7:  # house numbers have at most 7 digits (world.locate's too)
        return []
    towns = [world.DEMO_TOWN] if demo_city.contains(lon, lat) else []
    towns += places().near(lon, lat, NEAR_TOWNS_M)[:MAX_TOWNS] or [places().nearest(lon, lat)]
    out = []
    for town in towns:
        mx, my = world.frame(town)
        row0 = round((lat - town.lat) * my / world.ROW_M)
        col0 = math.floor((lon - town.lon) * mx / world.HOUSE_M)
        if rest:
            k = (int(number) - 1) // 2
            if int(number) % 2 == 0 or k < 0:
                return []
            cols = [k, -k - 1]
            rows = range(row0 - NEAR_ROWS, row0 + NEAR_ROWS + 1)
        else:
            span = range(col0 - NEAR_HOUSES, col0 + NEAR_HOUSES + 1)
            cols = [c for c in span if str(2 * (c if c >= 0 else -c - 1) + 1).startswith(number)]
            rows = range(row0 - 1, row0 + 2)
        for row in rows:
            for col in cols:
                a = world.record(town, row, col)
                if matches(text, a) and world.belongs(town, a["lon"], a["lat"]) and land.is_land(a["lon"], a["lat"]):
                    out.append(a)
    return out


def suggest(
    state: GeocoderState,
    raw: str,
    limit: int,
    near: tuple[float, float] | None,
    extent: Extent | None,
) -> list[dict[str, Any]]:
    text = fold(raw)
    if not text:
        return []
    hits = [*from_loaded(state, text), *from_city(state, text)]
    if state.config.synthesizes:
        hits += from_world(text, raw, near)
    if extent is not None:
        xmin, ymin, xmax, ymax = extent
        hits = [h for h in hits if xmin <= h.lon <= xmax and ymin <= h.lat <= ymax]
    rank = {"l": 0, "c": 1, "w": 2}  # findAddressCandidates' order of the sources
    if near is not None:  # nearest first, whatever the source
        hits.sort(key=lambda h: (ground_m(near[0], near[1], h.lon, h.lat), rank[h.source], h.text))
    else:
        hits.sort(key=lambda h: (rank[h.source], h.text))
    out: list[dict[str, Any]] = []
    seen: set[str] = set()
    for h in hits:
        a = h.build()
        key = make_key(h.source, h.ref, a)
        if key in seen or not matches(text, a):
            continue
        seen.add(key)
        out.append({"text": label(a), "magicKey": key, "isCollection": False})
        if len(out) == limit:
            break
    return out
