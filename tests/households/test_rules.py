"""The households domain's pure rules: due dates, overdue spans, masks, the grade hint."""

from __future__ import annotations

from datetime import date, timedelta

from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from app.core.policy import EvaluationPolicy, Policy
from app.households import rules

D0 = date(2026, 1, 1)


def test_the_due_base_is_the_later_of_the_last_visit_and_the_pairing():
    assert rules.due_base(None, D0, date(2025, 1, 1)) == D0
    assert rules.due_base(D0 + timedelta(days=3), D0, D0) == D0 + timedelta(days=3)
    assert rules.due_base(D0 - timedelta(days=3), D0, D0) == D0  # the last member's visit
    assert rules.next_due(D0, "high", Policy()) == D0 + timedelta(days=7)


def test_overdue_spans_count_from_each_visit():
    # key: due 30 days after the pairing; visited on day 40: overdue days 31..39.
    spans = rules.overdue_spans(D0, None, [D0 + timedelta(days=40)], 30, D0, D0 + timedelta(50))
    assert [(s.start, s.end, s.days) for s in spans] == [
        (D0 + timedelta(days=31), D0 + timedelta(days=39), 9)
    ]
    # A visit before the pairing does not count; a pairing that ended stops the count.
    assert rules.overdue_spans(D0, D0 + timedelta(days=20), [], 30, D0, D0 + timedelta(90)) == []


# No deadline or speed health check: the suite runs on two loaded cores.
@settings(deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(
    st.lists(st.integers(0, 200), max_size=12),
    st.integers(1, 90),
    st.integers(0, 200),
    st.integers(0, 200),
)
def test_overdue_days_are_exactly_the_days_past_due(visits, interval, lo, hi):
    start, end = D0 + timedelta(days=min(lo, hi)), D0 + timedelta(days=max(lo, hi))
    days = [D0 + timedelta(days=v) for v in visits]
    spans = rules.overdue_spans(D0, None, days, interval, start, end)
    marked = {s.start + timedelta(days=i) for s in spans for i in range((s.end - s.start).days + 1)}
    for n in range((end - start).days + 1):
        day = start + timedelta(days=n)
        last = max([D0, *(d for d in days if d <= day)])
        due = last + timedelta(days=interval)
        visited_today = day in days
        assert (day in marked) == (day > due and not visited_today), day


def test_phones_are_masked_and_the_hint_follows_the_thresholds():
    assert rules.mask_phone("13812345678") == "138****5678"
    assert rules.mask_phone(None) is None
    ev = EvaluationPolicy()
    assert rules.grade_hint([0.99, 1.0, None, 0.985], ev) == "excellent_eligible"
    assert rules.grade_hint([0.99, 0.97, 1.0, 1.0], ev) == "ordinary"
    assert rules.grade_hint([1.0, 0.79, 1.0, 1.0], ev) == "referral"
    assert rules.grade_hint([None, None, None, None], ev) == "ordinary"
    assert rules.at_household(150.0, 60.0, Policy())  # 150 − 60 ≤ 100
    assert not rules.at_household(250.0, 60.0, Policy())
