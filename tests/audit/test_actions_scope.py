"""Issue 18, item 3: a narrow auditor read every township's entries of the actions log (leave
reasons, void reasons, other townships' accounts) while the records themselves answered 404.
Entries about a member are read as that member's records are (the one scope rule, by the
member's assignment on the entry's day); entries about no member only by auditors of a whole
province or wider, and by admins."""

from __future__ import annotations

from datetime import UTC, date, datetime, timedelta

import pytest
from alembic.script import ScriptDirectory
from sqlalchemy import select

from app.audit.models import ActionEntry
from app.core.migrate import alembic_config, downgrade, upgrade
from app.core.policy import Policy
from app.core.time import today
from app.org.assignments import move_assignment
from app.org.models import Assignment, Member
from tests.checkins.helpers import fix
from tests.world import PASSWORD

AUDITORS = {
    "aud_t1": "430121001",  # alice's and bob's township
    "aud_t2": "430121002",  # carol's
    "aud_county": "430121",
    "aud_city": "4301",
    "aud_nowhere": "430199002",  # the probe's: a township none of these members serve in
}


def _local_today() -> date:
    return today(Policy().zone)


def _all_entries(world, caller: str, limit: int = 100) -> list[dict]:
    """Every entry `caller` reads, page by page; every page but the last is full."""
    items: list[dict] = []
    cursor = None
    while True:
        params: dict = {"limit": limit}
        if cursor:
            params["cursor"] = cursor
        page = world.get(caller, "/audit/actions", params=params)
        assert page.status_code == 200, page.text
        body = page.json()
        items += body["items"]
        cursor = body["next_cursor"]
        if cursor is None:
            return items
        assert len(body["items"]) == limit, "a page cut short: filtered after the page was cut"


def _seen(world, caller: str) -> set[str]:
    return {f"{e['action']} {e['subject']}" for e in _all_entries(world, caller)}


@pytest.fixture
def logged(world, db):
    """One entry of every kind: a void (alice, township 1), a leave asked and approved (carol,
    township 2), a member account deactivated (dave, another county), a non-member account
    deactivated and a password change (no member), bob moved from township 1 to 2 three days
    ago, and a password change of a member with no assignment today who served in township 1."""
    for username, scope in AUDITORS.items():
        world.add_user(username, "auditor", scope)
    now = datetime.now(UTC)
    gone = Member(
        full_name="Gone", position="team_member", unit_id=world.members["alice"].unit_id,
        created_at=now,
    )  # fmt: skip
    world.db.add(gone)
    world.db.flush()
    world.db.add(
        Assignment(
            member_id=gone.id,
            village_code="430121001001",
            start_date=_local_today() - timedelta(days=100),
            end_date=_local_today() - timedelta(days=10),
        )
    )
    world.members["gone"] = gone
    world.add_user("gone", "member", "", member_id=gone.id)
    world.db.commit()

    checkin = world.post("alice", "/checkins", json=fix("430121001001", ago=timedelta(hours=3)))
    assert checkin.status_code == 201, checkin.text
    world.checkin_id = checkin.json()["id"]
    void = world.post("township1", f"/checkins/{world.checkin_id}/void", json={"reason": "假定位"})
    assert void.status_code == 200, void.text
    day = str(_local_today() + timedelta(days=1))
    asked = world.post(
        "carol",
        "/leave-requests",
        json={"type": "personal", "start_date": day, "end_date": day, "reason": "家中老人住院"},
    )
    assert asked.status_code == 201, asked.text
    world.leave_id = asked.json()["id"]
    approved = world.post("township2", f"/leave-requests/{world.leave_id}/approve", json={})
    assert approved.status_code == 200, approved.text
    for account in ("dave", "unit"):
        r = world.post("admin", f"/users/{world.users[account].id}/deactivate")
        assert r.status_code == 200, r.text
    for account in ("county", "gone"):
        r = world.post(
            account,
            "/me/password",
            json={"current_password": PASSWORD, "new_password": "a-new-long-password"},
        )
        assert r.status_code == 204, r.text
    move_assignment(
        db,
        world.members["bob"].id,
        "430121002001",
        _local_today() - timedelta(days=3),
        today=_local_today(),
    )
    db.commit()
    return world


def _names(world) -> dict[str, str]:
    users, members = world.users, world.members
    return {
        "void": f"checkin.void checkin:{world.checkin_id}",
        "asked": f"leave.request leave:{world.leave_id}",
        "approved": f"leave.approve leave:{world.leave_id}",
        "dave": f"user.deactivate user:{users['dave'].id}",
        "unit": f"user.deactivate user:{users['unit'].id}",
        "county": f"user.password_change user:{users['county'].id}",
        "gone": f"user.password_change user:{users['gone'].id}",
        "bob": f"assignment.move member:{members['bob'].id}",
    }


def test_each_auditor_reads_the_entries_of_their_scope(logged):
    n = _names(logged)
    everything = set(n.values())
    expected = {
        # bob moved to township 2 before the entry's day: township 2 reads it, not township 1;
        # `gone` had no assignment that day: read by who sees the member at all (township 1).
        "aud_t1": {n["void"], n["gone"]},
        "aud_t2": {n["asked"], n["approved"], n["bob"]},
        "aud_county": {n["void"], n["asked"], n["approved"], n["bob"], n["gone"]},
        # a city is narrower than a province: no entries about no member
        "aud_city": everything - {n["unit"], n["county"]},
        "aud_nowhere": set(),
        "auditor": everything,  # scope 43, a whole province
        "admin": everything,
    }
    got = {caller: _seen(logged, caller) for caller in expected}
    assert got == expected


def test_an_auditor_reads_an_entry_exactly_when_they_read_its_record(logged):
    """The probe's reproducer: the leave answered 404 while its entries were listed."""
    for caller in (*AUDITORS, "auditor"):
        seen = _seen(logged, caller)
        leave = logged.get(caller, f"/leave-requests/{logged.leave_id}").status_code
        assert (f"leave.approve leave:{logged.leave_id}" in seen) == (leave == 200), caller
        listed = logged.get(caller, f"/checkins?member_id={logged.members['alice'].id}")
        fixes = {c["id"] for c in listed.json()["items"]} if listed.status_code == 200 else set()
        assert (f"checkin.void checkin:{logged.checkin_id}" in seen) == (
            logged.checkin_id in fixes
        ), caller


def test_pages_are_cut_after_the_scope_is_applied(logged):
    whole = _all_entries(logged, "aud_county")
    assert len(whole) == 5
    for limit in (1, 2):
        assert _all_entries(logged, "aud_county", limit=limit) == whole
    assert [e["seq"] for e in whole] == sorted(e["seq"] for e in whole)


def test_a_subject_outside_the_scope_is_an_empty_page(logged):
    subject = f"leave:{logged.leave_id}"
    mine = logged.get("aud_t2", "/audit/actions", params={"subject": subject}).json()
    assert [e["action"] for e in mine["items"]] == ["leave.request", "leave.approve"]
    other = logged.get("aud_t1", "/audit/actions", params={"subject": subject}).json()
    assert other == {"items": [], "next_cursor": None}


def test_entries_note_the_member_and_day_they_are_about(logged, db):
    notes = {e.subject: (e.member_id, e.member_day) for e in db.scalars(select(ActionEntry))}
    db.commit()
    users, members, on = logged.users, logged.members, _local_today()
    assert notes[f"checkin:{logged.checkin_id}"][0] == members["alice"].id
    assert notes[f"leave:{logged.leave_id}"] == (members["carol"].id, on + timedelta(days=1))
    assert notes[f"member:{members['bob'].id}"] == (members["bob"].id, on)
    assert notes[f"user:{users['dave'].id}"] == (members["dave"].id, on)
    assert notes[f"user:{users['gone'].id}"] == (members["gone"].id, on)
    assert notes[f"user:{users['unit'].id}"] == (None, None)
    assert notes[f"user:{users['county'].id}"] == (None, None)


def test_the_migration_notes_entries_logged_before_it_as_they_are_noted_now(logged, db_url, db):
    """Downgrading past the revision that added the notes and upgrading again fills them in
    from the subjects, the same as the service writes them."""
    db.commit()
    written = _notes(db)
    assert any(member is not None for member, _ in written.values())
    script = ScriptDirectory.from_config(alembic_config(db_url))
    before = script.get_revision("0013").down_revision
    downgrade(db_url, str(before))
    upgrade(db_url, "head")
    assert _notes(db) == written
    assert _seen(logged, "aud_t1") == {_names(logged)["void"], _names(logged)["gone"]}


def _notes(db) -> dict[int, tuple[int | None, date | None]]:
    found = {
        seq: (member, day)
        for seq, member, day in db.execute(
            select(ActionEntry.seq, ActionEntry.member_id, ActionEntry.member_day)
        )
    }
    db.commit()
    return found
