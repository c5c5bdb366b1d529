"""The actions log (issue 11, defect 6): reviews, leave transitions and account changes are
hash-chained, signed by checkpoints and matched with their rows by `zhucun audit verify`, so a
deleted review or approval, an edited entry and a truncated log are all caught."""

from __future__ import annotations

import itertools
import json
from datetime import timedelta

import pytest
from sqlalchemy import delete, select, text, update
from typer.testing import CliRunner

from app.audit import actions, rules
from app.audit.actions_verify import verify_actions
from app.audit.keys import signing_key
from app.audit.models import ActionEntry, ActionsHead, Checkpoint, CheckpointHead
from app.audit.verify import checkpoint_problems
from app.checkins.models import CheckIn, CheckInReview
from app.cli import cli
from app.core.config import get_settings
from app.core.db import make_engine, make_session_factory, session_scope
from app.leave.models import LeaveRequest, LeaveTransition
from tests.checkins.helpers import fix


def _checkin(world, who="alice", village="430121001001", hours=3):
    answer = world.post(who, "/checkins", json=fix(village, ago=timedelta(hours=hours)))
    assert answer.status_code == 201, answer.text
    return answer.json()["id"]


@pytest.fixture
def acted(world):
    """A void, a restore, a second void, a leave asked for and approved, a deactivation."""
    first = _checkin(world, hours=5)
    second = _checkin(world, hours=4)
    for checkin_id, action in ((first, "void"), (first, "restore"), (second, "void")):
        answer = world.post(
            "township1", f"/checkins/{checkin_id}/{action}", json={"reason": f"{action} it"}
        )
        assert answer.status_code == 200, answer.text
    tomorrow = str(world_today() + timedelta(days=1))
    asked = world.post(
        "bob",
        "/leave-requests",
        json={"type": "personal", "start_date": tomorrow, "end_date": tomorrow, "reason": "家事"},
    )
    assert asked.status_code == 201, asked.text
    decided = world.post("township1", f"/leave-requests/{asked.json()['id']}/approve", json={})
    assert decided.status_code == 200, decided.text
    gone = world.post("admin", f"/users/{world.users['dave'].id}/deactivate")
    assert gone.status_code == 200, gone.text
    world.first, world.second, world.leave_id = first, second, asked.json()["id"]
    return world


def world_today():
    from app.core.policy import Policy
    from app.core.time import today

    return today(Policy().zone)


def _entries(db):
    found = list(db.scalars(select(ActionEntry).order_by(ActionEntry.seq)))
    db.commit()  # end the read (SQLite: its write lock) without expiring the world's objects
    return found


def _verify(db, checkpoint=None, *, use_latest=True):
    report = verify_actions(db, checkpoint, use_latest=use_latest)
    db.commit()
    return report


@pytest.fixture
def zhucun(db_url, monkeypatch):
    """Runs `zhucun ARGS` against the test database."""
    monkeypatch.setenv("DATABASE_URL", db_url)
    get_settings.cache_clear()
    runner = CliRunner()

    def run(*args, input=None):
        result = runner.invoke(cli, list(args), input=input)
        return result.exit_code, result.output + (result.stderr if result.stderr_bytes else "")

    yield run
    get_settings.cache_clear()


def _recompute_from(db, seq):
    """What an attacker with the database does after editing entry `seq`: recompute every
    later hash and the head, so that the chain alone is consistent again."""
    entries = list(db.scalars(select(ActionEntry).order_by(ActionEntry.seq)))
    prev = rules.GENESIS_HASH
    for entry in entries:
        if entry.seq >= seq:
            entry.prev_hash = prev
            doc = {name: getattr(entry, name) for name in rules.ACTION_HASHED}
            entry.hash = rules.action_hash(doc)
        prev = entry.hash
    db.execute(update(ActionsHead).values(seq=entries[-1].seq, last_hash=prev))
    db.commit()


# --- a normal run ---------------------------------------------------------------------------


def test_each_privileged_action_appends_one_linked_entry(acted, db, zhucun):
    world = acted
    entries = _entries(db)
    township1 = f"user:{world.users['township1'].id}"
    assert [(e.seq, e.action, e.subject, e.actor) for e in entries] == [
        (1, "checkin.void", f"checkin:{world.first}", township1),
        (2, "checkin.restore", f"checkin:{world.first}", township1),
        (3, "checkin.void", f"checkin:{world.second}", township1),
        (4, "leave.request", f"leave:{world.leave_id}", f"user:{world.users['bob'].id}"),
        (5, "leave.approve", f"leave:{world.leave_id}", township1),
        (6, "user.deactivate", f"user:{world.users['dave'].id}", f"user:{world.users['admin'].id}"),
    ]
    assert entries[0].payload["reason"] == "void it"
    assert (entries[4].payload["from"], entries[4].payload["to"]) == ("pending", "approved")
    assert entries[0].prev_hash == rules.GENESIS_HASH
    for prev, entry in itertools.pairwise(entries):
        assert entry.prev_hash == prev.hash
    head = db.get(ActionsHead, actions.HEAD_ID)
    assert (head.seq, head.last_hash) == (6, entries[-1].hash)
    db.commit()
    report = _verify(db)
    assert report.intact, report.problems
    assert report.entries == 6
    code, out = zhucun("audit", "verify")
    assert code == 0, out
    assert "6 logged action(s)" in out


def test_a_refused_action_leaves_no_entry(acted, db):
    world = acted
    again = world.post("township1", f"/checkins/{world.second}/void", json={"reason": "twice"})
    assert again.status_code == 409
    assert len(_entries(db)) == 6
    assert _verify(db).intact


def test_checkpoints_sign_the_actions_head(acted, db):
    world = acted
    doc = world.post("admin", "/audit/checkpoints").json()
    entries = _entries(db)
    assert (doc["actions_seq"], doc["actions_hash"]) == (6, entries[-1].hash)
    keys = {doc["key_id"]: signing_key(world.client.app.state.settings).public_raw}
    heads = [(h["member_id"], h["seq"], h["last_hash"]) for h in doc["heads"]]
    assert checkpoint_problems(doc, heads, keys) == []
    # Claiming the checkpoint covers a shorter log (or none) breaks its signature.
    for forged in ({**doc, "actions_seq": 5}, {**doc, "actions_seq": None, "actions_hash": None}):
        assert any("signature" in p for p in checkpoint_problems(forged, heads, keys))


def test_a_checkpoint_older_than_the_actions_log_still_verifies(world, db):
    """Signed over the first five fields only (as before the actions log): it verifies and
    covers no actions."""
    key = signing_key(world.client.app.state.settings)
    doc = {
        "id": 1,
        "created_at": "2026-11-01T00:00:00Z",
        "members": 0,
        "root": rules.heads_root([]),
        "key_id": key.key_id,
    }
    doc["signature"] = key.sign(rules.signed_payload(doc, rules.CHECKPOINT_SIGNED))
    assert checkpoint_problems(doc, [], {key.key_id: key.public_raw}) == []
    report = _verify(db, doc)
    assert report.intact
    assert not report.covered


# --- deleted, edited or forged rows ----------------------------------------------------------


def test_a_deleted_review_fails_verify(acted, db, zhucun):
    world = acted
    # The attacker removes the second void: the fix counts again, and nothing in the check-in
    # chain (which the review sits beside) notices.
    db.execute(delete(CheckInReview).where(CheckInReview.checkin_id == world.second))
    db.commit()
    report = _verify(db)
    assert report.problems == [
        f"checkin {world.second}: actions seq 3 logs checkin.void but its review row is missing "
        "(deleted)"
    ]
    code, out = zhucun("audit", "verify")
    assert code == 1
    assert f"checkin {world.second}: actions seq 3 logs checkin.void" in out


def _void_behind_the_service(db, world, checkin_id: int, reason: str) -> None:
    """A void written straight into the table, with no entry in the actions log."""
    db.add(
        CheckInReview(
            checkin_id=checkin_id,
            action="void",
            reason=reason,
            reviewer_id=world.users["township1"].id,
            at=world_today_utc(),
        )
    )
    db.commit()


def test_a_review_written_behind_the_service_fails_verify(acted, db):
    world = acted
    third = _checkin(world, hours=2)
    _void_behind_the_service(db, world, third, "quietly")
    report = _verify(db)
    assert len(report.problems) == 1
    assert report.problems[0].startswith(f"checkin {third}: review ")
    assert "has no entry in the actions log" in report.problems[0]


def world_today_utc():
    from app.core.time import utcnow

    return utcnow()


def test_an_edited_review_fails_verify(acted, db):
    world = acted
    db.execute(
        update(CheckInReview)
        .where(CheckInReview.checkin_id == world.first, CheckInReview.action == "restore")
        .values(action="void")
    )
    db.commit()
    problems = _verify(db).problems
    assert len(problems) == 1
    assert problems[0].startswith(f"checkin {world.first}: review ")
    assert problems[0].endswith("(the row was edited)")


def test_a_deleted_or_edited_leave_decision_fails_verify(acted, db):
    world = acted
    # Turn the approval into a rejection by hand: the status disagrees with the log.
    db.execute(
        update(LeaveRequest).where(LeaveRequest.id == world.leave_id).values(status="rejected")
    )
    db.commit()
    problems = _verify(db).problems
    assert problems == [
        f"leave {world.leave_id}: status 'rejected', but its last logged transition "
        "(actions seq 5) left it 'approved' (the request was edited)"
    ]
    # And remove the approval's trail as well.
    db.execute(
        delete(LeaveTransition).where(
            LeaveTransition.leave_id == world.leave_id, LeaveTransition.to_status == "approved"
        )
    )
    db.commit()
    problems = _verify(db).problems
    assert (
        f"leave {world.leave_id}: actions seq 5 logs leave.approve but its leave transition row "
        "is missing (deleted)"
    ) in problems


# --- the log itself edited, rewritten, truncated --------------------------------------------


def test_an_edited_entry_breaks_the_chain(acted, db):
    db.execute(update(ActionEntry).where(ActionEntry.seq == 2).values(actor="user:999"))
    db.commit()
    problems = _verify(db).problems
    assert "actions seq 2: the hash does not match the entry's content (the entry was edited)" in (
        problems
    )


def test_an_entry_edited_and_rehashed_contradicts_the_checkpoint(acted, db, zhucun, tmp_path):
    world = acted
    held = tmp_path / "checkpoint.json"
    held.write_text(world.post("admin", "/audit/checkpoints").text)
    # Rewrite the restore's reason in both the review and its entry, then recompute every
    # later hash and the head: the log and the rows agree again.
    db.execute(
        update(CheckInReview)
        .where(CheckInReview.checkin_id == world.first, CheckInReview.action == "restore")
        .values(reason="rewritten")
    )
    entry = db.get(ActionEntry, 2)
    entry.payload = {**entry.payload, "reason": "rewritten"}
    db.commit()
    _recompute_from(db, 2)
    assert _verify(db, use_latest=False).intact  # nothing but a checkpoint contradicts it
    checkpoint_id = json.loads(held.read_text())["id"]
    assert _verify(db).problems == [
        f"the actions entry at seq 6 is not the one checkpoint {checkpoint_id} signed "
        "(the log was rewritten)"
    ]
    # The attacker drops the stored checkpoints too; the auditor's file still holds.
    db.execute(delete(CheckpointHead))
    db.execute(delete(Checkpoint))
    db.commit()
    assert _verify(db).intact
    code, out = zhucun("audit", "verify", "--checkpoint", str(held))
    assert code == 1
    assert f"not the one checkpoint {checkpoint_id} signed" in out


def test_a_truncated_log_contradicts_the_checkpoint(acted, db, zhucun):
    world = acted
    assert world.post("admin", "/audit/checkpoints").status_code == 201
    # Drop the last entry (dave's deactivation) and rewind the head onto the one before.
    entries = _entries(db)
    db.execute(delete(ActionEntry).where(ActionEntry.seq == 6))
    db.execute(update(ActionsHead).values(seq=5, last_hash=entries[4].hash))
    db.commit()
    assert _verify(db, use_latest=False).intact
    problems = _verify(db).problems
    assert len(problems) == 1
    assert "signed actions seq 6, which the log no longer reaches" in problems[0]
    code, out = zhucun("audit", "verify")
    assert code == 1
    assert "no longer reaches" in out


def test_a_deleted_last_entry_disagrees_with_the_head(acted, db):
    db.execute(delete(ActionEntry).where(ActionEntry.seq == 6))
    db.commit()
    assert _verify(db).problems == [
        "the actions log ends at seq 5 but its head says 6: the last entries were deleted"
    ]


def test_a_deleted_middle_entry_is_named(acted, db):
    db.execute(delete(ActionEntry).where(ActionEntry.seq == 3))
    db.commit()
    problems = _verify(db).problems
    assert problems[0] == "actions seq 4: seq jumps from 2 to 4 (entries deleted)"
    assert any("actions" not in p.split(":")[0] and "has no entry" in p for p in problems)


# --- other call sites ------------------------------------------------------------------------


def _record_then_fail(factory):
    with session_scope(factory) as session:
        actions.record(session, actor=1, action="test.thing", subject="test:1")
        raise RuntimeError("the action fails")


def test_a_rolled_back_action_appends_nothing(world, db_url):
    engine = make_engine(db_url)
    factory = make_session_factory(engine)
    try:
        with pytest.raises(RuntimeError, match="fails"):
            _record_then_fail(factory)
        with session_scope(factory) as session:
            actions.record(session, actor=1, action="test.other", subject="test:2")
        with session_scope(factory) as session:
            logged = session.scalars(select(ActionEntry.action)).all()
    finally:
        engine.dispose()
    assert logged == ["test.other"]


def test_cli_create_user_is_logged_with_the_operator(world, db, zhucun):
    code, out = zhucun(
        "create-user",
        "--username",
        "newauditor",
        "--password-stdin",
        "--role",
        "auditor",
        "--scope",
        "43",
        input="a-long-password-1\n",
    )
    assert code == 0, out
    (entry,) = _entries(db)
    assert (entry.action, entry.actor) == ("user.create", actions.CLI)
    assert entry.payload == {"username": "newauditor", "role": "auditor", "scope": "43"}
    assert actions.CLI.startswith("cli")


def test_a_chain_started_on_a_database_with_history_names_its_baseline(world, db):
    """Reviews stored before the log existed have no entry: the head's baseline (set by the
    migration) goes into the first entry, and verify expects entries only after it."""
    old = _checkin(world, hours=6)
    _void_behind_the_service(db, world, old, "before the log")
    assert len(_verify(db).problems) == 1  # no baseline: the old review lacks its entry
    before = db.scalar(select(CheckInReview.id).where(CheckInReview.checkin_id == old))
    _set_baseline(db, {"checkin_reviews": before})
    answer = world.post("township1", f"/checkins/{old}/restore", json={"reason": "now logged"})
    assert answer.status_code == 200, answer.text
    entries = _entries(db)
    assert [(e.seq, e.action) for e in entries] == [(1, actions.BEGIN), (2, "checkin.restore")]
    assert entries[0].payload == {"baseline": {"checkin_reviews": before}}
    assert _verify(db).intact


def _set_baseline(db, baseline):
    """What migration 0011 does on a database with history (the head has no entries yet)."""
    db.execute(delete(ActionsHead))
    db.add(ActionsHead(id=actions.HEAD_ID, seq=0, last_hash=rules.GENESIS_HASH, baseline=baseline))
    db.commit()


def test_sql_tampering_with_the_baseline_is_an_edit(world, db):
    _set_baseline(db, {"x": 1})
    checkin_id = _checkin(world)
    voided = world.post("township1", f"/checkins/{checkin_id}/void", json={"reason": "r"})
    assert voided.status_code == 200
    db.execute(
        text("UPDATE audit_actions SET payload = :p WHERE seq = 1"),
        {"p": json.dumps({"baseline": {"checkin_reviews": 10**6}})},
    )
    db.commit()
    assert "actions seq 1: the hash does not match" in _verify(db).problems[0]


def test_checkins_are_not_actions(world, db):
    _checkin(world)
    assert _entries(db) == []
    assert db.scalar(select(CheckIn.id)) is not None


def test_auditors_read_the_log_page_by_page(acted):
    world = acted
    first = world.get("auditor", "/audit/actions", params={"limit": 4})
    assert first.status_code == 200, first.text
    body = first.json()
    assert [e["seq"] for e in body["items"]] == [1, 2, 3, 4]
    rest = world.get("auditor", "/audit/actions", params={"cursor": body["next_cursor"]}).json()
    assert [e["seq"] for e in rest["items"]] == [5, 6]
    assert rest["next_cursor"] is None
    entries = body["items"] + rest["items"]
    for entry in entries:  # an auditor can recompute every hash from what the API shows
        assert rules.action_hash(entry) == entry["hash"]
    subject = f"checkin:{world.first}"
    mine = world.get("admin", "/audit/actions", params={"subject": subject}).json()["items"]
    assert [e["action"] for e in mine] == ["checkin.void", "checkin.restore"]
    bad = world.get("auditor", "/audit/actions", params={"cursor": "bm90LWEtbGlzdA"})
    assert (bad.status_code, bad.json()["code"]) == (422, "invalid_cursor")
    assert world.get("township1", "/audit/actions").status_code == 403
