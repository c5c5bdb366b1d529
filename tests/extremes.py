"""Values of time a client may send, up to the calendar's ends: for property tests that
drive them through every route that takes one (tests/checkins/test_extreme_clocks.py,
tests/core/test_extreme_datetimes.py)."""

from __future__ import annotations

from datetime import UTC, date, datetime, timedelta, timezone

from hypothesis import event
from hypothesis import strategies as st

_OFFSETS = st.one_of(
    st.sampled_from([0, 1, -1, 8 * 60, -(5 * 60 + 30), 23 * 60 + 59, -(23 * 60 + 59)]),
    st.integers(min_value=-(23 * 60 + 59), max_value=23 * 60 + 59),
)


@st.composite
def instants(draw: st.DrawFn) -> tuple[str, datetime | None]:
    """(RFC 3339 text, the instant it names in UTC, or None when UTC cannot hold it)."""
    offset = timezone(timedelta(minutes=draw(_OFFSETS)))
    now = datetime.now(UTC)
    kind = draw(st.sampled_from(["edge", "any", "near"]))
    if kind == "edge":
        naive = draw(
            st.sampled_from(
                [
                    datetime(1, 1, 1),
                    datetime(1, 1, 1, 23, 59, 59, 999999),
                    datetime(9999, 12, 31),
                    datetime(9999, 12, 31, 23, 59, 59, 999999),
                    datetime(1970, 1, 1),
                    datetime(2000, 1, 1),
                    datetime(2100, 1, 1),
                ]
            )
        )
    elif kind == "any":
        naive = draw(st.datetimes(min_value=datetime(1, 1, 1), max_value=datetime(9999, 12, 31)))
    else:  # around now and the window's edges
        shift = draw(st.integers(min_value=-40 * 24 * 3600, max_value=3 * 24 * 3600))
        naive = (now + timedelta(seconds=shift)).astimezone(offset).replace(tzinfo=None)
    event(f"instant: {kind}")
    moment = naive.replace(tzinfo=offset)
    text = moment.isoformat()
    try:
        utc: datetime | None = moment.astimezone(UTC)
    except OverflowError:
        utc = None
    return text, utc


@st.composite
def dates(draw: st.DrawFn) -> str:
    """A local date as a client writes it: any day of years 1 to 9999 (the edges, the service's
    own years 2000 to 2099, and around today most often), or text that names no day."""
    kind = draw(st.sampled_from(["edge", "any", "near", "service", "broken"]))
    event(f"date: {kind}")
    if kind == "broken":
        return draw(st.sampled_from(["0000-01-01", "10000-01-01", "2026-02-30", "2026-13-01"]))
    if kind == "edge":
        day = draw(
            st.sampled_from(
                [date.min, date.max, date(1999, 12, 31), date(2000, 1, 1), date(2099, 12, 31),
                 date(2100, 1, 1)]
            )
        )  # fmt: skip
    elif kind == "any":
        day = draw(st.dates())
    elif kind == "service":
        day = draw(st.dates(min_value=date(2000, 1, 1), max_value=date(2099, 12, 31)))
    else:
        day = date.today() + timedelta(days=draw(st.integers(min_value=-400, max_value=400)))
    return f"{day.year:04d}-{day.month:02d}-{day.day:02d}"


@st.composite
def periods(draw: st.DrawFn) -> str:
    """A period as a client writes it (2026Q4, 2026-11, 2026), of any year 0 to 10000, with
    quarters and months out of range too."""
    year = draw(
        st.one_of(
            st.sampled_from([0, 1, 1999, 2000, 2026, 2099, 2100, 9999, 10000]),
            st.integers(min_value=0, max_value=10000),
        )
    )
    kind = draw(st.sampled_from(["quarter", "month", "year"]))
    event(f"period: {kind}")
    if kind == "quarter":
        return f"{year:04d}Q{draw(st.integers(min_value=0, max_value=5))}"
    if kind == "month":
        return f"{year:04d}-{draw(st.integers(min_value=0, max_value=13)):02d}"
    return f"{year:04d}"
