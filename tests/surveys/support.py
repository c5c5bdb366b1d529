"""Helpers of the survey tests: a clock the answering routes read, a wave, its codes."""

from __future__ import annotations

import csv
import io
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from typing import Any
from zoneinfo import ZoneInfo

import pytest

SHANGHAI = ZoneInfo("Asia/Shanghai")
VILLAGE = "430121001001"
QUESTIONS = ("q1", "q2", "q3", "q4", "q5")


@dataclass
class Clock:
    """What `utcnow` answers in the survey routes; None: the real time."""

    now: datetime | None = None
    calls: list[datetime] = field(default_factory=list)

    def __call__(self) -> datetime:
        return self.now or datetime.now(UTC)


@pytest.fixture
def clock(monkeypatch: pytest.MonkeyPatch) -> Clock:
    from app.surveys import router

    c = Clock()
    monkeypatch.setattr(router, "utcnow", c)
    return c


def local(day_offset: int, hour: int, minute: int = 0) -> datetime:
    """An instant at a local (Asia/Shanghai) time, days from today."""
    today = datetime.now(SHANGHAI).date() + timedelta(days=day_offset)
    return datetime(today.year, today.month, today.day, hour, minute, tzinfo=SHANGHAI).astimezone(
        UTC
    )


def open_wave(world: Any, scope: str = "430121001", codes: int = 30, **extra: Any) -> dict:
    now = datetime.now(UTC)
    body = {
        "scope": scope,
        "title": "驻村工作满意度测评",
        "opens_at": (now - timedelta(days=3)).isoformat(),
        "closes_at": (now + timedelta(days=5)).isoformat(),
        "codes_per_village": codes,
        "questions": None,
        **extra,
    }
    r = world.post("county", "/surveys", json=body)
    assert r.status_code == 201, r.text
    return r.json()


def codes_of(world: Any, survey_id: int, village: str = VILLAGE, who: str = "county") -> list[str]:
    r = world.get(who, f"/surveys/{survey_id}/cards?village_code={village}&format=csv")
    assert r.status_code == 200, r.text
    rows = list(csv.DictReader(io.StringIO(r.text)))
    return [row["code"] for row in rows]


def answer(client: Any, code: str, values: tuple, user_agent: str = "tests", **headers: str) -> Any:
    body = {"answers": dict(zip(QUESTIONS, values, strict=True)), "comment": ""}
    return client.post(
        f"/api/v1/public/surveys/{code}",
        json=body,
        headers={"User-Agent": user_agent, **headers},
    )
