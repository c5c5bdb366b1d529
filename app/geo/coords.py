"""Conversion between WGS84, GCJ-02 ("Mars") and BD-09 (Baidu) coordinates.

The forward GCJ-02 and BD-09 steps are the widely published public algorithm
(Krasovsky-like ellipsoid ``a = 6378245.0``, ``ee = 0.00669342162296594323``,
``x_pi = pi * 3000 / 180``). Points outside the rough "in China" box
(lon 72.004..137.8347, lat 0.8293..55.8271, bounds inclusive) pass through every
conversion untouched, including the BD-09 step. Note that the box is rough:
Taiwan, for example, lies inside it and *is* shifted.

GCJ-02 -> WGS84 has no closed form. It is solved exactly (to ~1e-12 degrees) by
fixed-point iteration of the forward transform, starting from the usual one-step
guess ``gcj - delta(gcj)``; the map is a strong contraction (|d delta| < 1 %),
so three or four evaluations reach the 1e-9 degree residual.
BD-09 -> GCJ-02 starts from the standard closed-form inverse of the BD step and
refines it the same way: the closed form alone is off by up to ~0.23 m (measured
over mainland China), the refined inverse by < 1e-6 m.

Why not a library: of the PyPI candidates, ``prcoords`` (exact inverse) was last
released in 2019, ``eviltransform`` in 2018, and ``coordtransform``,
``coord-convert`` and most others ship only the one-step approximate inverse;
the recent ``prcoords-typed`` / ``geocoordinates-rs`` could not be vetted in the
time box. None is clearly maintained, exact *and* numpy-vectorised, and the
algorithm is ~100 lines, so it is written here and checked against published
vectors (tests/geo/test_coords.py).
"""

from __future__ import annotations

import math
from collections.abc import Callable
from typing import Literal, get_args

import numpy as np
import numpy.typing as npt
import shapely
from shapely.geometry.base import BaseGeometry

__all__ = [
    "CoordSystem",
    "bd09_to_gcj02",
    "bd09_to_wgs84",
    "convert_geometry",
    "gcj02_to_bd09",
    "gcj02_to_wgs84",
    "to_wgs84",
    "to_wgs84_many",
    "wgs84_to_bd09",
    "wgs84_to_gcj02",
]

CoordSystem = Literal["wgs84", "gcj02", "bd09"]
_SYSTEMS: frozenset[str] = frozenset(get_args(CoordSystem))

FloatArray = npt.NDArray[np.float64]

_A = 6378245.0
_EE = 0.00669342162296594323
_PI = math.pi
_X_PI = math.pi * 3000.0 / 180.0

_LON_MIN, _LON_MAX = 72.004, 137.8347
_LAT_MIN, _LAT_MAX = 0.8293, 55.8271

_TOL_DEG = 1e-9
_MAX_ITER = 20


def _check_system(system: str) -> None:
    if system not in _SYSTEMS:
        raise ValueError(
            f"unknown coordinate system {system!r}; expected one of {sorted(_SYSTEMS)}"
        )


# --------------------------------------------------------------------------- scalar


def _in_box(lon: float, lat: float) -> bool:
    return _LON_MIN <= lon <= _LON_MAX and _LAT_MIN <= lat <= _LAT_MAX


def _delta(lon: float, lat: float) -> tuple[float, float]:
    """GCJ-02 offset (degrees) at a WGS84 point, without the box test."""
    x = lon - 105.0
    y = lat - 35.0
    common = (20.0 * math.sin(6.0 * x * _PI) + 20.0 * math.sin(2.0 * x * _PI)) * 2.0 / 3.0
    dlat = -100.0 + 2.0 * x + 3.0 * y + 0.2 * y * y + 0.1 * x * y + 0.2 * math.sqrt(abs(x))
    dlat += common
    dlat += (20.0 * math.sin(y * _PI) + 40.0 * math.sin(y / 3.0 * _PI)) * 2.0 / 3.0
    dlat += (160.0 * math.sin(y / 12.0 * _PI) + 320.0 * math.sin(y * _PI / 30.0)) * 2.0 / 3.0
    dlon = 300.0 + x + 2.0 * y + 0.1 * x * x + 0.1 * x * y + 0.1 * math.sqrt(abs(x))
    dlon += common
    dlon += (20.0 * math.sin(x * _PI) + 40.0 * math.sin(x / 3.0 * _PI)) * 2.0 / 3.0
    dlon += (150.0 * math.sin(x / 12.0 * _PI) + 300.0 * math.sin(x / 30.0 * _PI)) * 2.0 / 3.0
    radlat = lat / 180.0 * _PI
    magic = 1.0 - _EE * math.sin(radlat) ** 2
    sqrtmagic = math.sqrt(magic)
    dlat = (dlat * 180.0) / ((_A * (1.0 - _EE)) / (magic * sqrtmagic) * _PI)
    dlon = (dlon * 180.0) / (_A / sqrtmagic * math.cos(radlat) * _PI)
    return dlon, dlat


def wgs84_to_gcj02(lon: float, lat: float) -> tuple[float, float]:
    """WGS84 -> GCJ-02 (identity outside the China box)."""
    if not _in_box(lon, lat):
        return lon, lat
    return _gcj_forward(lon, lat)


def _invert(
    forward: Callable[[float, float], tuple[float, float]],
    lon: float,
    lat: float,
    guess: tuple[float, float],
) -> tuple[float, float]:
    """Solve ``forward(w) == (lon, lat)`` by fixed-point iteration from ``guess``."""
    wlon, wlat = guess
    for _ in range(_MAX_ITER):
        flon, flat = forward(wlon, wlat)
        rlon = lon - flon
        rlat = lat - flat
        wlon += rlon
        wlat += rlat
        if abs(rlon) < _TOL_DEG and abs(rlat) < _TOL_DEG:
            break
    return wlon, wlat


def _gcj_forward(lon: float, lat: float) -> tuple[float, float]:
    dlon, dlat = _delta(lon, lat)
    return lon + dlon, lat + dlat


def _bd_forward(lon: float, lat: float) -> tuple[float, float]:
    z = math.sqrt(lon * lon + lat * lat) + 0.00002 * math.sin(lat * _X_PI)
    theta = math.atan2(lat, lon) + 0.000003 * math.cos(lon * _X_PI)
    return z * math.cos(theta) + 0.0065, z * math.sin(theta) + 0.006


def _bd_inverse_closed(lon: float, lat: float) -> tuple[float, float]:
    x = lon - 0.0065
    y = lat - 0.006
    z = math.sqrt(x * x + y * y) - 0.00002 * math.sin(y * _X_PI)
    theta = math.atan2(y, x) - 0.000003 * math.cos(x * _X_PI)
    return z * math.cos(theta), z * math.sin(theta)


def gcj02_to_wgs84(lon: float, lat: float) -> tuple[float, float]:
    """GCJ-02 -> WGS84, exact iterative inverse (identity outside the China box)."""
    if not _in_box(lon, lat):
        return lon, lat
    dlon, dlat = _delta(lon, lat)
    return _invert(_gcj_forward, lon, lat, (lon - dlon, lat - dlat))


def gcj02_to_bd09(lon: float, lat: float) -> tuple[float, float]:
    """GCJ-02 -> BD-09 (identity outside the China box)."""
    if not _in_box(lon, lat):
        return lon, lat
    return _bd_forward(lon, lat)


def bd09_to_gcj02(lon: float, lat: float) -> tuple[float, float]:
    """BD-09 -> GCJ-02, exact iterative inverse (identity outside the China box)."""
    if not _in_box(lon, lat):
        return lon, lat
    return _invert(_bd_forward, lon, lat, _bd_inverse_closed(lon, lat))


def wgs84_to_bd09(lon: float, lat: float) -> tuple[float, float]:
    """WGS84 -> BD-09."""
    return gcj02_to_bd09(*wgs84_to_gcj02(lon, lat))


def bd09_to_wgs84(lon: float, lat: float) -> tuple[float, float]:
    """BD-09 -> WGS84, both steps inverted exactly."""
    return gcj02_to_wgs84(*bd09_to_gcj02(lon, lat))


def to_wgs84(lon: float, lat: float, system: CoordSystem) -> tuple[float, float]:
    """Convert one point given in ``system`` to WGS84 (lon, lat)."""
    _check_system(system)
    if system == "gcj02":
        return gcj02_to_wgs84(lon, lat)
    if system == "bd09":
        return bd09_to_wgs84(lon, lat)
    return float(lon), float(lat)


# --------------------------------------------------------------------- vectorised


def _in_box_v(lon: FloatArray, lat: FloatArray) -> npt.NDArray[np.bool_]:
    return (lon >= _LON_MIN) & (lon <= _LON_MAX) & (lat >= _LAT_MIN) & (lat <= _LAT_MAX)


def _delta_v(lon: FloatArray, lat: FloatArray) -> tuple[FloatArray, FloatArray]:
    x = lon - 105.0
    y = lat - 35.0
    common = (20.0 * np.sin(6.0 * x * _PI) + 20.0 * np.sin(2.0 * x * _PI)) * 2.0 / 3.0
    dlat = -100.0 + 2.0 * x + 3.0 * y + 0.2 * y * y + 0.1 * x * y + 0.2 * np.sqrt(np.abs(x))
    dlat += common
    dlat += (20.0 * np.sin(y * _PI) + 40.0 * np.sin(y / 3.0 * _PI)) * 2.0 / 3.0
    dlat += (160.0 * np.sin(y / 12.0 * _PI) + 320.0 * np.sin(y * _PI / 30.0)) * 2.0 / 3.0
    dlon = 300.0 + x + 2.0 * y + 0.1 * x * x + 0.1 * x * y + 0.1 * np.sqrt(np.abs(x))
    dlon += common
    dlon += (20.0 * np.sin(x * _PI) + 40.0 * np.sin(x / 3.0 * _PI)) * 2.0 / 3.0
    dlon += (150.0 * np.sin(x / 12.0 * _PI) + 300.0 * np.sin(x / 30.0 * _PI)) * 2.0 / 3.0
    radlat = lat / 180.0 * _PI
    magic = 1.0 - _EE * np.sin(radlat) ** 2
    sqrtmagic = np.sqrt(magic)
    dlat = (dlat * 180.0) / ((_A * (1.0 - _EE)) / (magic * sqrtmagic) * _PI)
    dlon = (dlon * 180.0) / (_A / sqrtmagic * np.cos(radlat) * _PI)
    return dlon, dlat


def _invert_v(
    forward: Callable[[FloatArray, FloatArray], tuple[FloatArray, FloatArray]],
    lon: FloatArray,
    lat: FloatArray,
    guess: tuple[FloatArray, FloatArray],
) -> tuple[FloatArray, FloatArray]:
    """Vectorised :func:`_invert`; each element stops by the same rule as the scalar."""
    wlon, wlat = guess[0].copy(), guess[1].copy()
    active = np.arange(lon.size)
    for _ in range(_MAX_ITER):
        flon, flat = forward(wlon[active], wlat[active])
        rlon = lon[active] - flon
        rlat = lat[active] - flat
        wlon[active] += rlon
        wlat[active] += rlat
        done = (np.abs(rlon) < _TOL_DEG) & (np.abs(rlat) < _TOL_DEG)
        active = active[~done]
        if active.size == 0:
            break
    return wlon, wlat


def _gcj_forward_v(lon: FloatArray, lat: FloatArray) -> tuple[FloatArray, FloatArray]:
    dlon, dlat = _delta_v(lon, lat)
    return lon + dlon, lat + dlat


def _bd_forward_v(lon: FloatArray, lat: FloatArray) -> tuple[FloatArray, FloatArray]:
    z = np.sqrt(lon * lon + lat * lat) + 0.00002 * np.sin(lat * _X_PI)
    theta = np.arctan2(lat, lon) + 0.000003 * np.cos(lon * _X_PI)
    return z * np.cos(theta) + 0.0065, z * np.sin(theta) + 0.006


def _bd_inverse_closed_v(lon: FloatArray, lat: FloatArray) -> tuple[FloatArray, FloatArray]:
    x = lon - 0.0065
    y = lat - 0.006
    z = np.sqrt(x * x + y * y) - 0.00002 * np.sin(y * _X_PI)
    theta = np.arctan2(y, x) - 0.000003 * np.cos(x * _X_PI)
    return z * np.cos(theta), z * np.sin(theta)


def _gcj_guess_v(lon: FloatArray, lat: FloatArray) -> tuple[FloatArray, FloatArray]:
    dlon, dlat = _delta_v(lon, lat)
    return lon - dlon, lat - dlat


def _inverse_in_box_v(
    forward: Callable[[FloatArray, FloatArray], tuple[FloatArray, FloatArray]],
    guess: Callable[[FloatArray, FloatArray], tuple[FloatArray, FloatArray]],
    lon: FloatArray,
    lat: FloatArray,
) -> tuple[FloatArray, FloatArray]:
    """Invert ``forward`` on the 1-d points inside the box; copy the others through."""
    out_lon = lon.copy()
    out_lat = lat.copy()
    idx = np.flatnonzero(_in_box_v(lon, lat))
    if idx.size:
        plon, plat = lon[idx], lat[idx]
        out_lon[idx], out_lat[idx] = _invert_v(forward, plon, plat, guess(plon, plat))
    return out_lon, out_lat


def to_wgs84_many(
    lon: npt.ArrayLike, lat: npt.ArrayLike, system: CoordSystem
) -> tuple[FloatArray, FloatArray]:
    """Vectorised :func:`to_wgs84`: broadcast ``lon``/``lat`` and return new float64 arrays."""
    _check_system(system)
    lon_a, lat_a = np.broadcast_arrays(
        np.asarray(lon, dtype=np.float64), np.asarray(lat, dtype=np.float64)
    )
    shape = lon_a.shape
    flat_lon: FloatArray = np.array(lon_a, dtype=np.float64).reshape(-1)
    flat_lat: FloatArray = np.array(lat_a, dtype=np.float64).reshape(-1)
    if system == "bd09":
        flat_lon, flat_lat = _inverse_in_box_v(
            _bd_forward_v, _bd_inverse_closed_v, flat_lon, flat_lat
        )
    if system != "wgs84":
        flat_lon, flat_lat = _inverse_in_box_v(_gcj_forward_v, _gcj_guess_v, flat_lon, flat_lat)
    return flat_lon.reshape(shape), flat_lat.reshape(shape)


def convert_geometry(geom: BaseGeometry, system: CoordSystem) -> BaseGeometry:
    """Return ``geom`` with every vertex converted from ``system`` to WGS84 (Z kept)."""
    _check_system(system)
    if system == "wgs84":
        return geom

    def _fn(coords: FloatArray) -> FloatArray:
        out = np.array(coords, dtype=np.float64, copy=True)
        out[:, 0], out[:, 1] = to_wgs84_many(coords[:, 0], coords[:, 1], system)
        return out

    result: BaseGeometry = shapely.transform(geom, _fn, include_z=None)
    return result
