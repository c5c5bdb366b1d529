"""The pure rules of waves, without a database: codes, rates, and each anomaly check."""

from __future__ import annotations

import math
import random
from datetime import UTC, datetime, timedelta

from hypothesis import given
from hypothesis import strategies as st

from app.core.policy import DEFAULT_QUESTIONS, SurveyPolicy
from app.surveys import rules
from app.surveys.rules import AnswerFact

POLICY = SurveyPolicy()
T0 = datetime(2026, 12, 1, 2, 0, tzinfo=UTC)  # 10:00 in Shanghai


def fact(i: int, minutes: float, vector: str = "4,4,4,4,4", device: str = "", hour: int = 10):
    return AnswerFact(i, T0 + timedelta(minutes=minutes), hour, vector, device or f"d{i}")


def test_codes_are_eight_symbols_without_look_alikes_and_stable():
    codes = {rules.derive_code("k", 7, "430121001001", seq) for seq in range(1, 2001)}
    assert len(codes) == 2000
    assert all(len(c) == 8 and not set(c) & set("0O1I") for c in codes)
    assert rules.derive_code("k", 7, "430121001001", 1) == rules.derive_code(
        "k", 7, "430121001001", 1
    )
    assert rules.derive_code("k", 7, "430121001001", 1) != rules.derive_code(
        "other key", 7, "430121001001", 1
    )
    assert rules.normal_code("abcd-efgh") == "ABCDEFGH"
    assert rules.normal_code("ABCDEFG0") is None


@given(st.integers(1, 200), st.integers(0, 200), st.floats(0.001, 0.999))
def test_binomial_tail_is_a_probability_and_matches_the_sum(n, k, p):
    tail = rules.binomial_tail(n, k, p)
    assert 0.0 <= tail <= 1.0
    if k <= n and n <= 60:
        exact = sum(math.comb(n, i) * p**i * (1 - p) ** (n - i) for i in range(k, n + 1))
        assert math.isclose(tail, exact, rel_tol=1e-6, abs_tol=1e-12)


def test_rates_leave_out_unknown_and_excluded_answers():
    counts = rules.tally(
        DEFAULT_QUESTIONS, [("5,4,4,5,u", False), ("u,3,3,2,4", False), ("5,5,5,5,5", True)]
    )
    assert (counts.satisfaction_n, counts.satisfied) == (3, 2)
    assert (counts.satisfaction_n_all, counts.satisfied_all) == (5, 4)
    assert (counts.known_n, counts.known) == (1, 1)
    assert counts.satisfaction_rate == round(2 / 3, 4)
    assert counts.satisfaction_rate_all == 0.8
    assert rules.Tally().satisfaction_rate is None


def test_varied_answers_raise_nothing_and_many_identical_ones_do():
    rng = random.Random(1)
    honest = [fact(i, 30 * i, ",".join(rng.choice("12345u") for _ in range(5))) for i in range(40)]
    assert rules.anomalies(honest, POLICY) == []
    bought = [fact(100 + i, 30 * i + 7, "5,5,5,5,5") for i in range(8)]
    found = rules.identical_answers(honest + bought, POLICY)
    assert [a.answer_ids for a in found] == [[100 + i for i in range(8)]]


def test_a_burst_names_every_answer_of_overlapping_windows_once():
    run = [fact(i, 1.5 * i) for i in range(9)]  # 12 minutes, six within any 10
    far = [fact(50, 300), fact(51, 600)]
    found = rules.bursts(run + far, POLICY)
    assert [a.answer_ids for a in found] == [list(range(9))]
    assert rules.bursts([fact(i, 3 * i) for i in range(5)], POLICY) == []


def test_same_device_and_off_hours_wrap_midnight():
    same = [fact(i, 60 * i, device="phone") for i in range(3)]
    assert [a.answer_ids for a in rules.same_devices(same, POLICY)] == [[0, 1, 2]]
    night = [fact(i, 60 * i, hour=h) for i, h in enumerate((23, 2, 5, 6, 22))]
    assert [a.answer_ids for a in rules.off_hours(night, POLICY)] == [[0, 1, 2]]
    assert not rules.is_off_hour(6, POLICY)
