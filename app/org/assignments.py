"""Ending and moving a member's assignment (the roster importer only adds).

Org changes the assignments; the caller judges the changed days' fixes again and refreshes the
ledger from the day of the change in the same transaction (`app/ledger/assignments.py`, which
`zhucun assignment …` calls), since every day after it changes village or becomes unassigned.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date, timedelta

from sqlalchemy import or_, select
from sqlalchemy.orm import Session

from app.audit import actions as audit_actions
from app.auth.models import User
from app.org.errors import AssignmentOverlap, MemberNotFound, VillageNotFound
from app.org.models import Assignment, Member, Village


class NoOpenAssignment(Exception):
    """The member has no assignment covering the day."""


@dataclass(frozen=True)
class Change:
    member_id: int
    first_changed_day: date  # the ledger changes from this day on
    summary: str
    action: str  # as logged, e.g. assignment.move


def member_of(session: Session, username: str) -> int:
    """The member behind a login, locked for the change (the ledger's lock: the member row)."""
    member_id = session.scalar(select(User.member_id).where(User.username == username))
    if member_id is None:
        raise MemberNotFound(member_id=username)
    session.execute(select(Member.id).where(Member.id == member_id).with_for_update())
    return member_id


def _covering(session: Session, member_id: int, day: date) -> Assignment:
    found = session.scalar(
        select(Assignment).where(
            Assignment.member_id == member_id,
            Assignment.start_date <= day,
            or_(Assignment.end_date.is_(None), Assignment.end_date >= day),
        )
    )
    if found is None:
        raise NoOpenAssignment(f"member {member_id} has no assignment on {day}")
    return found


def end_assignment(
    session: Session,
    member_id: int,
    last_day: date,
    *,
    today: date,
    actor: int | str = audit_actions.CLI,
) -> Change:
    """End the assignment covering `last_day` on that day (the member leaves for good).
    `today`: the local date, whose assignment decides which auditors read the change."""
    assignment = _covering(session, member_id, last_day)
    later = session.scalar(
        select(Assignment.start_date).where(
            Assignment.member_id == member_id, Assignment.start_date > last_day
        )
    )
    if later is not None:
        raise NoOpenAssignment(f"member {member_id} has a later assignment from {later}")
    assignment.end_date = last_day
    session.flush()
    audit_actions.record(
        session,
        actor=actor,
        action="assignment.end",
        subject=f"member:{member_id}",
        payload={"village_code": assignment.village_code, "last_day": last_day},
        about=audit_actions.About(member_id, today),
    )
    return Change(
        member_id,
        last_day + timedelta(days=1),
        f"{assignment.village_code} ends {last_day}",
        "assignment.end",
    )


def move_assignment(
    session: Session,
    member_id: int,
    village_code: str,
    first_day: date,
    *,
    today: date,
    actor: int | str = audit_actions.CLI,
) -> Change:
    """End the assignment covering `first_day` the day before and start one in `village_code`
    on `first_day`, open-ended. `today` as for `end_assignment`."""
    if session.get(Village, village_code) is None:
        raise VillageNotFound(code=village_code)
    current = _covering(session, member_id, first_day)
    if current.village_code == village_code:
        raise NoOpenAssignment(f"member {member_id} is already in {village_code}")
    if current.end_date is not None:
        raise AssignmentOverlap(member_id=member_id, start=first_day, end=current.end_date)
    moved_from = current.village_code
    if current.start_date == first_day:
        current.village_code = village_code  # a move on the first day: the same assignment
    else:
        current.end_date = first_day - timedelta(days=1)
        session.add(
            Assignment(
                member_id=member_id, village_code=village_code, start_date=first_day, end_date=None
            )
        )
    session.flush()
    audit_actions.record(
        session,
        actor=actor,
        action="assignment.move",
        subject=f"member:{member_id}",
        payload={"from_village": moved_from, "village_code": village_code, "first_day": first_day},
        about=audit_actions.About(member_id, today),
    )
    return Change(
        member_id, first_day, f"moves to {village_code} from {first_day}", "assignment.move"
    )
