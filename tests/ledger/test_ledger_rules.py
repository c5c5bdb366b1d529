"""The ledger's pure rules, with properties checked by hypothesis."""

from __future__ import annotations

from datetime import UTC, date, datetime, timedelta

from hypothesis import given, settings
from hypothesis import strategies as st

from app.core.policy import DayRulePolicy
from app.ledger import rules

RULE = DayRulePolicy()
D0 = date(2026, 6, 1)
T0 = datetime(2026, 6, 1, tzinfo=UTC)

fixes_st = st.lists(
    st.tuples(st.integers(0, 9), st.integers(0, 86_399)).map(
        lambda p: (D0 + timedelta(days=p[0]), T0 + timedelta(days=p[0], seconds=p[1]))
    ),
    max_size=30,
)
leave_st = st.builds(
    lambda i, s, n, status, ret: rules.LeaveSpan(
        i,
        status,
        D0 + timedelta(s),
        D0 + timedelta(s + n),
        None if ret is None else D0 + timedelta(ret),
    ),
    st.integers(1, 5),
    st.integers(0, 9),
    st.integers(0, 4),
    st.sampled_from(["approved", "returned", "pending", "cancelled"]),
    st.one_of(st.none(), st.integers(0, 12)),
)


def test_two_fixes_six_hours_apart_make_a_day():
    assert rules.day_rule_met(RULE, 2, T0, T0 + timedelta(hours=6))
    assert not rules.day_rule_met(RULE, 2, T0, T0 + timedelta(hours=6) - timedelta(microseconds=1))
    assert not rules.day_rule_met(RULE, 1, T0, T0 + timedelta(hours=8))
    assert rules.day_rule_met(
        DayRulePolicy(min_checkins=3, min_span_hours=2), 3, T0, T0 + timedelta(hours=2)
    )


@settings(max_examples=60, deadline=None)
@given(fixes_st, st.lists(leave_st, max_size=3, unique_by=lambda leave: leave.id), st.randoms())
def test_the_ledger_does_not_depend_on_the_order_of_its_inputs(fixes, leaves, rnd):
    expected = rules.facts_from_fixes(RULE, fixes, leaves)
    shuffled_fixes, shuffled_leaves = list(fixes), list(leaves)
    rnd.shuffle(shuffled_fixes)
    rnd.shuffle(shuffled_leaves)
    assert rules.facts_from_fixes(RULE, shuffled_fixes, shuffled_leaves) == expected


@settings(max_examples=60, deadline=None)
@given(fixes_st, st.lists(leave_st, max_size=3, unique_by=lambda leave: leave.id))
def test_each_day_agrees_with_its_own_fixes_and_leave(fixes, leaves):
    ledger = rules.facts_from_fixes(RULE, fixes, leaves)
    for day in {D0 + timedelta(i) for i in range(14)}:
        times = [t for d, t in fixes if d == day]
        facts = ledger.get(day)
        cover = rules.covering_leave(leaves, day)
        if not times and cover is None:
            assert facts is None
            continue
        assert facts is not None
        assert facts.counted_checkins == len(times)
        assert facts.leave_id == cover
        assert facts.present == rules.day_rule_met(
            RULE, len(times), min(times, default=None), max(times, default=None)
        )
        # A returned leave never covers its return day or later.
        for leave in leaves:
            if leave.returned_on is not None and day >= leave.returned_on:
                assert facts.leave_id != leave.id


def test_status_present_wins_over_leave_and_today_is_pending():
    today = D0 + timedelta(days=5)
    present = rules.DayFacts(2, T0, T0 + timedelta(hours=7), True, 3)
    partial = rules.DayFacts(1, T0, T0, False, None)
    leave = rules.DayFacts(0, None, None, False, 3)
    assert rules.status(present, True, D0, today) == "present"
    assert rules.status(leave, True, D0, today) == "leave"
    assert rules.status(leave, True, today + timedelta(3), today) == "leave"
    assert rules.status(partial, True, D0, today) == "partial"
    assert rules.status(partial, True, today, today) == "pending"
    assert rules.status(None, True, D0, today) == "absent"
    assert rules.status(None, True, today, today) == "pending"
    assert rules.status(present, False, D0, today) == "unassigned"


def test_overstay_runs_from_the_day_after_leave_until_back():
    leave = rules.LeaveSpan(1, "approved", D0, D0 + timedelta(2))
    always = [rules.Period(D0 - timedelta(100), None)]
    today = D0 + timedelta(10)
    span = rules.overstay(leave, None, always, today)
    assert span == rules.Overstay(1, D0 + timedelta(3), D0 + timedelta(9))
    # A counted fix on day 6 brings the member back.
    assert rules.overstay(leave, D0 + timedelta(6), always, today) == rules.Overstay(
        1, D0 + timedelta(3), D0 + timedelta(5)
    )
    # Back the day after: no overstay; reported return too.
    assert rules.overstay(leave, D0 + timedelta(3), always, today) is None
    returned = rules.LeaveSpan(1, "returned", D0, D0 + timedelta(2), D0 + timedelta(1))
    assert rules.overstay(returned, None, always, today) is None
    # The assignment ending stops it; a cancelled leave has none.
    ends = [rules.Period(D0 - timedelta(100), D0 + timedelta(4))]
    assert rules.overstay(leave, None, ends, today) == rules.Overstay(
        1, D0 + timedelta(3), D0 + timedelta(4)
    )
    assert rules.overstay(rules.LeaveSpan(1, "cancelled", D0, D0), None, always, today) is None
    # Today itself is not yet an overstay.
    assert rules.overstay(leave, None, always, D0 + timedelta(3)) is None


@settings(max_examples=60, deadline=None)
@given(st.integers(0, 20), st.one_of(st.none(), st.integers(0, 20)), st.integers(0, 25))
def test_an_overstay_lies_after_the_leave_and_before_today(end, back, today_offset):
    leave = rules.LeaveSpan(1, "approved", D0, D0 + timedelta(end))
    today = D0 + timedelta(today_offset)
    back_day = None if back is None else D0 + timedelta(back)
    span = rules.overstay(leave, back_day, [rules.Period(D0, None)], today)
    if span is not None:
        assert leave.end < span.start <= span.end < today
        assert back_day is None or span.end < back_day
