"""`zhucun import-villages` refuses a village that overlaps others by more than the policy's
share of the smaller one, unless told `--allow-overlap`; a new boundary of the same village
is no overlap with its old one. The world's villages are 0.02° squares side by side."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path

import pytest
import shapely.affinity
from shapely.geometry import box, mapping
from sqlalchemy import select, text

from app.audit.models import ActionEntry
from app.org.models import Village
from tests.locks import wait_for_lock_waiters
from tests.org.test_village_limits import collection, feature, import_villages
from tests.world import LAT0, village_square

ROOT = Path(__file__).resolve().parents[2]
# Over 001001's east quarter and 001002's west three quarters.
ACROSS_TWO = box(113.015, LAT0, 113.035, LAT0 + 0.02)
# North of 001001, over a quarter of it.
NORTH_QUARTER = box(113.00, LAT0 + 0.015, 113.02, LAT0 + 0.035)


def stored_codes(db):
    codes = set(db.scalars(select(Village.code)))
    db.commit()
    return codes


def test_a_village_over_stored_ones_is_refused_naming_them(world, db_url, db, tmp_path):
    document = collection(feature("430121001003", "新村", mapping(ACROSS_TWO)))
    result = import_villages(db_url, tmp_path, document)
    assert result.exit_code == 1
    assert "refused 2 overlap(s)" in result.stderr
    assert "feature 1 (430121001003) overlaps village 430121001001 (stored) by 25.0%" in (
        result.stderr
    )
    assert "overlaps village 430121001002 (stored) by 75.0%" in result.stderr
    assert "430121001003" not in stored_codes(db)


def test_allow_overlap_imports_them_and_says_so(world, db_url, db, tmp_path):
    document = collection(feature("430121001003", "新村", mapping(ACROSS_TWO)))
    result = import_villages(db_url, tmp_path, document, "--allow-overlap")
    assert result.exit_code == 0, result.output
    assert "overlaps village 430121001001 (stored) by 25.0% of the smaller village's area " in (
        result.stderr
    )
    assert "(allowed)" in result.stderr
    assert "430121001003" in stored_codes(db)
    audit = db.scalar(select(ActionEntry).where(ActionEntry.action == "import.villages"))
    assert len(audit.payload["overlaps_allowed"]) == 2


def test_a_sliver_along_a_shared_edge_is_no_overlap(world, db_url, db, tmp_path):
    # 1% of its neighbour: digitised edges that disagree a little.
    sliver = box(113.0598, LAT0, 113.0798, LAT0 + 0.02)
    document = collection(feature("430121001003", "新村", mapping(sliver)))
    result = import_villages(db_url, tmp_path, document)
    assert result.exit_code == 0, result.output
    assert "overlap" not in result.stderr


def test_a_new_boundary_of_the_same_village_is_no_overlap_with_its_old_one(
    world, db_url, db, tmp_path
):
    moved = shapely.affinity.translate(village_square("430121001001"), yoff=-0.002)
    document = collection(feature("430121001001", "东山村", mapping(moved)))
    result = import_villages(db_url, tmp_path, document)
    assert result.exit_code == 0, result.output
    assert "1 boundaries changed" in result.stdout


def test_two_villages_of_one_file_that_overlap_are_refused(db_url, db, tmp_path):
    document = collection(
        feature("430121001001", "东山村", mapping(village_square("430121001001"))),
        feature("430121001002", "西山村", mapping(ACROSS_TWO)),
    )
    result = import_villages(db_url, tmp_path, document)
    assert result.exit_code == 1
    assert "feature 1 (430121001001) overlaps feature 2 (430121001002) by 25.0%" in result.stderr
    assert stored_codes(db) == set()


def test_the_share_is_policy(world, db_url, db, tmp_path):
    document = collection(feature("430121001003", "新村", mapping(NORTH_QUARTER)))
    assert import_villages(db_url, tmp_path, document).exit_code == 1
    policy = tmp_path / "policy.toml"
    policy.write_text("[villages]\nmax_overlap_share = 0.3\n")
    result = import_villages(db_url, tmp_path, document, policy_file=policy)
    assert result.exit_code == 0, result.output


def _zhucun_process(db_url: str, *args: str) -> subprocess.Popen[str]:
    return subprocess.Popen(
        [sys.executable, "-m", "app.cli", *args],
        env={**os.environ, "DATABASE_URL": db_url},
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
        cwd=ROOT,
    )


@pytest.mark.postgis
def test_concurrent_imports_of_overlapping_villages_import_one(world, db_url, engine, tmp_path):
    # Each import alone overlaps nothing stored; together they overlap by half. Each must
    # read the other's village if it committed first: the lock orders them.
    west = box(113.00, LAT0 + 0.02, 113.02, LAT0 + 0.04)
    east = box(113.01, LAT0 + 0.02, 113.03, LAT0 + 0.04)
    paths = []
    for name, code, geom in (("west", "430121001003", west), ("east", "430121001004", east)):
        path = tmp_path / f"{name}.geojson"
        path.write_text(
            json.dumps(collection(feature(code, name, mapping(geom)))),
            encoding="utf-8",
        )
        paths.append(path)
    with engine.connect() as holder:
        holder.execute(text("SELECT id FROM boundary_revision WHERE id = 1 FOR UPDATE"))
        imports = [_zhucun_process(db_url, "import-villages", str(p)) for p in paths]
        wait_for_lock_waiters(engine, 2, timeout_s=60, what="imports waiting on the lock")
        holder.rollback()
    outcomes = [p.communicate(timeout=120) for p in imports]
    codes = sorted(p.returncode for p in imports)
    assert codes == [0, 1], outcomes
    refused = next(err for (_, err), p in zip(outcomes, imports, strict=True) if p.returncode)
    assert "overlaps village" in refused
    assert "by 50.0%" in refused
