"""A seeded story for report and dashboard tests, on the test world's county 430121:

- 东山村 (alice): present every one of the last 30 days, and checked in twice today;
- 西山村 (bob): on approved leave from three days ago to two days ahead;
- 南湖村 (carol): absent (no fix, no leave);
- 北岭村 (dave) is in the other county 430122: present yesterday.
"""

from __future__ import annotations

from datetime import UTC, date, datetime, timedelta

from app.core.policy import Policy
from app.leave.models import LeaveRequest
from app.ledger.refresh import on_days_changed
from tests.ledger.support import add_fix, at_local, today

STORY_DAYS = 30


def seed_story(world, policy: Policy | None = None) -> date:
    """Seed the story; returns today."""
    policy = policy or Policy()
    db = world.db
    now = today()
    alice, bob, dave = (world.members[k].id for k in ("alice", "bob", "dave"))
    for back in range(1, STORY_DAYS + 1):
        day = now - timedelta(days=back)
        add_fix(db, policy, alice, at_local(day, 8), village="430121001001")
        add_fix(db, policy, alice, at_local(day, 17), village="430121001001")
    add_fix(db, policy, dave, at_local(now - timedelta(days=1), 8), village="430122001001")
    add_fix(db, policy, dave, at_local(now - timedelta(days=1), 18), village="430122001001")
    # Today: two counted fixes between local midnight and now, whatever the hour (at 00:15
    # in Shanghai "half an hour ago" was yesterday).
    moment = datetime.now(UTC)
    since_midnight = moment - at_local(now, 0)
    for share in (1 / 3, 2 / 3):
        add_fix(db, policy, alice, moment - since_midnight * share, village="430121001001")
    leave = LeaveRequest(
        member_id=bob,
        type="personal",
        start_date=now - timedelta(days=3),
        end_date=now + timedelta(days=2),
        days=6,
        reason="家中有事",
        emergency=False,
        status="approved",
        approver_level="county",
        filed_with="city",
        created_at=moment,
    )
    db.add(leave)
    db.flush()
    on_days_changed(db, policy, bob, [leave.start_date + timedelta(days=i) for i in range(6)])
    db.commit()
    return now
