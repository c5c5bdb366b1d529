"""One line of text bound for a sized column (a name, a unit): the one check both databases get.

SQLite stores whatever it is given; PostgreSQL refuses a NUL and anything longer than its
VARCHAR(n) (with an exception, not a refusal). Every importer and command that stores names
asks `line_problem` first, so that both refuse the same values, with the importer's line or
feature number, before anything is written.
"""

from __future__ import annotations

import unicodedata
from typing import Any

from sqlalchemy import String
from sqlalchemy.orm import InstrumentedAttribute

# Bidirectional embeddings, overrides and isolates reorder what a reader sees ("Trojan
# source"); a name never needs one.
_BIDI_CONTROLS = frozenset("\u202a\u202b\u202c\u202d\u202e\u2066\u2067\u2068\u2069")
_SHOWN = 40


def column_length(column: InstrumentedAttribute[Any]) -> int:
    """The n of a VARCHAR(n) column: limits follow the schema, never a copy of it."""
    kind = column.type
    if not isinstance(kind, String) or kind.length is None:
        raise TypeError(f"{column} is not a sized VARCHAR column")
    return int(kind.length)


def line_problem(value: str, max_length: int) -> str | None:
    """What makes `value` unfit for a single-line column of `max_length` characters; None
    if nothing does. Characters are counted as PostgreSQL counts them (code points)."""
    for position, ch in enumerate(value, start=1):
        reason = _character_problem(ch)
        if reason is not None:
            return f"contains {reason} at character {position}"
    if len(value) > max_length:
        return f"is {len(value):,} characters long, at most {max_length}"
    return None


def _character_problem(ch: str) -> str | None:
    if ch == "\x00":
        return "a NUL character (U+0000)"
    category = unicodedata.category(ch)
    if category == "Cc":
        return f"a control character (U+{ord(ch):04X})"
    if category in ("Zl", "Zp"):
        return f"a line break (U+{ord(ch):04X})"
    if category == "Cs":
        return f"a lone surrogate (U+{ord(ch):04X}), not text"
    if ch in _BIDI_CONTROLS:
        return f"a text-direction control (U+{ord(ch):04X})"
    return None


def shown(value: str) -> str:
    """`value` quoted for a message, cut short: a refusal must not echo 100,000 characters."""
    if len(value) <= _SHOWN:
        return repr(value)
    return repr(value[:_SHOWN]) + f"… ({len(value):,} characters)"
