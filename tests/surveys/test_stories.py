"""Issue 20's stories through the API, on both backends: a wave of 30 codes in a village,
20 honest varied answers (the rates worked out by hand below), a code used twice (409), a
closed wave (410); then 8 identical "5"s within two minutes from one phone, shown as a burst
and one device, excluded by an auditor, and the rates computed again."""

from __future__ import annotations

from datetime import timedelta

from tests.surveys.support import VILLAGE, answer, clock, codes_of, local, open_wave

__all__ = ["clock"]

U = "unknown"
# q1 known, q2 presence, q3 visited, q4 and q5 satisfaction.
HONEST = [
    (5, 4, 4, 5, 4),
    (4, 3, 2, 4, 3),
    (3, 4, U, 2, 3),
    (5, 5, 5, 5, U),
    (2, 2, 1, 1, 2),
    (4, 4, 3, 4, 5),
    (U, 3, 3, 3, 4),
    (5, 4, 5, 5, 5),
    (1, 2, 1, 3, 2),
    (4, 5, 4, 4, 4),
    (3, 3, 3, 3, 3),
    (5, 4, 4, U, U),
    (4, 4, 5, 5, 4),
    (2, 3, 2, 2, 1),
    (5, 5, 4, 4, 5),
    (4, 3, 4, 5, 3),
    (3, 2, 3, 4, 4),
    (5, 5, 5, 5, 4),
    (4, 4, 2, 2, 3),
    (1, U, 1, 1, 1),
]
# By hand: satisfaction answers that are not unknown: 18 rows × 2 + row 4 (q5 unknown) × 1 +
# row 12 (both unknown) × 0 = 37; of them 4–5: 2+1+0+1+0+2+1+2+0+2+0+0+2+0+2+1+2+2+0+0 = 20.
# Known (q1): 19 answers not unknown (row 7 is), of them 4–5: rows 1 2 4 6 8 10 12 13 15 16
# 18 19 = 12.
HONEST_SATISFACTION = round(20 / 37, 4)
HONEST_KNOWN = round(12 / 19, 4)
# With 8 all-"5" answers more: (20 + 16) / (37 + 16) and (12 + 8) / (19 + 8).
WITH_BOUGHT_SATISFACTION = round(36 / 53, 4)
WITH_BOUGHT_KNOWN = round(20 / 27, 4)


def _village(results: dict, code: str = VILLAGE) -> dict:
    return next(v for v in results["villages"] if v["village_code"] == code)


def test_a_wave_honest_answers_a_reused_code_a_bought_burst_excluded(world, clock):
    wave = open_wave(world)
    assert [q["id"] for q in wave["questions"]] == ["q1", "q2", "q3", "q4", "q5"]
    assert [q["kind"] for q in wave["questions"]] == [
        "known",
        "presence",
        "visited",
        "satisfaction",
        "satisfaction",
    ]
    assert wave["villages"] == 2
    assert wave["status"] == "open"
    codes = codes_of(world, wave["id"])
    assert len(codes) == 30
    assert len(set(codes)) == 30
    assert all(len(c) == 8 and not set(c) & set("0O1I") for c in codes)
    assert codes_of(world, wave["id"]) == codes, "printed again: the same codes"
    assert set(codes).isdisjoint(codes_of(world, wave["id"], "430121001002"))

    # The card: the village, its team, the questions.
    r = world.client.get(f"/api/v1/public/surveys/{codes[0]}")
    assert r.status_code == 200, r.text
    card = r.json()
    assert card["village_name"] == "东山村"
    assert card["team"] == ["Alice"]
    assert len(card["questions"]) == 5
    # Typed as people type it: lower case, a space.
    assert world.client.get(f"/api/v1/public/surveys/{codes[0][:4].lower()} {codes[0][4:]}")

    # 20 honest answers over a working day, 25 minutes apart, each from its own phone.
    start = local(-1, 9)
    ids = []
    for n, values in enumerate(HONEST):
        clock.now = start + timedelta(minutes=25 * n)
        r = answer(world.client, codes[n], values, user_agent=f"phone-{n}")
        assert r.status_code == 200, r.text
        receipt = r.json()
        assert len(receipt["receipt"]) == 8
        ids.append(receipt["answer_id"])

    # A code answers once.
    clock.now = start + timedelta(hours=9)
    again = answer(world.client, codes[0], (5, 5, 5, 5, 5), user_agent="phone-0")
    assert again.status_code == 409
    assert again.json()["code"] == "already_answered"
    assert world.client.get(f"/api/v1/public/surveys/{codes[0]}").status_code == 409

    clock.now = None
    results = world.get("county", f"/surveys/{wave['id']}/results").json()
    village = _village(results)
    assert village["answers"] == 20
    assert village["codes"] == 30
    assert village["satisfaction_rate"] == HONEST_SATISFACTION
    assert village["satisfaction_rate_all"] == HONEST_SATISFACTION
    assert village["known_rate"] == HONEST_KNOWN
    assert village["anomalies"] == [], "honest, varied answers raise nothing"

    # 8 identical "5"s within two minutes, from one phone, in the evening.
    bought_at = local(-1, 20)
    bought = []
    for n in range(8):
        clock.now = bought_at + timedelta(seconds=15 * n)
        r = answer(world.client, codes[20 + n], (5, 5, 5, 5, 5), user_agent="one-phone")
        assert r.status_code == 200, r.text
        bought.append(r.json()["answer_id"])
    clock.now = None
    results = world.get("auditor", f"/surveys/{wave['id']}/results").json()
    village = _village(results)
    assert village["answers"] == 28
    kinds = {a["kind"]: a for a in village["anomalies"]}
    assert sorted(kinds["burst"]["answer_ids"]) == sorted(bought)
    assert sorted(kinds["same_device"]["answer_ids"]) == sorted(bought)
    assert sorted(kinds["identical_answers"]["answer_ids"]) == sorted(bought)
    assert "off_hours" not in kinds
    assert village["satisfaction_rate"] == WITH_BOUGHT_SATISFACTION
    assert village["known_rate"] == WITH_BOUGHT_KNOWN

    # Excluded by an auditor, with a reason: the rates without them, and with them beside.
    for who in ("county", "city"):
        refused = world.post(
            who, f"/surveys/{wave['id']}/exclusions", json={"answer_ids": bought, "reason": "x"}
        )
        assert refused.status_code == 403
    reason = "同一设备两分钟内作答 8 份，经入户核实为代答"
    r = world.post(
        "auditor",
        f"/surveys/{wave['id']}/exclusions",
        json={"answer_ids": bought, "reason": reason},
    )
    assert r.status_code == 200, r.text
    assert r.json()["excluded"] == sorted(bought)
    assert r.json()["already_excluded"] == []
    again = world.post(
        "auditor",
        f"/surveys/{wave['id']}/exclusions",
        json={"answer_ids": bought[:2], "reason": "y"},
    )
    assert again.json()["excluded"] == []
    assert again.json()["already_excluded"] == sorted(bought[:2])

    results = world.get("county", f"/surveys/{wave['id']}/results").json()
    village = _village(results)
    assert village["answers"] == 28
    assert village["excluded"] == 8
    assert sorted(village["excluded_answer_ids"]) == sorted(bought)
    assert {e["reason"] for e in village["exclusions"]} == {reason}
    assert village["satisfaction_rate"] == HONEST_SATISFACTION
    assert village["satisfaction_rate_all"] == WITH_BOUGHT_SATISFACTION
    assert village["known_rate"] == HONEST_KNOWN
    assert {a["kind"] for a in village["anomalies"]} >= {"burst", "same_device"}, "still shown"

    # Members: Alice serves the village, Bob the other (no answers there).
    members = {m["member_id"]: m for m in results["members"]}
    alice = members[world.members["alice"].id]
    assert alice["village_codes"] == [VILLAGE]
    assert alice["answers"] == 28
    assert alice["satisfaction_rate"] == HONEST_SATISFACTION
    bob = members[world.members["bob"].id]
    assert bob["answers"] == 0
    assert bob["satisfaction_rate"] is None

    # The trail: who excluded what, and why.
    log = world.get("auditor", "/audit/actions").json()["items"]
    entry = next(e for e in log if e["action"] == "survey.exclude")
    assert entry["payload"] == {"answer_ids": sorted(bought), "reason": reason}
    assert any(e["action"] == "survey.cards" for e in log)

    # The annual evaluation reads the wave as its own source.
    year = local(-1, 12).astimezone(world_zone()).year
    annual = world.get("county", f"/compliance/members/{alice['member_id']}/annual?year={year}")
    assert annual.status_code == 200, annual.text
    body = annual.json()
    surveys = next(s for s in body["voice"] if s["source"] == "surveys")
    assert surveys["answers"] == 28
    assert (surveys["satisfaction_answers"], surveys["satisfied"]) == (37, 20)
    assert (surveys["known_answers"], surveys["known"]) == (19, 12)
    assert body["rates"]["satisfaction"] == HONEST_SATISFACTION
    assert body["rates"]["known"] == HONEST_KNOWN


def world_zone():
    from tests.surveys.support import SHANGHAI

    return SHANGHAI


def test_a_closed_wave_and_one_not_yet_open_answer_410(world, clock):
    wave = open_wave(world)
    code = codes_of(world, wave["id"])[0]
    clock.now = local(6, 10)  # after closes_at
    r = answer(world.client, code, (5, 4, 4, 4, 4))
    assert r.status_code == 410
    assert r.json()["code"] == "survey_closed"
    assert world.client.get(f"/api/v1/public/surveys/{code}").status_code == 410
    clock.now = local(-5, 10)  # before opens_at
    assert answer(world.client, code, (5, 4, 4, 4, 4)).status_code == 410
    clock.now = None
    assert answer(world.client, code, (5, 4, 4, 4, 4)).status_code == 200
