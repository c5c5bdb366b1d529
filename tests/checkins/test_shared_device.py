"""One phone for several members (代打卡, issue 19 item 8): a device that sent another member's
fixes raises `shared_device` on the fix that reveals it and a finding beside the other member's
fixes of that device; the other member is named to reviewers only; it counts in
`suspicious_checkins` while the policy lists it as serious. Races on PostGIS."""

from __future__ import annotations

from concurrent.futures import ThreadPoolExecutor
from datetime import UTC, datetime, timedelta
from typing import Any

import pytest
from sqlalchemy import select

from app.checkins.models import CheckIn, CheckInFinding
from app.core.policy import FlagPolicy, Policy
from tests.checkins.helpers import fix

EAST, SOUTH = "430121001001", "430121002001"  # alice's (township 1), carol's (township 2)
PHONE = "android-5f3c9a"


def post(world, user, body) -> dict[str, Any]:
    r = world.post(user, "/checkins", json=body)
    assert r.status_code == 201, r.text
    return dict(r.json())


def listed(world, viewer, member) -> list[dict[str, Any]]:
    r = world.get(viewer, "/checkins", params={"member_id": world.members[member].id})
    assert r.status_code == 200, r.text
    return list(r.json()["items"])


def reason(checkin, flag="shared_device") -> str:
    return next(r["reason"] for r in checkin["flag_reasons"] if r["flag"] == flag)


def quarter() -> str:
    today = datetime.now(UTC).astimezone(Policy().zone).date()
    return f"{today.year}Q{(today.month - 1) // 3 + 1}"


def suspicious(world, member, user="county") -> list[dict[str, Any]]:
    path = f"/compliance/members/{world.members[member].id}"
    r = world.get(user, path, params={"period": quarter()})
    assert r.status_code == 200, r.text
    return [v for v in r.json()["violations"] if v["code"] == "suspicious_checkins"]


def test_a_second_member_on_one_phone_is_flagged_and_the_first_found(world):
    alice = [
        post(world, "alice", fix(EAST, ago=timedelta(hours=h), device_id=PHONE)) for h in (5, 4)
    ]
    assert all("shared_device" not in c["flags"] for c in alice)
    carol = post(world, "carol", fix(SOUTH, ago=timedelta(hours=1), device_id=PHONE))
    assert "shared_device" in carol["flags"]
    assert "device_change" not in carol["flags"]  # carol's first device
    # The member reads the window, never the other member's name.
    assert "30" in reason(carol)
    assert "Alice" not in reason(carol)
    # Beside alice's fixes of that phone: a finding naming carol, to reviewers only.
    mine = listed(world, "alice", "alice")
    assert [("shared_device" in c["flags"]) for c in mine] == [True, True]
    assert all("Carol" not in reason(c) for c in mine)
    assert {f["code"] for c in mine for f in c["findings"]} == {"shared_device"}
    seen = listed(world, "township1", "alice")
    assert all("Carol" in reason(c) for c in seen)
    assert "Alice" in reason(listed(world, "township2", "carol")[0])
    assert "Alice" in reason(listed(world, "county", "carol")[0])
    # A reviewer of another scope sees neither side's fixes.
    r = world.get("township2", "/checkins", params={"member_id": world.members["alice"].id})
    assert r.status_code == 404
    r = world.get("othercounty", "/checkins", params={"member_id": world.members["carol"].id})
    assert r.status_code == 404


def test_shared_device_counts_as_suspicious_on_both_sides(world):
    post(world, "alice", fix(EAST, ago=timedelta(hours=3), device_id=PHONE))
    post(world, "carol", fix(SOUTH, ago=timedelta(hours=1), device_id=PHONE))
    for member in ("alice", "carol"):
        found = suspicious(world, member)
        assert len(found) == 1, member
        assert "shared_device" in found[0]["detail"]
        assert "共用设备" in found[0]["detail"]
    r = world.get("county", "/compliance", params={"period": quarter(), "scope": "430121"})
    counted = {i["member_id"]: i["violations"] for i in r.json()["items"]}
    assert counted[world.members["carol"].id]["suspicious_checkins"] == 1
    assert "suspicious_checkins" not in counted[world.members["bob"].id]


def test_one_member_on_own_phones_is_no_shared_device(world):
    post(world, "alice", fix(EAST, ago=timedelta(hours=3), device_id=PHONE))
    again = post(world, "alice", fix(EAST, ago=timedelta(hours=2), device_id=PHONE))
    other = post(world, "alice", fix(EAST, ago=timedelta(hours=1), device_id="iphone-2"))
    assert again["flags"] == []
    assert other["flags"] == ["device_change"]
    assert post(world, "carol", fix(SOUTH, device_id="carol-phone"))["flags"] == []
    assert suspicious(world, "alice") == []


def test_a_batch_reveals_it_too_and_a_third_member_names_both(world, db):
    post(world, "alice", fix(EAST, ago=timedelta(hours=6), device_id=PHONE))
    items = [fix(SOUTH, ago=timedelta(hours=h), device_id=PHONE) for h in (5, 4)]
    r = world.post("carol", "/checkins/batch", json={"items": items})
    assert [x["checkin"]["flags"] for x in r.json()["results"]] == [["shared_device"]] * 2
    bob = post(world, "bob", fix("430121001002", ago=timedelta(hours=1), device_id=PHONE))
    assert "shared_device" in bob["flags"]
    named = reason(listed(world, "county", "bob")[0])
    assert "Alice" in named
    assert "Carol" in named
    # Every fix of the phone carries it: flagged on arrival or found beside it (once each).
    rows = db.execute(select(CheckIn.id, CheckIn.flags).where(CheckIn.device_id == PHONE)).all()
    found = db.execute(select(CheckInFinding.checkin_id, CheckInFinding.code)).all()
    db.commit()
    assert len(found) == len({f[0] for f in found})
    found_ids = {i for i, code in found if code == "shared_device"}
    assert all("shared_device" in flags or i in found_ids for i, flags in rows)


class TestWindow:
    @pytest.fixture
    def policy(self) -> Policy:
        return Policy(flags=FlagPolicy(shared_device_days=5))

    def test_a_device_that_changed_hands_long_ago_is_not_shared(self, world):
        post(world, "alice", fix(EAST, ago=timedelta(days=10), device_id=PHONE))
        assert "shared_device" not in post(world, "carol", fix(SOUTH, device_id=PHONE))["flags"]
        assert all(c["findings"] == [] for c in listed(world, "county", "alice"))
        near = post(world, "carol", fix(SOUTH, ago=timedelta(days=6), device_id=PHONE))
        assert "shared_device" in near["flags"]  # 4 days from alice's


class TestNotSerious:
    @pytest.fixture
    def policy(self) -> Policy:
        return Policy(flags=FlagPolicy(serious=("mock_location",)))

    def test_shared_device_is_evidence_but_not_counted(self, world):
        post(world, "alice", fix(EAST, ago=timedelta(hours=3), device_id=PHONE))
        assert "shared_device" in post(world, "carol", fix(SOUTH, device_id=PHONE))["flags"]
        assert suspicious(world, "alice") == []
        assert suspicious(world, "carol") == []


@pytest.mark.postgis
def test_members_uploading_from_one_phone_at_once_all_carry_it(world, db):
    names = ["alice", "bob", "carol", "dave"]
    villages = dict(zip(names, [EAST, "430121001002", SOUTH, "430122001001"], strict=True))
    for name in names:  # each member's first check-in (the chain made), on their own phone
        post(world, name, fix(villages[name], ago=timedelta(hours=5), device_id=f"own-{name}"))
    rounds = 5
    jobs = [
        (name, fix(villages[name], ago=timedelta(hours=4 - k * 0.5), device_id=f"shared-{k}"))
        for k in range(rounds)
        for name in names
    ]
    with ThreadPoolExecutor(len(jobs)) as pool:
        answers = list(pool.map(lambda job: world.post(job[0], "/checkins", json=job[1]), jobs))
    assert {a.status_code for a in answers} == {201}, [a.text for a in answers]
    found = {
        i for (i,) in db.execute(select(CheckInFinding.checkin_id)).all()
    }  # by any of the later members
    db.commit()
    for k in range(rounds):
        mine = [
            a.json()
            for (_, b), a in zip(jobs, answers, strict=True)
            if b["device_id"] == f"shared-{k}"
        ]
        flagged = [c for c in mine if "shared_device" in c["flags"]]
        # Judged one after another: all but the first to arrive saw an earlier one ...
        assert len(flagged) == len(names) - 1, (k, [c["flags"] for c in mine])
        # ... and every fix but the last carries the finding a later one recorded.
        assert sum(c["id"] in found for c in mine) == len(names) - 1
        assert all("shared_device" in c["flags"] or c["id"] in found for c in mine)


@pytest.mark.postgis
def test_one_phone_in_one_upload_group_is_judged_in_turn(world, db, monkeypatch):
    """The fast path stores fixes arriving together in one transaction: fixes of one device
    would not see each other there, so a device's second fix waits for a later group."""
    from app.checkins import fast_path
    from tests.checkins.test_upload_groups import _upload_together

    sizes: list[list[str | None]] = []
    real = fast_path.store_group

    async def spy(connection: Any, engine: Any, policy: Any, group: list[Any]) -> None:
        sizes.append([u.prepared.body.device_id for u in group])
        await real(connection, engine, policy, group)

    monkeypatch.setattr(fast_path, "store_group", spy)
    names = ["alice", "bob", "carol", "dave"]
    villages = dict(zip(names, [EAST, "430121001002", SOUTH, "430122001001"], strict=True))
    for name in names:
        post(world, name, fix(villages[name], ago=timedelta(hours=5)))
    db.rollback()
    sizes.clear()
    uploads = [(n, fix(villages[n], ago=timedelta(hours=1), device_id=PHONE)) for n in names]
    answers = _upload_together(world, uploads)
    assert all(a is not None and not isinstance(a, Exception) for a in answers), answers
    assert all(group.count(PHONE) <= 1 for group in sizes), sizes
    assert sum("shared_device" in a.flags for a in answers) == len(names) - 1
