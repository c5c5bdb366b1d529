"""Roll calls (点名) through the real API: the county story, the answers' statuses, refusals."""

from __future__ import annotations

from datetime import datetime, timedelta

import pytest

from tests.checkins.helpers import fix
from tests.ledger.support import today
from tests.supervision.support import add_member, age_roll_call

FIVE_KM_NORTH = 0.045  # degrees of latitude


def issue(world, user="county", scope="430121", window=30, message="请立即签到"):
    return world.post(
        user, "/roll-calls", json={"scope": scope, "window_minutes": window, "message": message}
    )


def answer(world, user, call_id, village, **extra):
    body = fix(village, ago=timedelta(seconds=0), roll_call_id=str(call_id), **extra)
    return world.post(user, "/checkins", json=body)


def test_a_county_roll_call_sorts_everyone_called(world):
    add_member(world, "erin", "430121001001")
    r = issue(world)
    assert r.status_code == 201, r.text
    call = r.json()
    assert call["called"] == 4  # alice, bob, carol, erin: dave is in another county
    assert call["issued_by"] == world.users["county"].id
    issued = datetime.fromisoformat(call["issued_at"])
    assert datetime.fromisoformat(call["deadline"]) - issued == timedelta(minutes=30)

    r = world.get("alice", "/me/roll-calls")
    assert r.status_code == 200
    assert [(c["id"], c["answered"]) for c in r.json()["items"]] == [(call["id"], False)]

    # Alice answers in time from inside her village.
    r = answer(world, "alice", call["id"], "430121001001")
    assert r.status_code == 201, r.text
    assert (r.json()["roll_call_status"], r.json()["credited"]) == ("answered", True)
    # Bob answers from 5 km away: stored (201), rejected as an answer.
    r = answer(world, "bob", call["id"], "430121001002", dlat=FIVE_KM_NORTH)
    assert r.status_code == 201, r.text
    assert (r.json()["roll_call_status"], r.json()["geofence"]) == ("outside", "outside")
    # Carol is on approved leave (approved after the call was issued: judged when read).
    leave = world.post(
        "carol",
        "/leave-requests",
        json={"type": "sick", "start_date": str(today()), "end_date": str(today()), "reason": "病"},
    )
    assert leave.status_code == 201, leave.text
    assert (
        world.post("township2", f"/leave-requests/{leave.json()['id']}/approve").status_code == 200
    )
    # Erin does not answer.

    r = world.get("county", f"/roll-calls/{call['id']}")
    assert r.status_code == 200, r.text
    page = r.json()
    names = {
        k: [e["full_name"] for e in page[k]]
        for k in ("responded", "excused", "rejected", "missing")
    }
    assert names == {
        "responded": ["Alice"],
        "excused": ["Carol"],
        "rejected": ["Bob"],
        "missing": ["Erin"],
    }
    assert page["counts"] == {
        "called": 4,
        "responded": 1,
        "excused": 1,
        "rejected": 1,
        "missing": 1,
    }
    assert page["rejected"][0]["reason"] == "outside"
    assert page["responded"][0]["checkin_id"] is not None
    assert page["responded"][0]["village_code"] == "430121001001"
    assert page["open"] is True

    r = world.get("alice", "/me/roll-calls")
    assert [(c["id"], c["answered"]) for c in r.json()["items"]] == [(call["id"], True)]
    assert world.get("erin", "/me/roll-calls").json()["items"][0]["answered"] is False
    assert world.get("dave", "/me/roll-calls").json()["items"] == []

    listed = world.get("county", "/roll-calls").json()
    assert [c["id"] for c in listed["items"]] == [call["id"]]
    assert world.get("county", "/roll-calls", params={"scope": "430121001"}).json()["items"] == []
    assert (
        world.get("city", "/roll-calls", params={"scope": "4301"}).json()["items"][0]["id"]
        == call["id"]
    )


def test_late_and_mock_answers_are_rejected_with_their_reason(world):
    call = issue(world, window=60).json()
    age_roll_call(world.db, call["id"], timedelta(hours=2))  # its window closed an hour ago
    r = answer(world, "alice", call["id"], "430121001001")
    assert (r.status_code, r.json()["roll_call_status"]) == (201, "late")
    r = answer(world, "bob", call["id"], "430121001002", is_mock=True)
    assert (r.status_code, r.json()["roll_call_status"]) == (201, "mock")
    page = world.get("county", f"/roll-calls/{call['id']}").json()
    assert {e["full_name"]: e["reason"] for e in page["rejected"]} == {
        "Alice": "late",
        "Bob": "mock",
    }
    assert [e["full_name"] for e in page["missing"]] == ["Carol"]
    assert page["open"] is False
    # Closed calls are no longer offered to phones.
    assert world.get("alice", "/me/roll-calls").json()["items"] == []


def test_a_second_good_answer_after_a_bad_one_counts(world):
    call = issue(world).json()
    assert (
        answer(world, "alice", call["id"], "430121001001", dlat=FIVE_KM_NORTH).json()[
            "roll_call_status"
        ]
        == "outside"
    )
    assert (
        answer(world, "alice", call["id"], "430121001001").json()["roll_call_status"] == "answered"
    )
    page = world.get("county", f"/roll-calls/{call['id']}").json()
    assert [e["full_name"] for e in page["responded"]] == ["Alice"]


@pytest.mark.parametrize("roll_call_id", ["999999", "abc", "007", "1" * 40])
def test_an_unknown_roll_call_never_costs_a_fix(world, roll_call_id):
    r = world.post("alice", "/checkins", json=fix(roll_call_id=roll_call_id))
    assert r.status_code == 201, r.text
    assert (r.json()["roll_call_status"], r.json()["credited"]) == ("not_called", True)
    assert r.json()["roll_call_id"] == roll_call_id


def test_a_member_the_call_does_not_include_is_not_called(world):
    call = issue(world).json()
    r = answer(world, "dave", call["id"], "430122001001")
    assert (r.status_code, r.json()["roll_call_status"]) == (201, "not_called")
    # Replaying the same body answers 200 with the same status; a plain fix carries none.
    body = fix(ago=timedelta(seconds=0), roll_call_id=str(call["id"]))
    first = world.post("alice", "/checkins", json=body)
    again = world.post("alice", "/checkins", json=body)
    assert (first.status_code, again.status_code) == (201, 200)
    assert first.json()["roll_call_status"] == again.json()["roll_call_status"] == "answered"
    plain = world.post("alice", "/checkins", json=fix())
    assert plain.json()["roll_call_status"] is None


def test_batch_answers_carry_their_status(world):
    call = issue(world).json()
    items = [
        fix(ago=timedelta(seconds=0), roll_call_id=str(call["id"])),
        fix(ago=timedelta(hours=3)),
        fix(ago=timedelta(seconds=0), roll_call_id="424242"),
    ]
    r = world.post("alice", "/checkins/batch", json={"items": items})
    assert r.status_code == 200, r.text
    statuses = [x["checkin"]["roll_call_status"] for x in r.json()["results"]]
    assert statuses == ["answered", None, "not_called"]
    listed = world.get("alice", "/checkins").json()["items"]
    assert sorted(str(x["roll_call_status"]) for x in listed) == ["None", "answered", "not_called"]


@pytest.mark.parametrize("window", [0, -5, 1441, 100000])
def test_windows_outside_a_day_are_refused(world, window):
    r = issue(world, window=window)
    assert (r.status_code, r.json()["code"]) == (422, "invalid_window")


def test_who_may_issue_and_where(world):
    assert issue(world, "township1", "430121001").json()["code"] == "role_required"
    assert issue(world, "alice").status_code == 403
    assert issue(world, "auditor", "43").status_code == 403
    r = issue(world, "county", "430122")
    assert (r.status_code, r.json()["code"]) == (404, "scope_not_found")
    r = issue(world, "county", "43012x")
    assert (r.status_code, r.json()["code"]) == (422, "invalid_scope")
    r = issue(world, "city", "430199")
    assert (r.status_code, r.json()["code"]) == (422, "nobody_called")
    r = world.post("county", "/roll-calls", json={"scope": "430121", "window_minutes": "x"})
    assert (r.status_code, r.json()["code"]) == (422, "validation_error")


def test_reads_are_scoped(world):
    call = issue(world).json()
    for user in ("othercounty", "township1"):
        r = world.get(user, f"/roll-calls/{call['id']}")
        assert (r.status_code, r.json()["code"]) == (404, "roll_call_not_found")
    assert world.get("auditor", f"/roll-calls/{call['id']}").status_code == 200
    assert world.get("alice", f"/roll-calls/{call['id']}").status_code == 403
    assert world.get("county", "/roll-calls/99999").status_code == 404
    r = world.get("county", "/roll-calls", params={"scope": "4301"})
    assert (r.status_code, r.json()["code"]) == (404, "scope_not_found")
    assert world.get("county", "/me/roll-calls").status_code == 403


def test_roll_call_list_pages(world):
    ids = [issue(world).json()["id"] for _ in range(3)]
    first = world.get("county", "/roll-calls", params={"limit": 2}).json()
    assert [c["id"] for c in first["items"]] == ids[::-1][:2]
    rest = world.get(
        "county", "/roll-calls", params={"limit": 2, "cursor": first["next_cursor"]}
    ).json()
    assert [c["id"] for c in rest["items"]] == [ids[0]]
    assert rest["next_cursor"] is None
