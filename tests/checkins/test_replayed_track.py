"""A replayed track: a day whose fixes repeat an earlier day's, found when the later day is
uploaded, recorded beside the fixes (never in them), shown on them and counted by compliance."""

from __future__ import annotations

import random
from concurrent.futures import ThreadPoolExecutor
from datetime import UTC, date, datetime, time, timedelta

from app.checkins import storing
from app.core.db import make_session_factory, session_scope
from app.core.policy import Policy
from tests.checkins.helpers import fix
from tests.org.helpers import zhucun

VILLAGE = "430121001001"  # alice's
ZONE = Policy().zone


def local(day: date, hour: float) -> datetime:
    return (datetime.combine(day, time(), tzinfo=ZONE) + timedelta(hours=hour)).astimezone(UTC)


def track(day: date, rng: random.Random, jitter_m: float = 0.0) -> list[dict]:
    """Eight GPS fixes across the village, 40 minutes apart, about 100 m apart."""
    out = []
    for i in range(8):
        metres = rng.uniform(-jitter_m, jitter_m), rng.uniform(-jitter_m, jitter_m)
        out.append(
            fix(
                VILLAGE,
                at=local(day, 8 + i * 2 / 3),
                dlon=-0.008 + i * 0.001 + metres[0] / 98_000,
                dlat=-0.004 + metres[1] / 111_320,
                accuracy_m=8.0,
                altitude_m=120.0 + rng.uniform(-1, 1),
                speed_mps=1.2,
                heading_deg=90.0,
            )
        )
    return out


def replay(original: list[dict], days: int, rng: random.Random) -> list[dict]:
    """The original day replayed `days` later and 3 minutes on, every field noisy."""
    out = []
    for body in original:
        at = datetime.fromisoformat(body["captured_at"]) + timedelta(days=days, minutes=3)
        out.append(
            fix(
                VILLAGE,
                at=at,
                accuracy_m=body["accuracy_m"] + 0.5,
                altitude_m=body["altitude_m"] + rng.uniform(-1, 1),
                speed_mps=body["speed_mps"] + 0.3,
                heading_deg=body["heading_deg"] + 4,
            )
            | {
                "latitude": body["latitude"] + rng.uniform(-2, 2) / 111_320,
                "longitude": body["longitude"] + rng.uniform(-2, 2) / 98_000,
            }
        )
    return out


def upload(world, items: list[dict]) -> list[dict]:
    r = world.post("alice", "/checkins/batch", json={"items": items})
    assert r.status_code == 200, r.text
    results = r.json()["results"]
    assert {x["status"] for x in results} == {"created"}
    return [x["checkin"] for x in results]


def listed(world, member: int, day: date) -> list[dict]:
    params = {"member_id": member, "from": day.isoformat(), "to": day.isoformat(), "limit": 100}
    r = world.get("township1", "/checkins", params=params)
    assert r.status_code == 200, r.text
    return r.json()["items"]


def suspicious(world, member: int, day: date) -> list[dict]:
    period = f"{day.year}Q{(day.month - 1) // 3 + 1}"
    r = world.get("county", f"/compliance/members/{member}", params={"period": period})
    assert r.status_code == 200, r.text
    return [v for v in r.json()["violations"] if v["code"] == "suspicious_checkins"]


def test_a_replayed_day_is_found_beside_its_fixes_and_counted(world):
    member = world.members["alice"].id
    rng = random.Random(5)
    today = datetime.now(ZONE).date()
    first, later = today - timedelta(days=6), today - timedelta(days=2)
    assert upload(world, track(first, rng))
    assert not suspicious(world, member, first)
    before = listed(world, member, first)

    replayed = replay(track(first, random.Random(5)), 4, rng)
    answered = upload(world, replayed)
    assert all("replayed_track" in c["flags"] for c in answered)
    assert all(c["findings"][0]["matched_date"] == first.isoformat() for c in answered)
    reason = answered[0]["flag_reasons"][-1]
    assert reason["flag"] == "replayed_track"
    assert first.isoformat() in reason["reason"]
    assert "8" in reason["reason"]  # the run's length, in the reader's language

    shown = listed(world, member, later)
    assert len(shown) == 8
    assert all(c["flags"] == ["replayed_track"] for c in shown)
    assert all(c["credited"] for c in shown)  # evidence, not a verdict: the day still counts
    assert not any("replayed_track" in c["flags"] for c in listed(world, member, first))
    found = suspicious(world, member, later)
    assert len(found) == 1
    assert "8 check-in(s)" in found[0]["detail"]

    # The stored fixes are untouched: the finding is beside them, outside the hash chain.
    assert listed(world, member, first) == before

    # Sent again (a phone retrying): duplicates, shown with the finding, recorded once.
    r = world.post("alice", "/checkins/batch", json={"items": replayed})
    again = r.json()["results"]
    assert {x["status"] for x in again} == {"duplicate"}
    assert all(len(x["checkin"]["findings"]) == 1 for x in again)


def test_a_genuine_day_at_the_same_places_raises_nothing(world):
    member = world.members["alice"].id
    rng = random.Random(9)
    today = datetime.now(ZONE).date()
    first, later = today - timedelta(days=6), today - timedelta(days=2)
    upload(world, track(first, rng))
    # The same walk four days later: the same places, but where a real receiver puts them
    # (8 m accuracy: metres off each time) and when a real morning starts (25 minutes later).
    again = track(later, rng, jitter_m=12.0)
    for body in again:
        body["captured_at"] = (
            datetime.fromisoformat(body["captured_at"]) + timedelta(minutes=25)
        ).isoformat()
    answered = upload(world, again)
    assert not any(c["findings"] or "replayed_track" in c["flags"] for c in answered)
    assert not suspicious(world, member, later)


def test_a_day_uploaded_fix_by_fix_is_found_by_the_daily_scan(world, db_url):
    member = world.members["alice"].id
    rng = random.Random(11)
    today = datetime.now(ZONE).date()
    first, later = today - timedelta(days=5), today - timedelta(days=1)
    upload(world, track(first, rng))
    for body in replay(track(first, random.Random(11)), 4, rng):  # single uploads: no scan
        assert world.post("alice", "/checkins", json=body).status_code == 201
    assert not any(c["findings"] for c in listed(world, member, later))

    result = zhucun(db_url, "checkins", "scan-replays", "--day", later.isoformat())
    assert result.exit_code == 0, result.output
    assert "8 replayed_track finding(s)" in result.output
    assert all(c["flags"] == ["replayed_track"] for c in listed(world, member, later))
    assert len(suspicious(world, member, later)) == 1
    again = zhucun(db_url, "checkins", "scan-replays", "--day", later.isoformat())
    assert "0 replayed_track finding(s)" in again.output  # idempotent
    assert all(len(c["findings"]) == 1 for c in listed(world, member, later))
    bad = zhucun(db_url, "checkins", "scan-replays", "--day", "yesterday")
    assert bad.exit_code == 2


def test_concurrent_scans_record_each_finding_once(world, engine):
    member = world.members["alice"].id
    rng = random.Random(13)
    today = datetime.now(ZONE).date()
    first, later = today - timedelta(days=5), today - timedelta(days=1)
    upload(world, track(first, rng))
    for body in replay(track(first, random.Random(13)), 4, rng):
        assert world.post("alice", "/checkins", json=body).status_code == 201
    factory = make_session_factory(engine)
    policy = Policy()

    def scan(_: int) -> int:
        with session_scope(factory) as session:
            return storing.scan_replays(session, policy, member, [later], datetime.now(UTC))

    with ThreadPoolExecutor(6) as pool:
        recorded = list(pool.map(scan, range(6)))
    assert sum(recorded) == 8  # the chain head's lock: one scan records, the others find them
    assert sorted(recorded) == [0] * 5 + [8]
    assert all(len(c["findings"]) == 1 for c in listed(world, member, later))
