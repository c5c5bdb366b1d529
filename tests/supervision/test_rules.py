"""Supervision's pure rules, without a database."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import pytest
from hypothesis import given
from hypothesis import strategies as st

from app.core.policy import SupervisionPolicy
from app.supervision import rules

T0 = datetime(2026, 11, 2, 2, 0, tzinfo=UTC)
T1 = T0 + timedelta(minutes=30)
P = SupervisionPolicy()


def answer(minutes=10.0, geofence="inside", flags=(), voided=False, checkin_id=1):
    return rules.Answer(checkin_id, T0 + timedelta(minutes=minutes), geofence, flags, voided)


@pytest.mark.parametrize(
    ("a", "status"),
    [
        (answer(), "answered"),
        (answer(geofence="near"), "answered"),
        (answer(0), "answered"),
        (answer(30), "answered"),
        (answer(31), "late"),
        (answer(-1), "late"),
        (answer(geofence="outside"), "outside"),
        (answer(geofence=None), "outside"),
        (answer(flags=("mock_location",)), "mock"),
        (answer(45, "outside", ("mock_location",)), "mock"),
        (answer(45, "outside"), "late"),
    ],
)
def test_judge_answer(a, status):
    assert rules.judge_answer(a, T0, T1) == status


def test_verdict_prefers_a_good_answer_then_leave_then_the_first_bad_answer():
    late, good = answer(40, checkin_id=1), answer(20, checkin_id=2)
    assert rules.verdict([late, good], False, T0, T1) == rules.Verdict("responded", 2, None)
    assert rules.verdict([late], True, T0, T1) == rules.Verdict("excused", None, None)
    assert rules.verdict([late], False, T0, T1) == rules.Verdict("rejected", 1, "late")
    assert rules.verdict([answer(voided=True)], False, T0, T1).reason == "voided"
    assert rules.verdict([], False, T0, T1) == rules.Verdict("missing", None, None)


answers = st.lists(
    st.builds(
        answer,
        minutes=st.floats(-60, 90),
        geofence=st.sampled_from(["inside", "near", "outside", None]),
        flags=st.sampled_from([(), ("mock_location",), ("late_sync",)]),
        voided=st.booleans(),
        checkin_id=st.integers(1, 1000),
    ),
    max_size=5,
)


@given(answers, st.booleans())
def test_verdict_does_not_depend_on_upload_order(items, excused):
    forward = rules.verdict(items, excused, T0, T1)
    assert rules.verdict(list(reversed(items)), excused, T0, T1).bucket == forward.bucket
    responded = any(not a.voided and rules.judge_answer(a, T0, T1) == "answered" for a in items)
    assert (forward.bucket == "responded") == responded


def test_missed_only_once_the_window_closed():
    assert not rules.missed("missing", T1, T1)
    assert rules.missed("missing", T1, T1 + timedelta(seconds=1))
    assert rules.missed("rejected", T1, T1 + timedelta(hours=1))
    assert not rules.missed("excused", T1, T1 + timedelta(hours=1))


@pytest.mark.parametrize(
    ("minutes", "ok"), [(0, False), (-1, False), (1, True), (1440, True), (1441, False)]
)
def test_window_bounds_come_from_policy(minutes, ok):
    assert (rules.window_refusal(minutes, P) is None) == ok
    tight = SupervisionPolicy(roll_call_min_window_minutes=5, roll_call_max_window_minutes=60)
    assert rules.window_refusal(4, tight) is not None
    assert rules.window_refusal(61, tight) is not None


def test_event_timing():
    assert not rules.is_late_report(T0, T0 + timedelta(hours=24), P)
    assert rules.is_late_report(T0, T0 + timedelta(hours=24, seconds=1), P)
    assert not rules.is_overdue_event(T0, None, T0 + timedelta(hours=24), P)
    assert rules.is_overdue_event(T0, None, T0 + timedelta(hours=25), P)
    assert not rules.is_overdue_event(T0, T0, T0 + timedelta(hours=25), P)


def test_inspection_window():
    assert rules.near_visit(T0 - timedelta(hours=2), T0, P)
    assert not rules.near_visit(T0 + timedelta(hours=2, seconds=1), T0, P)


@pytest.mark.parametrize(
    ("period", "ok"),
    [("2026Q4", True), ("2026-11", True), ("2026", True), ("2026Q5", False),
     ("2026-13", False), ("2026-00", False), ("abc", False), ("2026q4", False), ("", False)],
)  # fmt: skip
def test_periods(period, ok):
    assert rules.valid_period(period) == ok


@pytest.mark.parametrize(
    ("kind", "opener", "opener_id", "closer", "closer_id", "ok"),
    [
        ("inspection", "township", 1, "township", 2, False),
        ("inspection", "township", 1, "county", 2, True),
        ("inspection", "county", 1, "county", 2, False),
        ("inspection", "county", 1, "township", 2, False),
        ("inspection", "county", 1, "city", 2, True),
        ("inspection", "city", 1, "city", 1, False),
        ("inspection", "city", 1, "city", 2, True),
        ("inspection", "city", 1, "county", 2, False),
        ("manual", "county", 1, "township", 2, True),
        ("violation", "city", 1, "city", 1, True),
    ],
)
def test_who_may_close(kind, opener, opener_id, closer, closer_id, ok):
    assert rules.may_close(kind, opener, opener_id, closer, closer_id) == ok
