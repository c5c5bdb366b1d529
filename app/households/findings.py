"""What households tell compliance: findings against members (`households_overdue`,
`visit_denied`, `unknown_to_household`) and the year's household record with the rates.

Compliance imports this module (arrows point down); nothing here knows compliance.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from datetime import date

from sqlalchemy import event, select
from sqlalchemy.orm import Session

from app.core.db import ids_in
from app.core.policy import Policy
from app.core.time import today as local_today
from app.households import rules
from app.households.models import Callback, Countersign, Household, HouseholdPairing, Visit

_Date = date


@dataclass(frozen=True)
class Finding:
    member_id: int
    code: str  # households_overdue | visit_denied | unknown_to_household
    date: _Date | None
    start: _Date | None
    end: _Date | None
    detail: str


@dataclass(frozen=True)
class _Pairing:
    member_id: int
    household_id: int
    from_date: date
    to_date: date | None


def _pairings(
    session: Session, member_ids: Sequence[int], start: date, end: date
) -> list[tuple[_Pairing, str, str]]:
    """(pairing, household code, risk) of the members overlapping [start, end]: plain rows
    (a county is ten thousand of them)."""
    if not member_ids:
        return []
    rows = session.execute(
        select(
            HouseholdPairing.member_id,
            HouseholdPairing.household_id,
            HouseholdPairing.from_date,
            HouseholdPairing.to_date,
            Household.household_code,
            Household.risk,
        )
        .join(Household, Household.id == HouseholdPairing.household_id)
        .where(
            ids_in(session, HouseholdPairing.member_id, member_ids),
            HouseholdPairing.from_date <= end,
            (HouseholdPairing.to_date.is_(None)) | (HouseholdPairing.to_date >= start),
        )
        .order_by(HouseholdPairing.member_id, Household.household_code)
    )
    return [(_Pairing(m, h, lo, hi), code, risk) for m, h, lo, hi, code, risk in rows]


def _credited_visits(
    session: Session, member_ids: Sequence[int], start: date, end: date
) -> dict[tuple[int, int], list[date]]:
    """(member, household) → local dates of credited visits no answer denied."""
    out: dict[tuple[int, int], list[date]] = {}
    if not member_ids:
        return out
    for m, h, d in session.execute(
        select(Visit.member_id, Visit.household_id, Visit.local_date).where(
            ids_in(session, Visit.member_id, member_ids),
            Visit.local_date.between(start, end),
            Visit.credited.is_(True),
            Visit.confirmation != "denied",
        )
    ):
        out.setdefault((m, h), []).append(d)
    return out


_MEMO = "households.overdue"


@event.listens_for(Session, "after_transaction_end")
def _forget(session: Session, _transaction: object) -> None:
    """The memo holds for one transaction: what it read may change after it."""
    session.info.pop(_MEMO, None)


@dataclass(frozen=True)
class OverdueHousehold:
    member_id: int
    household_id: int
    household_code: str
    spans: list[rules.Overdue]


def overdue_households(
    session: Session, policy: Policy, member_ids: Sequence[int], start: date, end: date
) -> tuple[list[OverdueHousehold], dict[int, set[int]]]:
    """Each member's households overdue on some day of [start, min(end, today)] while paired
    with them, judged over their own pairing days; and every member's paired households."""
    horizon = min(end, local_today(policy.zone))
    # One request may ask twice (the compliance export: its violations, then its rates).
    memo: dict[object, tuple[list[OverdueHousehold], dict[int, set[int]]]] = (
        session.info.setdefault(_MEMO, {})
    )
    key = (tuple(sorted(set(member_ids))), start, end, horizon, id(policy))
    if key in memo:
        return memo[key]
    paired: dict[int, set[int]] = {}
    found: list[OverdueHousehold] = []
    memo[key] = (found, paired)
    if horizon < start:
        return found, paired
    pairs = _pairings(session, member_ids, start, horizon)
    lookback = min((p.from_date for p, _, _ in pairs), default=start)
    visits = _credited_visits(session, member_ids, lookback, horizon)
    for p, code, risk in pairs:
        paired.setdefault(p.member_id, set()).add(p.household_id)
        spans = rules.overdue_spans(
            p.from_date,
            p.to_date,
            visits.get((p.member_id, p.household_id), []),
            rules.interval_days(policy, risk),
            start,
            horizon,
        )
        if spans:
            found.append(OverdueHousehold(p.member_id, p.household_id, code, spans))
    return found, paired


def findings_for_members(
    session: Session, policy: Policy, member_ids: Sequence[int], start: date, end: date
) -> dict[int, list[Finding]]:
    """The households domain's findings against each member in [start, end] (a compliance
    source, `app.compliance.sources.SOURCES`)."""
    out: dict[int, list[Finding]] = {}
    if not member_ids:
        return out
    ids = sorted(set(member_ids))
    overdue, _ = overdue_households(session, policy, ids, start, end)
    by_member: dict[int, list[OverdueHousehold]] = {}
    for o in overdue:
        by_member.setdefault(o.member_id, []).append(o)
    for member_id, items in by_member.items():
        first = min(s.start for o in items for s in o.spans)
        last = max(s.end for o in items for s in o.spans)
        named = ", ".join(
            f"{o.household_code} ({max(s.days for s in o.spans)} day(s) overdue)" for o in items
        )
        out.setdefault(member_id, []).append(
            Finding(
                member_id,
                "households_overdue",
                None,
                first,
                last,
                f"{len(items)} paired household(s) not visited in time: {named} (入户走访逾期)",
            )
        )
    for member_id, day, visit_id, source in _answers(session, ids, start, end, denied=True):
        out.setdefault(member_id, []).append(
            Finding(
                member_id,
                "visit_denied",
                day,
                None,
                None,
                f"visit {visit_id}: the household said no visit took place ({source}) "
                "(农户否认走访)",
            )
        )
    for member_id, day, visit_id, source in _answers(session, ids, start, end, denied=False):
        about = f"visit {visit_id}" if visit_id is not None else "a call-back"
        out.setdefault(member_id, []).append(
            Finding(
                member_id,
                "unknown_to_household",
                day,
                None,
                None,
                f"{about}: the household does not know the member ({source}) (农户不认识帮扶干部)",
            )
        )
    for found in out.values():
        found.sort(key=lambda f: (f.date or f.start or start, f.code))
    return out


def _answers(
    session: Session, member_ids: list[int], start: date, end: date, *, denied: bool
) -> list[tuple[int, date, int | None, str]]:
    """(member, day, visit, source) of answers that denied a visit (`denied`) or did not know
    the member: countersigns by the visit's day, call-backs by the visit's day or the call's."""
    rows: list[tuple[int, date, int | None, str]] = []
    test = Countersign.confirmed.is_(False) if denied else Countersign.knows_member.is_(False)
    for m, d, v in session.execute(
        select(Visit.member_id, Visit.local_date, Visit.id)
        .join(Countersign, Countersign.visit_id == Visit.id)
        .where(
            ids_in(session, Visit.member_id, member_ids), Visit.local_date.between(start, end), test
        )
    ):
        rows.append((m, d, v, "countersign"))
    cb_test = Callback.visit_confirmed == "no" if denied else Callback.knows_member.is_(False)
    for m, vd, rd, cv in session.execute(
        select(Callback.member_id, Visit.local_date, Callback.recorded_on, Callback.visit_id)
        .outerjoin(Visit, Visit.id == Callback.visit_id)
        .where(ids_in(session, Callback.member_id, member_ids), Callback.status == "done", cb_test)
    ):
        day = vd or rd
        if day is not None and start <= day <= end:
            rows.append((m, day, cv, "call-back"))
    return rows


@dataclass(frozen=True)
class AnnualHouseholds:
    paired: int
    visited_on_time_rate: float | None  # 入户率
    confirmed_rate: float | None
    known_rate: float | None
    answers: int
    satisfaction_rate: float | None


def annual_households(
    session: Session, policy: Policy, member_id: int, year: int
) -> AnnualHouseholds:
    """The member's households in the year: 入户率 is the share of households paired with them
    that were never overdue during their pairing days of the year (to today); confirmed the
    share of credited visits a countersign or call-back confirmed; known and satisfaction
    (4–5 of 1–5) over the answers of countersigns and call-backs."""
    start, end = date(year, 1, 1), date(year, 12, 31)
    overdue, paired = overdue_households(session, policy, [member_id], start, end)
    households = paired.get(member_id, set())
    late = {o.household_id for o in overdue}
    credited = session.execute(
        select(Visit.id, Visit.confirmation).where(
            Visit.member_id == member_id,
            Visit.local_date.between(start, end),
            Visit.credited.is_(True),
        )
    ).all()
    answers: list[tuple[bool | None, int | None]] = []
    for knows, score in session.execute(
        select(Countersign.knows_member, Countersign.satisfaction)
        .join(Visit, Visit.id == Countersign.visit_id)
        .where(
            Visit.member_id == member_id,
            Visit.local_date.between(start, end),
            Countersign.answered_at.is_not(None),
        )
    ):
        answers.append((knows, score))
    for knows, score in session.execute(
        select(Callback.knows_member, Callback.satisfaction).where(
            Callback.member_id == member_id,
            Callback.status == "done",
            Callback.reached.is_(True),
            Callback.recorded_on.between(start, end),
        )
    ):
        answers.append((knows, score))
    known = [k for k, _ in answers if k is not None]
    scores = [s for _, s in answers if s is not None]
    return AnnualHouseholds(
        paired=len(households),
        visited_on_time_rate=rules.rate(len(households - late), len(households)),
        confirmed_rate=rules.rate(sum(1 for _, c in credited if c == "confirmed"), len(credited)),
        known_rate=rules.rate(sum(1 for k in known if k), len(known)),
        answers=len(answers),
        satisfaction_rate=rules.rate(sum(1 for s in scores if s >= 4), len(scores)),
    )


@dataclass(frozen=True)
class PeriodRates:
    visits: float | None  # 入户率
    satisfaction: float | None  # 满意度
    known: float | None  # 认识度


def period_rates(
    session: Session, policy: Policy, member_ids: Sequence[int], start: date, end: date
) -> dict[int, PeriodRates]:
    """入户率, 满意度 and 认识度 of each member over [start, end], for a whole scope at once
    (the compliance export): a fixed handful of statements."""
    ids = sorted(set(member_ids))
    if not ids:
        return {}
    overdue, paired = overdue_households(session, policy, ids, start, end)
    late: dict[int, set[int]] = {}
    for o in overdue:
        late.setdefault(o.member_id, set()).add(o.household_id)
    answers: dict[int, list[tuple[bool | None, int | None]]] = {}
    for m, knows, score in session.execute(
        select(Visit.member_id, Countersign.knows_member, Countersign.satisfaction)
        .join(Visit, Visit.id == Countersign.visit_id)
        .where(
            ids_in(session, Visit.member_id, ids),
            Visit.local_date.between(start, end),
            Countersign.answered_at.is_not(None),
        )
    ):
        answers.setdefault(m, []).append((knows, score))
    for m, knows, score in session.execute(
        select(Callback.member_id, Callback.knows_member, Callback.satisfaction).where(
            ids_in(session, Callback.member_id, ids),
            Callback.status == "done",
            Callback.reached.is_(True),
            Callback.recorded_on.between(start, end),
        )
    ):
        answers.setdefault(m, []).append((knows, score))
    out = {}
    for m in ids:
        households = paired.get(m, set())
        said = answers.get(m, [])
        known = [k for k, _ in said if k is not None]
        scores = [s for _, s in said if s is not None]
        out[m] = PeriodRates(
            visits=rules.rate(len(households - late.get(m, set())), len(households)),
            satisfaction=rules.rate(sum(1 for s in scores if s >= 4), len(scores)),
            known=rules.rate(sum(1 for k in known if k), len(known)),
        )
    return out


@dataclass(frozen=True)
class Heard:
    """What households answered about a member, by one channel (countersigns or call-backs):
    answers, satisfaction answers (1–5) and the satisfied among them (4–5), knows-the-member
    answers and the yes among them."""

    answers: int
    satisfaction_answers: int
    satisfied: int
    known_answers: int
    known: int


def _heard(rows: Sequence[tuple[bool | None, int | None]]) -> Heard:
    scores = [s for _, s in rows if s is not None]
    known = [k for k, _ in rows if k is not None]
    return Heard(len(rows), len(scores), sum(1 for s in scores if s >= 4), len(known), sum(known))


def countersigns_heard(
    session: Session, policy: Policy, member_id: int, first: date, last: date
) -> Heard:
    """The households' countersigns of the member's visits of [first, last]."""
    rows = session.execute(
        select(Countersign.knows_member, Countersign.satisfaction)
        .join(Visit, Visit.id == Countersign.visit_id)
        .where(
            Visit.member_id == member_id,
            Visit.local_date.between(first, last),
            Countersign.answered_at.is_not(None),
        )
    ).all()
    return _heard([(k, s) for k, s in rows])


def callbacks_heard(
    session: Session, policy: Policy, member_id: int, first: date, last: date
) -> Heard:
    """The call-backs about the member that reached the household in [first, last]."""
    rows = session.execute(
        select(Callback.knows_member, Callback.satisfaction).where(
            Callback.member_id == member_id,
            Callback.status == "done",
            Callback.reached.is_(True),
            Callback.recorded_on.between(first, last),
        )
    ).all()
    return _heard([(k, s) for k, s in rows])
