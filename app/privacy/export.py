"""The member's own copy (PIPL Art. 45): everything held about them, as JSON or CSV."""

from __future__ import annotations

import csv
import io
import json
from datetime import date, datetime

from sqlalchemy import select
from sqlalchemy.orm import Session

from app.audit import access
from app.audit.models import AccessEntry
from app.auth.models import User
from app.checkins import reading
from app.leave.models import LeaveRequest
from app.ledger.models import PresenceDay
from app.org.models import Assignment, Member
from app.privacy import feedback
from app.privacy.models import Feedback
from app.privacy.schemas import (
    AccessEntryOut,
    HeldAssignment,
    HeldDay,
    HeldEvent,
    HeldLeave,
    HeldMember,
    HeldRollCall,
    MyExport,
)
from app.supervision.models import EventReport, RollCall, RollCallMember

MAX_CHECKINS = 1_000_000


def access_out(entry: AccessEntry) -> AccessEntryOut:
    doc = access.document(entry)
    return AccessEntryOut(**{**doc, "at": entry.at}, hash=entry.hash)


def gather(session: Session, user: User, now: datetime, today: date) -> MyExport:
    member_id = user.member_id
    member = session.get(Member, member_id) if member_id is not None else None
    held = HeldMember(user_id=user.id, username=user.username)
    made = MyExport(
        generated_at=now,
        member=held,
        notice_version=user.notice_version,
        checkins=[],
        ledger=[],
        leave=[],
        events=[],
        roll_calls=[],
        feedback=[
            feedback.out(f, today)
            for f in session.scalars(
                select(Feedback).where(Feedback.user_id == user.id).order_by(Feedback.id)
            )
        ],
        access_log=[],
    )
    if member is None or member_id is None:
        return made
    made.member = HeldMember(
        user_id=user.id,
        username=user.username,
        id=member.id,
        full_name=member.full_name,
        position=member.position,
        unit_id=member.unit_id,
        created_at=member.created_at,
        assignments=[
            HeldAssignment.model_validate(a)
            for a in session.scalars(
                select(Assignment).where(Assignment.member_id == member_id).order_by(Assignment.id)
            )
        ],
    )
    made.checkins = reading.list_checkins(session, member_id, None, None, None, MAX_CHECKINS)
    made.ledger = [
        HeldDay.model_validate(d)
        for d in session.scalars(
            select(PresenceDay).where(PresenceDay.member_id == member_id).order_by(PresenceDay.day)
        )
    ]
    made.leave = [
        HeldLeave.model_validate(x)
        for x in session.scalars(
            select(LeaveRequest)
            .where(LeaveRequest.member_id == member_id)
            .order_by(LeaveRequest.id)
        )
    ]
    made.events = [
        HeldEvent.model_validate(x)
        for x in session.scalars(
            select(EventReport).where(EventReport.member_id == member_id).order_by(EventReport.id)
        )
    ]
    made.roll_calls = [
        HeldRollCall(
            roll_call_id=rc.id,
            village_code=village,
            message=rc.message,
            issued_at=rc.issued_at,
            deadline=rc.deadline,
        )
        for rc, village in session.execute(
            select(RollCall, RollCallMember.village_code)
            .join(RollCallMember, RollCallMember.roll_call_id == RollCall.id)
            .where(RollCallMember.member_id == member_id)
            .order_by(RollCall.id)
        )
    ]
    made.access_log = [
        access_out(e)
        for e in session.scalars(
            select(AccessEntry)
            .where(AccessEntry.subject_member_id == member_id)
            .order_by(AccessEntry.seq)
        )
    ]
    return made


SECTIONS = ("checkins", "ledger", "leave", "events", "roll_calls", "feedback", "access_log")


def as_csv(export: MyExport) -> str:
    """One CSV: `section, id, data` (data: the record as JSON), UTF-8 with a BOM, CRLF."""
    buffer = io.StringIO()
    writer = csv.writer(buffer, lineterminator="\r\n")
    writer.writerow(["section", "id", "data"])
    doc = export.model_dump(mode="json")
    writer.writerow(["member", doc["member"]["id"] or "", _json(doc["member"])])
    for section in SECTIONS:
        for record in doc[section]:
            key = next((record[k] for k in ("id", "seq", "day", "roll_call_id") if k in record), "")
            writer.writerow([section, key, _json(record)])
    return "\ufeff" + buffer.getvalue()


def _json(record: object) -> str:
    cell = json.dumps(record, ensure_ascii=False)
    return "'" + cell if cell[:1] in ("=", "+", "-", "@") else cell
