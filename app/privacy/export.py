"""The member's own copy (PIPL Art. 45): everything held about them, as JSON or CSV."""

from __future__ import annotations

import csv
import io
import json
from datetime import datetime
from typing import Any

from sqlalchemy import inspect, select
from sqlalchemy.orm import Session

from app.audit import access
from app.audit.models import AccessEntry
from app.auth.models import User
from app.checkins import reading
from app.leave.models import LeaveRequest
from app.ledger.models import PresenceDay
from app.org.models import Assignment, Member
from app.privacy.models import Feedback
from app.privacy.schemas import AccessEntryOut, MyExport
from app.supervision.models import EventReport, RollCall, RollCallMember

MAX_CHECKINS = 1_000_000


def _row(obj: Any, skip: tuple[str, ...] = ()) -> dict[str, Any]:
    return {
        col.key: getattr(obj, col.key)
        for col in inspect(type(obj)).column_attrs
        if col.key not in skip
    }


def access_out(entry: AccessEntry) -> AccessEntryOut:
    doc = access.document(entry)
    return AccessEntryOut(**{**doc, "at": entry.at}, hash=entry.hash)


def gather(session: Session, user: User, now: datetime) -> MyExport:
    member_id = user.member_id
    member = session.get(Member, member_id) if member_id is not None else None
    member_doc: dict[str, Any] = {"user_id": user.id, "username": user.username}
    checkins: list[dict[str, Any]] = []
    ledger: list[dict[str, Any]] = []
    leave: list[dict[str, Any]] = []
    events: list[dict[str, Any]] = []
    calls: list[dict[str, Any]] = []
    log: list[AccessEntryOut] = []
    if member is not None and member_id is not None:
        member_doc |= _row(member)
        member_doc["assignments"] = [
            _row(a)
            for a in session.scalars(
                select(Assignment).where(Assignment.member_id == member_id).order_by(Assignment.id)
            )
        ]
        checkins = [
            c.model_dump(mode="json")
            for c in reading.list_checkins(session, member_id, None, None, None, MAX_CHECKINS)
        ]
        ledger = [
            _row(d)
            for d in session.scalars(
                select(PresenceDay)
                .where(PresenceDay.member_id == member_id)
                .order_by(PresenceDay.day)
            )
        ]
        leave = [
            _row(x)
            for x in session.scalars(
                select(LeaveRequest)
                .where(LeaveRequest.member_id == member_id)
                .order_by(LeaveRequest.id)
            )
        ]
        events = [
            _row(x)
            for x in session.scalars(
                select(EventReport)
                .where(EventReport.member_id == member_id)
                .order_by(EventReport.id)
            )
        ]
        calls = [
            {
                "roll_call_id": rc.id,
                "issued_at": rc.issued_at,
                "deadline": rc.deadline,
                "message": rc.message,
                "village_code": village,
            }
            for rc, village in session.execute(
                select(RollCall, RollCallMember.village_code)
                .join(RollCallMember, RollCallMember.roll_call_id == RollCall.id)
                .where(RollCallMember.member_id == member_id)
                .order_by(RollCall.id)
            )
        ]
        log = [
            access_out(e)
            for e in session.scalars(
                select(AccessEntry)
                .where(AccessEntry.subject_member_id == member_id)
                .order_by(AccessEntry.seq)
            )
        ]
    feedback = [
        _row(f)
        for f in session.scalars(
            select(Feedback).where(Feedback.user_id == user.id).order_by(Feedback.id)
        )
    ]
    return MyExport(
        generated_at=now,
        member=_plain(member_doc),
        notice_version=user.notice_version,
        checkins=checkins,
        ledger=_plain(ledger),
        leave=_plain(leave),
        events=_plain(events),
        roll_calls=_plain(calls),
        feedback=_plain(feedback),
        access_log=log,
    )


def _plain(value: Any) -> Any:
    return json.loads(json.dumps(value, default=str, ensure_ascii=False))


def as_csv(export: MyExport) -> str:
    """One CSV: `section, id, data` (data: the record as JSON), UTF-8 with a BOM, CRLF."""
    buffer = io.StringIO()
    writer = csv.writer(buffer, lineterminator="\r\n")
    writer.writerow(["section", "id", "data"])
    doc = export.model_dump(mode="json")
    writer.writerow(
        ["member", doc["member"].get("id", ""), json.dumps(doc["member"], ensure_ascii=False)]
    )
    for section in (
        "checkins",
        "ledger",
        "leave",
        "events",
        "roll_calls",
        "feedback",
        "access_log",
    ):
        for record in doc[section]:
            key = record.get(
                "id", record.get("seq", record.get("day", record.get("roll_call_id", "")))
            )
            writer.writerow([section, key, _safe(json.dumps(record, ensure_ascii=False))])
    return "\ufeff" + buffer.getvalue()


def _safe(cell: str) -> str:
    return "'" + cell if cell[:1] in ("=", "+", "-", "@") else cell
