"""In-memory village boundary index: point-in-village lookup and geodesic edge distance.

Semantics match PostGIS on EPSG:4326 data:

* "inside" is ``ST_Covers(boundary, point)``: a point on an edge or vertex is inside; a point in
  a hole is not. Edges are straight lines in lon/lat, as for the ``geometry`` type.
* distances are metres on the WGS84 ellipsoid (``pyproj.Geod``) from the point to the nearest
  point of the boundary, as ``ST_Distance(boundary::geography, point::geography)``. Geography
  takes edges as great-circle arcs instead of lon/lat lines; they part by up to about
  L² tan(lat) / 8R for an edge of length L: 0.2 m for 3 km at 45°, 0.5 m for 5 km.

Coordinates are WGS84 lon/lat; convert GCJ-02/BD-09 fixes before calling. Boundaries must not
cross the antimeridian. Once built, an index is read-only and safe to share between threads.
"""

from __future__ import annotations

import math
from collections.abc import Iterable
from dataclasses import dataclass
from typing import Literal

import numpy as np
import numpy.typing as npt
import shapely
from pyproj import Geod
from shapely.geometry.base import BaseGeometry

__all__ = ["Geofence", "Match", "VillageIndex", "VillageShape"]

Geofence = Literal["inside", "near", "outside"]

FloatArray = npt.NDArray[np.float64]
IntArray = npt.NDArray[np.intp]
ObjectArray = npt.NDArray[np.object_]

_GEOD = Geod(ellps="WGS84")
_WGS84_A = 6378137.0
_WGS84_E2 = 0.0066943799901413165
_DEG = math.pi / 180.0
_POLYGONAL = ("Polygon", "MultiPolygon")
# Grid cell side: the median village's bbox side over this; and a cap on the number of
# (cell, village) bbox entries per village, which coarsens the grid if a few are huge.
_GRID_CELLS_PER_VILLAGE = 2.0
_GRID_PAIRS_PER_VILLAGE = 16


@dataclass(frozen=True, slots=True)
class VillageShape:
    """A village boundary to index: its code and a (Multi)Polygon in EPSG:4326."""

    code: str
    geometry: BaseGeometry


@dataclass(frozen=True, slots=True)
class Match:
    """Where a fix is: the village covering it, and its relation to the assigned village."""

    village_code: str | None
    geofence: Geofence | None
    distance_m: float | None


class VillageIndex:
    """Immutable index of village boundaries (prepared geometries, an STRtree and a grid)."""

    __slots__ = (
        "_by_rank",
        "_codes",
        "_codes_or_none",
        "_geoms",
        "_grid",
        "_pos",
        "_rank",
        "_tree",
        "_vspan",
        "_vx",
        "_vy",
    )

    def __init__(self, villages: Iterable[VillageShape]) -> None:
        codes: list[str] = []
        geoms: list[BaseGeometry] = []
        pos: dict[str, int] = {}
        for v in villages:
            if v.code in pos:
                raise ValueError(f"duplicate village code {v.code!r}")
            if v.geometry.geom_type not in _POLYGONAL or v.geometry.is_empty:
                raise ValueError(f"village {v.code!r}: boundary must be a non-empty (Multi)Polygon")
            pos[v.code] = len(codes)
            codes.append(v.code)
            geoms.append(v.geometry)

        self._codes = codes
        self._pos = pos
        self._geoms: ObjectArray = np.empty(len(geoms), dtype=object)
        self._geoms[:] = geoms
        # Index -1 maps to None, so "no village" can stay an integer until the end.
        self._codes_or_none: ObjectArray = np.array([*codes, None], dtype=object)
        shapely.prepare(self._geoms)
        self._tree = shapely.STRtree(self._geoms)
        self._rank = _area_rank(self._geoms, codes)
        self._by_rank: IntArray = np.argsort(self._rank)
        self._grid = _Grid(self._geoms, codes, self._rank) if codes else None
        # Prepared geometries build their point locators lazily and not thread-safely, so
        # build them all now, before the index is shared.
        rp = shapely.point_on_surface(self._geoms)
        shapely.intersects_xy(self._geoms, shapely.get_x(rp), shapely.get_y(rp))
        self._vx, self._vy, self._vspan = _ring_vertices(self._geoms)

    def __len__(self) -> int:
        return len(self._codes)

    def __contains__(self, code: object) -> bool:
        return code in self._pos

    def geometry(self, code: str) -> BaseGeometry | None:
        """The boundary of ``code``, or None if it is not indexed."""
        i = self._pos.get(code)
        return None if i is None else self._geoms[i]

    def locate(self, lon: float, lat: float) -> str | None:
        """Code of the village covering the point (smallest by area if several), else None."""
        if self._grid is None:
            return None
        return self._grid.locate(float(lon), float(lat))

    def locate_many(self, lon: npt.ArrayLike, lat: npt.ArrayLike) -> list[str | None]:
        """`locate` for arrays of points; non-finite coordinates give None."""
        x = np.asarray(lon, dtype=np.float64).ravel()
        y = np.asarray(lat, dtype=np.float64).ravel()
        if x.shape != y.shape:
            raise ValueError("lon and lat must have the same number of points")
        best = np.full(x.size, -1, dtype=np.intp)
        ok = np.flatnonzero(np.isfinite(x) & np.isfinite(y))
        if ok.size and self._codes:
            p, g = self._tree.query(shapely.points(x[ok], y[ok]))
            p = ok[p]
            hit = shapely.intersects_xy(self._geoms[g], x[p], y[p])
            p, g = p[hit], g[hit]
            if p.size:
                # Sort (point, area rank) pairs as one int64 key; the first of each point wins.
                n = len(self._codes)
                key = p.astype(np.int64) * n + self._rank[g]
                key.sort()
                pk = key // n
                first = np.ones(key.size, dtype=bool)
                first[1:] = pk[1:] != pk[:-1]
                best[pk[first]] = self._by_rank[key[first] % n]
        result: list[str | None] = self._codes_or_none[best].tolist()
        return result

    def distance_m(self, code: str, lon: float, lat: float) -> float:
        """Geodesic metres from the point to the boundary of ``code``; 0.0 when covered.

        Raises KeyError for an unknown code and ValueError for non-finite coordinates.
        """
        i = self._pos[code]
        lon, lat = _finite(lon, lat)
        if self._covers(i, lon, lat):
            return 0.0
        return self._edge_distance_m(i, lon, lat)

    def classify(self, code: str | None, lon: float, lat: float, near_m: float) -> Match:
        """Locate the fix and grade it against the assigned village ``code``.

        ``geofence`` is None when no village is assigned; "inside" (distance 0.0) when the
        assigned village covers the point; "near" within ``near_m`` metres of it; else
        "outside". An assigned code missing from the index is "outside" with distance None.
        """
        if not near_m >= 0.0:
            raise ValueError("near_m must be >= 0")
        lon, lat = _finite(lon, lat)
        located = self.locate(lon, lat)
        if code is None:
            return Match(located, None, None)
        i = self._pos.get(code)
        if i is None:
            return Match(located, "outside", None)
        # located != code can still be covered: overlapping villages resolve to the smaller one.
        if located == code or self._covers(i, lon, lat):
            return Match(located, "inside", 0.0)
        d = self._edge_distance_m(i, lon, lat)
        return Match(located, "near" if d <= near_m else "outside", d)

    def _covers(self, i: int, lon: float, lat: float) -> bool:
        # A one-element array: the ufunc's scalar-geometry path is slower.
        return bool(shapely.intersects_xy(self._geoms[i : i + 1], lon, lat)[0])

    def _edge_distance_m(self, i: int, lon: float, lat: float) -> float:
        """Geodesic distance from the point to the nearest boundary edge of village ``i``.

        Candidate nearest points come from a local metric frame (lon/lat scaled by the
        ellipsoid's radii of curvature at ``lat``), which is affine in lon/lat, so its nearest
        points lie on the real lon/lat edges. Every edge that the frame's distortion could make
        the true nearest one is then measured exactly with ``Geod.inv``.
        """
        a, z = self._vspan[i]
        phi = lat * _DEG
        sin_phi = math.sin(phi)
        w2 = 1.0 - _WGS84_E2 * sin_phi * sin_phi
        kx = _WGS84_A / math.sqrt(w2) * math.cos(phi) * _DEG
        ky = _WGS84_A * (1.0 - _WGS84_E2) / (w2 * math.sqrt(w2)) * _DEG
        ux = (self._vx[a:z] - lon) * kx
        uy = (self._vy[a:z] - lat) * ky
        ax, ay = ux[:-1], uy[:-1]
        dx = ux[1:] - ax
        dy = uy[1:] - ay
        dd = dx * dx + dy * dy
        # s = -t, where the nearest point of the edge is a + t*d, 0 <= t <= 1. The tiny term
        # keeps repeated vertices (dd == 0) at s = 0. Edges touching a ring separator give
        # NaN, which fmin and <= skip; rings are closed, so no vertex is lost.
        s = (ax * dx + ay * dy) / (dd + 1e-30)
        np.minimum(np.maximum(s, -1.0, out=s), 0.0, out=s)
        px = ax - s * dx
        py = ay - s * dy
        d2 = px * px + py * py
        d_min = math.sqrt(float(np.fmin.reduce(d2)))
        # The frame's scale error grows about |tan(lat)| * (distance / R); allow twice that.
        slack = d_min * 2.0 * (abs(math.tan(phi)) + 0.02) * d_min / 6.3e6 + 0.5
        cand = (d2 <= (d_min + slack) ** 2).nonzero()[0]
        lon2 = (lon + px[cand] / kx).tolist()
        lat2 = (lat + py[cand] / ky).tolist()
        if len(lon2) > 8:
            n = len(lon2)
            return float(np.min(_GEOD.inv(np.full(n, lon), np.full(n, lat), lon2, lat2)[2]))
        return min(float(_GEOD.inv(lon, lat, x, y)[2]) for x, y in zip(lon2, lat2, strict=True))


class _Grid:
    """Uniform lon/lat grid of village bounding boxes, for single-point lookups.

    Through the STRtree a lookup costs ~15 µs (building a Point, the query wrapper); here it
    is a dict hit plus one ``intersects_xy`` over the cell's candidates (for a point,
    intersects == covers), which are kept smallest-area first so the first hit wins.
    ``floor((x - x0) / cell)`` is monotonic in floating point, so any point of a bounding box
    lands in one of the cells the box was filed under.
    """

    __slots__ = ("_cells", "_codes", "_geoms", "_inv", "_ny", "_x0", "_x1", "_y0", "_y1")

    def __init__(self, geoms: ObjectArray, codes: list[str], rank: IntArray) -> None:
        b = shapely.bounds(geoms)
        self._x0, self._y0 = float(b[:, 0].min()), float(b[:, 1].min())
        self._x1, self._y1 = float(b[:, 2].max()), float(b[:, 3].max())
        size = np.maximum(b[:, 2] - b[:, 0], b[:, 3] - b[:, 1])
        cell = max(float(np.median(size)) / _GRID_CELLS_PER_VILLAGE, 1e-7)
        max_pairs = _GRID_PAIRS_PER_VILLAGE * len(codes)
        while True:
            inv = 1.0 / cell
            ix0 = np.floor((b[:, 0] - self._x0) * inv).astype(np.int64)
            ix1 = np.floor((b[:, 2] - self._x0) * inv).astype(np.int64)
            iy0 = np.floor((b[:, 1] - self._y0) * inv).astype(np.int64)
            iy1 = np.floor((b[:, 3] - self._y0) * inv).astype(np.int64)
            nyi = iy1 - iy0 + 1
            counts = (ix1 - ix0 + 1) * nyi
            if counts.sum() <= max_pairs:
                break
            cell *= 1.5  # a few huge villages would otherwise fill millions of cells
        self._inv = inv
        self._ny = int(np.floor((self._y1 - self._y0) * inv)) + 1

        village = np.repeat(np.arange(len(codes)), counts)
        k = np.arange(village.size) - np.repeat(np.cumsum(counts) - counts, counts)
        keys = (ix0[village] + k // nyi[village]) * self._ny + iy0[village] + k % nyi[village]
        order = np.lexsort((rank[village], keys))
        village, keys = village[order], keys[order]
        starts = np.flatnonzero(np.r_[True, keys[1:] != keys[:-1]])
        ends = np.r_[starts[1:], keys.size]

        self._geoms: ObjectArray = geoms[village]
        self._codes: list[str] = [codes[v] for v in village.tolist()]
        spans = zip(starts.tolist(), ends.tolist(), strict=True)
        self._cells: dict[int, tuple[int, int]] = dict(
            zip(keys[starts].tolist(), spans, strict=True)
        )

    def locate(self, x: float, y: float) -> str | None:
        # The chained comparisons are also False for NaN.
        if not (self._x0 <= x <= self._x1 and self._y0 <= y <= self._y1):
            return None
        cell = self._cells.get(
            int((x - self._x0) * self._inv) * self._ny + int((y - self._y0) * self._inv)
        )
        if cell is None:
            return None
        a, z = cell
        hit = shapely.intersects_xy(self._geoms[a:z], x, y)
        if z - a == 1:
            return self._codes[a] if hit[0] else None
        k = int(hit.argmax())
        return self._codes[a + k] if hit[k] else None


def _area_rank(geoms: ObjectArray, codes: list[str]) -> IntArray:
    """Rank of each village by (approximate ground area, code): the tie-break for overlaps."""
    if not codes:
        return np.empty(0, dtype=np.intp)
    lat = shapely.get_y(shapely.centroid(geoms))
    area = (shapely.area(geoms) * np.cos(np.radians(lat))).tolist()
    order = sorted(range(len(codes)), key=lambda i: (area[i], codes[i]))
    rank = np.empty(len(codes), dtype=np.intp)
    rank[order] = np.arange(len(codes))
    return rank


def _ring_vertices(geoms: ObjectArray) -> tuple[FloatArray, FloatArray, list[tuple[int, int]]]:
    """Vertices of all rings (outer and holes, every part) as lon and lat arrays.

    A NaN follows every ring, so consecutive entries are edges except around the NaNs. Village
    ``i`` owns entries ``[a, z)`` of ``span[i]``.
    """
    parts, part_village = shapely.get_parts(geoms, return_index=True)
    rings, ring_part = shapely.get_rings(parts, return_index=True)
    xy, vertex_ring = shapely.get_coordinates(rings, return_index=True)
    at = np.arange(len(xy)) + vertex_ring
    vx = np.full(len(xy) + len(rings), np.nan)
    vy = vx.copy()
    vx[at], vy[at] = xy[:, 0], xy[:, 1]
    vertex_village = part_village[ring_part[vertex_ring]]
    first = np.searchsorted(vertex_village, np.arange(len(geoms)), side="left")
    last = np.searchsorted(vertex_village, np.arange(len(geoms)), side="right") - 1
    span = list(zip(at[first].tolist(), (at[last] + 1).tolist(), strict=True))
    return vx, vy, span


def _finite(lon: float, lat: float) -> tuple[float, float]:
    lon, lat = float(lon), float(lat)
    if not (math.isfinite(lon) and math.isfinite(lat)):
        raise ValueError("lon and lat must be finite")
    return lon, lat
