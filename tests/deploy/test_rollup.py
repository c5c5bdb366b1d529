"""The national rollup by logical replication: two province clusters and one national cluster
on loopback ports (made and removed by the test). A check-in in province A shows in the
national on-post rate within seconds; both provinces' compliance results arrive; province B
offline for a while catches up with nothing lost, its ledger days and its refreshed results;
the provinces' member ids collide and their rows do not (the province is in the key).

    ZHUCUN_TEST_BACKEND=postgis .venv/bin/python -m pytest -m cluster tests/deploy/test_rollup.py
"""

from __future__ import annotations

import sys
import time
from collections.abc import Iterator
from datetime import date, datetime, timedelta

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
            return {r.province: (r.present, r.assigned) for r in service.on_post(connection, day)}
    finally:
        engine.dispose()


def _compliance(url: str, period: str) -> dict[str, service.ProvincePeriod]:
    engine = create_engine(url)
    try:
        with engine.connect() as connection:
            return {r.province: r for r in service.compliance(connection, period)}
    finally:
        engine.dispose()


def _present_days(url: str, province: str, period: str) -> list[tuple[int, int]]:
    engine = create_engine(url)
    try:
        with engine.connect() as connection:
            rows = connection.execute(
                text(
                    "SELECT member_id, present_days FROM rollup_compliance WHERE province = :p "
                    "AND period = :q ORDER BY member_id"
                ),
                {"p": province, "q": period},
            )
            return [(m, n) for m, n in rows]
    finally:
        engine.dispose()


B_VILLAGE = "520102001001"


def _until(what: str, check, seconds: float = 30) -> float:  # type: ignore[no-untyped-def]
    began = time.monotonic()
    while time.monotonic() - began < seconds:
        if check():
            return time.monotonic() - began
        time.sleep(0.1)
    raise AssertionError(f"{what}: not within {seconds} s")


def _ledger_days(url: str, member_id: int, days: list[date]) -> None:
    """Province B's ledger days of a member (as its rebuild would write them), assigned to a
    village of B since before the first of them."""
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
                "INSERT INTO villages (code, name, township_code, county_code, created_at) "
                "VALUES (:v, '乙村', :t, :c, now()) ON CONFLICT DO NOTHING"
            ),
            {"v": B_VILLAGE, "t": B_VILLAGE[:9], "c": B_VILLAGE[:6]},
        )
        connection.execute(
            text(
                "INSERT INTO assignments (member_id, village_code, start_date) "
                "SELECT :m, :v, :s WHERE NOT EXISTS "
                "(SELECT 1 FROM assignments WHERE member_id = :m)"
            ),
            {"m": member_id, "v": B_VILLAGE, "s": min(days) - timedelta(days=60)},
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
    # Both provinces' compliance results, judged by each province, are there too.
    quarter = f"{day.year}Q{(day.month - 1) // 3 + 1}"
    _until(
        "both provinces' results", lambda: set(_compliance(national_url, quarter)) >= {"43", "52"}
    )
    results = _compliance(national_url, quarter)
    assert results["43"].members == len(world.members)  # A's world: every member assigned
    assert results["52"].members == 1
    for province, cluster in (("43", a), ("52", b)):
        mine = _present_days(cluster.url("zhucun"), province, quarter)
        assert _present_days(national_url, province, quarter) == mine

    # A check-in in province A: in the national on-post rate within seconds. Two fixes six
    # hours apart make the day present by the world's day rule (before 06:05 local time there
    # is no such pair today: then the ledger day itself is waited for).
    assert _on_post(national_url, day)["43"] == (0, len(world.members))
    local_now = datetime.now(Policy().zone)
    pair = (local_now - timedelta(hours=6, minutes=5)).date() == day
    if pair:
        first = world.post("alice", "/checkins", json=fix(ago=timedelta(hours=6, minutes=5)))
        assert first.status_code == 201, first.text
    answer = world.post("alice", "/checkins", json=fix())
    assert answer.status_code == 201, answer.text
    counted = f"SELECT count(*) FROM rollup_days WHERE province = '43' AND day = '{day}'"
    took = _until(
        "A's check-in nationally",
        lambda: (
            _on_post(national_url, day)["43"][0] == 1
            if pair
            else national.sql(counted, "zhucun")[0][0] == 1
        ),
    )
    assert took < 10
    sys.stderr.write(f"\nA's check-in in the national on-post figures after {took:.2f} s\n")
    # Assigned: every member of A (their day lines); present: Alice when her day is credited.
    assert _on_post(national_url, day)["43"] == (1 if pair else 0, len(world.members))

    # Province B offline for a while (its link to the national database cut): its ledger
    # days wait in its replication slot, and arrive when it is back.
    national.sql("ALTER SUBSCRIPTION province_52 DISABLE", "zhucun")
    before = _present_days(national_url, "52", quarter)
    later = [day - timedelta(days=n) for n in range(2, 12)]
    _ledger_days(b.url("zhucun"), alice, later)
    refreshed = zhucun(b.url("zhucun"), "rollup", "refresh")  # B's daily job while offline
    assert refreshed.exit_code == 0, refreshed.output
    b_results = _present_days(b.url("zhucun"), "52", quarter)
    assert b_results != before  # more present days in B
    time.sleep(1)
    count = "SELECT count(*) FROM rollup_days WHERE province = '52'"
    assert national.sql(count, "zhucun")[0][0] == 1
    assert _present_days(national_url, "52", quarter) == before
    national.sql("ALTER SUBSCRIPTION province_52 ENABLE", "zhucun")
    caught_up = _until("B's catch-up", lambda: national.sql(count, "zhucun")[0][0] == 11)
    sys.stderr.write(f"B's ten ledger days arrived {caught_up:.2f} s after it was back\n")
    _until("B's results", lambda: _present_days(national_url, "52", quarter) == b_results)
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
        "period", "period_start", "period_end", "required_days", "present_days",
        "credited_days", "leave_days", "absent_workdays", "needed_days", "status", "compliant",
        "violations", "day_line", "as_of",
    }  # fmt: skip
    shown = zhucun(national_url, "rollup", "on-post", str(day))
    assert shown.exit_code == 0, shown.output
    assert shown.output.startswith("43: ")
