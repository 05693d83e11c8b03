"""ArcGIS GeocodeServer on the wire: the service root, reverseGeocode, findAddressCandidates and suggest, by
GET or form POST, at the configured service path (a trailing slash too, as ArcGIS Server takes it)."""

from __future__ import annotations

import html
import math
from typing import Any

import orjson
from aiohttp import web

from simulators.kit import CONFIG, OPERATION, backend
from simulators.kit.lenient import lenient_loads, loads

from . import suggest
from .config import ArcgisConfig
from .dialect import INVALID_INPUT, ArcgisError, answer
from .state import GeocoderState, labels

WGS84 = {"wkid": 4326, "latestWkid": 4326}
WEB_MERCATOR = {"wkid": 102100, "latestWkid": 3857}
MERCATOR_IDS = (102100, 102113, 3857, 900913)
R = 6378137.0
EMPTY = dict.fromkeys(
    ("AddNum", "Address", "City", "Subregion", "Region", "RegionAbbr", "Postal", "CntryName", "CountryCode"), ""
)


STREET_OFFSET_DEG = 0.0003  # the street-interpolated wrong mode: a candidate this far north of its address point


def to_mercator(lon: float, lat: float) -> tuple[float, float]:
    return math.radians(lon) * R, math.log(math.tan(math.pi / 4 + math.radians(lat) / 2)) * R


def from_mercator(x: float, y: float) -> tuple[float, float]:
    return math.degrees(x / R), math.degrees(2 * math.atan(math.exp(y / R)) - math.pi / 2)


def bad_input(detail: str) -> ArcgisError:
    return ArcgisError(400, "Unable to complete operation.", [INVALID_INPUT, detail])


def parse_location(raw: str | None) -> tuple[float, float]:
    """`x,y` (WGS84 lon,lat) or a JSON point with an optional spatialReference (WGS84 or Web Mercator).
    Esri's reference writes the JSON point with bare keys (`{x: 103.87, y: 1.33}`), so it is read leniently.
    A `{lat, long}` object is not a form the server documents (arcgis-rest-js turns one into `x,y` before
    sending), so it is refused like any point without x and y."""
    if not raw or not raw.strip():
        raise bad_input("'location' parameter is required.")
    raw = raw.strip()
    wkid = 4326
    try:
        if raw.startswith("{"):
            point = lenient_loads(raw)
            x, y = float(point["x"]), float(point["y"])
            sr = point.get("spatialReference") or {}
            wkid = int(sr.get("latestWkid") or sr.get("wkid") or 4326)
        else:
            x_text, y_text = raw.split(",")
            x, y = float(x_text), float(y_text)
    except (ValueError, KeyError, TypeError, AttributeError, OverflowError):  # int(1e309) overflows
        raise bad_input(f"'location' is not a point: {raw[:100]}") from None
    if not (math.isfinite(x) and math.isfinite(y)):
        raise bad_input("'location' is not a point")
    if wkid in MERCATOR_IDS:
        x, y = from_mercator(x, y)
    elif wkid != 4326:
        raise bad_input(f"spatial reference {wkid} is not supported")
    if not (-180 <= x <= 180 and -90 <= y <= 90):
        raise bad_input("'location' is outside the valid range")
    return x, y


def search_distance(raw: str | None) -> float | None:
    """ArcGIS Server's reference: a `distance` that is missing or invalid means the default, not an error.
    Above 50 km it is capped (inferred: the largest radius Esri's clients offer)."""
    try:
        distance = float(raw) if raw else math.nan
    except ValueError:
        return None
    if not math.isfinite(distance) or distance <= 0:
        return None
    return min(distance, 50_000.0)


def out_sr(raw: str | None) -> dict[str, int]:
    if not raw:
        return WGS84
    try:
        wkid = int(loads(raw).get("wkid")) if raw.strip().startswith("{") else int(raw)
    except (ValueError, TypeError, AttributeError, OverflowError):
        raise bad_input(f"'outSR' is not a spatial reference: {raw[:50]}") from None
    if wkid in MERCATOR_IDS:
        return WEB_MERCATOR
    if wkid == 4326:
        return WGS84
    raise bad_input(f"spatial reference {wkid} is not supported")


def point(lon: float, lat: float, sr: dict[str, int]) -> dict[str, Any]:
    x, y = to_mercator(lon, lat) if sr is WEB_MERCATOR else (lon, lat)
    return {"x": x, "y": y, "spatialReference": sr}


def address_fields(a: dict[str, Any]) -> dict[str, str]:
    return {
        **labels(a),
        "Addr_type": "PointAddress",
        "Type": "",
        "PlaceName": "",
        "AddNum": a["AddNum"],
        "Address": a["Address"],
        "Block": "",
        "Sector": "",
        "Neighborhood": "",
        "District": "",
        "City": a["City"],
        "MetroArea": "",
        "Subregion": a["Subregion"],
        "Region": a["Region"],
        "RegionAbbr": a["RegionAbbr"],
        "Territory": "",
        "Postal": a["Postal"],
        "PostalExt": "",
        "CntryName": a["CntryName"],
        "CountryCode": a["CountryCode"],
    }


def reverse_geocode(p: dict[str, Any], state: GeocoderState) -> dict[str, Any]:
    lon, lat = parse_location(p.get("location"))
    distance = search_distance(p.get("distance"))
    sr = out_sr(p.get("outsr"))
    if "ignore-outsr" in state.config.defects:
        sr = WGS84
    try:
        found = state.reverse(lon, lat, distance)
    except ArcgisError:
        if "empty-address-instead-of-error" not in state.config.defects:
            raise
        return {"address": {k: "" for k in address_fields(EMPTY)}, "location": point(lon, lat, sr)}
    return {"address": address_fields(found), "location": point(found["lon"], found["lat"], sr)}


def candidate(score: int, a: dict[str, Any], sr: dict[str, int], wanted: list[str]) -> dict[str, Any]:
    # DisplayX/DisplayY: the World service's display location, which clients read (omgeo requires it).
    at = {"X": a["lon"], "Y": a["lat"], "DisplayX": a["lon"], "DisplayY": a["lat"]}
    everything = {**address_fields(a), "Score": score, **at}
    attributes = everything if "*" in wanted else {k: everything[k] for k in wanted if k in everything}
    location = point(a["lon"], a["lat"], sr)
    pad = 0.0005 if sr is WGS84 else 55.0
    return {
        "address": labels(a)["Match_addr"],
        "location": {"x": location["x"], "y": location["y"]},
        "score": score,
        "attributes": attributes,
        "extent": {
            "xmin": location["x"] - pad,
            "ymin": location["y"] - pad,
            "xmax": location["x"] + pad,
            "ymax": location["y"] + pad,
        },
    }


def find_candidates(p: dict[str, Any], state: GeocoderState) -> dict[str, Any]:
    text = p.get("singleline") or " ".join(p[k] for k in ("address", "city", "region", "postal") if p.get(k))
    try:
        limit = int(p.get("maxlocations") or 50)
    except ValueError:
        raise bad_input("'maxLocations' is not a number") from None
    sr = out_sr(p.get("outsr"))
    wanted = [f.strip() for f in (p.get("outfields") or "").split(",") if f.strip()]
    key = (p.get("magickey") or "").strip()
    if key and state.config.suggests:
        # A suggestion's key names exactly its address (the text sent with it is the suggestion's own).
        found = None if "refuse-magic-keys" in state.config.defects else suggest.read_key(state, key)
        if found is not None:
            return {"spatialReference": sr, "candidates": [candidate(100, found, sr, wanted)]}
        if state.config.unknown_magic_key == "error":
            raise bad_input("'magicKey' is not a key this service issued")
    found_all = state.find(text, max(1, min(limit, 50)))
    if "street-interpolated" in state.config.defects:  # as if interpolated along the street, ~33 m off the point
        found_all = [(score, {**a, "lat": a["lat"] + STREET_OFFSET_DEG}) for score, a in found_all]
    candidates = [candidate(score, a, sr, wanted) for score, a in found_all]
    return {"spatialReference": sr, "candidates": candidates}


def search_extent(raw: str | None) -> suggest.Extent | None:
    """`xmin,ymin,xmax,ymax` or a JSON envelope, in WGS84 or Web Mercator. Corners are read in either order
    (@conveyal/geocoder-arcgis-geojson sends minLon,maxLat,maxLon,minLat; inferred that the server takes it)."""
    if not raw or not raw.strip():
        return None
    raw = raw.strip()
    wkid = 4326
    try:
        if raw.startswith("{"):
            box = lenient_loads(raw)
            values = [float(box[k]) for k in ("xmin", "ymin", "xmax", "ymax")]
            sr = box.get("spatialReference") or {}
            wkid = int(sr.get("latestWkid") or sr.get("wkid") or 4326)
        else:
            values = [float(v) for v in raw.split(",")]
        x0, y0, x1, y1 = values
    except (ValueError, KeyError, TypeError, AttributeError, OverflowError):
        raise bad_input(f"'searchExtent' is not an extent: {raw[:100]}") from None
    if not all(math.isfinite(v) for v in values):
        raise bad_input("'searchExtent' is not an extent")
    if wkid in MERCATOR_IDS:
        (x0, y0), (x1, y1) = from_mercator(x0, y0), from_mercator(x1, y1)
    elif wkid != 4326:
        raise bad_input(f"spatial reference {wkid} is not supported")
    return min(x0, x1), min(y0, y1), max(x0, x1), max(y0, y1)


def suggestions(p: dict[str, Any], state: GeocoderState) -> dict[str, Any]:
    if not state.config.suggests:  # inferred: what a locator published without suggestions answers
        raise ArcgisError(400, "Unable to complete operation.", ["Suggest is not supported by this service."])
    text = p.get("text") or ""
    if not text.strip():
        raise bad_input("'text' parameter is required.")
    raw_limit = (p.get("maxsuggestions") or "").strip()
    try:
        limit = int(raw_limit) if raw_limit else suggest.DEFAULT_SUGGESTIONS
    except ValueError:
        raise bad_input("'maxSuggestions' is not a number") from None
    # Esri: "up to the maximum number allowed by the service" (15); below 1, the default (inferred).
    limit = suggest.DEFAULT_SUGGESTIONS if limit < 1 else min(limit, suggest.MAX_SUGGESTIONS)
    near = parse_location(p["location"]) if (p.get("location") or "").strip() else None
    extent = search_extent(p.get("searchextent"))
    return {"suggestions": suggest.suggest(state, text, limit, near, extent)}


def service_info(config: ArcgisConfig) -> dict[str, Any]:
    return {
        "currentVersion": 11.1,
        "serviceDescription": f"civic-harness geocoder for {config.service} (a simulator of ArcGIS GeocodeServer)",
        "addressFields": [
            {"name": "Address", "type": "esriFieldTypeString", "alias": "Address", "required": False, "length": 100},
            {"name": "City", "type": "esriFieldTypeString", "alias": "City", "required": False, "length": 50},
            {"name": "Region", "type": "esriFieldTypeString", "alias": "State", "required": False, "length": 50},
            {"name": "Postal", "type": "esriFieldTypeString", "alias": "ZIP", "required": False, "length": 20},
        ],
        "singleLineAddressField": {"name": "SingleLine", "type": "esriFieldTypeString", "alias": "Full Address"},
        "candidateFields": [
            {"name": "Match_addr", "type": "esriFieldTypeString"},
            {"name": "Score", "type": "esriFieldTypeDouble"},
        ],
        "spatialReference": WGS84,
        "locatorProperties": {"MinimumMatchScore": "80", "MinimumCandidateScore": "80"},
        "capabilities": "Geocode,ReverseGeocode,Suggest" if config.suggests else "Geocode,ReverseGeocode",
    }


OPERATIONS = {
    "root": None,
    "reverseGeocode": reverse_geocode,
    "findAddressCandidates": find_candidates,
    "suggest": suggestions,
}


def check_token(config: ArcgisConfig, p: dict[str, Any], request: web.Request) -> None:
    if not config.require_token or "ignore-token" in config.defects:
        return
    token = p.get("token")
    header = request.headers.get("X-Esri-Authorization", "")
    if not token and header.lower().startswith("bearer "):
        token = header[7:].strip()
    if not token:
        raise ArcgisError(499, "Token Required", [])
    if token not in config.tokens:
        raise ArcgisError(498, "Invalid Token", [])


async def geocode_server(request: web.Request) -> web.StreamResponse:
    op = request[OPERATION]
    config: ArcgisConfig = request.app[CONFIG]  # type: ignore[assignment]
    form = await request.post() if request.method == "POST" else {}
    # ArcGIS reads parameter names case-insensitively (geopy sends `singleLine`, Esri's docs `SingleLine`).
    p = {k.lower(): v for k, v in [*request.query.items(), *((k, v) for k, v in form.items() if isinstance(v, str))]}
    fmt = (p.get("f") or "html").lower()  # the REST API's default format is html (Esri's "Output formats")
    pretty = fmt == "pjson"
    try:
        if op is None:
            raise ArcgisError(400, "Invalid URL", ["Invalid URL"])
        instance, service = service_of(request.path)
        if instance.lower() != config.instance.lower() or service.lower() != config.service.lower():
            raise ArcgisError(404, "Service not found.", [f"No service {service!r} on this server."])
        check_token(config, p, request)
        run = OPERATIONS[op.spec["x-operation"]]
        value = service_info(config) if run is None else run(p, backend(request))
    except ArcgisError as err:
        value = err.body()
    if fmt == "html":
        return html_page(config.service, value)
    return answer(value, pretty)


def html_page(service: str, value: dict[str, Any]) -> web.Response:
    """What a browser (or a client that sends no `f`) gets: the Services Directory's page, here the answer
    as text under the service's name."""
    body = html.escape(orjson.dumps(value, option=orjson.OPT_INDENT_2).decode())
    title = html.escape(service)
    return web.Response(
        text=f"<html><head><title>{title} (GeocodeServer)</title></head><body><h2>{title} (GeocodeServer)</h2>"
        f"<pre>{body}</pre></body></html>",
        content_type="text/html",
    )


def service_of(path: str) -> tuple[str, str]:
    """("arcgis", "World") from /arcgis/rest/services/World/GeocodeServer/..., folders included."""
    parts = path.strip("/").split("/")
    lower = [p.lower() for p in parts]
    end = lower.index("geocodeserver") if "geocodeserver" in lower else len(parts)
    return parts[0], "/".join(parts[3:end])


# One route: the kit has matched the contract operation (paths are case-insensitive, as ArcGIS's are).
ROUTES = [web.route("GET", "/{path:.*}", geocode_server), web.route("POST", "/{path:.*}", geocode_server)]
