"""Geographies: a zipped ESRI shapefile or GeoJSON in, one valid WGS84 (Multi)Polygon out, or the reason it
is refused (AGY-2); whether it has cutouts (AGY-3); point-in-geography for routing (AGY-1)."""

from __future__ import annotations

import io
import json
import math
import struct
import zipfile
import zlib
from dataclasses import dataclass
from typing import Any

import numpy as np
import shapefile
import shapely
from pyproj import CRS, Transformer
from pyproj.exceptions import CRSError
from shapely.geometry import MultiPolygon, Polygon, mapping, shape
from shapely.validation import explain_validity

from . import DomainError

WGS84 = CRS.from_epsg(4326)
MAX_VERTICES = 2_000_000
# A zipped shapefile is unpacked in memory: the archive's own sizes are checked before anything is inflated
# (zipfile never inflates a member past its declared size; a member that lies fails its CRC).
MAX_UNPACKED_BYTES = 200 * 1024 * 1024
MAX_MEMBERS = 64


@dataclass(frozen=True)
class Geography:
    geometry: Polygon | MultiPolygon
    source: str  # shapefile | geojson
    source_crs: str | None

    @property
    def has_cutouts(self) -> bool:
        polygons = self.geometry.geoms if isinstance(self.geometry, MultiPolygon) else [self.geometry]
        return any(len(p.interiors) > 0 for p in polygons)

    @property
    def cutouts(self) -> int:
        polygons = self.geometry.geoms if isinstance(self.geometry, MultiPolygon) else [self.geometry]
        return sum(len(p.interiors) for p in polygons)

    def geojson(self) -> dict[str, Any]:
        return mapping(self.geometry)


def refuse(reason: str) -> DomainError:
    return DomainError(reason, "file", "invalid_geometry")


def _is_position(value: Any) -> bool:
    return (
        isinstance(value, list | tuple)
        and 2 <= len(value) <= 3
        and all(isinstance(c, int | float) and not isinstance(c, bool) and math.isfinite(c) for c in value)
    )


def _check_rings(geometry: dict[str, Any]) -> None:
    """The coordinates are arrays of rings of finite [lon, lat] positions (checked here, so that nothing
    malformed reaches GEOS); shapely closes open rings silently, and the source must not depend on that."""
    kind = geometry.get("type")
    coordinates = geometry.get("coordinates")
    if not isinstance(coordinates, list | tuple):
        raise refuse(f"a {kind}'s coordinates must be an array")
    polygons = [coordinates] if kind == "Polygon" else coordinates
    for polygon in polygons:
        if not isinstance(polygon, list | tuple):
            raise refuse("a polygon must be an array of rings")
        for ring in polygon:
            if not isinstance(ring, list | tuple):
                raise refuse("a ring must be an array of positions")
            if len(ring) < 4:
                raise refuse("a ring has fewer than 4 positions")
            if not all(_is_position(p) for p in ring):
                raise refuse("a position must be [longitude, latitude] of finite numbers")
            if list(ring[0]) != list(ring[-1]):
                raise refuse("unclosed ring: a ring's first and last positions differ")


def _combine(geometries: list[dict[str, Any]]) -> Polygon | MultiPolygon:
    if not geometries:
        raise refuse("empty: no geometry in the file")
    polygons: list[Polygon] = []
    for g in geometries:
        if g.get("type") not in ("Polygon", "MultiPolygon"):
            raise refuse(f"wrong geometry type {str(g.get('type'))[:40]!r}: only Polygon and MultiPolygon are accepted")
        _check_rings(g)
        try:
            geom = shape(g)
        except (ValueError, TypeError, AttributeError, IndexError) as exc:
            raise refuse(f"unreadable geometry: {exc}") from None
        if geom.is_empty:
            raise refuse("empty geometry")
        if not geom.is_valid:
            raise refuse(f"invalid geometry: {explain_validity(geom)}")
        polygons += list(geom.geoms) if isinstance(geom, MultiPolygon) else [geom]
    if sum(len(p.exterior.coords) for p in polygons) > MAX_VERTICES:
        raise refuse("too many vertices")
    combined = polygons[0] if len(polygons) == 1 else MultiPolygon(polygons)
    if not combined.is_valid:
        raise refuse(f"invalid geometry: the polygons overlap ({explain_validity(combined)})")
    return combined


def _in_wgs84(geom: Polygon | MultiPolygon) -> None:
    minx, miny, maxx, maxy = geom.bounds
    if not (-180 <= minx <= maxx <= 180 and -90 <= miny <= maxy <= 90):
        raise refuse("coordinates are not longitude/latitude (give a .prj for projected data)")


class _NotJson(ValueError):
    pass


def _no_constant(name: str) -> Any:
    raise _NotJson(f"{name} is not a JSON number")  # NaN, Infinity, -Infinity: Python reads them, RFC 8259 does not


def from_geojson(data: bytes) -> Geography:
    try:
        doc = json.loads(data, parse_constant=_no_constant)
    except _NotJson as exc:
        raise refuse(f"not a GeoJSON document: {exc}") from None
    except RecursionError:
        raise refuse("not a GeoJSON document: nested too deeply to read") from None
    except (ValueError, UnicodeDecodeError):
        raise refuse("not a GeoJSON document") from None
    if not isinstance(doc, dict):
        raise refuse("not a GeoJSON document")
    kind = doc.get("type")
    if kind == "FeatureCollection":
        features = doc.get("features")
        if not isinstance(features, list):
            raise refuse("a FeatureCollection's features must be an array")
        geometries = [f.get("geometry") or {} for f in features if isinstance(f, dict)]
    elif kind == "Feature":
        geometries = [doc.get("geometry") or {}]
    else:
        geometries = [doc]
    geom = _combine([g if isinstance(g, dict) else {} for g in geometries])
    _in_wgs84(geom)
    return Geography(geom, "geojson", None)


def from_shapefile_zip(data: bytes) -> Geography:
    try:
        archive = zipfile.ZipFile(io.BytesIO(data))
    except zipfile.BadZipFile:
        raise refuse("not a zip archive") from None
    if len(archive.infolist()) > MAX_MEMBERS:
        raise refuse(f"the archive holds more than {MAX_MEMBERS} files; a shapefile needs three or four")
    members = {name.lower().rsplit("/", 1)[-1]: name for name in archive.namelist() if not name.endswith("/")}
    stems = {name.rsplit(".", 1)[0] for name in members if name.endswith(".shp")}
    if len(stems) != 1:
        raise refuse("the archive must hold exactly one shapefile (.shp with its .shx and .dbf)")
    stem = stems.pop()
    missing = [ext for ext in ("shp", "shx", "dbf") if f"{stem}.{ext}" not in members]
    if missing:
        raise refuse(f"the shapefile lacks its .{', .'.join(missing)}")
    wanted = {ext: members[f"{stem}.{ext}"] for ext in ("shp", "shx", "dbf", "prj") if f"{stem}.{ext}" in members}
    unpacked = sum(archive.getinfo(name).file_size for name in wanted.values())
    if unpacked > MAX_UNPACKED_BYTES:
        raise refuse(f"the shapefile unpacks to {unpacked} bytes, more than {MAX_UNPACKED_BYTES}")
    try:
        read = {ext: archive.read(name) for ext, name in wanted.items()}
    except (zipfile.BadZipFile, zlib.error, EOFError, NotImplementedError, RuntimeError) as exc:
        # a CRC or size that lies, a truncated stream, an unsupported method, an encrypted member
        raise refuse(f"the archive cannot be unpacked: {exc}") from None
    try:
        reader = shapefile.Reader(shp=io.BytesIO(read["shp"]), shx=io.BytesIO(read["shx"]), dbf=io.BytesIO(read["dbf"]))
        geometries = [s.__geo_interface__ for s in reader.shapes() if s.shapeType != shapefile.NULL]
    except (shapefile.ShapefileException, ValueError, struct.error, IndexError) as exc:
        raise refuse(f"unreadable shapefile: {exc}") from None
    geom = _combine(geometries)
    crs_name = None
    if "prj" in read:
        try:
            crs = CRS.from_wkt(read["prj"].decode("utf-8", errors="replace"))
        except CRSError:
            raise refuse("the .prj does not describe a coordinate system") from None
        crs_name = crs.name
        if not crs.equals(WGS84, ignore_axis_order=True):
            transformer = Transformer.from_crs(crs, WGS84, always_xy=True)
            geom = shapely.transform(geom, lambda xy: _stack(*transformer.transform(xy[:, 0], xy[:, 1])))
            if not geom.is_valid:
                raise refuse(f"invalid geometry after reprojecting to WGS84: {explain_validity(geom)}")
    _in_wgs84(geom)
    return Geography(geom, "shapefile", crs_name)


def _stack(xs: Any, ys: Any) -> Any:
    return np.column_stack([xs, ys])


def parse_upload(filename: str, data: bytes) -> Geography:
    name = filename.lower()
    if name.endswith(".zip"):
        return from_shapefile_zip(data)
    if name.endswith((".geojson", ".json")):
        return from_geojson(data)
    raise refuse("upload a zipped shapefile (.zip) or GeoJSON (.geojson, .json)")


def cutout_count(geometry: dict[str, Any]) -> int:
    return Geography(shape(geometry), "", None).cutouts


def contains(geometry: dict[str, Any], lon: float, lat: float) -> bool:
    return shapely.contains_xy(shape(geometry), lon, lat)
