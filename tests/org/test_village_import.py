"""`zhucun import-villages` with the real Yunlin village boundaries, through the CLI and HTTP."""

from __future__ import annotations

import math

import pytest
import shapely
from shapely.geometry import MultiPolygon, Polygon, mapping, shape
from sqlalchemy import func, select

from app.geo.coords import wgs84_to_gcj02
from app.geofence.cache import boundary_revision
from app.org.models import Village, VillageBoundary
from tests.org.helpers import (
    YUNLIN_COUNTY,
    YUNLIN_TOWNSHIPS,
    write_geojson,
    yunlin_collection,
    zhucun,
)
from tests.world import centre

NAME = "--name-field=village"


def import_file(db_url, path, *extra):
    return zhucun(db_url, "import-villages", str(path), NAME, *extra)


def counts(db):
    villages = db.scalar(select(func.count()).select_from(Village))
    versions = db.scalar(select(func.count()).select_from(VillageBoundary))
    db.commit()
    return villages, versions


def metres(a, b):
    """Rough ground distance between two (lon, lat) points."""
    dx = (a[0] - b[0]) * 111_320 * math.cos(math.radians(a[1]))
    dy = (a[1] - b[1]) * 110_574
    return math.hypot(dx, dy)


@pytest.fixture
def yunlin(tmp_path):
    return write_geojson(tmp_path / "yunlin.geojson", yunlin_collection())


def test_import_creates_every_village_with_its_township_and_county(db_url, db, yunlin):
    before = boundary_revision(db)
    db.commit()
    result = import_file(db_url, yunlin)
    assert result.exit_code == 0, result.output
    assert "52 created, 0 boundaries changed, 0 unchanged" in result.stdout
    assert counts(db) == (52, 52)
    villages = db.scalars(select(Village)).all()
    assert {v.township_code for v in villages} == YUNLIN_TOWNSHIPS
    assert {v.county_code for v in villages} == {YUNLIN_COUNTY}
    assert db.get(Village, "710900011004", populate_existing=True).name == "三和村"
    assert boundary_revision(db) > before


def test_imported_village_is_served_as_geojson_and_located(world, db_url, yunlin):
    assert import_file(db_url, yunlin).exit_code == 0
    features = yunlin_collection()["features"]
    first = features[0]
    r = world.get("admin", "/villages/710900011004")
    assert r.status_code == 200, r.text
    body = r.json()
    assert body["type"] == "Feature"
    assert body["properties"]["name"] == "三和村"
    assert body["properties"]["township_code"] == "710900011"
    assert body["geometry"]["type"] == "MultiPolygon"
    assert shape(body["geometry"]).equals(shape(first["geometry"]))
    # Every village is found at a point inside it, by the geofence index the import rebuilt.
    for feature in features:
        point = shape(feature["geometry"]).representative_point()
        r = world.get(
            "admin", "/villages/locate", params={"longitude": point.x, "latitude": point.y}
        )
        assert r.json()["village_code"] == feature["properties"]["code"]
        assert r.json()["village_name"] == feature["properties"]["village"]


def test_reimport_of_an_unchanged_file_changes_nothing(db_url, db, yunlin):
    assert import_file(db_url, yunlin).exit_code == 0
    revision = boundary_revision(db)
    db.commit()
    again = import_file(db_url, yunlin)
    assert again.exit_code == 0, again.output
    assert "0 created, 0 boundaries changed, 52 unchanged, 0 renamed" in again.stdout
    assert counts(db) == (52, 52)
    assert boundary_revision(db) == revision


def test_changed_boundary_opens_a_new_version_and_closes_the_old(world, db_url, db, tmp_path):
    original = yunlin_collection()
    write_geojson(tmp_path / "v1.geojson", original)
    assert import_file(db_url, tmp_path / "v1.geojson").exit_code == 0
    revision = boundary_revision(db)
    db.commit()

    changed = yunlin_collection()
    grown = shape(changed["features"][0]["geometry"]).buffer(0.002, join_style="mitre")
    changed["features"][0]["geometry"] = mapping(grown)
    changed["features"][1]["properties"]["village"] = "大同新村"
    # Same boundary written differently (other start vertex, reversed): not a change.
    ring = changed["features"][2]["geometry"]["coordinates"][0][:-1]
    rotated = ring[1:] + ring[:1]
    changed["features"][2]["geometry"]["coordinates"][0] = [*rotated[::-1], rotated[-1]]
    # Grown 200 m, it overlaps its neighbours: meant here.
    result = import_file(db_url, write_geojson(tmp_path / "v2.geojson", changed), "--allow-overlap")
    assert result.exit_code == 0, result.output
    assert "0 created, 1 boundaries changed, 51 unchanged, 1 renamed" in result.stdout
    assert "feature 1 (710900011004) overlaps feature 9 (710900011003)" in result.stderr

    versions = db.scalars(
        select(VillageBoundary)
        .where(VillageBoundary.village_code == "710900011004")
        .order_by(VillageBoundary.id)
    ).all()
    assert len(versions) == 2
    old, new = versions
    assert old.valid_to is not None
    assert new.valid_to is None
    assert new.valid_from == old.valid_to
    assert new.boundary.equals(MultiPolygon([grown]))
    assert db.get(Village, "710900011016", populate_existing=True).name == "大同新村"
    assert boundary_revision(db) > revision
    db.commit()
    served = world.get("admin", "/villages/710900011004").json()
    assert shapely.hausdorff_distance(shape(served["geometry"]), grown) < 1e-4  # ~10 m
    # A point only the new boundary holds is located in the village now.
    edge = grown.exterior.interpolate(0.5, normalized=True)
    outside_old = shapely.shortest_line(shape(original["features"][0]["geometry"]), edge)
    probe = outside_old.interpolate(0.9, normalized=True)
    r = world.get("admin", "/villages/locate", params={"longitude": probe.x, "latitude": probe.y})
    assert r.json()["village_code"] == "710900011004"


def test_gcj02_file_is_converted_to_wgs84(db_url, db, tmp_path):
    """A file in GCJ-02 (as Amap exports it) lands where the WGS84 original is."""
    wgs = yunlin_collection()
    gcj = yunlin_collection()
    for feature in gcj["features"]:
        rings = feature["geometry"]["coordinates"]
        feature["geometry"]["coordinates"] = [
            [list(wgs84_to_gcj02(lon, lat)) for lon, lat in ring] for ring in rings
        ]
    first_wgs = wgs["features"][0]["geometry"]["coordinates"][0][0]
    first_gcj = gcj["features"][0]["geometry"]["coordinates"][0][0]
    assert 200 < metres(first_wgs, first_gcj) < 1000  # the offset the import must undo
    result = import_file(db_url, write_geojson(tmp_path / "gcj.geojson", gcj), "--crs=gcj02")
    assert result.exit_code == 0, result.output
    for feature in wgs["features"]:
        stored = db.scalar(
            select(VillageBoundary.boundary).where(
                VillageBoundary.village_code == feature["properties"]["code"]
            )
        )
        expected = MultiPolygon([shape(feature["geometry"])])
        assert shapely.equals_exact(stored, expected, tolerance=1e-8)  # ~1 mm


def test_polygons_with_holes_and_multipolygons_are_kept(world, db_url, db, tmp_path):
    document = yunlin_collection()
    outer = shape(document["features"][0]["geometry"])
    hole = outer.centroid.buffer(0.001)
    document["features"][0]["geometry"] = mapping(Polygon(outer.exterior, [hole.exterior]))
    second = shape(document["features"][1]["geometry"])
    enclave = (
        second.centroid.buffer(0.0005)
        .difference(second)
        .union(shapely.affinity.translate(second.centroid.buffer(0.0005), xoff=0.5))
    )
    document["features"][1]["geometry"] = mapping(MultiPolygon([second, enclave]))
    result = import_file(db_url, write_geojson(tmp_path / "holes.geojson", document))
    assert result.exit_code == 0, result.output
    stored = db.scalar(
        select(VillageBoundary.boundary).where(VillageBoundary.village_code == "710900011004")
    )
    assert len(stored.geoms[0].interiors) == 1
    db.commit()
    centre = hole.centroid
    r = world.get("admin", "/villages/locate", params={"longitude": centre.x, "latitude": centre.y})
    assert r.json()["village_code"] is None
    assert world.get("admin", "/villages/710900011016").json()["geometry"]["type"] == (
        "MultiPolygon"
    )


BOWTIE = [[120.30, 23.70], [120.31, 23.71], [120.31, 23.70], [120.30, 23.71], [120.30, 23.70]]
# A square with a spike: make_valid gives a polygon and a line; the polygon is kept.
SPIKE = [
    [120.30, 23.70],
    [120.32, 23.70],
    [120.32, 23.72],
    [120.30, 23.72],
    [120.30, 23.71],
    [120.29, 23.71],
    [120.30, 23.71],
    [120.30, 23.70],
]


@pytest.mark.parametrize(("ring", "parts"), [(BOWTIE, 2), (SPIKE, 1)])
def test_self_intersecting_ring_is_repaired(db_url, db, tmp_path, ring, parts):
    document = yunlin_collection()
    document["features"][4]["geometry"] = {"type": "Polygon", "coordinates": [ring]}
    # Drawn over other villages of the file, which is not what this test is about.
    path = write_geojson(tmp_path / "fix.geojson", document)
    result = import_file(db_url, path, "--allow-overlap")
    assert result.exit_code == 0, result.output
    assert "feature 5" in result.stderr
    assert "repaired" in result.stderr
    code = document["features"][4]["properties"]["code"]
    stored = db.scalar(select(VillageBoundary.boundary).where(VillageBoundary.village_code == code))
    assert stored.geom_type == "MultiPolygon"
    assert stored.is_valid
    assert len(stored.geoms) == parts
    assert stored.area > 0


def _set(index, key, value):
    def change(document):
        document["features"][index]["properties"][key] = value

    return change


def _delete(index, key):
    def change(document):
        del document["features"][index]["properties"][key]

    return change


def _geometry(index, geometry):
    def change(document):
        document["features"][index]["geometry"] = geometry

    return change


def _vertex(index, lon, lat):
    def change(document):
        ring = document["features"][index]["geometry"]["coordinates"][0]
        ring[1] = [lon, lat]

    return change


REFUSALS = [
    ("no code", _delete(4, "code"), "no code"),
    ("empty code", _set(4, "code", ""), "no code"),
    ("short code", _set(4, "code", "71090001100"), "is not 12 digits"),
    ("letters in code", _set(4, "code", "71090001100A"), "is not 12 digits"),
    ("duplicate code", _set(4, "code", "710900011016"), "duplicate of feature 2"),
    ("no name", _delete(4, "village"), "no name"),
    ("empty name", _set(4, "village", "  "), "no name"),
    ("point", _geometry(4, {"type": "Point", "coordinates": [120.3, 23.7]}), "'Point'"),
    ("no geometry", _geometry(4, None), "no geometry"),
    ("longitude", _vertex(4, 190.0, 23.7), "longitude 190.0"),
    ("latitude", _vertex(4, 120.3, -91.0), "latitude -91.0"),
    ("not finite", _vertex(4, math.nan, 23.7), "finite"),
    (
        "collinear ring",
        _geometry(
            4,
            {
                "type": "Polygon",
                "coordinates": [[[120.5, 23.5], [120.75, 23.75], [121.0, 24.0], [120.5, 23.5]]],
            },
        ),
        "cannot be repaired to a polygon",
    ),
    (
        "malformed",
        _geometry(4, {"type": "Polygon", "coordinates": [[[120.3, 23.7], [120.31, 23.71]]]}),
        "malformed coordinates",
    ),
]


@pytest.mark.parametrize(
    ("change", "reason"), [r[1:] for r in REFUSALS], ids=[r[0] for r in REFUSALS]
)
def test_a_refused_feature_imports_nothing(db_url, db, tmp_path, change, reason):
    document = yunlin_collection()
    change(document)
    result = import_file(db_url, write_geojson(tmp_path / "bad.geojson", document))
    assert result.exit_code == 1
    assert "nothing was imported" in result.stderr
    assert "feature 5:" in result.stderr
    assert reason in result.stderr
    assert counts(db) == (0, 0)


def test_every_refused_feature_is_listed(db_url, db, tmp_path):
    document = yunlin_collection()
    _delete(2, "code")(document)
    _set(9, "code", "1234")(document)
    _geometry(51, {"type": "LineString", "coordinates": [[120.3, 23.7], [120.4, 23.8]]})(document)
    result = import_file(db_url, write_geojson(tmp_path / "bad.geojson", document))
    assert result.exit_code == 1
    assert "refused 3 of 52 features" in result.stderr
    for number in (3, 10, 52):
        assert f"feature {number}:" in result.stderr
    assert counts(db) == (0, 0)


def test_a_refusal_after_an_earlier_import_leaves_it_untouched(db_url, db, tmp_path, yunlin):
    assert import_file(db_url, yunlin).exit_code == 0
    document = yunlin_collection()
    document["features"][0]["properties"]["village"] = "改名村"
    _set(7, "code", "x")(document)
    result = import_file(db_url, write_geojson(tmp_path / "bad.geojson", document))
    assert result.exit_code == 1
    assert db.get(Village, "710900011004", populate_existing=True).name == "三和村"


def test_a_file_that_is_not_a_feature_collection_is_refused(db_url, tmp_path):
    path = tmp_path / "x.geojson"
    path.write_text('{"type": "Feature"}', encoding="utf-8")
    result = import_file(db_url, path)
    assert result.exit_code == 1
    assert "not a GeoJSON FeatureCollection" in result.stderr
    path.write_text("{not json", encoding="utf-8")
    assert import_file(db_url, path).exit_code == 1


def test_default_property_names_and_numeric_codes(db_url, db, tmp_path):
    document = yunlin_collection()
    for feature in document["features"]:
        feature["properties"]["name"] = feature["properties"]["village"]
        feature["properties"]["code"] = int(feature["properties"]["code"])
    result = zhucun(db_url, "import-villages", str(write_geojson(tmp_path / "n.geojson", document)))
    assert result.exit_code == 0, result.output
    assert counts(db) == (52, 52)


@pytest.mark.postgis
def test_postgis_stores_valid_multipolygons_in_wgs84(db_url, db, yunlin):
    """PostGIS agrees: SRID 4326 MultiPolygons, valid, each holding its representative point."""
    from sqlalchemy import text

    assert import_file(db_url, yunlin).exit_code == 0
    rows = db.execute(
        text(
            "SELECT village_code, ST_SRID(boundary), GeometryType(boundary), ST_IsValid(boundary),"
            " ST_AsText(ST_PointOnSurface(boundary)) FROM village_boundaries"
        )
    ).all()
    db.commit()
    assert len(rows) == 52
    assert {(srid, kind, valid) for _, srid, kind, valid, _ in rows} == {
        (4326, "MULTIPOLYGON", True)
    }
    expected = {
        f["properties"]["code"]: shape(f["geometry"]) for f in yunlin_collection()["features"]
    }
    for code, *_, point in rows:
        assert expected[code].contains(shapely.from_wkt(point))


def test_a_recreated_database_is_never_located_against_a_stale_index(world, db_url, db, yunlin):
    """The cause of the PostGIS flake of the test above: test_migrations migrates the shared
    test database down and up, which restarted the boundary revision at 0, and the counter
    climbed back to a number this process had cached with other villages."""
    from app.core.migrate import downgrade, upgrade
    from app.org.boundaries import bump_boundary_revision

    lon, lat = centre("430121001001")
    r = world.get("admin", "/villages/locate", params={"longitude": lon, "latitude": lat})
    assert r.json()["village_code"] == "430121001001"
    cached = boundary_revision(db)
    db.commit()

    downgrade(db_url, "base")
    upgrade(db_url, "head")
    db.expunge_all()
    world.add_user("admin2", "admin", "")
    db.commit()
    assert import_file(db_url, yunlin).exit_code == 0
    while boundary_revision(db) < cached:  # a counter from 0 comes back to the cached number
        bump_boundary_revision(db)
        db.commit()
    db.commit()

    point = shape(yunlin_collection()["features"][0]["geometry"]).representative_point()
    r = world.get("admin2", "/villages/locate", params={"longitude": point.x, "latitude": point.y})
    assert r.json()["village_code"] == "710900011004"
