"""Tests for app.geo.coords (WGS84 / GCJ-02 / BD-09).

Reference vectors come from tests/data/coord_vectors.csv; see tests/data/README.md
for what each group of rows is exact to.
"""

from __future__ import annotations

import csv
import math
from collections.abc import Callable

import numpy as np
import pytest
import shapely
from hypothesis import given, settings
from hypothesis import strategies as st
from shapely.geometry import MultiPolygon, Point, Polygon

from app.geo import coords
from app.geo.coords import (
    bd09_to_gcj02,
    bd09_to_wgs84,
    convert_geometry,
    gcj02_to_bd09,
    gcj02_to_wgs84,
    to_wgs84,
    to_wgs84_many,
    wgs84_to_bd09,
    wgs84_to_gcj02,
)
from tests.reference_data import COORD_VECTORS, require

VECTORS = COORD_VECTORS

Fn = Callable[[float, float], tuple[float, float]]

FUNCS: dict[tuple[str, str], Fn] = {
    ("WGS84", "GCJ02"): wgs84_to_gcj02,
    ("GCJ02", "WGS84"): gcj02_to_wgs84,
    ("GCJ02", "BD09"): gcj02_to_bd09,
    ("BD09", "GCJ02"): bd09_to_gcj02,
    ("WGS84", "BD09"): wgs84_to_bd09,
    ("BD09", "WGS84"): bd09_to_wgs84,
}
# Forward function that should map our output back onto the row's input.
FORWARD: dict[tuple[str, str], Fn] = {
    ("GCJ02", "WGS84"): wgs84_to_gcj02,
    ("BD09", "GCJ02"): gcj02_to_bd09,
    ("BD09", "WGS84"): wgs84_to_bd09,
}


def haversine_m(lon1: float, lat1: float, lon2: float, lat2: float) -> float:
    """Great-circle distance in metres (mean Earth radius)."""
    p1, p2 = math.radians(lat1), math.radians(lat2)
    dp, dl = p2 - p1, math.radians(lon2 - lon1)
    h = math.sin(dp / 2) ** 2 + math.cos(p1) * math.cos(p2) * math.sin(dl / 2) ** 2
    return 2 * 6371008.8 * math.asin(min(1.0, math.sqrt(h)))


def _rows() -> list[dict[str, str]]:
    with require(VECTORS).open(newline="", encoding="utf-8") as fh:
        return list(csv.DictReader(fh))


def _params(*kinds: str, to: str | None = None) -> list[object]:
    """Rows of the given kinds as pytest params (collection fails if the file is absent)."""
    out: list[object] = []
    for i, row in enumerate(_rows()):
        if _kind(row) in kinds and to in (None, row["system_to"]):
            out.append(pytest.param(row, id=f"{i + 2}-{row['system_from']}-{row['system_to']}"))
    return out


def _kind(row: dict[str, str]) -> str:
    src = row["source"]
    if row["system_from"] == "BD09_EVILTRANSFORM_VARIANT":
        return "variant"
    if "one-step approximate" in src:
        return "one_step"
    if src.startswith("hujiulong/gcoord"):
        return "gcoord"
    if (row["system_from"], row["system_to"]) == ("BD09", "GCJ02"):
        return "bd_closed_form"
    return "exact"


def _apply(row: dict[str, str]) -> tuple[float, float, float, float]:
    fn = FUNCS[(row["system_from"], row["system_to"])]
    lon, lat = fn(float(row["lon_from"]), float(row["lat_from"]))
    return lon, lat, float(row["lon_to"]), float(row["lat_to"])


def _assert_exact_inverse(row: dict[str, str], lon: float, lat: float) -> None:
    fwd = FORWARD.get((row["system_from"], row["system_to"]))
    if fwd is not None:
        blon, blat = fwd(lon, lat)
        assert abs(blon - float(row["lon_from"])) < 1e-9
        assert abs(blat - float(row["lat_from"])) < 1e-9


def test_vectors_file_has_every_kind() -> None:
    kinds = {_kind(r) for r in _rows()}
    assert kinds == {"variant", "one_step", "gcoord", "bd_closed_form", "exact"}


@pytest.mark.parametrize("row", _params("exact"))
def test_exact_vectors(row: dict[str, str]) -> None:
    # eviltransform WGS84->GCJ02 rows are bit-exact; coordtransform rows ~1e-11 deg.
    lon, lat, rlon, rlat = _apply(row)
    assert haversine_m(lon, lat, rlon, rlat) < 1e-4
    assert abs(lon - rlon) < 1e-9
    assert abs(lat - rlat) < 1e-9


@pytest.mark.parametrize("row", _params("bd_closed_form"))
def test_bd_closed_form_vectors(row: dict[str, str]) -> None:
    # These rows use the closed-form BD inverse (off by up to ~0.25 m); we refine it.
    lon, lat, rlon, rlat = _apply(row)
    assert haversine_m(lon, lat, rlon, rlat) < 0.3
    _assert_exact_inverse(row, lon, lat)
    glon, glat = coords._bd_inverse_closed(float(row["lon_from"]), float(row["lat_from"]))
    assert haversine_m(glon, glat, rlon, rlat) < 1e-4


@pytest.mark.parametrize("row", _params("one_step"))
def test_one_step_inverse_vectors(row: dict[str, str]) -> None:
    # References use the naive 2*gcj - f(gcj) inverse: 0.06-1.2 m from the exact one.
    lon, lat, rlon, rlat = _apply(row)
    assert haversine_m(lon, lat, rlon, rlat) < 2.0
    _assert_exact_inverse(row, lon, lat)


@pytest.mark.parametrize("row", _params("gcoord"))
def test_gcoord_fixture_vectors(row: dict[str, str]) -> None:
    # gcoord fixtures are ~0.7 m off the formula; gcoord itself tests with 1e-4 deg.
    lon, lat, rlon, rlat = _apply(row)
    assert abs(lon - rlon) < 1e-4
    assert abs(lat - rlat) < 1e-4
    assert haversine_m(lon, lat, rlon, rlat) < 1.0


@pytest.mark.parametrize("row", _params("variant"))
def test_eviltransform_bd_variant_is_not_standard_bd09(row: dict[str, str]) -> None:
    # eviltransform's BD step uses sin/cos(x*pi), not x_pi: ours must NOT match it.
    lon, lat = bd09_to_wgs84(float(row["lon_from"]), float(row["lat_from"]))
    assert haversine_m(lon, lat, float(row["lon_to"]), float(row["lat_to"])) > 5.0


@pytest.mark.parametrize("row", _params("exact", "one_step", "gcoord", to="WGS84"))
def test_vectors_through_vectorised_path(row: dict[str, str]) -> None:
    system = {"GCJ02": "gcj02", "BD09": "bd09", "WGS84": "wgs84"}[row["system_from"]]
    lon = np.array([float(row["lon_from"])])
    lat = np.array([float(row["lat_from"])])
    vlon, vlat = to_wgs84_many(lon, lat, system)  # type: ignore[arg-type]
    slon, slat = to_wgs84(lon[0], lat[0], system)  # type: ignore[arg-type]
    assert haversine_m(vlon[0], vlat[0], slon, slat) < 1e-6


# --------------------------------------------------------------------- properties

mainland_lon = st.floats(min_value=73.5, max_value=135.0, allow_nan=False)
mainland_lat = st.floats(min_value=18.0, max_value=53.5, allow_nan=False)


@settings(max_examples=300)
@given(mainland_lon, mainland_lat)
def test_roundtrip_wgs_gcj_wgs(lon: float, lat: float) -> None:
    glon, glat = wgs84_to_gcj02(lon, lat)
    assert haversine_m(lon, lat, glon, glat) > 1.0  # really shifted
    assert haversine_m(lon, lat, *gcj02_to_wgs84(glon, glat)) < 0.01
    assert haversine_m(lon, lat, *to_wgs84(glon, glat, "gcj02")) < 0.01


@settings(max_examples=300)
@given(mainland_lon, mainland_lat)
def test_roundtrip_wgs_bd_wgs(lon: float, lat: float) -> None:
    blon, blat = wgs84_to_bd09(lon, lat)
    assert haversine_m(lon, lat, *bd09_to_wgs84(blon, blat)) < 0.01
    assert haversine_m(lon, lat, *to_wgs84(blon, blat, "bd09")) < 0.01


@settings(max_examples=300)
@given(mainland_lon, mainland_lat)
def test_inverse_then_forward(lon: float, lat: float) -> None:
    assert haversine_m(lon, lat, *wgs84_to_gcj02(*gcj02_to_wgs84(lon, lat))) < 0.01
    assert haversine_m(lon, lat, *gcj02_to_bd09(*bd09_to_gcj02(lon, lat))) < 0.01


def test_exact_inverse_beats_one_step() -> None:
    # Somewhere the naive inverse is > 0.5 m off; the exact one stays < 1 cm.
    worst_naive = 0.0
    for lon in np.linspace(74.0, 134.0, 25):
        for lat in np.linspace(19.0, 53.0, 25):
            glon, glat = wgs84_to_gcj02(float(lon), float(lat))
            flon, flat = wgs84_to_gcj02(glon, glat)
            naive_lon, naive_lat = 2 * glon - flon, 2 * glat - flat
            worst_naive = max(worst_naive, haversine_m(lon, lat, naive_lon, naive_lat))
            assert haversine_m(lon, lat, *gcj02_to_wgs84(glon, glat)) < 0.01
    assert worst_naive > 0.5


OUTSIDE = [
    (139.6917, 35.6895),  # Tokyo
    (2.3522, 48.8566),  # Paris
    (151.2093, -33.8688),  # Sydney
    (-74.006, 40.7128),  # New York
    (72.0039, 39.0),  # just west of the box
    (100.0, 55.8272),  # just north of the box
]
ALL_FUNCS = [*FUNCS.values()]


@pytest.mark.parametrize(("lon", "lat"), OUTSIDE)
@pytest.mark.parametrize("fn", ALL_FUNCS, ids=[f.__name__ for f in ALL_FUNCS])
def test_outside_china_passes_through(fn: Fn, lon: float, lat: float) -> None:
    assert fn(lon, lat) == (lon, lat)


@pytest.mark.parametrize("system", ["wgs84", "gcj02", "bd09"])
def test_outside_china_passes_through_vectorised(system: coords.CoordSystem) -> None:
    lon = np.array([p[0] for p in OUTSIDE])
    lat = np.array([p[1] for p in OUTSIDE])
    vlon, vlat = to_wgs84_many(lon, lat, system)
    np.testing.assert_array_equal(vlon, lon)
    np.testing.assert_array_equal(vlat, lat)
    for lo, la in OUTSIDE:
        assert to_wgs84(lo, la, system) == (lo, la)


def test_taiwan_is_inside_the_rough_box_and_is_shifted() -> None:
    # tests/data/README.md: Taiwan is inside the box, so the standard algorithm shifts it.
    lon, lat = 121.5654, 25.0330  # Taipei
    assert 100.0 < haversine_m(lon, lat, *wgs84_to_gcj02(lon, lat)) < 1000.0


def test_unknown_system_rejected() -> None:
    with pytest.raises(ValueError, match="unknown coordinate system"):
        to_wgs84(116.4, 39.9, "epsg4326")  # type: ignore[arg-type]
    with pytest.raises(ValueError, match="unknown coordinate system"):
        to_wgs84_many(np.array([116.4]), np.array([39.9]), "GCJ02")  # type: ignore[arg-type]
    with pytest.raises(ValueError, match="unknown coordinate system"):
        convert_geometry(Point(116.4, 39.9), "baidu")  # type: ignore[arg-type]


any_lon = st.one_of(mainland_lon, st.floats(min_value=-180.0, max_value=180.0))
any_lat = st.one_of(mainland_lat, st.floats(min_value=-90.0, max_value=90.0))


@settings(max_examples=100)
@given(
    st.lists(st.tuples(any_lon, any_lat), min_size=0, max_size=40),
    st.sampled_from(["wgs84", "gcj02", "bd09"]),
)
def test_vectorised_equals_scalar(
    points: list[tuple[float, float]], system: coords.CoordSystem
) -> None:
    lon = np.array([p[0] for p in points], dtype=np.float64)
    lat = np.array([p[1] for p in points], dtype=np.float64)
    vlon, vlat = to_wgs84_many(lon, lat, system)
    assert vlon.shape == lon.shape
    assert vlon.dtype == np.float64
    for i, (lo, la) in enumerate(points):
        slon, slat = to_wgs84(lo, la, system)
        assert abs(vlon[i] - slon) < 1e-10
        assert abs(vlat[i] - slat) < 1e-10


def test_vectorised_shapes_and_no_aliasing() -> None:
    lon = np.array([[116.4, 121.5], [113.9, 139.7]])
    lat = np.array([[39.9, 31.2], [22.5, 35.7]])
    vlon, vlat = to_wgs84_many(lon, lat, "gcj02")
    assert vlon.shape == (2, 2)
    assert vlat.shape == (2, 2)
    assert (vlon[1, 1], vlat[1, 1]) == (139.7, 35.7)  # Tokyo untouched
    assert to_wgs84(113.9, 22.5, "gcj02") == pytest.approx((vlon[1, 0], vlat[1, 0]), abs=1e-10)
    same_lon, _ = to_wgs84_many(lon, lat, "wgs84")
    assert same_lon is not lon
    same_lon[0, 0] = 0.0
    assert lon[0, 0] == 116.4  # input not modified
    blon, blat = to_wgs84_many([116.4, 116.5], 39.9, "bd09")  # broadcasting, lists
    assert blon.shape == blat.shape == (2,)
    elon, elat = to_wgs84_many(np.array([]), np.array([]), "bd09")
    assert elon.shape == elat.shape == (0,)


# ----------------------------------------------------------------------- geometry


def _ring(cx: float, cy: float, r: float, n: int = 12) -> list[tuple[float, float]]:
    return [
        (cx + r * math.cos(2 * math.pi * k / n), cy + r * math.sin(2 * math.pi * k / n))
        for k in range(n)
    ]


@pytest.mark.parametrize("system", ["gcj02", "bd09"])
def test_convert_geometry_polygon_with_hole(system: coords.CoordSystem) -> None:
    shell = _ring(116.40, 39.90, 0.02)
    hole = _ring(116.40, 39.90, 0.005)
    poly = Polygon(shell, [hole])
    out = convert_geometry(poly, system)
    assert isinstance(out, Polygon)
    assert out.is_valid
    assert len(out.interiors) == 1
    assert not out.contains(Point(*to_wgs84(116.40, 39.90, system)))  # centre is in the hole
    assert len(out.exterior.coords) == len(poly.exterior.coords)
    for (x, y), (ox, oy) in zip(poly.exterior.coords, out.exterior.coords, strict=True):
        assert (ox, oy) == pytest.approx(to_wgs84(x, y, system), abs=1e-10)
    for (x, y), (ox, oy) in zip(poly.interiors[0].coords, out.interiors[0].coords, strict=True):
        assert (ox, oy) == pytest.approx(to_wgs84(x, y, system), abs=1e-10)
    assert out.area == pytest.approx(poly.area, rel=5e-3)  # BD-09 stretches ~0.1 %


def test_convert_geometry_multipolygon_z_and_identity() -> None:
    mp = MultiPolygon(
        [
            Polygon([(116.0, 39.0, 5.0), (116.1, 39.0, 6.0), (116.1, 39.1, 7.0)]),
            Polygon([(121.0, 31.0, 1.0), (121.1, 31.0, 2.0), (121.1, 31.1, 3.0)]),
        ]
    )
    out = convert_geometry(mp, "gcj02")
    assert isinstance(out, MultiPolygon)
    assert out.has_z
    coords_in = shapely.get_coordinates(mp, include_z=True)
    coords_out = shapely.get_coordinates(out, include_z=True)
    np.testing.assert_array_equal(coords_out[:, 2], coords_in[:, 2])
    for (x, y, _), (ox, oy, _) in zip(coords_in, coords_out, strict=True):
        assert (ox, oy) == pytest.approx(to_wgs84(x, y, "gcj02"), abs=1e-10)
    assert convert_geometry(mp, "wgs84").equals(mp)
    assert convert_geometry(Polygon(), "gcj02").is_empty
