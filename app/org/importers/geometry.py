"""A feature's geometry as a village boundary: checked, converted to WGS84, repaired when a
ring crosses itself, and compared with a stored one (`zhucun import-villages`)."""

from __future__ import annotations

import warnings
from typing import Any

import numpy as np
import shapely
from shapely.geometry import MultiPolygon, Polygon, shape
from shapely.geometry.base import BaseGeometry

from app.geo.coords import CoordSystem, convert_geometry

# Boundaries closer than this (degrees, ~0.1 mm) are the same boundary: a re-import of an
# unchanged file must not open new versions because of float noise in a round trip.
SAME_BOUNDARY_TOLERANCE = 1e-9


def checked_boundary(
    raw: Any, crs: CoordSystem, max_vertices: int | None
) -> tuple[MultiPolygon | None, bool, str | None]:
    """(WGS84 boundary, whether it was repaired, why it is refused)."""
    if not isinstance(raw, dict):
        return None, False, "no geometry"
    kind = raw.get("type")
    if kind not in ("Polygon", "MultiPolygon"):
        return None, False, f"geometry {kind!r} is not a Polygon or MultiPolygon"
    try:
        with warnings.catch_warnings():  # NaN coordinates warn here; they are refused below
            warnings.simplefilter("ignore", RuntimeWarning)
            geom = shape(raw)
    except Exception as exc:  # shapely raises several types for malformed coordinate arrays
        return None, False, f"malformed coordinates ({exc})"
    if geom.is_empty:
        return None, False, "empty geometry"
    vertices = _vertices(geom)
    if max_vertices is not None and vertices > max_vertices:
        return (
            None,
            False,
            (
                f"{vertices:,} vertices, more than the policy's villages.max_vertices "
                f"({max_vertices:,}): simplify the boundary, or raise the limit"
            ),
        )
    range_reason = _coordinate_range_problem(shapely.get_coordinates(geom))
    if range_reason:
        return None, False, range_reason
    geom = convert_geometry(shapely.force_2d(geom), crs)
    repaired = False
    if not geom.is_valid:
        why = shapely.is_valid_reason(geom)
        fixed = _polygonal(shapely.make_valid(geom))
        if fixed is None or fixed.area == 0:
            return None, False, f"invalid boundary ({why}) that cannot be repaired to a polygon"
        geom, repaired = fixed, True
    boundary = _polygonal(geom)
    if boundary is None or boundary.area == 0:
        return None, False, "the boundary has no area"
    return boundary, repaired, None


def _vertices(geom: BaseGeometry) -> int:
    """Vertices of a (Multi)Polygon: each ring's closing repeat of its first is not one."""
    parts = shapely.get_parts(geom)
    rings = len(parts) + int(shapely.get_num_interior_rings(parts).sum())
    return int(shapely.get_num_coordinates(geom)) - rings


def _coordinate_range_problem(coords: np.ndarray[Any, Any]) -> str | None:
    if not np.isfinite(coords).all():
        return "coordinates are not all finite numbers"
    lon, lat = coords[:, 0], coords[:, 1]
    bad_lon = np.flatnonzero(np.abs(lon) > 180)
    if bad_lon.size:
        return f"longitude {lon[bad_lon[0]]} is outside -180..180"
    bad_lat = np.flatnonzero(np.abs(lat) > 90)
    if bad_lat.size:
        return f"latitude {lat[bad_lat[0]]} is outside -90..90"
    return None


def _polygonal(geom: BaseGeometry) -> MultiPolygon | None:
    """The polygonal parts of `geom` as one MultiPolygon, None if it has none."""
    polygons: list[Polygon] = []
    for part in shapely.get_parts(geom):
        if isinstance(part, Polygon) and not part.is_empty:
            polygons.append(part)
        elif isinstance(part, MultiPolygon):
            polygons.extend(p for p in part.geoms if not p.is_empty)
        elif part.geom_type == "GeometryCollection":
            nested = _polygonal(part)
            if nested is not None:
                polygons.extend(nested.geoms)
    if not polygons:
        return None
    multi = MultiPolygon(polygons)
    if not multi.is_valid:  # parts of a collection may touch along an edge
        merged = _polygonal(shapely.make_valid(shapely.union_all(polygons)))
        return merged
    return multi


def same_boundary(a: BaseGeometry, b: BaseGeometry) -> bool:
    """Equal up to vertex order, ring start and float noise."""
    return bool(
        shapely.equals_exact(
            shapely.normalize(a), shapely.normalize(b), tolerance=SAME_BOUNDARY_TOLERANCE
        )
    )
