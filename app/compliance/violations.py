"""Violations: what they are, and what day lines show. A member's own line shows absences,
runs and short visits; a village team's lines show rotation (轮着来). What other records show
(flagged fixes, overstays, the other domains' findings) is read by `sources`; `periods.gather`
puts them together for the members of one period.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Mapping
from dataclasses import dataclass
from datetime import date, timedelta
from typing import Protocol

from app.compliance import rules
from app.compliance.reading import Loaded
from app.core.policy import Policy


class FindingLike(Protocol):
    @property
    def code(self) -> str: ...
    @property
    def date(self) -> dt.date | None: ...
    @property
    def start(self) -> dt.date | None: ...
    @property
    def end(self) -> dt.date | None: ...
    @property
    def detail(self) -> str: ...


@dataclass(frozen=True)
class Violation:
    code: str
    date: dt.date | None
    start: dt.date | None
    end: dt.date | None
    detail: str

    @classmethod
    def of(cls, finding: FindingLike) -> Violation:
        return cls(finding.code, finding.date, finding.start, finding.end, finding.detail)

    @property
    def order(self) -> tuple[dt.date, str]:
        """A member's violations are listed by their first day, then code."""
        return (self.date or self.start or dt.date.min, self.code)


def from_line(policy: Policy, period: rules.Period, line: str, today: date) -> list[Violation]:
    """What one member's day line shows: absences without leave, long runs, short visits."""
    out = []
    n = policy.compliance.absent_run_days
    for run in rules.absent_runs(period, line, today):
        one = run.start == run.end
        out.append(
            Violation(
                "absent_without_leave",
                run.start if one else None,
                None if one else run.start,
                None if one else run.end,
                f"absent without leave on {run.workdays} working day(s) (无故缺勤)",
            )
        )
        if run.workdays >= n:
            out.append(
                Violation(
                    "absent_run",
                    None,
                    run.start,
                    run.end,
                    f"{run.workdays} consecutive working days absent without leave, "
                    f"{n} or more make a run (长期不在村)",
                )
            )
    short = rules.short_visits(period, line, today, policy.compliance)
    if short is not None:
        out.append(
            Violation(
                "short_visits",
                None,
                short.start,
                short.end,
                f"{short.days} day(s) with check-ins that never made a day "
                f"(fewer than {policy.day_rule.min_checkins} counted fixes "
                f"{policy.day_rule.min_span_hours:g} h apart), against {short.present_days} "
                "credited day(s) (走读作秀)",
            )
        )
    return out


def line_counts(policy: Policy, period: rules.Period, line: str, today: date) -> dict[str, int]:
    """from_line's violations counted by code, without building them (a whole city's list)."""
    runs = rules.absent_run_lengths(period, line, today)
    out = {}
    if runs:
        out["absent_without_leave"] = len(runs)
        long = sum(1 for n in runs if n >= policy.compliance.absent_run_days)
        if long:
            out["absent_run"] = long
    if rules.short_visits(period, line, today, policy.compliance) is not None:
        out["short_visits"] = 1
    return out


def from_rotation(found: rules.Rotation, names: Mapping[int, str], village_code: str) -> Violation:
    turns = "; ".join(
        f"week of {monday.isoformat()} (ISO {monday.isocalendar().year}-W"
        f"{monday.isocalendar().week:02d}): {names.get(m, str(m))}"
        for monday, m in found.weeks
    )
    team = ", ".join(names.get(m, str(m)) for m in found.members)
    first = found.weeks[0][0]
    last = found.weeks[-1][0]
    return Violation(
        "rotation",
        None,
        first,
        last + timedelta(days=6),
        f"the team of village {village_code} ({team}) took turns (轮着来): {turns}",
    )


def rotations(
    policy: Policy, loaded: Loaded, span: rules.Period, today: date
) -> list[tuple[str, rules.Rotation]]:
    """Every team of the loaded villages that took turns (轮着来) in the span: teams of two or
    more with at least one member asked for."""
    out = []
    for village, team_lines in sorted(loaded.teams.items()):
        if len(team_lines) < 2 or not any(loaded.people[m][2] for m in team_lines):
            continue
        found = rules.rotation(span, team_lines, today, policy.compliance.rotation)
        if found is not None:
            out.append((village, found))
    return out
