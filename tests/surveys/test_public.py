"""The public routes' refusals: an unknown code 404, answers out of range 422, a missing or
unknown question 422 `invalid_answers`, and the per-address limit 429 (unknown codes count)."""

from __future__ import annotations

import pytest

from app.core.policy import Policy, SurveyPolicy
from tests.surveys.support import QUESTIONS, answer, clock, codes_of, open_wave

__all__ = ["clock"]


@pytest.fixture
def policy() -> Policy:
    return Policy(surveys=SurveyPolicy(max_answers_per_address=4))


def test_refusals_of_the_public_routes(world, clock):
    wave = open_wave(world)
    codes = codes_of(world, wave["id"])
    for bad in ("AAAAAAAA", "0O1I0O1I", "x"):
        r = world.client.get(f"/api/v1/public/surveys/{bad}")
        assert r.status_code == 404
        assert r.json()["code"] == "code_not_found"
    body = {"answers": dict.fromkeys(QUESTIONS, 6)}
    r = world.client.post(f"/api/v1/public/surveys/{codes[0]}", json=body)
    assert r.status_code == 422
    assert r.json()["code"] == "validation_error"
    body = {"answers": dict.fromkeys(QUESTIONS[:4], 4)}
    r = world.client.post(f"/api/v1/public/surveys/{codes[0]}", json=body)
    assert r.status_code == 422
    assert r.json()["code"] == "invalid_answers"
    body = {"answers": {**dict.fromkeys(QUESTIONS, 4), "q9": 1}}
    r = world.client.post(f"/api/v1/public/surveys/{codes[0]}", json=body)
    assert r.status_code == 422
    assert r.json()["code"] == "invalid_answers"
    # Three unknown codes above and one answer make four: the fifth request is refused.
    assert answer(world.client, codes[1], (4, 4, 4, 4, "unknown")).status_code == 200
    r = answer(world.client, codes[2], (4, 4, 4, 4, 4))
    assert r.status_code == 429
    assert r.json()["code"] == "too_many_answers"
    assert int(r.headers["Retry-After"]) > 0
    # Another address is not held back.
    other = world.client.post(
        f"/api/v1/public/surveys/{codes[2]}",
        json={"answers": dict.fromkeys(QUESTIONS, 3)},
        headers={"X-Forwarded-For": "198.51.100.7"},
    )
    assert other.status_code in (200, 429)  # forwarded only from trusted proxies


def test_only_county_and_city_open_waves_within_their_scope(world):
    body = {
        "scope": "430121",
        "title": "测评",
        "opens_at": "2026-12-01T00:00:00+08:00",
        "closes_at": "2027-06-01T00:00:00+08:00",
    }
    for who, status in (("alice", 403), ("township1", 403), ("auditor", 403), ("admin", 403)):
        assert world.post(who, "/surveys", json=body).status_code == status, who
    assert world.post("othercounty", "/surveys", json=body).status_code == 404
    r = world.post("county", "/surveys", json={**body, "closes_at": "2026-01-02T00:00:00+08:00"})
    assert r.status_code == 422
    assert r.json()["code"] == "invalid_survey_window"
    questions = [
        {"id": "q1", "text": "a", "kind": "known"},
        {"id": "q1", "text": "b", "kind": "known"},
    ]
    r = world.post(
        "county",
        "/surveys",
        json={
            **body,
            "opens_at": "2026-12-01T00:00:00+08:00",
            "closes_at": "2027-01-01T00:00:00+08:00",
            "questions": questions,
        },
    )
    assert r.status_code == 422
    assert r.json()["code"] == "invalid_questions"
    r = world.post("county", "/surveys", json={**body, "scope": "430121009"})
    assert r.status_code == 422
    assert r.json()["code"] == "no_villages"
