"""Runs of absence as API.md "Absences, settled" words them, without a database: runs are of
consecutive absent working days; a day that is not a working day is skipped, whatever it holds,
unless the member was present there; a present day (working or not), a working day on leave or
official business, and a day not assigned end a run."""

from __future__ import annotations

import itertools
from dataclasses import dataclass
from datetime import date, timedelta

from hypothesis import given
from hypothesis import strategies as st

from app.compliance import rules

# The contract's words, spelled out here independently of the service's own table.
ABSENT = ".S"  # a working day with nothing, or a short visit that made no day
SKIPPED = "_slo"  # not a working day: nothing, a short visit, leave, official business
ENDS = "PpLOU"  # present (any day), leave or official business on a working day, unassigned
CHARACTERS = ABSENT + SKIPPED + ENDS
MONDAY = date(2026, 7, 6)


def test_every_character_has_one_part_in_a_run():
    from app.compliance import day_lines

    assert sorted(CHARACTERS) == sorted(day_lines.CHARACTERS)
    for chars, part in ((ABSENT, "absent"), (SKIPPED, "skipped"), (ENDS, "ends")):
        assert {rules.run_part(c) for c in chars} == {part}


def test_the_probes_weekend_leave_inside_an_absence_is_one_run():
    # 7/6-7/15 2026: Mon-Fri absent, approved leave on Saturday and Sunday, Mon-Wed absent.
    period = rules.Period("month", "x", MONDAY, MONDAY + timedelta(days=9))
    runs = rules.absent_runs(period, "....." + "ll" + "...", date(2026, 8, 1))
    assert [(r.start, r.end, r.workdays) for r in runs] == [
        (date(2026, 7, 6), date(2026, 7, 15), 8)
    ]


@dataclass(frozen=True)
class Calendar:
    """An absence over a stretch of days: working days `.` or `S`, the others `_` or `s`."""

    start: date
    line: str

    @property
    def working(self) -> list[int]:
        return [i for i, c in enumerate(self.line) if c.isupper() or c == "."]


@st.composite
def absences(draw: st.DrawFn) -> Calendar:
    """Mostly Monday-Friday weeks, from any weekday, with a holiday or a make-up Saturday (调休)
    here and there; every day absent: nothing, or a short visit."""
    start = MONDAY + timedelta(days=draw(st.integers(0, 6)))
    n = draw(st.integers(3, 45))
    swapped = draw(st.sets(st.integers(0, n - 1), max_size=3))
    line = []
    for i in range(n):
        working = ((start + timedelta(days=i)).weekday() < 5) != (i in swapped)
        short = draw(st.booleans())
        line.append(("S" if short else ".") if working else ("s" if short else "_"))
    return Calendar(start, "".join(line))


def runs_of(calendar: Calendar, line: str) -> list[tuple[date, date, int]]:
    end = calendar.start + timedelta(days=len(line) - 1)
    period = rules.Period("month", "x", calendar.start, end)
    after = period.end + timedelta(days=1)
    found = rules.absent_runs(period, line, after)
    assert rules.absent_run_lengths(period, line, after) == [r.workdays for r in found]
    return [(r.start, r.end, r.workdays) for r in found]


def one_run(calendar: Calendar, lo: int, hi: int) -> list[tuple[date, date, int]]:
    """The run of an all-absent stretch [lo, hi): first to last working day, if any."""
    working = [i for i in calendar.working if lo <= i < hi]
    if not working:
        return []
    first, last = (calendar.start + timedelta(days=i) for i in (working[0], working[-1]))
    return [(first, last, len(working))]


@given(absences(), st.sampled_from(list(SKIPPED)), st.data())
def test_a_day_off_inside_an_absence_never_ends_the_run(calendar, mark, data):
    """Leave, official business, a short visit or nothing on a day that is not a working day."""
    off = [i for i in range(len(calendar.line)) if i not in calendar.working]
    line = calendar.line
    if off:
        i = data.draw(st.sampled_from(off))
        line = line[:i] + mark + line[i + 1 :]
    assert runs_of(calendar, line) == one_run(calendar, 0, len(line))


@given(absences(), st.sampled_from(list(ENDS)), st.data())
def test_presence_working_day_leave_and_a_gap_end_the_run(calendar, mark, data):
    """A present day (working or not), leave or official business on a working day, a day not
    assigned: the absence either side of it is a run of its own."""
    n = len(calendar.line)
    if mark in "PLO":
        where = calendar.working
    elif mark == "p":
        where = [i for i in range(n) if i not in calendar.working]
    else:
        where = list(range(n))
    if not where:
        return
    i = data.draw(st.sampled_from(where))
    line = calendar.line[:i] + mark + calendar.line[i + 1 :]
    assert runs_of(calendar, line) == one_run(calendar, 0, i) + one_run(calendar, i + 1, n)


@given(st.text(alphabet=CHARACTERS, min_size=1, max_size=60), st.integers(0, 70))
def test_runs_cover_every_past_absent_working_day_once_and_are_as_long_as_they_can_be(text, t):
    period = rules.Period("month", "x", MONDAY, MONDAY + timedelta(days=len(text) - 1))
    runs = rules.absent_runs(period, text, MONDAY + timedelta(days=t))
    past = text[:t]
    spans = [((r.start - MONDAY).days, (r.end - MONDAY).days + 1) for r in runs]
    covered = [i for lo, hi in spans for i in range(lo, hi) if text[i] in ABSENT]
    assert covered == [i for i, c in enumerate(past) if c in ABSENT]  # each once, in order
    for (lo, hi), run in zip(spans, runs, strict=True):
        assert text[lo] in ABSENT
        assert text[hi - 1] in ABSENT
        assert hi <= len(past)
        assert all(c not in ENDS for c in text[lo:hi])
        assert run.workdays == sum(c in ABSENT for c in text[lo:hi])
    for (_, end), (start, _) in itertools.pairwise(spans):
        assert any(c in ENDS for c in text[end:start])  # else they would be one run
