"""Reports on a streaming replica (ZHUCUN_REPORTS_DATABASE_URL): a real replica made by the
test (initdb, then pg_basebackup into a second cluster on another loopback port), its lag in
/readyz, a fall-back to the primary past the lag bound and while it is down.

    ZHUCUN_TEST_BACKEND=postgis .venv/bin/python -m pytest -m cluster tests/deploy/test_replica.py
"""

from __future__ import annotations

from collections.abc import Iterator
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import pytest

from app.core.config import Settings
from app.core.migrate import upgrade
from tests import clusters
from tests.checkins.helpers import fix
from tests.conftest import TEST_SECRET

pytestmark = [
    pytest.mark.postgis,
    pytest.mark.cluster,
    pytest.mark.skipif(clusters.available() is not None, reason=str(clusters.available())),
]


@pytest.fixture(scope="module")
def pair() -> Iterator[tuple[clusters.Cluster, clusters.Cluster]]:
    with clusters.primary_and_replica() as (primary, replica):
        primary.sql("CREATE DATABASE zhucun")
        upgrade(primary.url("zhucun"))
        clusters.wait_replayed(primary, replica)
        yield primary, replica


@pytest.fixture
def db_url(pair) -> str:  # the primary (overrides the suite's)
    return pair[0].url("zhucun")


@pytest.fixture
def settings(db_url, pair, tmp_path_factory) -> Settings:
    return Settings(
        DATABASE_URL=db_url,
        ZHUCUN_REPORTS_DATABASE_URL=pair[1].url("zhucun"),
        ZHUCUN_REPORTS_MAX_LAG_S=3600,
        ZHUCUN_SIGNING_KEY_FILE=tmp_path_factory.getbasetemp() / "signing-key.pem",
        ZHUCUN_SECRET_KEY=TEST_SECRET,
        ZHUCUN_LOG_LEVEL="WARNING",
        ZHUCUN_EXPORT_DIR=tmp_path_factory.getbasetemp() / "exports",
    )


def _counted(world, member: str) -> int:
    """The member's counted check-ins today, as the presence export says."""
    day = datetime.now(UTC).astimezone().date()
    answer = world.get(
        "county",
        "/reports/presence",
        params={"from": str(day - timedelta(days=1)), "to": str(day + timedelta(days=1)),
                "format": "json"},
    )  # fmt: skip
    if answer.status_code == 422:  # tomorrow in the zone is the future: today only
        answer = world.get(
            "county", "/reports/presence", params={"from": str(day), "to": str(day),
                                                    "format": "json"}
        )  # fmt: skip
    assert answer.status_code == 200, answer.text
    member_id = world.members[member].id
    return sum(r["counted_checkins"] for r in answer.json()["items"] if r["member_id"] == member_id)


def _ready(world) -> dict[str, Any]:
    world.client.app.state.replica._checked_at = -1e9  # read the lag now, not a second ago
    answer = world.client.get("/readyz")
    assert answer.status_code == 200, answer.text
    reports: dict[str, Any] = answer.json()["reports"]
    return reports


def test_reports_read_on_the_replica_within_its_lag_bound(world, pair, tmp_path: Path):
    primary, replica = pair
    state = world.client.app.state.replica
    assert world.post("alice", "/checkins", json=fix()).status_code == 201
    clusters.wait_replayed(primary, replica)
    ready = _ready(world)
    assert ready["on"] == "replica"
    assert ready["lag_s"] == 0
    assert _counted(world, "alice") == 1
    # Every report route answers from the replica.
    for path, params in (
        ("/compliance", {}),
        (f"/compliance/members/{world.members['alice'].id}/annual", {}),
        ("/dashboard/overview", {}),
        ("/dashboard/overview", {"colour": "compliance"}),
        ("/dashboard/villages/430121001001", {}),
        ("/reports/compliance", {}),
    ):
        answer = world.get("county", path, params=params)
        assert answer.status_code in (200, 422), (path, answer.text)

    # Replay paused: the replica falls behind; reports still read there within the bound,
    # and so do not see the newest fix yet (the proof that they read on the replica).
    replica.sql("SELECT pg_wal_replay_pause()")
    try:
        assert world.post("alice", "/checkins", json=fix()).status_code == 201
        behind = _ready(world)
        assert behind["on"] == "replica"
        assert _counted(world, "alice") == 1
        # Past the bound: reports read on the primary, and see it.
        state.max_lag_s = 0.001
        import time

        time.sleep(0.2)
        fallen = _ready(world)
        assert fallen["on"] == "primary", fallen
        assert fallen["lag_s"] > 0.001
        assert _counted(world, "alice") == 2
    finally:
        replica.sql("SELECT pg_wal_replay_resume()")
        state.max_lag_s = 3600
    clusters.wait_replayed(primary, replica)
    assert _ready(world)["on"] == "replica"
    assert _counted(world, "alice") == 2

    # The replica down: ready all the same (uploads go on), reports on the primary.
    replica.stop("immediate")
    try:
        down = _ready(world)
        assert down == {"on": "primary", "lag_s": None, "max_lag_s": 3600}
        assert world.post("alice", "/checkins", json=fix()).status_code == 201
        assert _counted(world, "alice") == 3
    finally:
        replica.start()
    clusters.wait_replayed(primary, replica)
    assert _ready(world)["on"] == "replica"
