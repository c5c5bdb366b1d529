"""The compliance rules as pure functions: periods, pro-rating, pace and status, and the
patterns the rules name (absence runs, short visits, rotation). No database, no clock: a
member's period is a day line (`day_lines`), and the working days and today are arguments.
"""

from __future__ import annotations

import math
import re
from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from datetime import date, timedelta
from typing import Literal

# The day-line builders are named here too: `rules` is the pure face of compliance.
from app.compliance.day_lines import CHARACTERS, UNASSIGNED, today_index
from app.compliance.day_lines import base_line as base_line
from app.compliance.day_lines import day_line as day_line
from app.compliance.day_lines import marks_from_bits as marks_from_bits
from app.compliance.day_lines import marks_from_days as marks_from_days
from app.core.inputs import MAX_DATE, MIN_DATE
from app.core.policy import CompliancePolicy, QuotaRule, RotationPolicy

PeriodKind = Literal["month", "quarter", "year"]
Status = Literal["met", "on_track", "at_risk", "unattainable", "missed"]
# Worst first: the order of the city-wide list.
STATUS_ORDER: tuple[Status, ...] = ("missed", "unattainable", "at_risk", "on_track", "met")


@dataclass(frozen=True)
class Period:
    kind: PeriodKind
    label: str  # 2026Q4, 2026-11, 2026
    start: date
    end: date

    @property
    def quarter(self) -> str | None:
        return self.label if self.kind == "quarter" else None

    @property
    def days(self) -> int:
        return (self.end - self.start).days + 1


_QUARTER = re.compile(r"^(\d{4})Q([1-4])$")
_MONTH = re.compile(r"^(\d{4})-(0[1-9]|1[0-2])$")
_YEAR = re.compile(r"^(\d{4})$")


def parse_period(text: str) -> Period | None:
    """`2026Q4`, `2026-11` or `2026`; None for anything else, and for years outside the
    service's calendar (MIN_DATE..MAX_DATE: `9999Q4` has no day after it)."""
    matched = _QUARTER.match(text) or _MONTH.match(text) or _YEAR.match(text)
    if matched is None or not MIN_DATE.year <= int(matched[1]) <= MAX_DATE.year:
        return None
    year = int(matched[1])
    if matched.re is _QUARTER:
        return quarter(year, int(matched[2]))
    if matched.re is _MONTH:
        return month(year, int(matched[2]))
    return Period("year", text, date(year, 1, 1), date(year, 12, 31))


def month(year: int, number: int) -> Period:
    start = date(year, number, 1)
    nxt = date(year + 1, 1, 1) if number == 12 else date(year, number + 1, 1)
    return Period("month", f"{year:04d}-{number:02d}", start, nxt - timedelta(days=1))


def quarter(year: int, number: int) -> Period:
    first = month(year, 3 * number - 2)
    last = month(year, 3 * number)
    return Period("quarter", f"{year:04d}Q{number}", first.start, last.end)


def period_of(kind: PeriodKind, day: date) -> Period:
    """The period of `kind` that holds `day`."""
    if kind == "month":
        return month(day.year, day.month)
    if kind == "quarter":
        return quarter(day.year, (day.month - 1) // 3 + 1)
    return Period("year", f"{day.year:04d}", date(day.year, 1, 1), date(day.year, 12, 31))


def periods_within(kind: PeriodKind, span: Period) -> list[Period]:
    """The periods of `kind` that overlap `span`, in order."""
    out = [period_of(kind, span.start)]
    while out[-1].end < span.end:
        out.append(period_of(kind, out[-1].end + timedelta(days=1)))
    return out


# --- the quota -------------------------------------------------------------------------------


def required_days(rule_days: int, assigned_days: int, period_days: int) -> int:
    """The rule's days, pro-rated by assigned calendar days and rounded up."""
    if assigned_days >= period_days:
        return rule_days
    return math.ceil(rule_days * assigned_days / period_days)


@dataclass(frozen=True)
class QuotaResult:
    required_days: int
    pro_rated: bool
    present_days: int  # credited by the day rule, any day of the week
    official_days: int  # working days of official business, not present
    credited_days: int  # present_days, plus official_days when the rule counts them
    needed_days: int
    leave_days: int  # working days of leave (official included), not present
    absent_workdays: int  # past working days with neither presence nor leave
    short_days: int  # past days with counted fixes that never made a day
    remaining_days: int  # assigned days from today to the period's end
    status: Status


def evaluate(rule: QuotaRule, period: Period, line: str, today: date) -> QuotaResult:
    """One member against one rule over one period (its day line).

    Pace: a member not yet met who can still make it is at_risk when credited days are below
    required × (assigned days before today) ÷ (assigned days of the period), else on_track.
    """
    t = today_index(period, today)
    past = line[:t]
    assigned = len(line) - line.count(UNASSIGNED)
    elapsed = t - past.count(UNASSIGNED)
    present = line.count("P") + line.count("p")
    official = line.count("O")
    required = required_days(rule.days, assigned, period.days)
    credited = present + (official if rule.official_counts else 0)
    return QuotaResult(
        required_days=required,
        pro_rated=assigned < period.days,
        present_days=present,
        official_days=official,
        credited_days=credited,
        needed_days=max(0, required - credited),
        leave_days=official + line.count("L"),
        absent_workdays=past.count(".") + past.count("S"),
        short_days=past.count("S") + past.count("s"),
        remaining_days=assigned - elapsed,
        status=status(required, credited, elapsed, assigned, period.end < today),
    )


def status(required: int, credited: int, elapsed: int, assigned: int, over: bool) -> Status:
    if credited >= required:
        return "met"
    if over:
        return "missed"
    if credited + (assigned - elapsed) < required:
        return "unattainable"
    if credited * assigned < required * elapsed:  # credited < required × elapsed ÷ assigned
        return "at_risk"
    return "on_track"


def worst(statuses: Iterable[Status]) -> Status:
    return min(statuses, key=STATUS_ORDER.index, default="met")


# --- patterns --------------------------------------------------------------------------------


@dataclass(frozen=True)
class Run:
    start: date
    end: date
    workdays: int


RunPart = Literal["absent", "skipped", "ends"]


def run_part(day: str) -> RunPart:
    """What a past day of a day line does to a run of absence (API.md "Absences, settled"): a
    working day absent — nothing, or a short visit that made no day — is part of the run; a day
    that is not a working day is skipped, whatever it holds (leave, official business, a short
    visit), unless the member was present, which ends the run on any day; a working day on leave
    or official business is not absent and ends it, as does a day not assigned."""
    if day in ".S":
        return "absent"
    if day in "_slo":
        return "skipped"
    return "ends"


def _run_pattern() -> re.Pattern[str]:
    # The rule above as a regular expression over the line's alphabet, so that runs are found
    # at C speed over a city: absent days, with only skipped days between them.
    part = {c: run_part(c) for c in CHARACTERS}
    absent = re.escape("".join(c for c, p in part.items() if p == "absent"))
    skipped = re.escape("".join(c for c, p in part.items() if p == "skipped"))
    return re.compile(f"[{absent}](?:[{skipped}]*[{absent}])*")


_ABSENT_RUN = _run_pattern()


def absent_runs(period: Period, line: str, today: date) -> list[Run]:
    """Runs of past working days absent without leave (a short visit makes no day)."""
    past = line[: today_index(period, today)]
    return [
        Run(
            period.start + timedelta(days=m.start()),
            period.start + timedelta(days=m.end() - 1),
            m[0].count(".") + m[0].count("S"),
        )
        for m in _ABSENT_RUN.finditer(past)
    ]


def absent_run_lengths(period: Period, line: str, today: date) -> list[int]:
    """The working days of each run of absent_runs, without the dates."""
    past = line[: today_index(period, today)]
    return [r.count(".") + r.count("S") for r in _ABSENT_RUN.findall(past)]


@dataclass(frozen=True)
class ShortVisits:
    days: int
    present_days: int
    start: date
    end: date


def short_visits(
    period: Period, line: str, today: date, policy: CompliancePolicy
) -> ShortVisits | None:
    """The 'come, look around, eat, leave' pattern (作秀): many past days with counted fixes that
    never made a day, and they are a large share of the days the member came at all."""
    past = line[: today_index(period, today)].upper()
    short = past.count("S")
    present = past.count("P")
    if short < policy.short_visit_min_days or short < policy.short_visit_min_share * (
        short + present
    ):
        return None
    first, last = past.index("S"), past.rindex("S")
    return ShortVisits(
        short, present, period.start + timedelta(days=first), period.start + timedelta(days=last)
    )


def week_start(day: date) -> date:
    """The Monday of `day`'s calendar week."""
    return day - timedelta(days=day.weekday())


@dataclass(frozen=True)
class Rotation:
    members: tuple[int, ...]
    weeks: tuple[tuple[date, int], ...]  # (Monday, the member who carried that week)


def rotation(
    period: Period, lines: Mapping[int, str], today: date, policy: RotationPolicy
) -> Rotation | None:
    """A team — `lines` are its members' day lines in one village, U where not assigned there —
    taking turns (轮着来). A calendar week (Monday-Sunday, within the period and before today)
    is a turn when the village saw someone on `min_covered_days` days or more, two or more of
    them together on at most `max_overlap_days`, while another member was absent without leave
    on `min_away_days` working days or more. Rotation: `min_weeks` turns or more, carried by at
    least two different members.

    A team that is all there overlaps every week; a member alone while the others are on
    approved leave has no one away without leave; one member who always carries the village
    while the others never come is absence (absent_run), not rotation."""
    if len(lines) < 2:
        return None
    t = today_index(period, today)
    there = {m: _bits(line[:t], _PRESENT_BITS) for m, line in lines.items()}
    seen = twice = 0  # days someone was there; days two or more were
    for bits in there.values():
        twice |= seen & bits
        seen |= bits
    turns: list[tuple[date, int]] = []
    away: dict[int, int] | None = None
    monday = week_start(period.start)
    while (monday - period.start).days < t:
        lo = max((monday - period.start).days, 0)
        hi = min((monday - period.start).days + 7, t)
        window = (1 << (hi - lo)) - 1
        covered = ((seen >> lo) & window).bit_count()
        overlap = ((twice >> lo) & window).bit_count()
        monday += timedelta(days=7)
        if covered < policy.min_covered_days or overlap > policy.max_overlap_days:
            continue
        if away is None:
            away = {m: _bits(line[:t], _AWAY_BITS) for m, line in lines.items()}
        carrier = max(there, key=lambda m: (((there[m] >> lo) & window).bit_count(), -m))
        if any(
            ((bits >> lo) & window).bit_count() >= policy.min_away_days
            for m, bits in away.items()
            if m != carrier
        ):
            turns.append((monday - timedelta(days=7), carrier))
    if len(turns) < policy.min_weeks or len({m for _, m in turns}) < 2:
        return None
    return Rotation(tuple(sorted(lines)), tuple(turns))


def _bit_table(ones: str) -> dict[int, int]:
    return str.maketrans(CHARACTERS, "".join("1" if c in ones else "0" for c in CHARACTERS))


_PRESENT_BITS = _bit_table("Pp")
_AWAY_BITS = _bit_table(".S")  # working days absent without leave


def _bits(line: str, table: dict[int, int]) -> int:
    """Bit i set when day i's character is one of the table's ones."""
    return int(line[::-1].translate(table), 2) if line else 0
