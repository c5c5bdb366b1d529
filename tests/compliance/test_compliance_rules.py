"""The compliance rules without a database: periods, pro-rating, pace, day lines, patterns."""

from __future__ import annotations

from datetime import date, timedelta
from pathlib import Path

import pytest
from hypothesis import given
from hypothesis import strategies as st
from pydantic import ValidationError

from app.compliance import rules
from app.core.policy import CompliancePolicy, Policy, QuotaRule, RotationPolicy, load_policy

Q = rules.quarter(2025, 4)
RULE = QuotaRule(period="quarter", days=50)


def line(pattern: str, period: rules.Period = Q) -> str:
    """A day line from a weekly pattern repeated over the period (no holidays)."""
    return (pattern * 100)[: period.days]


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("2026Q4", ("quarter", date(2026, 10, 1), date(2026, 12, 31))),
        ("2026-02", ("month", date(2026, 2, 1), date(2026, 2, 28))),
        ("2024-02", ("month", date(2024, 2, 1), date(2024, 2, 29))),
        ("2026", ("year", date(2026, 1, 1), date(2026, 12, 31))),
    ],
)
def test_periods(text, expected):
    period = rules.parse_period(text)
    assert period is not None
    assert (period.kind, period.start, period.end) == expected


@pytest.mark.parametrize("text", ["2026Q5", "2026Q0", "2026-13", "2026-00", "abc", "", "0000"])
def test_bad_periods(text):
    assert rules.parse_period(text) is None


def test_periods_within_a_quarter_are_its_months():
    labels = [p.label for p in rules.periods_within("month", Q)]
    assert labels == ["2025-10", "2025-11", "2025-12"]
    assert [p.label for p in rules.periods_within("quarter", rules.month(2025, 11))] == ["2025Q4"]


@given(st.integers(0, 92), st.integers(0, 92))
def test_pro_rating_rounds_up_and_never_exceeds_the_rule(days, assigned):
    required = rules.required_days(days, assigned, 92)
    assert 0 <= required <= days
    assert required * 92 >= days * assigned
    assert (required - 1) * 92 < days * assigned or required == 0


@given(
    st.integers(0, 60), st.integers(0, 92), st.integers(0, 92), st.integers(1, 92), st.booleans()
)
def test_status_is_consistent(required, credited, elapsed, assigned, over):
    elapsed = min(elapsed, assigned)
    status = rules.status(required, credited, elapsed, assigned, over)
    if credited >= required:
        assert status == "met"
    elif over:
        assert status == "missed"
    elif credited + assigned - elapsed < required:
        assert status == "unattainable"
    else:
        assert status in ("at_risk", "on_track")
        assert (status == "at_risk") == (credited / required < elapsed / assigned)


def test_day_line_marks_work_days_leave_and_assignment():
    period = rules.Period("month", "x", date(2025, 10, 1), date(2025, 10, 10))
    work = [date(2025, 10, 9), date(2025, 10, 10), date(2025, 10, 11)]
    base = rules.base_line(period, work)
    marks = rules.marks_from_days(
        period.days, [(0, "P"), (1, "L"), (2, "S"), (8, "P"), (9, "L"), (7, "L")]
    )
    text = rules.day_line(
        period,
        base,
        [(date(2025, 9, 1), date(2025, 10, 3)), (date(2025, 10, 8), date(2025, 10, 31))],
        bytes(marks),
        official=[(date(2025, 10, 10), date(2025, 10, 10))],
    )
    assert text == "plsUUUUlPO"
    assert rules.marks_from_bits("1000000010", "0100000101", "0010000000") == marks


def test_evaluate_counts_working_days_and_pace():
    text = "PPPPP__" * 4 + "PP...__" + "L.L.." + "_" * 2 + "P" * 14 + "U" * 50
    period = Q
    text = text[: period.days].ljust(period.days, "U")
    result = rules.evaluate(RULE, period, text, date(2025, 10, 1) + timedelta(days=40))
    assert result.present_days == 20 + 2 + 14
    assert result.leave_days == 2
    assert result.absent_workdays == 3 + 3
    assert result.pro_rated is True
    assigned = period.days - text.count("U")
    assert result.required_days == -(-50 * assigned // period.days)


def test_absent_runs_skip_weekends_and_stop_at_presence_leave_and_gaps():
    period = rules.Period("month", "x", date(2025, 10, 6), date(2025, 10, 26))  # Mon..Sun
    text = "....._" + "_" + "..P.." + "__" + "LL.U." + "__"
    runs = rules.absent_runs(period, text, date(2025, 11, 1))
    assert [(r.start.day, r.end.day, r.workdays) for r in runs] == [
        (6, 14, 7), (16, 17, 2), (22, 22, 1), (24, 24, 1),
    ]  # fmt: skip
    assert rules.absent_run_lengths(period, text, date(2025, 11, 1)) == [7, 2, 1, 1]


def test_short_visits_need_many_days_and_a_large_share():
    policy = CompliancePolicy()
    lunch = line("SPSP.__")  # as many short days as full ones
    assert rules.short_visits(Q, lunch, date(2026, 1, 1), policy) is not None
    mostly_there = line("PPPPS__")
    assert rules.short_visits(Q, mostly_there, date(2026, 1, 1), policy) is None


def week_lines(*patterns: str) -> dict[int, str]:
    period = rules.Period("month", "x", date(2025, 10, 6), date(2025, 11, 2))  # 4 weeks
    assert period.days == 28
    return {i + 1: p for i, p in enumerate(patterns)}


def run_rotation(lines: dict[int, str]):
    period = rules.Period("month", "x", date(2025, 10, 6), date(2025, 11, 2))
    return rules.rotation(period, lines, date(2025, 12, 1), RotationPolicy())


def test_weekly_turns_are_rotation():
    a = "PPPPP__" + "....._" + "_" + "....._" + "_" + "PPPPP__"
    b = "....._" + "_" + "PPPPP__" + "....._" + "_" + "....._" + "_"
    c = "....._" + "_" + "....._" + "_" + "PPPPP__" + "....._" + "_"
    found = run_rotation(week_lines(a, b, c))
    assert found is not None
    assert found.members == (1, 2, 3)
    assert [m for _, m in found.weeks] == [1, 2, 3, 1]
    assert found.weeks[0][0] == date(2025, 10, 6)


def test_a_team_all_there_or_one_member_carrying_alone_is_not_rotation():
    full = "PPPPP__" * 4
    assert run_rotation(week_lines(full, full, full)) is None
    never = "....._" + "_" + "....._" + "_" + "....._" + "_" + "....._" + "_"
    assert run_rotation(week_lines(full, never, never)) is None  # absence, not turns
    on_leave = "LLLLLll" * 4
    assert run_rotation(week_lines(full, on_leave)) is None


@given(st.lists(st.text(alphabet="PL._", min_size=28, max_size=28), min_size=2, max_size=4))
def test_rotation_never_fires_when_everyone_present_is_together(patterns):
    # the same presence days for everyone: every covered day is an overlap
    together = ["".join("P" if "P" in col else "." for col in zip(*patterns, strict=True))] * len(
        patterns
    )
    found = run_rotation(week_lines(*together))
    assert found is None or together[0].count("P") == 0


def test_policy_quota_rules_and_the_older_days_per_quarter(tmp_path: Path):
    path = tmp_path / "p.toml"
    path.write_text("[quota]\ndays_per_quarter = 40\n", encoding="utf-8")
    loaded = load_policy(path)
    assert loaded.quota.rules == (QuotaRule(period="quarter", days=40),)
    assert loaded.quota.model_dump()["days_per_quarter"] == 40
    # /policy's own output loads back unchanged
    assert Policy.model_validate(loaded.model_dump()) == loaded
    path.write_text(
        '[quota]\ndays_per_quarter = 40\n[[quota.rules]]\nperiod = "month"\ndays = 20\n',
        encoding="utf-8",
    )
    with pytest.raises(ValidationError, match="older spelling"):
        load_policy(path)
    for bad in (
        '[[quota.rules]]\nperiod = "month"\ndays = 40\n',
        '[[quota.rules]]\nperiod = "week"\ndays = 4\n',
        '[[quota.rules]]\nperiod = "month"\ndays = 20\n'
        '[[quota.rules]]\nperiod = "month"\ndays = 10\n',
        "[quota]\nrules = []\n",
    ):
        path.write_text(bad, encoding="utf-8")
        with pytest.raises(ValidationError):
            load_policy(path)
    assert Policy().flags.serious == (
        "mock_location", "impossible_speed", "repeated_fix", "clock_skew", "replayed_track",
        "shared_device",  # issue 19: one phone for several members counts by default
    )  # fmt: skip


@given(st.text(alphabet="PpLlOoSs._U", min_size=92, max_size=92), st.integers(0, 100))
def test_the_list_counts_what_the_member_answer_lists(text, day):
    from app.compliance import violations

    policy = Policy()
    today = Q.start + timedelta(days=day)
    listed: dict[str, int] = {}
    for v in violations.from_line(policy, Q, text, today):
        listed[v.code] = listed.get(v.code, 0) + 1
    assert violations.line_counts(policy, Q, text, today) == listed
