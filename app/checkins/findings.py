"""Findings: judgements about stored check-ins made later, recorded beside them.

A replayed track can only be seen once a later day's fixes are stored, when the earlier
day's fixes are long in the hash chain. The chain is never edited: a `replayed_track` finding
is a row of `checkin_findings` per fix of the replaying run (like a review), outside the chain.

Detection runs (1) at the end of a batch upload, for the batch's days that hold at least
`replay_track_min_fixes` fixes: one indexed range query over the member's recent fixes (the
daily sync of a phone is a batch); (2) as `zhucun checkins scan-replays`, a daily job that
covers days built from single uploads. A single upload costs nothing more.
"""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Iterable
from datetime import date, datetime, timedelta
from typing import Any, cast

from sqlalchemy import Table, select
from sqlalchemy.dialects import postgresql, sqlite
from sqlalchemy.orm import Session

from app.checkins import rules
from app.checkins.models import CheckIn, CheckInFinding
from app.checkins.schemas import FindingOut
from app.core.policy import Policy
from app.core.time import as_utc

findings_table = cast(Table, CheckInFinding.__table__)
c = cast(Table, CheckIn.__table__).c
f = findings_table.c
REPLAYED_TRACK = "replayed_track"


def scan_member_days(
    session: Session, policy: Policy, member_id: int, days: Iterable[date], found_at: datetime
) -> int:
    """Record `replayed_track` findings on the member's `days` whose fixes repeat another day
    within `replay_track_lookback_days` (the later day of a pair is the replay). The caller
    holds the member's chain-head lock. Returns how many new findings were recorded."""
    rules_ = policy.flags
    wanted = sorted(set(days))
    if not wanted:
        return 0
    lookback = timedelta(days=rules_.replay_track_lookback_days)
    rows = session.execute(
        select(c.id, c.local_date, c.captured_at, c.latitude, c.longitude)
        .where(
            c.member_id == member_id,
            c.local_date.between(wanted[0] - lookback, wanted[-1]),
            c.latitude.is_not(None),  # purged fixes have no track left
        )
        .order_by(c.captured_at, c.id)
    ).all()
    by_day: dict[date, list[Any]] = defaultdict(list)
    for row in rows:
        by_day[row.local_date].append(row)
    # Each day's track once (a day is compared with every later day of the scan), and only
    # a day with enough fixes to hold a replayed run: most days of a lookback hold a few.
    tracks = {
        day: [rules.Fix(as_utc(r.captured_at), r.latitude, r.longitude) for r in day_rows]
        for day, day_rows in sorted(by_day.items())
        if len(day_rows) >= rules_.replay_track_min_fixes
    }
    found: list[dict[str, Any]] = []
    for day in wanted:
        if day not in tracks:
            continue
        mine, track = by_day[day], tracks[day]
        for other, old in tracks.items():
            # The later day of a pair replays the earlier one; each pair is judged once.
            if other >= day or day - other > lookback:
                continue
            match = rules.replayed_track(track, old, rules_)
            if match is None:
                continue
            evidence = {
                "date": other.isoformat(),
                "fixes": match.length,
                "days": match.shift_days,
                "shift_min": round(match.shift_s / 60, 1),
                "max_m": round(match.max_distance_m, 2),
                "tolerance_m": rules_.replay_track_tolerance_m,
            }
            found += [
                {
                    "checkin_id": r.id,
                    "code": REPLAYED_TRACK,
                    "matched_date": other,
                    "evidence": evidence,
                    "found_at": found_at,
                    "local_date": day,
                }
                for r in mine[match.start : match.start + match.length]
            ]
            break
    if not found:
        return 0
    statement: Any
    if session.get_bind().dialect.name == "postgresql":
        # Partitioned: the unique key holds the check-in's local date (models.CheckInFinding).
        statement = postgresql.insert(findings_table).on_conflict_do_nothing(
            index_elements=[f.checkin_id, f.code, f.local_date]
        )
    else:
        statement = sqlite.insert(findings_table).on_conflict_do_nothing(
            index_elements=[f.checkin_id, f.code]
        )
    result = session.execute(statement.returning(f.id), found)
    return len(result.all())


def findings_for(
    session: Session, checkin_ids: Iterable[int], days: Iterable[date] = ()
) -> dict[int, list[Any]]:
    """The findings of these check-ins, oldest first, as rows (code, matched_date, evidence,
    found_at). `days`: the check-ins' local dates when known, which bound the read to their
    months (PostgreSQL reads only those partitions)."""
    ids = list(checkin_ids)
    out: dict[int, list[Any]] = {}
    if not ids:
        return out
    query = select(f.checkin_id, f.code, f.matched_date, f.evidence, f.found_at).where(
        f.checkin_id.in_(ids)
    )
    known = list(days)
    if known:
        query = query.where(f.local_date.between(min(known), max(known)))
    rows = session.execute(query.order_by(f.id))
    for row in rows:
        out.setdefault(row.checkin_id, []).append(row)
    return out


def finding_out(row: Any) -> FindingOut:
    return FindingOut(code=row.code, matched_date=row.matched_date, found_at=as_utc(row.found_at))


def members_with_fixes(session: Session, day: date) -> list[int]:
    """The members with fixes on `day` (for the daily scan)."""
    return list(
        session.scalars(
            select(c.member_id).where(c.local_date == day).distinct().order_by(c.member_id)
        )
    )
