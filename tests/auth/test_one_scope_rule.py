"""One rule for refusals (docs/rules.md "Who sees what"): a role the route does not serve is 403
`role_required`, whatever the parameters; an allowed role naming something outside its scope
(a member, a scope, a receipt) is 404, never an empty page. Each case answered otherwise
before (issue 11)."""

from __future__ import annotations

import csv
import io
from datetime import date, timedelta

from tests.checkins.helpers import fix


def _days(n: int) -> str:
    return str(date.today() + timedelta(days=n))


def _code(r) -> tuple[int, str]:
    return r.status_code, r.json().get("code", "")


def test_leave_of_a_member_outside_your_scope_is_404_not_an_empty_page(world):
    alice = world.members["alice"].id
    body = {"type": "personal", "start_date": _days(20), "end_date": _days(21), "reason": "事"}
    assert world.post("alice", "/leave-requests", json=body).status_code == 201
    for caller in ("bob", "township2", "othercounty"):
        r = world.get(caller, "/leave-requests", params={"member_id": alice})
        assert _code(r) == (404, "member_not_found"), caller
    r = world.get("township1", "/leave-requests", params={"member_id": alice})
    assert r.status_code == 200
    assert [item["member_id"] for item in r.json()["items"]] == [alice]


def test_members_and_units_narrow_supervision_lists_to_a_division_they_serve_in(world):
    event = {
        "kind": "petition",
        "occurred_at": _days(0) + "T01:00:00+00:00",
        "summary": "上访",
        "village_code": "430121001001",
    }
    assert world.post("alice", "/events", json=event).status_code == 201
    # Alice serves in township 430121001: in her scope, and she sees her own event.
    r = world.get("alice", "/events", params={"scope": "430121001"})
    assert r.status_code == 200, r.text
    assert len(r.json()["items"]) == 1
    # Not in township 430121002, nor county 430122.
    for scope in ("430121002", "430122"):
        r = world.get("alice", "/events", params={"scope": scope})
        assert _code(r) == (404, "scope_not_found"), scope
    r = world.get("unit", "/rectifications", params={"scope": "430121001"})
    assert r.status_code == 200, r.text
    r = world.get("unit", "/rectifications", params={"scope": "430122"})
    assert _code(r) == (404, "scope_not_found")


def test_a_unit_reports_on_its_members_under_a_division_and_dashboards_refuse_its_role(world):
    today = date.today()
    period = {"from": str(today - timedelta(days=2)), "to": str(today)}
    r = world.get("unit", "/reports/presence", params={"scope": "430121", **period})
    assert r.status_code == 200, r.text
    names = {row[1] for row in list(csv.reader(io.StringIO(r.text)))[1:]}
    assert names == {"Alice", "Bob"}  # 市农业农村局's members; Carol is another unit's
    r = world.get("unit", "/reports/presence", params={"scope": "430122", **period})
    assert _code(r) == (404, "scope_not_found")
    # The dashboards do not serve units: 403 whether or not the scope would be theirs.
    for scope in ("430121", "430122"):
        r = world.get("unit", "/dashboard/overview", params={"scope": scope})
        assert _code(r) == (403, "role_required"), scope


def test_a_receipt_is_read_by_who_covers_its_scope(world):
    today = date.today()
    period = {"from": str(today - timedelta(days=2)), "to": str(today)}
    assert world.post("alice", "/checkins", json=fix("430121001001")).status_code == 201
    r = world.get("township1", "/reports/presence", params={"scope": "430121001", **period})
    assert r.status_code == 200, r.text
    receipt = f"/reports/receipts/{r.headers['zhucun-receipt']}"
    for caller in ("township1", "county", "city", "auditor", "admin"):
        assert world.get(caller, receipt).status_code == 200, caller
    for caller in ("township2", "othercounty", "unit"):
        assert _code(world.get(caller, receipt)) == (404, "receipt_not_found"), caller
    # A unit's own export is its own (and its auditors'), not a township's.
    r = world.get("unit", "/reports/presence", params=period)
    assert r.status_code == 200, r.text
    receipt = f"/reports/receipts/{r.headers['zhucun-receipt']}"
    assert world.get("unit", receipt).status_code == 200
    assert _code(world.get("county", receipt)) == (404, "receipt_not_found")
