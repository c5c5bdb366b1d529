"""The leave lifecycle and its refusals, through HTTP on the `world` fixture."""

from __future__ import annotations

from datetime import timedelta

from sqlalchemy import select

from app.core.outbox import OutboxEvent
from tests.ledger.support import today


def ask(world, user, start, end, **extra):
    body = {
        "type": "personal",
        "start_date": str(start),
        "end_date": str(end),
        "reason": "家中有事",
        **extra,
    }
    return world.post(user, "/leave-requests", json=body)


def days_from_today(n):
    return today() + timedelta(days=n)


def test_two_days_go_to_the_township_and_township1_approves(world):
    r = ask(world, "alice", days_from_today(1), days_from_today(2))
    assert r.status_code == 201, r.text
    leave = r.json()
    assert leave["days"] == 2
    assert (leave["status"], leave["approver_level"], leave["filed_with"]) == (
        "pending",
        "township",
        None,
    )
    assert [h["to_status"] for h in leave["history"]] == ["pending"]

    r = world.post("township1", f"/leave-requests/{leave['id']}/approve", json={"comment": "同意"})
    assert r.status_code == 200, r.text
    body = r.json()
    assert body["status"] == "approved"
    assert body["decided_by"] == world.users["township1"].id
    assert body["decided_at"] is not None
    last = body["history"][-1]
    assert (last["from_status"], last["to_status"], last["actor"], last["comment"]) == (
        "pending",
        "approved",
        "township1",
        "同意",
    )
    topics = world.db.scalars(select(OutboxEvent.topic).order_by(OutboxEvent.id)).all()
    assert topics == ["leave.submitted", "leave.decided"]
    event = world.db.scalars(select(OutboxEvent).order_by(OutboxEvent.id.desc())).first()
    assert event.payload["leave_id"] == leave["id"]
    assert event.delivered_at is None


def test_five_days_go_to_the_county_and_are_filed_with_the_city(world):
    leave = ask(world, "alice", days_from_today(1), days_from_today(5)).json()
    assert (leave["approver_level"], leave["filed_with"]) == ("county", "city")
    path = f"/leave-requests/{leave['id']}/approve"
    r = world.post("township1", path)
    assert r.status_code == 403
    assert r.json()["code"] == "approver_level_mismatch"
    assert world.post("othercounty", path).status_code == 404
    assert world.post("township2", path).status_code == 404
    assert world.post("city", path).json()["code"] == "approver_level_mismatch"
    assert world.post("county", path).status_code == 200

    filed = world.get("city", "/leave-requests", params={"filed_with": "city"}).json()["items"]
    assert [item["id"] for item in filed] == [leave["id"]]
    assert (
        world.get("othercounty", "/leave-requests", params={"filed_with": "city"}).json()["items"]
        == []
    )


def test_an_approvers_queue_holds_the_pending_requests_at_their_level(world):
    short = ask(world, "alice", days_from_today(1), days_from_today(2)).json()
    long = ask(world, "bob", days_from_today(1), days_from_today(10)).json()
    carol = ask(world, "carol", days_from_today(1), days_from_today(1)).json()

    def queue(user):
        return [i["id"] for i in world.get(user, "/leave-requests").json()["items"]]

    assert queue("township1") == [short["id"]]
    assert queue("township2") == [carol["id"]]
    assert queue("county") == [long["id"]]
    assert queue("othercounty") == []
    assert queue("alice") == [short["id"]]
    assert world.get("bob", f"/leave-requests/{short['id']}").status_code == 404
    got = world.get("county", f"/leave-requests/{short['id']}")
    assert got.status_code == 200
    assert got.json()["history"][0]["actor"] == "alice"


def test_refusals(world):
    first = ask(world, "alice", days_from_today(3), days_from_today(4)).json()
    r = ask(world, "alice", days_from_today(4), days_from_today(6))
    assert (r.status_code, r.json()["code"]) == (409, "leave_overlap")
    r = ask(world, "alice", days_from_today(-2), days_from_today(0))
    assert (r.status_code, r.json()["code"]) == (422, "retroactive_leave")
    r = ask(world, "alice", days_from_today(9), days_from_today(8))
    assert (r.status_code, r.json()["code"]) == (422, "invalid_range")
    r = ask(world, "township1", days_from_today(9), days_from_today(10))
    assert r.status_code == 403

    path = f"/leave-requests/{first['id']}"
    r = world.post("alice", f"{path}/approve")
    assert (r.status_code, r.json()["code"]) == (403, "role_required")
    assert world.post("township1", f"{path}/reject", json={"comment": "农忙"}).status_code == 200
    r = world.post("township1", f"{path}/approve")
    assert (r.status_code, r.json()["code"]) == (409, "invalid_transition")
    r = world.post("alice", f"{path}/cancel")
    assert (r.status_code, r.json()["code"]) == (409, "invalid_transition")
    # A rejected request holds no days.
    assert ask(world, "alice", days_from_today(3), days_from_today(4)).status_code == 201


def test_emergency_leave_may_start_in_the_past_but_not_be_cancelled_once_begun(world):
    r = ask(world, "alice", days_from_today(-2), days_from_today(0), emergency=True, type="sick")
    assert r.status_code == 201, r.text
    leave_id = r.json()["id"]
    assert world.post("township1", f"/leave-requests/{leave_id}/approve").status_code == 200
    r = world.post("alice", f"/leave-requests/{leave_id}/cancel")
    assert (r.status_code, r.json()["code"]) == (409, "invalid_transition")


def test_cancelling_an_approved_leave_before_it_starts_frees_its_days(world):
    leave = ask(world, "alice", days_from_today(1), days_from_today(2)).json()
    world.post("township1", f"/leave-requests/{leave['id']}/approve")
    me = f"/members/{world.members['alice'].id}/presence"
    params = {"from": str(days_from_today(1)), "to": str(days_from_today(2))}
    assert [d["status"] for d in world.get("alice", me, params=params).json()["days"]] == [
        "leave",
        "leave",
    ]
    r = world.post("alice", f"/leave-requests/{leave['id']}/cancel", json={"comment": "不去了"})
    assert r.status_code == 200
    assert r.json()["status"] == "cancelled"
    days = world.get("alice", me, params=params).json()["days"]
    assert [(d["status"], d["leave_id"]) for d in days] == [("pending", None)] * 2
    # Another member cannot touch it.
    assert world.post("bob", f"/leave-requests/{leave['id']}/cancel").status_code == 404


def test_an_extension_is_routed_by_the_total_length(world):
    leave = ask(world, "alice", days_from_today(1), days_from_today(2)).json()
    assert leave["approver_level"] == "township"
    world.post("township1", f"/leave-requests/{leave['id']}/approve")
    r = world.post(
        "alice",
        f"/leave-requests/{leave['id']}/extend",
        json={"end_date": str(days_from_today(4)), "reason": "病情未愈"},
    )
    assert r.status_code == 201, r.text
    ext = r.json()
    assert (ext["start_date"], ext["end_date"], ext["days"]) == (
        str(days_from_today(3)),
        str(days_from_today(4)),
        2,
    )
    assert (ext["extends_id"], ext["approver_level"], ext["filed_with"]) == (
        leave["id"],
        "county",
        "city",
    )
    path = f"/leave-requests/{ext['id']}/approve"
    assert world.post("township1", path).json()["code"] == "approver_level_mismatch"
    assert world.post("county", path).status_code == 200
    # Extending the original again, while its extension stands, is refused.
    r = world.post(
        "alice",
        f"/leave-requests/{leave['id']}/extend",
        json={"end_date": str(days_from_today(6))},
    )
    assert r.json()["code"] == "invalid_transition"
    r = world.post(
        "alice", f"/leave-requests/{ext['id']}/extend", json={"end_date": str(days_from_today(4))}
    )
    assert r.json()["code"] == "invalid_range"


def test_every_time_on_the_wire_carries_an_offset(world):
    leave = ask(world, "alice", days_from_today(1), days_from_today(5)).json()
    decided = world.post(
        "county", f"/leave-requests/{leave['id']}/approve", json={"comment": "同意"}
    ).json()
    times = [decided["created_at"], decided["decided_at"]] + [h["at"] for h in decided["history"]]
    for value in times:
        assert value.endswith("Z") or value[-6] in "+-", value


def test_the_wrong_level_is_named_in_the_callers_language(world):
    leave = ask(world, "alice", days_from_today(1), days_from_today(5)).json()
    path = f"/leave-requests/{leave['id']}/approve"
    zh = world.client.post(f"/api/v1{path}", headers=world.headers("township1")).json()
    en = world.client.post(
        f"/api/v1{path}", headers=world.headers("township1", **{"Accept-Language": "en"})
    ).json()
    assert "县区组织部门" in zh["detail"]
    assert "county" in en["detail"]
