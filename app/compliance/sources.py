"""Violations read from other records than the ledger's days, for the members of one period:
fixes carrying a serious flag, leave overstays, and the findings of the domains below
compliance (supervision; households and surveys plug in the same way).

A source is one function `(session, policy, member_ids, start, end) -> {member_id: [finding]}`
whose findings carry `code`, `date`, `start`, `end` and `detail` (`violations.FindingLike`);
`SOURCES` lists them, so a new source plugs in with one line.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping, Sequence
from datetime import date, timedelta

from sqlalchemy import (
    and_,
    case,
    exists,
    func,
    not_,
    or_,
    select,
)
from sqlalchemy.orm import Session, aliased

from app.checkins import reading as checkin_reading
from app.checkins import rules as checkin_rules
from app.checkins.counting import latest_review_action
from app.checkins.models import CheckIn, CheckInFinding
from app.compliance.violations import FindingLike, Violation
from app.core.db import ids_in
from app.core.policy import Policy
from app.core.time import today as local_today
from app.households import findings as household_findings
from app.leave.models import LeaveRequest
from app.ledger import rules as ledger_rules
from app.ledger.models import PresenceDay
from app.org.models import Assignment
from app.supervision import findings as supervision_findings

Source = Callable[[Session, Policy, Sequence[int], date, date], Mapping[int, Sequence[FindingLike]]]


def suspicious_checkins(
    session: Session, policy: Policy, member_ids: Sequence[int], start: date, end: date
) -> dict[int, list[Violation]]:
    """Fixes carrying a flag the policy names serious (`policy.flags.serious`), on arrival or
    in a finding recorded beside them later (a replayed track): each fix counted once."""
    serious = policy.flags.serious
    if not serious or not member_ids:
        return {}
    # flags is a comma-separated list: match whole names. `flags <> ''` picks the partial index.
    # Only the place flags change when a fix is judged again after a backdated assignment
    # change: read its current flags only when the policy counts one of them.
    judged_again = not set(serious).isdisjoint(checkin_rules.PLACE_FLAGS)
    flags = checkin_reading.current("flags") if judged_again else CheckIn.flags
    padded = "," + flags + ","
    flagged = or_(*(padded.contains(f",{flag},") for flag in serious))
    counts: dict[int, tuple[int, date, date]] = {}
    raised: dict[int, set[str]] = {}  # member → the serious flags their fixes carry
    fixes = checkin_reading.JUDGED_FROM if judged_again else CheckIn.__table__
    on_arrival = (
        select(
            CheckIn.member_id,
            func.count(),
            func.min(CheckIn.local_date),
            func.max(CheckIn.local_date),
            *(func.max(case((padded.contains(f",{flag},"), 1), else_=0)) for flag in serious),
        )
        .select_from(fixes)
        .where(
            ids_in(session, CheckIn.member_id, member_ids),
            flags != "",
            CheckIn.local_date.between(start, end),
            flagged,
        )
    )
    # The findings of the period's fixes: bounded by their local dates (the partitions of
    # the period's months on PostgreSQL).
    later_fixes = (
        select(CheckInFinding.checkin_id, CheckInFinding.local_date)
        .where(CheckInFinding.code.in_(serious), CheckInFinding.local_date.between(start, end))
        .distinct()
        .subquery()
    )
    found_later = (
        select(
            CheckIn.member_id,
            func.count(),
            func.min(CheckIn.local_date),
            func.max(CheckIn.local_date),
        )
        .select_from(fixes)
        .join(
            later_fixes,
            and_(
                later_fixes.c.checkin_id == CheckIn.id,
                later_fixes.c.local_date == CheckIn.local_date,
            ),
        )
        .where(
            ids_in(session, CheckIn.member_id, member_ids),
            CheckIn.local_date.between(start, end),
            not_(flagged),  # counted on arrival already
        )
    )

    for query in (on_arrival, found_later):
        for m, n, first, last, *carried in session.execute(query.group_by(CheckIn.member_id)):
            if m in counts:
                n0, first0, last0 = counts[m]
                n, first, last = n0 + n, min(first0, first), max(last0, last)
            counts[m] = (n, first, last)
            # Rows on arrival carry a 0/1 per serious flag; rows found later carry none.
            raised.setdefault(m, set()).update(
                f for f, c in zip(serious, carried, strict=False) if c
            )
    if counts:
        # The findings' codes too, of any of the fixes (one flagged on arrival may also have
        # been found later): read only for the members found at all.
        for m, code in session.execute(
            select(CheckIn.member_id, CheckInFinding.code)
            .join(
                CheckIn,
                and_(
                    CheckIn.id == CheckInFinding.checkin_id,
                    CheckIn.local_date == CheckInFinding.local_date,
                ),
            )
            .where(
                ids_in(session, CheckIn.member_id, list(counts)),
                CheckIn.local_date.between(start, end),
                CheckInFinding.local_date.between(start, end),
                CheckInFinding.code.in_(serious),
            )
            .distinct()
        ):
            raised.setdefault(m, set()).add(code)
    return {
        m: [
            Violation(
                "suspicious_checkins",
                first if first == last else None,
                None if first == last else first,
                None if first == last else last,
                suspicious_detail(n, [f for f in serious if f in raised.get(m, ())]),
            )
        ]
        for m, (n, first, last) in counts.items()
    }


# The flags in Chinese, as the dashboard names them.
_FLAG_NAMES_ZH = {
    "mock_location": "模拟定位",
    "low_accuracy": "精度差",
    "impossible_speed": "速度异常",
    "clock_skew": "时钟偏差",
    "late_sync": "延迟上传",
    "repeated_fix": "重复坐标",
    "device_change": "更换设备",
    "wrong_village": "他村",
    "no_assignment": "无派驻",
    "wifi_mismatch": "Wi-Fi 不符",
    "replayed_track": "轨迹重放",
    "at_home_unit": "在派驻单位",
    "shared_device": "共用设备",
}


def suspicious_detail(fixes: int, raised: Sequence[str]) -> str:
    """The number of flagged fixes and the serious flags they carry, named in English and
    Chinese (API.md "Absences, settled": the flags actually raised, not the policy's list)."""
    zh = "、".join(_FLAG_NAMES_ZH.get(f, f) for f in raised)
    return f"{fixes} check-in(s) flagged {', '.join(raised)} (可疑定位：{zh})"


def leave_overstays(
    session: Session, policy: Policy, member_ids: Sequence[int], start: date, end: date
) -> dict[int, list[Violation]]:
    """Staying away after leave ended (超假), judged by the ledger's own rule
    (`ledger.rules.overstay`) on facts read for all the members at once: the leaves that ended
    without the member back the next day, the first day each was back, their assignments."""
    if not member_ids:
        return {}
    today = local_today(policy.zone)
    after = (
        LeaveRequest.end_date + 1 if _is_pg(session) else func.date(LeaveRequest.end_date, "+1 day")
    )
    later = aliased(PresenceDay)
    back_on = (
        select(func.min(later.day))
        .where(
            later.member_id == LeaveRequest.member_id,
            later.day > LeaveRequest.end_date,
            or_(later.counted_checkins > 0, later.leave_id.is_not(None)),
        )
        .scalar_subquery()
    )
    back_next_day = exists().where(
        PresenceDay.member_id == LeaveRequest.member_id,
        PresenceDay.day == after,
        or_(PresenceDay.counted_checkins > 0, PresenceDay.leave_id.is_not(None)),
    )
    leaves = session.execute(
        select(
            LeaveRequest.member_id,
            LeaveRequest.id,
            LeaveRequest.status,
            LeaveRequest.start_date,
            LeaveRequest.end_date,
            LeaveRequest.returned_on,
            back_on,
        ).where(
            ids_in(session, LeaveRequest.member_id, member_ids),
            LeaveRequest.status.in_(ledger_rules.COVERING_STATUSES),
            LeaveRequest.end_date >= start - timedelta(days=1) - _LONGEST_LOOKBACK,
            LeaveRequest.end_date < min(end, today - timedelta(days=1)),
            or_(LeaveRequest.returned_on.is_(None), LeaveRequest.returned_on > after),
            ~back_next_day,
        )
    ).all()
    if not leaves:
        return {}
    periods: dict[int, list[ledger_rules.Period]] = {}
    for member_id, lo, hi in session.execute(
        select(Assignment.member_id, Assignment.start_date, Assignment.end_date).where(
            Assignment.member_id.in_({row[0] for row in leaves})
        )
    ):
        periods.setdefault(member_id, []).append(ledger_rules.Period(lo, hi))
    out: dict[int, list[Violation]] = {}
    for member_id, leave_id, status, first, last, returned_on, back in leaves:
        leave = ledger_rules.LeaveSpan(leave_id, status, first, last, returned_on)
        span = ledger_rules.overstay(leave, back, periods.get(member_id, []), today)
        if span is None or span.end < start or span.start > end:
            continue
        lo, hi = max(span.start, start), min(span.end, end)
        out.setdefault(member_id, []).append(
            Violation(
                "leave_overstay",
                None,
                lo,
                hi,
                overstay_detail((hi - lo).days + 1, leave_id, last, returned_on),
            )
        )
    return out


def overstay_detail(days: int, leave_id: int, ended: date, returned_on: date | None) -> str:
    """An overstay of `days` (within the period) told as it was: a member who reported back
    (销假) late, or one who did not report back at all (back in the village, or not yet)."""
    told = f"stayed away {days} day(s) after leave #{leave_id} ended on {ended.isoformat()}"
    if returned_on is None:
        return f"{told}, and did not report back (超假，未销假)"
    late = (returned_on - ended).days - 1
    back = f"reported back on {returned_on.isoformat()}, {late} day(s) late"
    return f"{told}; {back} (超假，逾期销假)"


def recalled_to_unit(
    session: Session, policy: Policy, member_ids: Sequence[int], start: date, end: date
) -> dict[int, list[Violation]]:
    """Members called back to their dispatching unit (两头跑): fixes flagged `at_home_unit`
    (raised on working days only) on `policy.compliance.unit_days` or more days of the period,
    voided fixes left out. One entry per period, naming the days."""
    if not member_ids:
        return {}
    days: dict[int, list[date]] = {}
    padded = "," + CheckIn.flags + ","
    for member_id, day in session.execute(
        select(CheckIn.member_id, CheckIn.local_date)
        .where(
            ids_in(session, CheckIn.member_id, member_ids),
            CheckIn.flags != "",  # the partial index of flagged fixes
            CheckIn.local_date.between(start, end),
            padded.contains(",at_home_unit,"),
            # NULL (no review) is not a void.
            func.coalesce(latest_review_action(CheckIn.id), "") != "void",
        )
        .distinct()
        .order_by(CheckIn.member_id, CheckIn.local_date)
    ):
        days.setdefault(member_id, []).append(day)
    needed = policy.compliance.unit_days
    return {
        m: [
            Violation(
                "recalled_to_unit",
                None,
                found[0],
                found[-1],
                f"at the dispatching unit's office on {len(found)} working day(s) "
                f"({', '.join(d.isoformat() for d in found)}); {needed} or more make it "
                "(两头跑，被派出单位召回)",
            )
        ]
        for m, found in days.items()
        if len(found) >= needed
    }


# An overstay that began this long before the span and still runs into it is found too.
_LONGEST_LOOKBACK = timedelta(days=366)


def _is_pg(session: Session) -> bool:
    return session.get_bind().dialect.name == "postgresql"


# Each source is called once per request with every member it concerns.
# The supervision domain plugs in here: its `findings.findings_for_members`.
SOURCES: tuple[Source, ...] = (
    suspicious_checkins,
    leave_overstays,
    recalled_to_unit,
    # Missed roll calls, inspection discrepancies, late event reports.
    supervision_findings.findings_for_members,
    # Households overdue, visits the household denied, members the household does not know.
    household_findings.findings_for_members,
)


def from_sources(
    session: Session, policy: Policy, member_ids: Sequence[int], start: date, end: date
) -> dict[int, list[Violation]]:
    out: dict[int, list[Violation]] = {}
    for source in SOURCES:
        for member_id, found in source(session, policy, member_ids, start, end).items():
            out.setdefault(member_id, []).extend(Violation.of(f) for f in found)
    return out
