"""What GET /villages/{code} serves for a surveyed village of a million vertices (run from the
project root):

    .venv/bin/python bench/village_outline_bench.py [--vertices 1000000] [--tolerance 5]

Imports one village (a 1 km-radius outline with 20 m and 8 m wiggles and 0.3 m of survey
noise, `--vertices` vertices) with `zhucun import-villages` into a fresh SQLite database,
then asks the real app for it twice over: with `villages.outline_tolerance_m = 0` (the
baseline: the boundary served whole, as before outlines) and with `--tolerance` (the outline,
its first request simplifying it and the next ones served from the cache). Prints sizes and
times as ratios against the baseline.
"""

from __future__ import annotations

import argparse
import json
import os
import sys
import tempfile
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

import numpy as np
import shapely
from shapely.geometry import Polygon, mapping, shape
from starlette.testclient import TestClient
from typer.testing import CliRunner

from app.auth.service import create_user
from app.cli import cli
from app.core.config import Settings, get_settings
from app.core.db import make_engine, make_session_factory, session_scope
from app.core.migrate import upgrade
from app.core.policy import Policy, VillagePolicy, get_policy
from app.geo.simplify import metres_per_degree
from app.main import create_app
from bench.seed import SECRET, sign_in

CODE = "430121001001"
LON, LAT = 113.0, 28.3


def village(vertices: int) -> Polygon:
    theta = np.linspace(0, 2 * np.pi, vertices, endpoint=False)
    noise = np.random.default_rng(1).normal(0, 0.3, vertices)
    radius = 1000 + 20 * np.sin(7 * theta) + 8 * np.sin(31 * theta) + noise
    per_lon, per_lat = metres_per_degree(LAT)
    return Polygon(
        np.c_[LON + radius * np.cos(theta) / per_lon, LAT + radius * np.sin(theta) / per_lat]
    )


def import_village(db_url: str, work: Path, polygon: Polygon) -> float:
    path = work / "village.geojson"
    feature: dict[str, object] = {"type": "Feature", "properties": {"code": CODE, "name": "测绘村"}}
    document = {
        "type": "FeatureCollection",
        "features": [{**feature, "geometry": mapping(polygon)}],
    }
    path.write_text(json.dumps(document), encoding="utf-8")
    policy = work / "policy.toml"
    policy.write_text("[villages]\nmax_vertices = 10_000_000\n")
    get_settings.cache_clear()
    get_policy.cache_clear()
    started = time.perf_counter()
    result = CliRunner().invoke(
        cli,
        ["import-villages", str(path)],
        env={"DATABASE_URL": db_url, "ZHUCUN_POLICY": str(policy)},
    )
    took = time.perf_counter() - started
    assert result.exit_code == 0, result.output
    print(f"file {path.stat().st_size / 1e6:.1f} MB, imported in {took:.1f} s")
    return took


def admin_token(db_url: str) -> str:
    engine = make_engine(db_url)
    with session_scope(make_session_factory(engine)) as session:
        create_user(session, username="admin", password="admin-pass", role="admin", scope="")
    with engine.begin() as conn:
        token = sign_in(conn)["admin"]
    engine.dispose()
    return token


def serve(
    settings: Settings, tolerance: float, token: str, times: int
) -> tuple[bytes, list[float]]:
    policy = Policy(villages=VillagePolicy(outline_tolerance_m=tolerance, max_vertices=10_000_000))
    took: list[float] = []
    with TestClient(create_app(settings, policy)) as client:
        for _ in range(times):
            started = time.perf_counter()
            r = client.get(f"/api/v1/villages/{CODE}", headers={"Authorization": f"Bearer {token}"})
            took.append(time.perf_counter() - started)
            assert r.status_code == 200, r.text[:300]
    return r.content, took


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--vertices", type=int, default=1_000_000)
    parser.add_argument("--tolerance", type=float, default=5.0)
    args = parser.parse_args()
    with tempfile.TemporaryDirectory() as tmp:
        work = Path(tmp)
        db_url = f"sqlite:///{work / 'bench.db'}"
        upgrade(db_url)
        polygon = village(args.vertices)
        import_village(db_url, work, polygon)
        token = admin_token(db_url)
        os.environ.pop("ZHUCUN_POLICY", None)
        settings = Settings(
            DATABASE_URL=db_url, ZHUCUN_SECRET_KEY=SECRET, ZHUCUN_LOG_LEVEL="WARNING",
            ZHUCUN_EXPORT_DIR=work / "exports",
        )  # fmt: skip
        whole, whole_took = serve(settings, 0, token, 2)
        outline, outline_took = serve(settings, args.tolerance, token, 4)
    served = shape(json.loads(outline)["geometry"])
    per_lon, per_lat = metres_per_degree(LAT)
    scale = np.array([per_lon, per_lat])
    apart = shapely.hausdorff_distance(
        shapely.transform(polygon, lambda c: c * scale),
        shapely.transform(served, lambda c: c * scale),
    )
    base_size, base_time = len(whole), min(whole_took)
    rows = [
        ("whole (tolerance 0, the baseline)", len(whole), base_time),
        (f"outline {args.tolerance:g} m, first request", len(outline), outline_took[0]),
        (f"outline {args.tolerance:g} m, cached", len(outline), min(outline_took[1:])),
    ]
    print(f"{'GET /villages/{code}':40} {'bytes':>12} {'ratio':>8} {'ms':>9} {'ratio':>8}")
    for name, size, took in rows:
        ratios = f"{size / base_size:8.5f} {took * 1000:9.1f} {took / base_time:8.3f}"
        print(f"{name:40} {size:12,} {ratios}")
    print(
        f"vertices: stored {shapely.get_num_coordinates(polygon):,}, served "
        f"{shapely.get_num_coordinates(served):,}; valid {served.is_valid}; "
        f"farthest apart {apart:.2f} m"
    )


if __name__ == "__main__":
    main()
