"""The national rollup on one database: the province publishes into its own rollup tables and
the national routes read them (as the national database reads the same tables filled by
replication: tests/deploy/test_rollup.py). The rollup's figures are the province's own: the
on-post rate equals GET /presence/on-post's, the compliance summary GET /compliance's.
SQLite has no rollup: the routes answer 409 rollup_not_configured."""

from __future__ import annotations

import csv
import io
from datetime import timedelta

import pytest
from sqlalchemy import delete, text

from app.core.policy import Policy
from app.org.models import Assignment
from tests.checkins.helpers import fix
from tests.ledger.support import add_fix, at_local, today
from tests.org.helpers import zhucun


def _quarter() -> str:
    t = today()
    return f"{t.year}Q{(t.month - 1) // 3 + 1}"


def _previous_quarter() -> str:
    t = today()
    q = (t.month - 1) // 3 + 1
    return f"{t.year - 1}Q4" if q == 1 else f"{t.year}Q{q - 1}"


def _leave_yesterday(world, who: str) -> None:
    yesterday = str(today() - timedelta(days=1))
    asked = world.post(
        who,
        "/leave-requests",
        json={
            "type": "personal",
            "start_date": yesterday,
            "end_date": yesterday,
            "emergency": True,
        },
    )
    assert asked.status_code == 201, asked.text
    approved = world.post("township1", f"/leave-requests/{asked.json()['id']}/approve")
    assert approved.status_code == 200, approved.text


def _local_on_post(world, day) -> tuple[int, int, int]:  # type: ignore[no-untyped-def]
    r = world.get("auditor", f"/presence/on-post?date={day}&scope=43")
    assert r.status_code == 200, r.text
    total = r.json()["total"]
    return total["assigned"], total["present"], total["on_leave"]


def _rollup_on_post(world, day, caller: str = "auditor") -> dict:  # type: ignore[no-untyped-def]
    r = world.get(caller, f"/rollup/on-post?date={day}")
    assert r.status_code == 200, r.text
    return {i["province"]: i for i in r.json()["items"]}


@pytest.mark.postgis
def test_a_province_publishes_and_the_national_routes_read_its_figures(world, db, db_url):
    policy = Policy()
    yesterday = today() - timedelta(days=1)
    alice, bob = world.members["alice"].id, world.members["bob"].id
    # Before publishing: Alice present yesterday (two fixes six hours apart).
    for hour in (8, 15):
        add_fix(db, policy, alice, at_local(yesterday, hour))
    db.commit()

    published = zhucun(db_url, "rollup", "publish", "43")
    assert published.exit_code == 0, published.output
    assert "province 43: 8 member-period(s)" in published.output  # 4 members, 2 quarters

    # After publishing: Bob's leave reaches rollup_days by the trigger, in its transaction.
    _leave_yesterday(world, "bob")
    got = _rollup_on_post(world, yesterday)["43"]
    assert (got["assigned"], got["present"], got["on_leave"]) == _local_on_post(world, yesterday)
    assert (got["assigned"], got["present"], got["on_leave"]) == (4, 1, 1)
    assert got["on_post_rate"] == 0.25
    assert got["on_post_rate_excluding_leave"] == round(1 / 3, 4)
    # A check-in today shows at once (the ledger day, by the trigger).
    assert world.post("alice", "/checkins", json=fix()).status_code == 201
    assert (
        db.execute(
            text("SELECT count(*) FROM rollup_days WHERE day = :d AND member_id = :m"),
            {"d": today(), "m": alice},
        ).scalar()
        == 1
    )
    now = _rollup_on_post(world, today())["43"]
    assert (now["assigned"], now["present"], now["on_leave"]) == _local_on_post(world, today())

    # Compliance: stale until the refresh (the daily job), then the province's own judgement.
    refreshed = zhucun(db_url, "rollup", "refresh")
    assert refreshed.exit_code == 0, refreshed.output
    assert "written" in refreshed.output
    for period in (_quarter(), _previous_quarter()):
        local = world.get("auditor", f"/compliance?period={period}&scope=43")
        assert local.status_code == 200, local.text
        summary = {k: v for k, v in local.json()["summary"].items() if v}
        r = world.get("auditor", f"/rollup/compliance?period={period}")
        assert r.status_code == 200, r.text
        (row,) = r.json()["items"]
        assert row["province"] == "43"
        assert row["summary"] == summary
        assert row["members"] == sum(summary.values()) == 4
        assert row["compliant"] == summary.get("met", 0)
        assert row["as_of"] == str(today())
    # The same as a signed export (CSV, and JSON with the same figures).
    exported = world.get(
        "auditor", "/reports/rollup-compliance", params={"period": _quarter(), "format": "json"}
    )
    assert exported.status_code == 200, exported.text
    assert exported.headers["zhucun-receipt"]
    (item,) = exported.json()["items"]
    shown = world.get("auditor", f"/rollup/compliance?period={_quarter()}").json()["items"][0]
    assert (item["province"], item["members"], item["compliant"]) == (
        "43",
        shown["members"],
        shown["compliant"],
    )
    assert {k: item[k] for k in shown["summary"]} == shown["summary"]
    sheet = world.get("auditor", "/reports/rollup-compliance", params={"period": _quarter()})
    table = list(csv.reader(io.StringIO(sheet.content[3:].decode(), newline="")))
    assert table[0][:4] == ["省份代码", "考核期", "考核人数", "达标人数"]
    assert [r[:3] for r in table[1:]] == [["43", _quarter(), str(shown["members"])]]
    receipt = world.get("auditor", f"/reports/receipts/{sheet.headers['zhucun-receipt']}")
    assert receipt.json()["query"]["report"] == "rollup_compliance"

    # A member's row: the counts and the reasons, no position.
    line = db.execute(
        text(
            "SELECT present_days, leave_days, required_days, status, compliant, violations "
            "FROM rollup_compliance WHERE member_id = :m AND period = :p"
        ),
        {"m": bob, "p": _quarter()},
    ).one()
    answer = world.get("auditor", f"/compliance/members/{bob}?period={_quarter()}").json()
    assert line.present_days == answer["present_days"]
    assert line.leave_days == answer["leave_days"]
    assert line.required_days == answer["required_days"]
    assert line.status == answer["status"]
    assert line.compliant == (answer["status"] == "met")
    assert set(line.violations) == {v["code"] for v in answer["violations"]}

    # Only what changed is written again; a member no longer assigned leaves the rollup.
    again = zhucun(db_url, "rollup", "refresh")
    assert ", 0 written, 0 removed" in again.output, again.output
    db.execute(delete(Assignment).where(Assignment.member_id == world.members["dave"].id))
    db.commit()
    dropped = zhucun(db_url, "rollup", "refresh", "--period", _quarter())
    assert dropped.exit_code == 0, dropped.output
    assert ", 0 written, 1 removed" in dropped.output, dropped.output
    bad = zhucun(db_url, "rollup", "refresh", "--period", "2026Q5")
    assert bad.exit_code == 1
    assert "refused" in bad.output

    # Published: the ledger days and the results, and no position or name.
    columns = db.execute(
        text(
            "SELECT tablename, attname FROM pg_publication_tables, unnest(attnames) attname "
            "WHERE pubname = 'zhucun_rollup'"
        )
    ).all()
    assert {t for t, _ in columns} == {"rollup_days", "rollup_compliance"}
    assert not {c for _, c in columns} & {"latitude", "longitude", "full_name", "village_code"}


@pytest.mark.postgis
def test_the_rollup_shows_each_caller_the_provinces_within_their_scope(world, db, db_url):
    assert zhucun(db_url, "rollup", "publish", "43").exit_code == 0
    day = today()
    assert set(_rollup_on_post(world, day, "admin")) == {"43"}
    assert set(_rollup_on_post(world, day, "auditor")) == {"43"}  # scope 43
    assert _rollup_on_post(world, day, "city") == {}  # 4301: a part of a province
    assert world.get("admin", "/rollup/on-post?scope=52").json()["items"] == []
    outside = world.get("auditor", "/rollup/on-post?scope=52")
    assert (outside.status_code, outside.json()["code"]) == (404, "scope_not_found")
    member = world.get("alice", "/rollup/on-post")
    assert (member.status_code, member.json()["code"]) == (403, "role_required")
    wrong = world.get("admin", "/rollup/compliance?period=2026Q5")
    assert (wrong.status_code, wrong.json()["code"]) == (422, "invalid_period")
    empty = world.get("admin", "/rollup/compliance?period=2001Q1")
    assert (empty.status_code, empty.json()["items"]) == (200, [])
    narrower = world.get("auditor", "/reports/rollup-compliance?period=2026Q4&scope=52")
    assert (narrower.status_code, narrower.json()["code"]) == (404, "scope_not_found")


def test_without_the_rollup_tables_the_routes_answer_a_problem(world, db_url, backend):
    if backend == "postgis":
        pytest.skip("PostgreSQL has the rollup tables (the test above)")
    for path in (
        "/rollup/on-post",
        f"/rollup/compliance?period={_quarter()}",
        f"/reports/rollup-compliance?period={_quarter()}",
    ):
        r = world.get("admin", path)
        assert r.status_code == 409, r.text
        assert r.json()["code"] == "rollup_not_configured"
    refreshed = zhucun(db_url, "rollup", "refresh")
    assert refreshed.exit_code == 0, refreshed.output
    assert "publishes no province: nothing to refresh" in refreshed.output
    assert zhucun(db_url, "rollup", "publish", "43").exit_code == 1
