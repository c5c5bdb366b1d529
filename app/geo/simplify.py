"""Simplifying a lon/lat boundary by a tolerance in metres, keeping it a valid polygon.

A village spans a few kilometres, so a local equirectangular projection (metres per degree of
longitude and latitude at its middle latitude, on the WGS84 ellipsoid) is metric to better
than 0.1% across it: Douglas-Peucker runs there with the tolerance in metres, topology
preserved (no ring crosses itself or another), and the result is projected back. Coordinates
are then rounded to 1e-7° (about 1 cm), which GEOS does without breaking validity.
"""

from __future__ import annotations

import math

import numpy as np
import numpy.typing as npt
import shapely
from shapely.geometry import MultiPolygon, Polygon
from shapely.geometry.base import BaseGeometry

GRID_DEG = 1e-7  # served coordinates: about 1 cm


def metres_per_degree(lat: float) -> tuple[float, float]:
    """(metres per degree of longitude, of latitude) at `lat` on the WGS84 ellipsoid."""
    phi = math.radians(lat)
    per_lon = 111_412.84 * math.cos(phi) - 93.5 * math.cos(3 * phi) + 0.118 * math.cos(5 * phi)
    per_lat = 111_132.954 - 559.822 * math.cos(2 * phi) + 1.175 * math.cos(4 * phi)
    return per_lon, per_lat


def simplify_metres(geom: BaseGeometry, tolerance_m: float) -> BaseGeometry:
    """`geom` (polygonal, lon/lat) with vertices dropped while no edge strays more than
    about `tolerance_m` from the original (Douglas-Peucker's bound, plus a little where GEOS
    moves a ring's start); valid, non-empty and with as many parts, or `geom` itself unchanged when
    simplifying would not be (a tolerance of 0 changes nothing)."""
    if tolerance_m <= 0 or geom.is_empty:
        return geom
    _, min_lat, _, max_lat = geom.bounds
    scale: npt.NDArray[np.float64] = np.array(metres_per_degree((min_lat + max_lat) / 2))

    def to_metres(coords: npt.NDArray[np.float64]) -> npt.NDArray[np.float64]:
        return coords * scale

    def to_degrees(coords: npt.NDArray[np.float64]) -> npt.NDArray[np.float64]:
        return coords / scale

    local = shapely.transform(geom, to_metres)
    simple = shapely.transform(
        shapely.simplify(local, tolerance_m, preserve_topology=True), to_degrees
    )
    for candidate in (shapely.set_precision(simple, GRID_DEG), simple):
        if _usable(candidate, geom):
            if isinstance(geom, MultiPolygon) and isinstance(candidate, Polygon):
                return MultiPolygon([candidate])  # served as it is stored
            return candidate
    return geom


def _usable(candidate: BaseGeometry, original: BaseGeometry) -> bool:
    return (
        not candidate.is_empty
        and candidate.geom_type in ("Polygon", "MultiPolygon")
        and candidate.is_valid
        and candidate.area > 0
        and len(shapely.get_parts(candidate)) == len(shapely.get_parts(original))
    )
