"""Day lines: a member's period as one string, a character per day, built from the ledger's day
marks, the working days and the assigned spans. Pure: no database, no clock. The compliance rules
(`rules`) count and match over these strings, so that a city's ten thousand members are judged
at C speed.
"""

from __future__ import annotations

from collections.abc import Iterable
from datetime import date, timedelta
from enum import StrEnum
from typing import Protocol


class Span(Protocol):
    """The days a line covers (a compliance period: `rules.Period`)."""

    @property
    def start(self) -> date: ...
    @property
    def days(self) -> int: ...


# A member's period is one string, a character per day (so that the counts below run at C speed
# over ten thousand members). Working days are upper case, other days lower case:
#   P/p present (the day rule is met)      O/o official business (公出), approved, not present
#   L/l other approved leave, not present  S/s counted fixes that never made a day (short visit)
#   ./_ nothing (absent when past)         U   not assigned that day
class Mark(StrEnum):
    PRESENT = "P"
    OFFICIAL = "O"
    LEAVE = "L"
    SHORT = "S"


UNASSIGNED = "U"
CHARACTERS = "PpOoLlSs._U"  # every character a day line holds
_UNASSIGNED, _WORKDAY, _OFF_DAY = 0, 1, 2
_MARK_CODES = {"P": 1, "L": 2, "S": 3, "O": 4}
LEAVE_CODE = _MARK_CODES["L"]  # in `marks`: a day of leave
_OFFICIAL = bytes.maketrans(b"\x02", b"\x04")  # leave → official business


def _line_table() -> bytes:
    # byte = mark code × 4 + day code  →  the day's character
    table = bytearray(b"?" * 256)
    for mark, code in {"": 0, **_MARK_CODES}.items():
        table[code * 4 + _UNASSIGNED] = ord(UNASSIGNED)
        table[code * 4 + _WORKDAY] = ord(mark or ".")
        table[code * 4 + _OFF_DAY] = ord(mark.lower() or "_")
    return bytes(table)


_LINE_TABLE = _line_table()


def base_line(period: Span, workdays: Iterable[date]) -> bytes:
    """The period's day codes: working day (调休 included) or not; day_line's `base`."""
    working = set(workdays)
    return bytes(
        _WORKDAY if period.start + timedelta(days=i) in working else _OFF_DAY
        for i in range(period.days)
    )


def marks_from_days(days: int, marks: Iterable[tuple[int, str]]) -> bytearray:
    """day_line's `marks` from (day offset, P/L/S) pairs."""
    found = bytearray(days)
    for offset, mark in marks:
        found[offset] = _MARK_CODES[mark]
    return found


_BIT_BYTES = {
    mark: str.maketrans({"0": "00", "1": f"{code:02x}"}) for mark, code in _MARK_CODES.items()
}


def marks_from_bits(present: str, leave: str, short: str) -> bytearray:
    """day_line's `marks` from one '0'/'1' string per kind of day (bit i: day i)."""
    total = 0
    for mark, bits in (("P", present), ("L", leave), ("S", short)):
        if bits:
            total += int.from_bytes(bytes.fromhex(bits.translate(_BIT_BYTES[mark])), "big")
    n = max(len(present), len(leave), len(short))
    return bytearray(total.to_bytes(n, "big"))


def day_line(
    period: Span,
    base: bytes,
    assigned: Iterable[tuple[date, date]],
    marks: bytes,
    official: Iterable[tuple[date, date]] = (),
) -> str:
    """A member's period as a day line: `base` from base_line, `assigned` the (first, last)
    day spans, `marks` a mark code per day (marks_from_days, marks_from_bits; ignored outside
    the assigned days), `official` the spans of official business (公出): leave there becomes O.

    Built with byte strings and one big-integer sum, as it runs for every member of a city."""
    n = period.days
    days = bytearray(n)
    for lo, hi in assigned:
        a, b = _slice(period, lo, hi)
        days[a:b] = base[a:b]
    found = bytearray(marks) if marks else bytearray(n)
    for lo, hi in official:
        a, b = _slice(period, lo, hi)
        found[a:b] = found[a:b].translate(_OFFICIAL)
    # Every byte of `found` is < 64, so shifting the whole number left by 2 multiplies each
    # byte by 4 without carrying into its neighbour; the day codes (< 4) fill the low bits.
    combined = (int.from_bytes(found, "big") << 2) | int.from_bytes(days, "big")
    return combined.to_bytes(n, "big").translate(_LINE_TABLE).decode("ascii")


def _slice(period: Span, lo: date, hi: date) -> tuple[int, int]:
    a = min(max((lo - period.start).days, 0), period.days)
    b = min(max((hi - period.start).days + 1, 0), period.days)
    return a, max(a, b)


def today_index(period: Span, today: date) -> int:
    """How many of the period's days lie before today."""
    return min(max((today - period.start).days, 0), period.days)


def merge(a: str | None, b: str) -> str:
    """Two day lines of one member in one village (two assignments there): assigned wins."""
    if a is None:
        return b
    return "".join(y if x == UNASSIGNED else x for x, y in zip(a, b, strict=True))
