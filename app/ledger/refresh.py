"""Keeping the presence ledger up to date as a member's days change.

One definition of a day: `rules.day_facts` over the day's counted fixes (`counts()`) and the
leave covering it (`rules.covering_leave`), computed in Python from rows read under the
member's ledger lock. Every writer goes through here: a check-in (`DayReads`, queued with its
other reads, and the fixes it adds), a review, a leave decision, a rebuild's chunks.
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass
from datetime import date, datetime
from functools import lru_cache
from typing import Any

from sqlalchemy import bindparam, delete, func, or_, select
from sqlalchemy.dialects import postgresql, sqlite
from sqlalchemy.orm import Session

from app.checkins.counting import counts
from app.checkins.models import CheckIn
from app.core.policy import Policy
from app.core.roundtrip import Answer, RoundTrip
from app.core.time import as_utc
from app.leave.models import LeaveRequest
from app.ledger import rules
from app.ledger.models import PresenceDay
from app.org.models import Member

COLUMNS = (
    "member_id",
    "day",
    "counted_checkins",
    "first_counted_at",
    "last_counted_at",
    "present",
    "leave_id",
)

# The member row's FOR NO KEY UPDATE lock serialises a member's ledger writes on PostgreSQL (a
# check-in and a leave decision landing together must not each miss the other's change); a
# check-in takes it together with its chain head. SQLite writers are serial already.
LOCK_MEMBER = select(Member.id).where(Member.id == bindparam("m")).with_for_update(key_share=True)
_DAY_FIXES = (
    select(
        CheckIn.local_date,
        func.count(),
        func.min(CheckIn.captured_at),
        func.max(CheckIn.captured_at),
    )
    .where(
        CheckIn.member_id == bindparam("m"),
        CheckIn.local_date.between(bindparam("lo"), bindparam("hi")),
        counts(),
    )
    .group_by(CheckIn.local_date)
)
_MEMBER_LEAVES = select(
    LeaveRequest.id,
    LeaveRequest.status,
    LeaveRequest.start_date,
    LeaveRequest.end_date,
    LeaveRequest.returned_on,
).where(
    LeaveRequest.member_id == bindparam("m"),
    # Not IN (…): an expanding parameter would be rendered into the SQL on every execution.
    or_(*(LeaveRequest.status == status for status in rules.COVERING_STATUSES)),
    LeaveRequest.end_date >= bindparam("lo"),
    LeaveRequest.start_date <= bindparam("hi"),
)


# The ledger's stored days of a member (read by `presence` too).
STORED_DAYS = select(
    PresenceDay.day,
    PresenceDay.counted_checkins,
    PresenceDay.first_counted_at,
    PresenceDay.last_counted_at,
    PresenceDay.present,
    PresenceDay.leave_id,
).where(
    PresenceDay.member_id == bindparam("m"),
    PresenceDay.day.between(bindparam("lo"), bindparam("hi")),
)


def lock_member(session: Session, member_id: int) -> None:
    """Take the member's ledger lock (PostgreSQL) for the rest of the transaction."""
    if session.get_bind().dialect.name == "postgresql":
        session.execute(LOCK_MEMBER, {"m": member_id})


def on_days_changed(session: Session, policy: Policy, member_id: int, days: Iterable[date]) -> None:
    """Recompute the member's ledger entries for `days` from the source records, taking the
    member's ledger lock first. Called in the same transaction as every write that can change
    a day (a review, a leave decision, cancellation, return or extension; check-ins use
    `DayReads`). An assignment change judges the changed days' fixes again and rebuilds them
    (app/ledger/assignments.py); what else depends on assignments is derived when read."""
    wanted = sorted(set(days))
    if not wanted:
        return
    trip = RoundTrip(session)
    if session.get_bind().dialect.name == "postgresql":
        trip.add(LOCK_MEMBER, {"m": member_id})  # queued first: the reads see after it
    reads = DayReads.queue(trip, member_id, wanted[0], wanted[-1])
    trip.run()
    reads.queue_writes(trip, policy, member_id, wanted)
    trip.run()


@dataclass(slots=True)
class DayReads:
    """What the ledger reads of a member's days `lo`..`hi`, queued on a round trip run by a
    caller that holds (or takes, in an earlier statement of the trip) the member's lock."""

    fixes: Answer  # (day, count, first, last) of the counted fixes[, present, leave id]
    leaves: Answer | None  # covering-leave candidates; None: the leave id is in `fixes`

    @classmethod
    def queue(cls, trip: RoundTrip, member_id: int, lo: date, hi: date) -> DayReads:
        """The days recomputed from the source records: counted fixes and leave."""
        window = {"m": member_id, "lo": lo, "hi": hi}
        return cls(trip.add(_DAY_FIXES, window), trip.add(_MEMBER_LEAVES, window))

    @classmethod
    def queue_additions(cls, trip: RoundTrip, member_id: int, lo: date, hi: date) -> DayReads:
        """For a writer that only adds fixes (a check-in): the days as the ledger holds them,
        which every writer keeps equal to a recomputation under the member's lock, so adding
        a fix costs the same however many the day already has."""
        window = {"m": member_id, "lo": lo, "hi": hi}
        return cls(trip.add(STORED_DAYS, window), None)

    def queue_writes(
        self,
        trip: RoundTrip,
        policy: Policy,
        member_id: int,
        days: Iterable[date],
        added: Iterable[tuple[date, datetime]] = (),
    ) -> None:
        """Queue the writes that bring `days` up to date, counting the fixes `added` (local
        date, instant) that this transaction writes beside the ones read."""
        fixes: dict[date, tuple[int, datetime | None, datetime | None]] = {
            row[0]: (row[1], _utc(row[2]), _utc(row[3])) for row in self.fixes.rows
        }
        for day, at in added:
            count, lo, hi = fixes.get(day, (0, None, None))
            fixes[day] = (count + 1, min(lo or at, at), max(hi or at, at))
        held: dict[date, int | None] = {}
        leaves: list[rules.LeaveSpan] = []
        if self.leaves is None:
            held = {row[0]: row[5] for row in self.fixes.rows}
        else:
            leaves = [rules.LeaveSpan(*row) for row in self.leaves.rows]

        def covering(day: date) -> int | None:
            return held.get(day) if self.leaves is None else rules.covering_leave(leaves, day)

        upserts: list[dict[str, Any]] = []
        empty: list[date] = []
        for day in sorted(set(days)):
            count, lo, hi = fixes.get(day, (0, None, None))
            facts = rules.day_facts(policy.day_rule, count, lo, hi, covering(day))
            if facts is None:
                empty.append(day)
            else:
                upserts.append(row(member_id, day, facts))
        if empty:
            trip.add(
                delete(PresenceDay).where(
                    PresenceDay.member_id == member_id, PresenceDay.day.in_(empty)
                )
            )
        trip.add_many(upsert_statement(trip.dialect_name), upserts)


@lru_cache(maxsize=4)
def upsert_statement(dialect: str) -> Any:
    """INSERT … ON CONFLICT (member_id, day) DO UPDATE, built once per dialect."""
    dialect_insert = postgresql.insert if dialect == "postgresql" else sqlite.insert
    stmt = dialect_insert(PresenceDay)
    return stmt.on_conflict_do_update(
        index_elements=[PresenceDay.member_id, PresenceDay.day],
        set_={c: stmt.excluded[c] for c in COLUMNS[2:]},
    )


def row(member_id: int, day: date, facts: rules.DayFacts) -> dict[str, Any]:
    return {
        "member_id": member_id,
        "day": day,
        "counted_checkins": facts.counted_checkins,
        "first_counted_at": facts.first_counted_at,
        "last_counted_at": facts.last_counted_at,
        "present": facts.present,
        "leave_id": facts.leave_id,
    }


def _utc(moment: datetime | None) -> datetime | None:
    return None if moment is None else as_utc(moment)
