"""Reading check-ins back: a stored row as the API answers it (with its reviews and the
findings made later), and a member's check-ins, newest first."""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from datetime import UTC, date, datetime, timedelta
from typing import Any, cast

from sqlalchemy import ColumnElement, Row, Select, Table, and_, case, exists, or_, select
from sqlalchemy.orm import Session

from app.checkins import findings as findings_service
from app.checkins.models import CheckIn, CheckInRejudgement, CheckInReview
from app.checkins.reasons import flag_reasons
from app.checkins.schemas import CheckInOut, RejudgedOut, ReviewOut
from app.core.i18n import current_language
from app.core.time import as_utc

checkins = cast(Table, CheckIn.__table__)
reviews_table = cast(Table, CheckInReview.__table__)
c = checkins.c
rejudgements = cast(Table, CheckInRejudgement.__table__)
r = rejudgements.c

# The fields of the judgement that a retroactive assignment change redoes (app/checkins/
# rejudging.py). Every reading of a check-in takes them from its rejudgement when it has one.
JUDGED_FIELDS = (
    "assigned_village_code",
    "boundary_id",
    "geofence",
    "distance_m",
    "credited",
    "flags",
    "flag_evidence",
    "wifi_match",
)


def current(name: str) -> ColumnElement[Any]:
    """A judged field as judged now, in a query whose FROM is `JUDGED_FROM`."""
    return case((r.checkin_id.is_not(None), r[name]), else_=c[name])


def current_assigned_village() -> ColumnElement[str | None]:
    """The member's village of the fix's day as judged now, in a query over `judged()`."""
    return current("assigned_village_code")


# Check-ins beside their rejudgements (most have none).
JUDGED_FROM = checkins.outerjoin(rejudgements, r.checkin_id == c.id)


def judged() -> Select[Any]:
    """Check-ins with their current judgement: the stored columns, the judged ones from the
    fix's rejudgement when it has one, and `rejudged_*` (null when it has none)."""
    return select(
        *(col for col in c if col.name not in JUDGED_FIELDS),
        *(current(name).label(name) for name in JUDGED_FIELDS),
        r.at.label("rejudged_at"),
        r.cause.label("rejudged_cause"),
    ).select_from(JUDGED_FROM)


def is_rejudged(checkin_id: Any) -> ColumnElement[bool]:
    return exists().where(r.checkin_id == checkin_id)


def stored_out(
    session: Session, rows: Iterable[Row[Any]], named: bool = False
) -> dict[int, CheckInOut]:
    """Stored check-ins as answered, by id (their reviews and findings read here)."""
    rows = list(rows)
    ids = [row.id for row in rows]
    reviews = reviews_of(session, ids)
    later = findings_service.findings_for(session, ids, [row.local_date for row in rows])
    return {row.id: out_row(row, reviews.get(row.id), later.get(row.id), named) for row in rows}


def reviews_of(session: Session, checkin_ids: Iterable[int]) -> dict[int, list[ReviewOut]]:
    ids = list(checkin_ids)
    out: dict[int, list[ReviewOut]] = {}
    if not ids:
        return out
    rows = session.execute(
        select(reviews_table)
        .where(reviews_table.c.checkin_id.in_(ids))
        .order_by(reviews_table.c.id)
    )
    for r in rows:
        out.setdefault(r.checkin_id, []).append(
            ReviewOut(
                id=r.id,
                action=r.action,
                reason=r.reason,
                reviewer_id=r.reviewer_id,
                at=as_utc(r.at),
            )
        )
    return out


def out(
    row: Mapping[Any, Any],
    checkin_id: int,
    reviews: list[ReviewOut],
    later: list[Any] | None = None,
    named: bool = False,
) -> CheckInOut:
    """The check-in as stored (and judged again, from `judged()`), with the findings made
    `later` (findings_service rows): their codes join the flags, their numbers the reasons.
    `named`: read by a reviewer, to whom the reasons name the other members of a shared
    device (a member reads them without)."""
    flag_list = row["flags"].split(",") if row["flags"] else []
    evidence = row["flag_evidence"]
    if later:
        evidence = dict(evidence or {})
        for finding in later:
            if finding.code not in flag_list:
                flag_list.append(finding.code)
                evidence[finding.code] = finding.evidence
    return CheckInOut(
        id=checkin_id,
        client_id=row["client_id"],
        member_id=row["member_id"],
        captured_at=_utc(row["captured_at"]),
        received_at=_utc(row["received_at"]),
        local_date=row["local_date"],
        latitude=row["latitude"],
        longitude=row["longitude"],
        coord_system=row["coord_system"],
        accuracy_m=row["accuracy_m"],
        village_code=row["village_code"],
        assigned_village_code=row["assigned_village_code"],
        geofence=row["geofence"],
        distance_m=row["distance_m"],
        credited=row["credited"],
        flags=flag_list,
        wifi_match=row["wifi_match"],
        flag_reasons=flag_reasons(flag_list, evidence, current_language(), named),
        findings=[findings_service.finding_out(finding) for finding in later or ()],
        voided=bool(reviews) and reviews[-1].action == "void",
        reviews=reviews,
        roll_call_id=row["roll_call_id"],
        rejudged=_rejudged(row),
        purged=row.get("purged_at") is not None,
    )


def _rejudged(row: Mapping[Any, Any]) -> RejudgedOut | None:
    at = row.get("rejudged_at")
    if at is None:
        return None
    return RejudgedOut(at=_utc(at), cause=row["rejudged_cause"])


def _utc(moment: datetime) -> datetime:
    return moment if moment.tzinfo is UTC else as_utc(moment)


def out_row(
    row: Row[Any],
    reviews: list[ReviewOut] | None = None,
    later: list[Any] | None = None,
    named: bool = False,
) -> CheckInOut:
    return out(row._asdict(), row.id, reviews or [], later, named)


def list_checkins(
    session: Session,
    member_id: int,
    start: date | None,
    end: date | None,
    after: tuple[datetime, int] | None,
    limit: int,
    visible: ColumnElement[bool] | None = None,
    named: bool = False,
) -> list[CheckInOut]:
    """The member's check-ins, newest first (by capture time), after the cursor key; only
    those that `visible` keeps (app.org.scope.day_filter over `current_assigned_village`);
    `named` for a reviewer (`out`)."""
    query = judged().where(c.member_id == member_id)
    if visible is not None:
        query = query.where(visible)
    if start is not None:
        query = query.where(c.local_date >= start)
    if end is not None:
        query = query.where(c.local_date <= end)
    if after is not None:
        at, last_id = after
        query = query.where(or_(c.captured_at < at, and_(c.captured_at == at, c.id < last_id)))
        # Implied (a local date is at most a day past the UTC one), and it names the months
        # after the cursor's that a partitioned table need not read.
        query = query.where(c.local_date <= at.astimezone(UTC).date() + timedelta(days=1))
    rows = session.execute(query.order_by(c.captured_at.desc(), c.id.desc()).limit(limit)).all()
    reviews = reviews_of(session, [r.id for r in rows])
    later = findings_service.findings_for(
        session, [r.id for r in rows], [r.local_date for r in rows]
    )
    return [out_row(r, reviews.get(r.id), later.get(r.id), named) for r in rows]
