"""Major-event reports (大事报告) through the real API: acknowledged in time, left overdue,
reported late; refusals and scope."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

from tests.supervision.support import age_event

VILLAGE = "430121001001"


def report(world, user="alice", *, ago=timedelta(hours=1), village=VILLAGE, kind="petition"):
    body = {
        "kind": kind,
        "occurred_at": (datetime.now(UTC) - ago).isoformat(),
        "summary": "村民集体上访",
        "village_code": village,
    }
    return world.post(user, "/events", json=body)


def test_an_event_acknowledged_in_time_and_one_left_overdue(world):
    r = report(world)
    assert r.status_code == 201, r.text
    on_time = r.json()
    assert (on_time["overdue"], on_time["late"], on_time["acknowledged_at"]) == (False, False, None)
    assert on_time["reported_by"] == world.users["alice"].id
    r = world.post("township1", f"/events/{on_time['id']}/acknowledge", json={"comment": "已知悉"})
    assert r.status_code == 200, r.text
    acked = r.json()
    assert acked["acknowledged_by"] == world.users["township1"].id
    assert (acked["ack_comment"], acked["overdue"]) == ("已知悉", False)

    left = report(world, kind="safety").json()
    age_event(world.db, left["id"], timedelta(hours=25))  # a day passes without acknowledgement
    r = world.get("county", "/events", params={"overdue": "true"})
    assert r.status_code == 200
    [overdue] = r.json()["items"]
    assert (overdue["id"], overdue["overdue"]) == (left["id"], True)
    assert [
        e["id"] for e in world.get("county", "/events", params={"overdue": "false"}).json()["items"]
    ] == [on_time["id"]]
    assert {e["id"] for e in world.get("county", "/events").json()["items"]} == {
        on_time["id"],
        left["id"],
    }
    assert world.get("county", f"/events/{left['id']}").json()["overdue"] is True
    # Acknowledged late, it is no longer overdue.
    assert world.post("county", f"/events/{left['id']}/acknowledge").json()["overdue"] is False


def test_an_event_reported_days_after_it_occurred_is_late(world):
    r = report(world, ago=timedelta(days=3))
    assert r.status_code == 201
    assert r.json()["late"] is True


def test_acknowledging_twice_is_refused(world):
    event = report(world).json()
    assert world.post("county", f"/events/{event['id']}/acknowledge").status_code == 200
    r = world.post("township1", f"/events/{event['id']}/acknowledge")
    assert (r.status_code, r.json()["code"]) == (409, "already_acknowledged")


def test_bad_reports_are_refused(world):
    r = report(world, ago=-timedelta(hours=2))
    assert (r.status_code, r.json()["code"]) == (422, "in_future")
    r = report(world, village="430121001002")
    assert (r.status_code, r.json()["code"]) == (422, "member_not_assigned")
    r = report(world, kind="fire")
    assert (r.status_code, r.json()["code"]) == (422, "validation_error")
    assert report(world, "county").status_code == 403


def test_event_reads_and_acknowledgements_are_scoped(world):
    event = report(world).json()
    for user in ("bob", "township2", "othercounty"):
        r = world.get(user, f"/events/{event['id']}")
        assert (r.status_code, r.json()["code"]) == (404, "event_not_found")
    r = world.post("township2", f"/events/{event['id']}/acknowledge")
    assert (r.status_code, r.json()["code"]) == (404, "event_not_found")
    assert world.post("alice", f"/events/{event['id']}/acknowledge").status_code == 403
    assert world.post("auditor", f"/events/{event['id']}/acknowledge").status_code == 403
    assert [e["id"] for e in world.get("alice", "/events").json()["items"]] == [event["id"]]
    assert world.get("bob", "/events").json()["items"] == []
    assert [e["id"] for e in world.get("unit", "/events").json()["items"]] == [event["id"]]
    assert world.get("auditor", f"/events/{event['id']}").status_code == 200
    r = world.get("county", "/events", params={"scope": "430122"})
    assert (r.status_code, r.json()["code"]) == (404, "scope_not_found")
    assert world.get("county", "/events", params={"scope": "430121002"}).json()["items"] == []
    assert world.post("county", "/events/999999/acknowledge").status_code == 404
    # A member's scope is where she serves (docs/rules.md "Who sees what"): 430121 holds her
    # village, 430122 does not.
    assert world.get("alice", "/events", params={"scope": "430121"}).status_code == 200
    r = world.get("alice", "/events", params={"scope": "430122"})
    assert (r.status_code, r.json()["code"]) == (404, "scope_not_found")
