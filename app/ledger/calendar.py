"""Working days: the official Chinese holiday calendar with its make-up working weekends (调休),
from the `chinesecalendar` library, and a declared fallback for years it does not cover yet.

For a year the library does not know, a day is a working day when it is Monday to Friday and not
in `policy.calendar.holidays`, or when it is in `policy.calendar.workdays`; responses say which
years fell back, rather than failing.
"""

from __future__ import annotations

from collections.abc import Iterable
from datetime import date
from functools import lru_cache
from typing import Literal

import chinese_calendar

from app.core.policy import CalendarPolicy

Source = Literal["official", "fallback"]


@lru_cache(maxsize=64)
def official_year(year: int) -> bool:
    """Whether the holiday library covers `year`."""
    try:
        chinese_calendar.is_workday(date(year, 6, 1))
    except NotImplementedError:
        return False
    return True


@lru_cache(maxsize=8192)
def _official_workday(day: date) -> bool:
    return bool(chinese_calendar.is_workday(day))


def is_workday(day: date, calendar: CalendarPolicy) -> bool:
    if official_year(day.year):
        return _official_workday(day)
    if day in calendar.workdays:
        return True
    if day in calendar.holidays:
        return False
    return day.weekday() < 5


def source_of(days: Iterable[date]) -> tuple[Source, list[int]]:
    """("official" | "fallback", the years that fell back) for a set of days."""
    fallback = sorted({d.year for d in days if not official_year(d.year)})
    return ("fallback" if fallback else "official"), fallback
