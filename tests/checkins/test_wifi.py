"""Wi-Fi corroboration: a village's registered access points, and what a fix's Wi-Fi says."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import pytest

from tests.checkins.helpers import fix

VILLAGE = "430121001001"  # alice's
OFFICE = "3c:84:6a:12:ab:01"
DORM = "3c:84:6a:12:ab:02"
NEIGHBOUR = "a0:b1:c2:d3:e4:f5"


def register(world, bssid, label="村委会办公室", user="township1", code=VILLAGE):
    return world.post(user, f"/villages/{code}/wifi", json={"bssid": bssid, "label": label})


def test_township_registers_and_lists_access_points(world):
    r = register(world, "3C-84-6A-12-AB-01")
    assert r.status_code == 201, r.text
    assert r.json()["bssid"] == OFFICE  # normalised
    assert register(world, OFFICE).status_code == 200  # again: the point as registered
    assert register(world, DORM, "工作队宿舍").status_code == 201
    listed = world.get("county", f"/villages/{VILLAGE}/wifi").json()["items"]
    assert [(p["bssid"], p["label"]) for p in listed] == [
        (OFFICE, "村委会办公室"),
        (DORM, "工作队宿舍"),
    ]


@pytest.mark.parametrize(
    ("user", "code", "status", "problem"),
    [
        ("alice", VILLAGE, 403, "role_required"),  # a member registers nothing
        ("township2", VILLAGE, 404, "village_not_found"),  # outside the caller's scope
        ("township1", "999999999999", 404, "village_not_found"),
    ],
)
def test_who_may_register(world, user, code, status, problem):
    r = register(world, OFFICE, user=user, code=code)
    assert (r.status_code, r.json()["code"]) == (status, problem)


@pytest.mark.parametrize(
    "bssid", ["3c:84:6a:12:ab", "zz:84:6a:12:ab:01", "", "3c:84:6a:12:ab:01:02"]
)
def test_a_malformed_bssid_is_refused(world, bssid):
    r = register(world, bssid)
    assert (r.status_code, r.json()["code"]) == (422, "validation_error")


def post(world, body, user="alice"):
    r = world.post(user, "/checkins", json=body)
    assert r.status_code == 201, r.text
    return r.json()


def test_a_fix_hearing_the_office_is_corroborated(world):
    register(world, OFFICE)
    out = post(world, fix(wifi=[{"bssid": NEIGHBOUR, "rssi": -80}, {"bssid": OFFICE, "rssi": -55}]))
    assert (out["wifi_match"], out["flags"]) == (True, [])


def test_a_fix_in_the_village_hearing_only_strangers_is_evidence(world):
    register(world, OFFICE)
    out = post(world, fix(wifi=[{"bssid": NEIGHBOUR, "rssi": -70}]))
    assert (out["wifi_match"], out["flags"]) == (False, ["wifi_mismatch"])
    assert out["credited"] is True  # evidence, not a verdict
    assert "1" in out["flag_reasons"][0]["reason"]


def test_nothing_to_tell_without_registered_points_or_reported_wifi(world):
    assert post(world, fix(wifi=[{"bssid": NEIGHBOUR}]))["wifi_match"] is None
    register(world, OFFICE)
    assert post(world, fix())["wifi_match"] is None
    assert post(world, fix(wifi=[]))["wifi_match"] is None


def test_a_batch_judges_wifi_as_single_fixes_do(world):
    register(world, OFFICE)
    t = datetime.now(UTC) - timedelta(hours=2)
    items = [
        fix(at=t, wifi=[{"bssid": OFFICE}]),
        fix(at=t + timedelta(minutes=30), wifi=[{"bssid": NEIGHBOUR}]),
        fix(at=t + timedelta(minutes=60)),
    ]
    results = world.post("alice", "/checkins/batch", json={"items": items}).json()["results"]
    assert [r["checkin"]["wifi_match"] for r in results] == [True, False, None]
    assert [r["checkin"]["flags"] for r in results] == [[], ["wifi_mismatch"], []]


def test_a_resent_fix_with_wifi_is_the_same_fix(world):
    body = fix(wifi=[{"bssid": OFFICE, "rssi": -50}])
    first = world.post("alice", "/checkins", json=body)
    again = world.post(
        "alice", "/checkins", json=body | {"wifi": [{"bssid": OFFICE.upper(), "rssi": -50}]}
    )
    assert (first.status_code, again.status_code) == (201, 200)
    changed = world.post("alice", "/checkins", json=body | {"wifi": [{"bssid": DORM}]})
    assert (changed.status_code, changed.json()["code"]) == (409, "idempotency_conflict")
