"""The rectification ledger (整改台账) through the real API: no covering up (an item from an
inspection is closed only above the level that opened it), the trail, overdue items."""

from __future__ import annotations

from datetime import timedelta

import pytest

from tests.ledger.support import today
from tests.supervision.support import add_member, set_due_date
from tests.supervision.test_inspections import VILLAGE, visit


@pytest.fixture
def secretary(world):
    return add_member(world, "frank", VILLAGE, position="first_secretary")


def open_item(world, user, member_id, source, *, due=None, requirement="每月驻村不少于20天"):
    body = {
        "member_id": member_id,
        "source": source,
        "requirement": requirement,
        "due_date": str(due or today() + timedelta(days=30)),
    }
    return world.post(user, "/rectifications", json=body)


def close(world, user, item_id, evidence="已整改，驻村记录见台账"):
    return world.post(user, f"/rectifications/{item_id}/close", json={"evidence": evidence})


def test_an_item_from_an_inspection_is_closed_by_the_county_not_the_township(world, secretary):
    inspection = visit(world, "township1", absent=[secretary.id]).json()
    r = open_item(
        world, "township1", secretary.id, {"kind": "inspection", "inspection_id": inspection["id"]}
    )
    assert r.status_code == 201, r.text
    item = r.json()
    assert (item["status"], item["overdue"], item["opened_level"]) == ("open", False, "township")
    assert item["opened_by"] == world.users["township1"].id
    assert (item["unit"], item["village_code"], item["full_name"]) == (
        "市农业农村局",
        VILLAGE,
        "Frank",
    )
    assert [h["to_status"] for h in item["history"]] == ["open"]

    r = close(world, "township1", item["id"])
    assert (r.status_code, r.json()["code"]) == (403, "reviewer_level_required")
    r = close(world, "county", item["id"])
    assert r.status_code == 200, r.text
    closed = r.json()
    assert (closed["status"], closed["closed_level"], closed["evidence"]) == (
        "closed",
        "county",
        "已整改，驻村记录见台账",
    )
    assert closed["closed_by"] == world.users["county"].id
    assert closed["presence"]["start"] == closed["presence"]["end"] == str(today())
    assert sum(closed["presence"]["days"].values()) == 1
    trail = [(h["from_status"], h["to_status"], h["actor_level"]) for h in closed["history"]]
    assert trail == [(None, "open", "township"), ("open", "closed", "county")]
    r = close(world, "city", item["id"])
    assert (r.status_code, r.json()["code"]) == (409, "invalid_transition")
    assert world.get("township1", f"/rectifications/{item['id']}").json()["status"] == "closed"


def test_a_city_item_from_an_inspection_needs_another_city_user(world, secretary):
    world.add_user("city2", "city", "4301")
    world.db.commit()
    inspection = visit(world, "city", absent=[secretary.id]).json()
    item = open_item(
        world, "city", secretary.id, {"kind": "inspection", "inspection_id": inspection["id"]}
    ).json()
    assert close(world, "county", item["id"]).json()["code"] == "reviewer_level_required"
    assert close(world, "city", item["id"]).json()["code"] == "reviewer_level_required"
    assert close(world, "city2", item["id"]).status_code == 200


def test_violation_and_manual_items_close_at_any_level_in_scope(world, secretary):
    r = open_item(
        world,
        "township1",
        secretary.id,
        {"kind": "violation", "code": "missed_roll_call", "period": "2026Q4"},
    )
    assert r.status_code == 201, r.text
    assert r.json()["source"] == {
        "kind": "violation",
        "code": "missed_roll_call",
        "period": "2026Q4",
    }
    assert close(world, "township1", r.json()["id"]).status_code == 200
    manual = open_item(world, "county", secretary.id, {"kind": "manual"}).json()
    assert manual["source"] == {"kind": "manual"}
    assert close(world, "township1", manual["id"]).status_code == 200


@pytest.mark.parametrize(
    ("source", "code"),
    [
        ({"kind": "violation", "code": "napping", "period": "2026Q4"}, "unknown_violation_code"),
        ({"kind": "violation", "code": "rotation", "period": "2026Q5"}, "invalid_period"),
        ({"kind": "violation", "code": "rotation", "period": "2026-13"}, "invalid_period"),
        ({"kind": "violation", "code": "rotation", "period": "abc"}, "invalid_period"),
        ({"kind": "inspection", "inspection_id": 999999}, "inspection_not_found"),
        ({"kind": "nonsense"}, "validation_error"),
    ],
)
def test_bad_sources_are_refused(world, secretary, source, code):
    r = open_item(world, "county", secretary.id, source)
    assert r.json()["code"] == code, r.text


def test_other_refusals(world, secretary):
    inspection = visit(world, absent=[secretary.id]).json()
    r = open_item(
        world,
        "county",
        world.members["alice"].id,
        {"kind": "inspection", "inspection_id": inspection["id"]},
    )
    assert (r.status_code, r.json()["code"]) == (422, "member_not_inspected")
    r = open_item(
        world, "county", secretary.id, {"kind": "manual"}, due=today() - timedelta(days=1)
    )
    assert (r.status_code, r.json()["code"]) == (422, "due_in_past")
    r = open_item(world, "township2", secretary.id, {"kind": "manual"})
    assert (r.status_code, r.json()["code"]) == (404, "member_not_found")
    assert open_item(world, "auditor", secretary.id, {"kind": "manual"}).status_code == 403
    assert open_item(world, "frank", secretary.id, {"kind": "manual"}).status_code == 403
    r = close(world, "county", 999999)
    assert (r.status_code, r.json()["code"]) == (404, "rectification_not_found")


def test_overdue_items_are_listed_for_the_county_and_city(world, secretary):
    late = open_item(world, "township1", secretary.id, {"kind": "manual"}).json()
    fine = open_item(world, "township1", secretary.id, {"kind": "manual"}).json()
    set_due_date(world.db, late["id"], today() - timedelta(days=1))
    for user in ("county", "city"):
        items = world.get(user, "/rectifications", params={"overdue": "true"}).json()["items"]
        assert [(i["id"], i["overdue"]) for i in items] == [(late["id"], True)]
    items = world.get("county", "/rectifications", params={"overdue": "false"}).json()["items"]
    assert [i["id"] for i in items] == [fine["id"]]
    assert close(world, "county", late["id"]).status_code == 200
    assert world.get("county", "/rectifications", params={"overdue": "true"}).json()["items"] == []
    closed = world.get("county", "/rectifications", params={"status": "closed"}).json()["items"]
    assert [i["id"] for i in closed] == [late["id"]]
    # Scope: the member sees their own; other townships and counties see nothing.
    assert {i["id"] for i in world.get("frank", "/rectifications").json()["items"]} == {
        late["id"],
        fine["id"],
    }
    assert world.get("township2", "/rectifications").json()["items"] == []
    assert world.get("bob", f"/rectifications/{late['id']}").status_code == 404
    assert world.get("othercounty", f"/rectifications/{late['id']}").status_code == 404
    r = world.get("county", "/rectifications", params={"scope": "4301"})
    assert (r.status_code, r.json()["code"]) == (404, "scope_not_found")
    page = world.get("county", "/rectifications", params={"limit": 1}).json()
    assert len(page["items"]) == 1
    assert page["next_cursor"]
    rest = world.get(
        "county", "/rectifications", params={"limit": 1, "cursor": page["next_cursor"]}
    ).json()
    assert [i["id"] for i in rest["items"]] == [late["id"]]
