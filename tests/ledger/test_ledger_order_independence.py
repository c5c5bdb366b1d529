"""Whatever order events arrive in, the ledger kept up on each write equals the one rebuilt
from the source records (hypothesis, on the backend under test)."""

from __future__ import annotations

from datetime import timedelta

from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from sqlalchemy import delete, update

from app.auth.principal import Principal
from app.checkins.models import CheckIn, CheckInReview
from app.core.errors import AppError
from app.core.outbox import OutboxEvent
from app.leave import service as leave_service
from app.leave.models import LeaveRequest, LeaveTransition
from app.ledger import service
from app.ledger.models import PresenceDay
from app.org.models import Assignment
from tests.ledger.support import add_fix, at_local, ledger_rows, review, today

MEMBERS = ("alice", "bob")
VILLAGES = {"alice": "430121001001", "bob": "430121001002"}

fix_event = st.tuples(
    st.just("fix"),
    st.sampled_from(MEMBERS),
    st.integers(-8, 1),  # day offset from today
    st.sampled_from([6.0, 9.5, 12.0, 15.5, 21.0]),  # local hour
    st.booleans(),  # credited
)
review_event = st.tuples(st.sampled_from(["void", "restore"]), st.integers(0, 20))
leave_event = st.tuples(
    st.just("leave"),
    st.sampled_from(MEMBERS),
    st.integers(-8, 1),
    st.integers(0, 4),
    st.booleans(),  # approved at once (a decision arriving with the request)
)
step_event = st.tuples(
    st.sampled_from(["approve", "reject", "cancel", "return", "return", "extend"]),
    st.integers(0, 20),
    st.integers(0, 6),
)
assignment_event = st.tuples(
    st.just("end_assignment"), st.sampled_from(MEMBERS), st.integers(-6, 0)
)
events_st = st.lists(
    st.one_of(fix_event, fix_event, review_event, leave_event, step_event, assignment_event),
    min_size=4,
    max_size=16,
)


def principal(world, name):
    user = world.users[name]
    return Principal(user.id, user.username, user.role, user.scope, user.member_id)


def reset(db):
    for table in (CheckInReview, CheckIn, PresenceDay, LeaveTransition, OutboxEvent):
        db.execute(delete(table))
    db.execute(update(LeaveRequest).values(extends_id=None))
    db.execute(delete(LeaveRequest))
    db.execute(update(Assignment).values(end_date=None))
    db.commit()


def apply(world, db, policy, event, fixes, leaves):
    t = today()
    kind = event[0]
    if kind == "fix":
        _, who, offset, hour, credited = event
        day = t + timedelta(days=offset)
        fixes.append(
            add_fix(
                db,
                policy,
                world.members[who].id,
                at_local(day, hour),
                credited=credited,
                village=VILLAGES[who],
            )
        )
    elif kind in ("void", "restore"):
        if fixes:
            review(db, policy, fixes[event[1] % len(fixes)], kind, world.users["county"].id)
    elif kind == "leave":
        _, who, offset, length, approved = event
        start = t + timedelta(days=offset)
        leave = leave_service.request_leave(
            db,
            policy,
            principal(world, who),
            type="personal",
            start=start,
            end=start + timedelta(days=length),
            reason="",
            emergency=True,
            today=t,
        )
        leaves.append(leave)
        if approved:
            approver = "township1" if leave.approver_level == "township" else "county"
            leave_service.decide(
                db,
                policy,
                principal(world, approver),
                leave.id,
                approve=True,
                comment=None,
                today=t,
            )
    elif kind == "end_assignment":
        _, who, offset = event
        db.execute(
            update(Assignment)
            .where(Assignment.member_id == world.members[who].id)
            .values(end_date=t + timedelta(days=offset))
        )
    elif leaves:
        leave = leaves[event[1] % len(leaves)]
        owner = next(k for k in MEMBERS if world.members[k].id == leave.member_id)
        if kind in ("approve", "reject"):
            approver = "township1" if leave.approver_level == "township" else "county"
            leave_service.decide(
                db,
                policy,
                principal(world, approver),
                leave.id,
                approve=kind == "approve",
                comment=None,
                today=t,
            )
        elif kind == "cancel":
            leave_service.cancel(
                db, policy, principal(world, owner), leave.id, comment=None, today=t
            )
        elif kind == "return":
            leave_service.report_return(
                db,
                policy,
                principal(world, owner),
                leave.id,
                returned_on=min(t, leave.start_date + timedelta(days=event[2])),
                comment=None,
                today=t,
            )
        else:
            leaves.append(
                leave_service.extend(
                    db,
                    policy,
                    principal(world, owner),
                    leave.id,
                    end=leave.end_date + timedelta(days=event[2] % 3 + 1),
                    reason="",
                    emergency=True,
                    today=t,
                )
            )


def snapshot(world, db, policy):
    t = today()
    views = {
        who: service.presence(
            db, policy, world.members[who].id, t - timedelta(12), t + timedelta(6), t
        )
        for who in MEMBERS
    }
    return ledger_rows(db), views


@settings(
    max_examples=30,
    deadline=None,
    suppress_health_check=[HealthCheck.function_scoped_fixture, HealthCheck.too_slow],
)
@given(events=events_st, data=st.data())
def test_incremental_ledger_equals_the_rebuilt_one(world, db, policy, events, data):
    reset(db)
    order = data.draw(st.permutations(range(len(events))))
    fixes: list[CheckIn] = []
    leaves: list[LeaveRequest] = []
    for i in order:
        savepoint = db.begin_nested()
        try:
            apply(world, db, policy, events[i], fixes, leaves)
        except AppError:
            savepoint.rollback()
        else:
            savepoint.commit()
    db.commit()
    incremental = snapshot(world, db, policy)
    db.execute(delete(PresenceDay))
    service.rebuild(db, policy)
    db.commit()
    assert snapshot(world, db, policy) == incremental
    # A member-scoped rebuild of a window leaves the ledger as it is, too.
    service.rebuild(
        db, policy, world.members["alice"].id, today() - timedelta(5), today() - timedelta(1)
    )
    db.commit()
    assert snapshot(world, db, policy) == incremental
