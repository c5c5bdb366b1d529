"""Issue 21 item 1: who looked at my track. A township user reading a member's check-ins
appends one entry per request to the access log (a hash chain the signed checkpoints cover);
the member reads it at /me/access-log; the member's own reads are not logged; auditors read
it within their scope; `audit verify` catches an edited entry."""

from __future__ import annotations

from datetime import timedelta

from sqlalchemy import select, update
from typer.testing import CliRunner

from app.audit import access, rules
from app.audit.models import AccessEntry, AccessHead
from app.cli import cli
from app.core.config import get_settings
from tests.checkins.helpers import fix


def _post_fixes(world, who="alice", village="430121001001", n=3):
    for k in range(n):
        answer = world.post(who, "/checkins", json=fix(village, ago=timedelta(hours=k + 1)))
        assert answer.status_code == 201, answer.text


def _verify(db_url, monkeypatch):
    monkeypatch.setenv("DATABASE_URL", db_url)
    get_settings.cache_clear()
    try:
        result = CliRunner().invoke(cli, ["audit", "verify"])
    finally:
        get_settings.cache_clear()
    return result.exit_code, result.output + (result.stderr if result.stderr_bytes else "")


def test_a_township_read_shows_in_the_members_access_log_and_her_own_does_not(world, db):
    _post_fixes(world)
    alice = world.members["alice"].id
    own = world.get("alice", "/checkins")
    assert own.status_code == 200
    assert len(own.json()["items"]) == 3
    assert world.get("alice", "/me/access-log").json()["items"] == []

    read = world.get("township1", "/checkins", params={"member_id": alice, "limit": 2})
    assert read.status_code == 200
    assert len(read.json()["items"]) == 2
    log = world.get("alice", "/me/access-log").json()["items"]
    assert len(log) == 1
    entry = log[0]
    assert entry["viewer_id"] == world.users["township1"].id
    assert entry["viewer_role"] == "township"
    assert entry["subject_member_id"] == alice
    assert entry["household_id"] is None
    assert entry["what"] == "checkins.list"
    assert entry["prev_hash"] == rules.GENESIS_HASH
    # Bob's log shows nothing of it.
    assert world.get("bob", "/me/access-log").json()["items"] == []
    # An empty page shows no positions and logs nothing.
    bob = world.members["bob"].id
    assert world.get("township1", "/checkins", params={"member_id": bob}).json()["items"] == []
    assert len(list(db.scalars(select(AccessEntry)))) == 1
    db.commit()


def test_auditors_read_the_log_within_their_scope(world, db):
    _post_fixes(world)
    _post_fixes(world, "carol", "430121002001", 1)
    alice, carol = world.members["alice"].id, world.members["carol"].id
    world.get("county", "/checkins", params={"member_id": alice})
    world.get("county", "/checkins", params={"member_id": carol})
    world.add_user("aud_t2", "auditor", "430121002")
    db.commit()
    whole = world.get("auditor", "/audit/access-log").json()["items"]
    assert [e["subject_member_id"] for e in whole] == [carol, alice]  # newest first
    narrow = world.get("aud_t2", "/audit/access-log").json()["items"]
    assert [e["subject_member_id"] for e in narrow] == [carol]
    by_viewer = world.get(
        "admin", "/audit/access-log", params={"viewer_id": world.users["county"].id}
    ).json()["items"]
    assert len(by_viewer) == 2
    scoped = world.get("auditor", "/audit/access-log", params={"scope": "430121001"}).json()
    assert [e["subject_member_id"] for e in scoped["items"]] == [alice]
    assert world.get("aud_t2", "/audit/access-log", params={"scope": "4301"}).status_code == 404
    assert world.get("county", "/audit/access-log").status_code == 403
    assert world.get("county", "/me/access-log").status_code == 403


def test_the_log_is_checkpointed_and_an_edit_is_caught(world, db, db_url, monkeypatch):
    _post_fixes(world)
    alice = world.members["alice"].id
    for _ in range(3):
        world.get("township1", "/checkins", params={"member_id": alice})
    made = world.post("admin", "/audit/checkpoints")
    assert made.status_code in (200, 201), made.text
    doc = made.json()
    assert doc["access_seq"] == 3
    assert doc["access_hash"] == db.get(AccessHead, 1).last_hash
    db.commit()
    code, out = _verify(db_url, monkeypatch)
    assert code == 0, out
    assert "3 access log entries" in out
    # An auditor's read removed from history: rewrite entry 2's viewer.
    db.execute(update(AccessEntry).where(AccessEntry.seq == 2).values(viewer_id=999))
    db.commit()
    code, out = _verify(db_url, monkeypatch)
    assert code == 1
    assert "access log seq 2" in out


def test_log_read_helper_skips_own_reads_and_logs_household_phones(world, db):
    """The one call the households routes use for a full phone number."""
    from app.auth.principal import Principal

    member = Principal(1, "alice", "member", "", world.members["alice"].id)
    assert not access.log_read(db, member, what="checkins.list", member_id=member.member_id)
    assert access.log_read(db, member, what="household.phone", household_id=7)
    db.commit()
    entries = list(db.scalars(select(AccessEntry)))
    assert [(e.household_id, e.what, e.subject_member_id) for e in entries] == [
        (7, "household.phone", None)
    ]
    db.commit()
