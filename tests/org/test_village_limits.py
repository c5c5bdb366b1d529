"""`zhucun import-villages` against hostile and oversized files, and boundaries as served.

Before these limits, a GeoJSON nested 100,000 levels deep was a traceback, a NUL in a name
was stored on SQLite and a traceback on PostGIS, a million-vertex village was served whole
(39 MB) to every phone, and a village drawn over its neighbours was imported silently.
"""

from __future__ import annotations

import json

import numpy as np
import pytest
import shapely
import shapely.affinity
from shapely.geometry import MultiPolygon, Polygon, box, mapping, shape
from sqlalchemy import func, select

from app.geo.simplify import metres_per_degree
from app.org import outlines
from app.org.models import Village, VillageBoundary
from tests.org.helpers import write_geojson, zhucun
from tests.world import LAT0

PER_LON, PER_LAT = metres_per_degree(LAT0 + 0.01)


def feature(code, name, geometry):
    return {"type": "Feature", "properties": {"code": code, "name": name}, "geometry": geometry}


def collection(*features):
    return {"type": "FeatureCollection", "features": list(features)}


def import_villages(db_url, tmp_path, document, *extra, policy_file=None):
    path = write_geojson(tmp_path / "villages.geojson", document)
    return zhucun(db_url, "import-villages", str(path), *extra, policy_file=policy_file)


def dense_square_with_bump(lon, vertices, bump_m=3.0):
    """The world's 0.02° square at `lon` with `vertices` vertices along its edges, and on its
    south edge a bump `bump_m` metres high and 20 m wide that a 5 m outline leaves out."""
    square = box(lon, LAT0, lon + 0.02, LAT0 + 0.02)
    ring = shapely.segmentize(square.exterior, 0.08 / vertices)
    coords = shapely.get_coordinates(ring)
    south = (np.abs(coords[:, 1] - LAT0) < 1e-12) & (np.abs(coords[:, 0] - (lon + 0.01)) < 1e-4)
    distance = 1 - np.abs(coords[:, 0] - (lon + 0.01)) / 1e-4  # 1 in the middle, 0 at its ends
    coords[south, 1] -= bump_m / PER_LAT * np.clip(distance[south], 0, 1)
    return Polygon(coords)


def bump_point(lon):
    """Inside the bump, 1 m south of the square's edge: inside only the whole boundary."""
    return lon + 0.01, LAT0 - 1.0 / PER_LAT


def vertices(geometry):
    return int(shapely.get_num_coordinates(shape(geometry)))


def metres_apart(a, b):
    scale = np.array([PER_LON, PER_LAT])
    return shapely.hausdorff_distance(
        shapely.transform(a, lambda c: c * scale), shapely.transform(b, lambda c: c * scale)
    )


def test_deeply_nested_geojson_is_refused_in_one_line(db_url, tmp_path):
    path = tmp_path / "deep.geojson"
    depth = 100_000
    geometry = '{"type": "Polygon", "coordinates": ' + "[" * depth + "]" * depth + "}"
    path.write_text(
        '{"type": "FeatureCollection", "features": [{"type": "Feature", "properties": '
        '{"code": "430121001001", "name": "x"}, "geometry": ' + geometry + "}]}"
    )
    result = zhucun(db_url, "import-villages", str(path))
    assert result.exit_code == 1
    assert result.exception is None or isinstance(result.exception, SystemExit)
    assert result.stderr.strip().count("\n") == 0
    assert "nests too deeply" in result.stderr


@pytest.mark.parametrize(
    ("name", "reason"),
    [
        ("东\x00山村", "the name contains a NUL character (U+0000) at character 2"),
        ("村" * 101, "the name is 101 characters long, at most 100"),
        ("东山\x1b村", "the name contains a control character (U+001B)"),
    ],
    ids=["nul", "too-long", "escape"],
)
def test_a_name_no_column_can_hold_is_refused(db_url, db, tmp_path, name, reason):
    document = collection(feature("430121001001", name, mapping(box(113, 28.3, 113.02, 28.32))))
    result = import_villages(db_url, tmp_path, document)
    assert result.exit_code == 1
    assert f"feature 1: {reason}" in result.stderr
    assert len(result.stderr) < 400
    assert db.scalar(select(func.count()).select_from(Village)) == 0


def test_a_boundary_over_the_vertex_cap_is_refused(db_url, db, tmp_path):
    policy = tmp_path / "policy.toml"
    policy.write_text("[villages]\nmax_vertices = 1000\n")
    near_cap = dense_square_with_bump(113.30, 1000)
    over_cap = dense_square_with_bump(113.30, 3000)
    assert shapely.get_num_coordinates(near_cap) <= 1001 < shapely.get_num_coordinates(over_cap)
    document = collection(feature("430121002002", "新村", mapping(over_cap)))
    result = import_villages(db_url, tmp_path, document, policy_file=policy)
    assert result.exit_code == 1
    assert "feature 1: 3,00" in result.stderr
    assert "more than the policy's villages.max_vertices (1,000)" in result.stderr
    document = collection(feature("430121002002", "新村", mapping(near_cap)))
    assert import_villages(db_url, tmp_path, document, policy_file=policy).exit_code == 0


def test_a_dense_boundary_is_stored_whole_and_served_as_an_outline(world, db_url, db, tmp_path):
    whole = dense_square_with_bump(113.00, 100_000)
    document = collection(feature("430121001001", "东山村", mapping(whole)))
    result = import_villages(db_url, tmp_path, document)
    assert result.exit_code == 0, result.output
    stored = db.scalar(
        select(VillageBoundary.boundary).where(
            VillageBoundary.village_code == "430121001001", VillageBoundary.valid_to.is_(None)
        )
    )
    db.commit()
    assert stored.equals(MultiPolygon([whole]))

    served = {
        "village": world.get("admin", "/villages/430121001001").json()["geometry"],
        "assignment": world.get("alice", "/me/assignment").json()["boundary"],
        "dashboard": world.get("county", "/dashboard/villages/430121001001").json()["boundary"],
    }
    for route, geometry in served.items():
        outline = shape(geometry)
        assert vertices(geometry) < 50, route
        assert outline.is_valid, route
        assert not outline.is_empty, route
        assert geometry["type"] == "MultiPolygon", route
        assert metres_apart(outline, whole) < 7.5, route  # ~ the 5 m tolerance
    # The outline leaves the bump out; the geofence still matches the whole boundary.
    lon, lat = bump_point(113.00)
    assert not shape(served["village"]).covers(shapely.Point(lon, lat))
    assert whole.covers(shapely.Point(lon, lat))
    located = world.get("admin", "/villages/locate", params={"longitude": lon, "latitude": lat})
    assert located.json()["village_code"] == "430121001001"


def test_outlines_are_made_once_per_boundary_version(world, db_url, db, tmp_path):
    made: list[int] = []
    outlines.simplify_observers.append(made.append)
    try:
        dense = dense_square_with_bump(113.00, 2000)
        document = collection(feature("430121001001", "东山村", mapping(dense)))
        assert import_villages(db_url, tmp_path, document).exit_code == 0
        first = world.get("admin", "/villages/430121001001").json()["geometry"]
        again = world.get("alice", "/me/assignment").json()["boundary"]
        assert first == again
        assert len(made) == 1
        # A new boundary is a new version: simplified afresh, served at once.
        moved = shapely.affinity.translate(dense_square_with_bump(113.00, 2000), yoff=-0.001)
        document["features"][0]["geometry"] = mapping(moved)
        assert import_villages(db_url, tmp_path, document).exit_code == 0
        after = world.get("admin", "/villages/430121001001").json()["geometry"]
        assert len(made) == 2
        assert shape(after).bounds[1] == pytest.approx(moved.bounds[1], abs=5 / PER_LAT)
    finally:
        outlines.simplify_observers.remove(made.append)


def test_a_zero_tolerance_serves_the_boundary_whole(world, db_url, db, tmp_path, app):
    whole = dense_square_with_bump(113.00, 2000)
    document = collection(feature("430121001001", "东山村", mapping(whole)))
    assert import_villages(db_url, tmp_path, document).exit_code == 0
    whole_outlines = app.state.policy.villages.model_copy(update={"outline_tolerance_m": 0})
    app.state.policy = app.state.policy.model_copy(update={"villages": whole_outlines})
    served = world.get("admin", "/villages/430121001001").json()["geometry"]
    assert shape(served).equals(MultiPolygon([whole]))


def test_json_of_the_served_outline_is_small(world, db_url, db, tmp_path):
    whole = dense_square_with_bump(113.00, 100_000)
    document = collection(feature("430121001001", "东山村", mapping(whole)))
    assert import_villages(db_url, tmp_path, document).exit_code == 0
    body = world.get("admin", "/villages/430121001001").content
    assert len(body) < 2_000
    assert len(json.dumps(mapping(whole))) > 2_000_000
