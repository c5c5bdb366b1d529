"""The in-process geofence agrees with PostGIS (ST_Covers, ST_Distance on geography) on real
village boundaries, for 10,000 random points."""

from __future__ import annotations

import json
import math
from datetime import UTC, datetime, timedelta

import numpy as np
import pytest
import shapely
from pyproj import Geod
from shapely.geometry import MultiPolygon, Point, shape
from shapely.geometry.base import BaseGeometry
from sqlalchemy import text

from app.geofence.cache import village_index
from app.org.boundaries import bump_boundary_revision
from app.org.models import Village, VillageBoundary
from tests.reference_data import YUNLIN_VILLAGES, require

YUNLIN = YUNLIN_VILLAGES
POINTS = 10_000
EDGE_M = 1.0
FAR_M = 5_000.0
GEOD = Geod(ellps="WGS84")

# For each point: the villages that cover it, and the distance to one chosen village.
AGREEMENT_SQL = text(
    """
    WITH p AS (
        SELECT i, ST_SetSRID(ST_MakePoint(x, y), 4326) AS g, code
        FROM unnest(CAST(:xs AS float8[]), CAST(:ys AS float8[]), CAST(:codes AS text[]))
             WITH ORDINALITY AS t(x, y, code, i)
    )
    SELECT p.i,
           (SELECT coalesce(array_agg(b.village_code ORDER BY b.village_code), '{}')
              FROM village_boundaries b
             WHERE b.valid_to IS NULL AND ST_Covers(b.boundary, p.g)) AS covering,
           (SELECT ST_Distance(b.boundary::geography, p.g::geography)
              FROM village_boundaries b
             WHERE b.valid_to IS NULL AND b.village_code = p.code) AS distance,
           (SELECT min(ST_Distance(ST_Boundary(b.boundary)::geography, p.g::geography))
              FROM village_boundaries b
             WHERE b.valid_to IS NULL AND ST_DWithin(b.boundary, p.g, 0.001)) AS to_edge
    FROM p ORDER BY p.i
    """
)


def load_yunlin(db) -> list[str]:
    """The 52 Yunlin villages with derived 12-digit codes (as they are: TWD97 ≈ WGS84; no
    GCJ-02 shift applies to this data)."""
    features = json.loads(require(YUNLIN).read_text(encoding="utf-8"))["features"]
    now = datetime.now(UTC)
    codes = []
    for f in features:
        code = "71" + f["properties"]["village_id"]
        assert len(code) == 12
        assert code.isdigit()
        db.add(
            Village(
                code=code,
                name=f["properties"]["village"],
                township_code=code[:9],
                county_code=code[:6],
                created_at=now,
            )
        )
        codes.append(code)
    db.flush()
    for f, code in zip(features, codes, strict=True):
        geom = shape(f["geometry"])
        db.add(
            VillageBoundary(
                village_code=code,
                boundary=MultiPolygon([geom]) if geom.geom_type == "Polygon" else geom,
                valid_from=now - timedelta(days=1),
            )
        )
    bump_boundary_revision(db)
    db.commit()
    return codes


@pytest.mark.postgis
def test_in_process_geofence_agrees_with_postgis(db):
    codes = load_yunlin(db)
    index = village_index(db)
    rng = np.random.default_rng(20261126)
    # The data's bbox, widened ~1 km: points inside, between and around the villages.
    xs = rng.uniform(120.208, 120.457, POINTS)
    ys = rng.uniform(23.644, 23.839, POINTS)
    chosen = rng.choice(codes, POINTS)
    rows = db.execute(
        AGREEMENT_SQL, {"xs": xs.tolist(), "ys": ys.tolist(), "codes": chosen.tolist()}
    ).all()
    db.commit()
    assert len(rows) == POINTS

    located = index.locate_many(xs, ys)
    located_one = [index.locate(x, y) for x, y in zip(xs[:500], ys[:500], strict=True)]
    assert located_one == located[:500]
    disagreements = inside = postgis_off = 0
    for k, (_, covering, pg_distance, to_edge) in enumerate(rows):
        near_edge = to_edge is not None and to_edge <= EDGE_M
        mine = located[k]
        inside += mine is not None
        agrees = (mine in covering) if covering else mine is None
        if not agrees:
            disagreements += 1
            assert near_edge, (xs[k], ys[k], mine, covering, to_edge)
        distance = index.distance_m(str(chosen[k]), xs[k], ys[k])
        if near_edge:
            continue
        if abs(distance - pg_distance) > EDGE_M:
            # PostGIS's geography distance is itself approximate kilometres out (measured: up
            # to 0.06 %). Then the index must match the exact geodesic distance instead.
            geom = index.geometry(str(chosen[k]))
            exact = reference_distance_m(geom, xs[k], ys[k])
            assert abs(distance - exact) <= EDGE_M, (xs[k], ys[k], chosen[k], distance, exact)
            assert pg_distance > FAR_M, (xs[k], ys[k], chosen[k], distance, pg_distance)
            postgis_off += 1
        match = index.classify(str(chosen[k]), xs[k], ys[k], near_m=200.0)
        assert (match.distance_m == 0.0) == (pg_distance == 0.0)
    # The sample really exercises both sides of the boundaries.
    assert 0.2 * POINTS < inside < 0.9 * POINTS
    assert disagreements <= 5
    assert postgis_off <= POINTS // 100


def reference_distance_m(geom: BaseGeometry, lon: float, lat: float) -> float:
    """Brute force: the least geodesic distance to the boundary densified to <= 1 m."""
    if geom.covers(Point(lon, lat)):
        return 0.0
    scale = np.array([111_320.0 * math.cos(math.radians(lat)), 110_574.0])
    local = shapely.transform(geom.boundary, lambda xy: xy * scale)
    dense = shapely.get_coordinates(shapely.segmentize(local, 1.0)) / scale
    n = len(dense)
    return float(GEOD.inv(np.full(n, lon), np.full(n, lat), dense[:, 0], dense[:, 1])[2].min())
