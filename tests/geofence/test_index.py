"""VillageIndex against real Yunlin village polygons and brute-force references."""

from __future__ import annotations

import itertools
import json
import math
from concurrent.futures import ThreadPoolExecutor

import numpy as np
import pytest
import shapely
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from pyproj import Geod
from shapely.affinity import translate
from shapely.geometry import MultiPolygon, Point, Polygon, box, shape
from shapely.geometry.base import BaseGeometry

from app.geofence.index import Match, VillageIndex, VillageShape
from tests.reference_data import YUNLIN_VILLAGES, require

DATA = YUNLIN_VILLAGES
GEOD = Geod(ellps="WGS84")
YUNLIN_LAT = 23.74


def load_yunlin() -> list[VillageShape]:
    # Plain WGS84-ish lon/lat (TWD97); no GCJ-02 shift applies to this data.
    features = json.loads(require(DATA).read_text(encoding="utf-8"))["features"]
    return [VillageShape(f["properties"]["village_id"], shape(f["geometry"])) for f in features]


@pytest.fixture(scope="module")
def villages() -> list[VillageShape]:
    return load_yunlin()


@pytest.fixture(scope="module")
def index(villages: list[VillageShape]) -> VillageIndex:
    return VillageIndex(villages)


def reference_distance_m(geom: BaseGeometry, lon: float, lat: float) -> float:
    """Brute force: min geodesic distance to the boundary densified to <= 1 m (0 if covered)."""
    if geom.covers(Point(lon, lat)):
        return 0.0
    kx = 111_320.0 * math.cos(math.radians(lat))
    ky = 110_574.0
    scale = np.array([kx, ky])
    local = shapely.transform(geom.boundary, lambda xy: xy * scale)
    dense = shapely.get_coordinates(shapely.segmentize(local, 1.0)) / scale
    dist = GEOD.inv(np.full(len(dense), lon), np.full(len(dense), lat), dense[:, 0], dense[:, 1])[2]
    return float(dist.min())


def brute_locate(villages: list[VillageShape], lon: float, lat: float) -> set[str]:
    p = Point(lon, lat)
    return {v.code for v in villages if v.geometry.covers(p)}


def offset(lon: float, lat: float, azimuth: float, metres: float) -> tuple[float, float]:
    lon2, lat2, _ = GEOD.fwd(lon, lat, azimuth, metres)
    return float(lon2), float(lat2)


# --- construction and lookups ------------------------------------------------------------


def test_container_protocol(index: VillageIndex, villages: list[VillageShape]) -> None:
    assert len(index) == 52
    assert villages[0].code in index
    assert "nope" not in index
    assert index.geometry(villages[3].code) is villages[3].geometry
    assert index.geometry("nope") is None


@pytest.mark.parametrize(
    "bad",
    [
        [VillageShape("a", box(0, 0, 1, 1)), VillageShape("a", box(2, 2, 3, 3))],
        [VillageShape("line", shapely.LineString([(0, 0), (1, 1)]))],
        [VillageShape("empty", Polygon())],
    ],
)
def test_rejects_bad_input(bad: list[VillageShape]) -> None:
    with pytest.raises(ValueError, match=r"duplicate|Polygon"):
        VillageIndex(bad)


def test_empty_index() -> None:
    index = VillageIndex([])
    assert len(index) == 0
    assert index.locate(120.3, 23.7) is None
    assert index.locate_many([120.3], [23.7]) == [None]
    assert index.classify("x", 120.3, 23.7, 200) == Match(None, "outside", None)


def test_interior_points_locate_to_their_village(
    index: VillageIndex, villages: list[VillageShape]
) -> None:
    for v in villages:
        rp = v.geometry.representative_point()
        assert index.locate(rp.x, rp.y) == v.code
        c = v.geometry.centroid
        if v.geometry.contains(c):
            assert index.locate(c.x, c.y) == v.code


def test_points_outside_every_village(index: VillageIndex, villages: list[VillageShape]) -> None:
    union = shapely.union_all([v.geometry for v in villages])
    minx, miny, maxx, maxy = union.bounds
    far = [(0.0, 0.0), (121.5, 25.0), (minx - 0.01, miny), (maxx + 1e-9, maxy), (-120.3, 23.7)]
    for lon, lat in far:
        assert index.locate(lon, lat) is None
    # Gaps inside the bounding box, off the villages' union.
    rng = np.random.default_rng(1)
    lon = rng.uniform(minx, maxx, 3000)
    lat = rng.uniform(miny, maxy, 3000)
    outside = ~shapely.covers(union, shapely.points(lon, lat))
    assert outside.sum() > 100
    for x, y in zip(lon[outside].tolist(), lat[outside].tolist(), strict=True):
        assert index.locate(x, y) is None
    assert index.locate(math.nan, 23.7) is None
    assert index.locate(120.3, math.inf) is None


def test_locate_matches_brute_force_and_locate_many(
    index: VillageIndex, villages: list[VillageShape]
) -> None:
    union = shapely.union_all([v.geometry for v in villages])
    minx, miny, maxx, maxy = union.buffer(0.01).bounds
    rng = np.random.default_rng(2)
    lon = rng.uniform(minx, maxx, 2000)
    lat = rng.uniform(miny, maxy, 2000)
    # Shared vertices (on two or more boundaries) and non-finite input too.
    vertices = shapely.get_coordinates([v.geometry for v in villages])[::3]
    lon = np.r_[lon, vertices[:, 0], np.nan, 120.3]
    lat = np.r_[lat, vertices[:, 1], 23.7, np.nan]

    one_by_one = [index.locate(x, y) for x, y in zip(lon.tolist(), lat.tolist(), strict=True)]
    assert index.locate_many(lon, lat) == one_by_one
    for x, y, got in zip(lon.tolist(), lat.tolist(), one_by_one, strict=True):
        covering = brute_locate(villages, x, y)
        assert (got in covering) if covering else got is None
    assert sum(c is not None for c in one_by_one[:2000]) > 500


def test_locate_many_shapes(index: VillageIndex) -> None:
    assert index.locate_many([], []) == []
    with pytest.raises(ValueError, match="same number"):
        index.locate_many([120.3, 120.4], [23.7])


# --- boundary semantics (ST_Covers) ------------------------------------------------------


def test_vertices_are_covered(index: VillageIndex, villages: list[VillageShape]) -> None:
    for v in villages:
        for x, y in shapely.get_coordinates(v.geometry).tolist():
            assert index.distance_m(v.code, x, y) == 0.0
            assert index.classify(v.code, x, y, 0.0) == Match(index.locate(x, y), "inside", 0.0)
            assert index.locate(x, y) is not None


def test_edges_are_covered_and_shared_edges_tie_break_by_area() -> None:
    # Axis-parallel edges, so points exactly on them are representable.
    small = box(113.0, 28.0, 113.01, 28.01)
    large = box(113.01, 28.0, 113.03, 28.01)
    for order in ([small, large], [large, small]):
        shapes = [VillageShape("S" if g is small else "L", g) for g in order]
        index = VillageIndex(shapes)
        assert index.locate(113.005, 28.0) == "S"  # bottom edge of S only
        assert index.locate(113.02, 28.01) == "L"  # top edge of L only
        assert index.locate(113.01, 28.005) == "S"  # shared edge: the smaller village
        assert index.locate(113.01, 28.01) == "S"  # shared corner
        assert index.locate(113.03, 28.0) == "L"
        assert index.locate_many([113.01, 113.03], [28.005, 28.0]) == ["S", "L"]
        assert index.classify("L", 113.01, 28.005, 0.0) == Match("S", "inside", 0.0)


def test_overlaps_resolve_to_smallest_area_then_code() -> None:
    big = box(113.0, 28.0, 113.1, 28.1)
    small = box(113.04, 28.04, 113.06, 28.06)
    twin_a = box(113.05, 28.05, 113.07, 28.07)  # same area as small
    shapes = [
        VillageShape("big", big),
        VillageShape("z-small", small),
        VillageShape("a-twin", twin_a),
    ]
    for seq in (shapes, shapes[::-1]):
        index = VillageIndex(seq)
        assert index.locate(113.01, 28.01) == "big"
        assert index.locate(113.045, 28.045) == "z-small"
        assert index.locate(113.055, 28.055) == "a-twin"  # equal areas: smaller code
        assert index.locate_many([113.01, 113.045, 113.055], [28.01, 28.045, 28.055]) == [
            "big",
            "z-small",
            "a-twin",
        ]
        # Covered by "big" though located in a smaller village: still inside.
        assert index.classify("big", 113.055, 28.055, 0.0) == Match("a-twin", "inside", 0.0)


def test_multipolygon_and_holes() -> None:
    lon0, lat0 = 112.0, 28.0
    shell = [(lon0, lat0), (lon0 + 0.02, lat0), (lon0 + 0.02, lat0 + 0.02), (lon0, lat0 + 0.02)]
    filled = box(lon0 + 0.004, lat0 + 0.004, lon0 + 0.008, lat0 + 0.008)
    empty = box(lon0 + 0.012, lat0 + 0.012, lon0 + 0.016, lat0 + 0.016)
    holed = Polygon(shell, [filled.exterior.coords, empty.exterior.coords])
    multi = MultiPolygon(
        [
            box(lon0 + 0.03, lat0, lon0 + 0.04, lat0 + 0.01),
            box(lon0 + 0.05, lat0, lon0 + 0.06, lat0 + 0.01),
        ]
    )
    index = VillageIndex(
        [VillageShape("H", holed), VillageShape("E", filled), VillageShape("M", multi)]
    )
    assert index.locate(lon0 + 0.001, lat0 + 0.001) == "H"
    assert index.locate(lon0 + 0.006, lat0 + 0.006) == "E"  # hole filled by an enclave
    assert index.locate(lon0 + 0.014, lat0 + 0.014) is None  # unclaimed hole
    assert index.locate(lon0 + 0.012, lat0 + 0.014) == "H"  # on the hole's edge
    assert index.locate(lon0 + 0.035, lat0 + 0.005) == "M"
    assert index.locate(lon0 + 0.055, lat0 + 0.005) == "M"
    assert index.locate(lon0 + 0.045, lat0 + 0.005) is None  # between the parts

    # In the hole, the distance is to the hole's ring, 0.002 deg from its centre.
    x, y = lon0 + 0.014, lat0 + 0.014
    d = index.distance_m("H", x, y)
    assert d == pytest.approx(reference_distance_m(holed, x, y), abs=0.05)
    assert 190 < d < 200  # 0.002 deg of longitude at 28 N
    assert index.classify("H", x, y, 250.0) == Match(None, "near", d)
    assert index.classify("H", lon0 + 0.006, lat0 + 0.006, 100.0).geofence == "outside"
    assert index.classify("E", lon0 + 0.006, lat0 + 0.006, 100.0).geofence == "inside"
    # Between the two parts of M, the nearer part counts.
    x, y = lon0 + 0.0475, lat0 + 0.005
    assert index.distance_m("M", x, y) == pytest.approx(reference_distance_m(multi, x, y), abs=0.05)


# --- geodesic distances ------------------------------------------------------------------


@pytest.mark.parametrize("target_lat", [YUNLIN_LAT, 18.2, 35.0, 45.0, 53.4])
def test_distance_matches_geodesic_reference(
    villages: list[VillageShape], target_lat: float
) -> None:
    """Seeded points up to ~5 km around real polygons moved to latitudes 18-53 degrees."""
    dy = target_lat - YUNLIN_LAT
    moved = [VillageShape(v.code, translate(v.geometry, yoff=dy)) for v in villages]
    index = VillageIndex(moved)
    rng = np.random.default_rng(int(target_lat * 10))
    for v in moved[::4]:
        coords = shapely.get_coordinates(v.geometry)
        for _ in range(8):
            x0, y0 = coords[rng.integers(len(coords))]
            x, y = offset(x0, y0, rng.uniform(0, 360), rng.uniform(0, 5000))
            got = index.distance_m(v.code, x, y)
            want = reference_distance_m(v.geometry, x, y)
            assert got == pytest.approx(want, abs=1.0), (v.code, x, y)
            # The reference is the distance to a boundary point, so an upper bound; it
            # overshoots by up to ~0.4 m only for points within a metre of an edge.
            assert got <= want + 0.01, (v.code, x, y)


@settings(
    max_examples=60, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture]
)
@given(
    village=st.integers(0, 51),
    target_lat=st.floats(18.0, 53.0),
    vertex=st.integers(0, 10_000),
    azimuth=st.floats(0.0, 360.0),
    metres=st.floats(0.0, 5000.0),
)
def test_distance_matches_reference_hypothesis(
    villages: list[VillageShape],
    village: int,
    target_lat: float,
    vertex: int,
    azimuth: float,
    metres: float,
) -> None:
    geom = translate(villages[village].geometry, yoff=target_lat - YUNLIN_LAT)
    index = VillageIndex([VillageShape("v", geom)])
    coords = shapely.get_coordinates(geom)
    x0, y0 = coords[vertex % len(coords)].tolist()
    x, y = offset(x0, y0, azimuth, metres)
    assert index.distance_m("v", x, y) == pytest.approx(reference_distance_m(geom, x, y), abs=1.0)


def test_distance_errors(index: VillageIndex, villages: list[VillageShape]) -> None:
    with pytest.raises(KeyError):
        index.distance_m("nope", 120.3, 23.7)
    with pytest.raises(ValueError, match="finite"):
        index.distance_m(villages[0].code, math.nan, 23.7)
    rp = villages[0].geometry.representative_point()
    assert index.distance_m(villages[0].code, rp.x, rp.y) == 0.0


# --- classify ----------------------------------------------------------------------------


def test_classify_exact_distances_from_a_box_village() -> None:
    index = VillageIndex([VillageShape("B", box(113.0, 28.0, 113.01, 28.01))])
    assert index.classify("B", 113.005, 28.005, 200) == Match("B", "inside", 0.0)
    assert index.classify("B", 113.01, 28.005, 200) == Match("B", "inside", 0.0)
    # Geodesics leaving an edge at right angles: their length is the distance to the edge.
    north_100 = offset(113.005, 28.01, 0.0, 100.0)
    m = index.classify("B", *north_100, 200)
    assert (m.village_code, m.geofence) == (None, "near")
    assert m.distance_m == pytest.approx(100.0, abs=0.01)
    east_150 = offset(113.01, 28.005, 90.0, 150.0)
    assert index.classify("B", *east_150, 200).distance_m == pytest.approx(150.0, abs=0.01)
    north_1000 = offset(113.005, 28.01, 0.0, 1000.0)
    m = index.classify("B", *north_1000, 200)
    assert m.geofence == "outside"
    assert m.distance_m == pytest.approx(1000.0, abs=0.01)
    just_over = offset(113.005, 28.01, 0.0, 200.5)
    assert index.classify("B", *just_over, 200).geofence == "outside"
    just_under = offset(113.005, 28.01, 0.0, 199.5)
    assert index.classify("B", *just_under, 200).geofence == "near"


def test_classify_real_villages(index: VillageIndex, villages: list[VillageShape]) -> None:
    grades = set()
    for a, b in itertools.pairwise(villages):
        rp = a.geometry.representative_point()
        assert index.classify(a.code, rp.x, rp.y, 200) == Match(a.code, "inside", 0.0)
        m = index.classify(b.code, rp.x, rp.y, 200)
        want = reference_distance_m(b.geometry, rp.x, rp.y)
        assert m.village_code == a.code
        assert m.distance_m == pytest.approx(want, abs=1.0)
        assert m.geofence == ("near" if want <= 200 else "outside")
        grades.add(m.geofence)
        # 100 m outside a's boundary, straight out from a vertex on its convex hull.
        hull = a.geometry.convex_hull
        x0, y0 = shapely.get_coordinates(hull)[0]
        c = hull.centroid
        az = GEOD.inv(c.x, c.y, x0, y0)[0]
        x, y = offset(x0, y0, az, 100.0)
        m = index.classify(a.code, x, y, 200)
        assert m.geofence == "near"
        assert m.distance_m == pytest.approx(reference_distance_m(a.geometry, x, y), abs=1.0)
    assert "outside" in grades


def test_classify_without_or_with_unknown_assignment(
    index: VillageIndex, villages: list[VillageShape]
) -> None:
    rp = villages[5].geometry.representative_point()
    code = villages[5].code
    assert index.classify(None, rp.x, rp.y, 200) == Match(code, None, None)
    assert index.classify("unknown", rp.x, rp.y, 200) == Match(code, "outside", None)
    assert index.classify(None, 0.0, 0.0, 200) == Match(None, None, None)
    with pytest.raises(ValueError, match="near_m"):
        index.classify(code, rp.x, rp.y, -1.0)
    with pytest.raises(ValueError, match="finite"):
        index.classify(code, math.nan, rp.y, 200)


def test_concurrent_use_of_a_fresh_index(villages: list[VillageShape]) -> None:
    index = VillageIndex(villages)
    rng = np.random.default_rng(3)
    lon = rng.uniform(120.2, 120.45, 4000)
    lat = rng.uniform(23.65, 23.83, 4000)
    code = villages[7].code

    def work(k: int) -> list[object]:
        xs, ys = lon[k::4].tolist(), lat[k::4].tolist()
        return [
            (index.locate(x, y), index.classify(code, x, y, 200.0))
            for x, y in zip(xs, ys, strict=True)
        ]

    with ThreadPoolExecutor(4) as pool:
        concurrent = list(pool.map(work, range(4)))
    assert concurrent == [work(k) for k in range(4)]
