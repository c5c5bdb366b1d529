"""A retroactive assignment change, carried through: org changes the assignment, the fixes of
the days it changes are judged again against it (checkins), and the ledger is recomputed from
its first changed day, all in the caller's transaction. Here because the ledger sits above
both org and checkins."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass

from sqlalchemy.orm import Session

from app.audit import actions as audit_actions
from app.checkins.rejudging import rejudge_member
from app.core.policy import Policy
from app.core.time import utcnow
from app.ledger.service import RebuildResult, rebuild
from app.org.assignments import Change


@dataclass(frozen=True)
class Applied:
    change: Change
    rejudged: int  # fixes judged again (or back to their judgement on arrival)
    ledger: RebuildResult


def apply_change(
    session: Session,
    policy: Policy,
    member_id: int,
    change_of: Callable[[Session, int], Change],
    *,
    actor: int | str = audit_actions.CLI,
) -> Applied:
    """Make the change (`change_of`, e.g. `org.assignments.move_assignment`, with the member
    locked by `org.assignments.member_of`), judge the changed days' fixes again and refresh
    the ledger from the first changed day."""
    change = change_of(session, member_id)
    rejudged = rejudge_member(
        session, policy, member_id, change.first_changed_day, cause=change.action, at=utcnow()
    )
    if rejudged:
        audit_actions.record(
            session,
            actor=actor,
            action="checkin.rejudge",
            subject=f"member:{member_id}",
            payload={
                "cause": change.action,
                "from": change.first_changed_day,
                "checkins": rejudged,
            },
            # Read by the auditors who read the member's first changed day: its fixes are the
            # ones judged again.
            about=audit_actions.About(member_id, change.first_changed_day),
        )
    return Applied(change, rejudged, rebuild(session, policy, member_id, change.first_changed_day))
