"""The national rollup by logical replication: two province clusters and one national cluster
on loopback ports (made and removed by the test). A check-in in province A shows in the
national on-post rate within seconds; province B offline for a while catches up with nothing
lost; the provinces' member ids collide and their rows do not (the province is in the key).

    ZHUCUN_TEST_BACKEND=postgis .venv/bin/python -m pytest -m cluster tests/deploy/test_rollup.py
"""

from __future__ import annotations

import time
from collections.abc import Iterator
from datetime import date, timedelta

import pytest
from sqlalchemy import create_engine, text

from app.core.migrate import upgrade
from app.core.policy import Policy
from app.core.time import today
from app.rollup import service
from tests import clusters
from tests.checkins.helpers import fix
from tests.org.helpers import zhucun

pytestmark = [
    pytest.mark.postgis,
    pytest.mark.cluster,
    pytest.mark.skipif(clusters.available() is not None, reason=str(clusters.available())),
]


@pytest.fixture(scope="module")
def three() -> Iterator[dict[str, clusters.Cluster]]:
    with clusters.workspace() as root:
        made: dict[str, clusters.Cluster] = {}
        try:
            for name in ("a", "b", "national"):
                made[name] = clusters.initdb(root)
                made[name].start()
                made[name].sql("CREATE DATABASE zhucun")
                upgrade(made[name].url("zhucun"))
            yield made
        finally:
            for cluster in made.values():
                cluster.stop("immediate")


@pytest.fixture
def db_url(three) -> str:  # province A (overrides the suite's)
    return three["a"].url("zhucun")


def _on_post(url: str, day: date) -> dict[str, tuple[int, int]]:
    engine = create_engine(url)
    try:
        with engine.connect() as connection:
            return {r.province: (r.present, r.members) for r in service.on_post(connection, day)}
    finally:
        engine.dispose()


def _until(what: str, check, seconds: float = 30) -> float:  # type: ignore[no-untyped-def]
    began = time.monotonic()
    while time.monotonic() - began < seconds:
        if check():
            return time.monotonic() - began
        time.sleep(0.1)
    raise AssertionError(f"{what}: not within {seconds} s")


def _ledger_days(url: str, member_id: int, days: list[date]) -> None:
    """Province B's ledger days of a member (as its rebuild would write them)."""
    engine = create_engine(url)
    with engine.begin() as connection:
        connection.execute(
            text("INSERT INTO units (name) SELECT '单位' WHERE NOT EXISTS (SELECT 1 FROM units)")
        )
        connection.execute(
            text(
                "INSERT INTO members (id, full_name, position, unit_id, created_at) "
                "SELECT :m, '乙', 'team_member', (SELECT min(id) FROM units), now() "
                "WHERE NOT EXISTS (SELECT 1 FROM members WHERE id = :m)"
            ),
            {"m": member_id},
        )
        connection.execute(
            text(
                "INSERT INTO presence_days (member_id, day, counted_checkins, present) "
                "VALUES (:m, :d, 2, true)"
            ),
            [{"m": member_id, "d": d} for d in days],
        )
    engine.dispose()


def test_provinces_roll_up_into_the_national_database(world, three):
    a, b, national = three["a"], three["b"], three["national"]
    national_url = national.url("zhucun")
    day = today(Policy().zone)
    alice = world.members["alice"].id

    published = zhucun(a.url("zhucun"), "rollup", "publish", "43")
    assert published.exit_code == 0, published.output
    _ledger_days(b.url("zhucun"), alice, [day - timedelta(days=1)])  # the same member id
    published = zhucun(b.url("zhucun"), "rollup", "publish", "52")
    assert published.exit_code == 0, published.output
    assert "1 ledger day(s) published" in published.output
    for name, cluster in (("province_43", a), ("province_52", b)):
        conninfo = f"host=127.0.0.1 port={cluster.port} user=postgres dbname=zhucun"
        subscribed = zhucun(national_url, "rollup", "subscribe", name, conninfo)
        assert subscribed.exit_code == 0, subscribed.output
    _until("province 52's copy", lambda: "52" in _on_post(national_url, day - timedelta(days=1)))

    # A check-in in province A: in the national on-post rate within seconds.
    answer = world.post("alice", "/checkins", json=fix())
    assert answer.status_code == 201, answer.text
    took = _until("A's check-in nationally", lambda: "43" in _on_post(national_url, day))
    assert took < 10
    # The world's day rule may want more than one fix: the member is counted either way.
    assert _on_post(national_url, day)["43"][1] == 1

    # Province B offline for a while (its link to the national database cut): its ledger
    # days wait in its replication slot, and arrive when it is back.
    national.sql("ALTER SUBSCRIPTION province_52 DISABLE", "zhucun")
    later = [day - timedelta(days=n) for n in range(2, 12)]
    _ledger_days(b.url("zhucun"), alice, later)
    time.sleep(1)
    count = "SELECT count(*) FROM rollup_days WHERE province = '52'"
    assert national.sql(count, "zhucun")[0][0] == 1
    national.sql("ALTER SUBSCRIPTION province_52 ENABLE", "zhucun")
    _until("B's catch-up", lambda: national.sql(count, "zhucun")[0][0] == 11)
    # Both provinces' rows of member id `alice` are there, apart.
    rows = national.sql(
        f"SELECT province, count(*) FROM rollup_days WHERE member_id = {alice} "
        "GROUP BY province ORDER BY province",
        "zhucun",
    )
    assert rows == [("43", 1), ("52", 11)]
    # No positions left the province: only the ledger's columns are published.
    columns = a.sql(
        "SELECT attname FROM pg_publication_tables, unnest(attnames) attname "
        "WHERE pubname = 'zhucun_rollup'",
        "zhucun",
    )
    assert {c[0] for c in columns} == {
        "province", "member_id", "day", "counted_checkins", "present", "leave_id",
    }  # fmt: skip
    shown = zhucun(national_url, "rollup", "on-post", str(day))
    assert shown.exit_code == 0, shown.output
    assert shown.output.startswith("43: ")
