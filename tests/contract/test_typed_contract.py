"""What a generated client needs typed is typed (issue 18, item 6): batch item errors are
problems, report JSON pages and the monthly bulletin have row types, /readyz has its answer,
exports declare their signature headers, receipts' queries, action payloads and the dashboard's
geometries have schemas; and every such answer the service gives follows its schema."""

from __future__ import annotations

import re
from datetime import timedelta
from typing import Any

import pytest
from jsonschema import Draft202012Validator, FormatChecker

from tests.checkins.helpers import fix
from tests.reports.support import seed_story

REPORTS = {
    "/api/v1/reports/presence": ("PresenceReportPage", "items", "PresenceRow"),
    "/api/v1/reports/compliance": ("ComplianceReportPage", "items", "ComplianceReportRow"),
}


@pytest.fixture
def doc(client) -> dict[str, Any]:
    document: dict[str, Any] = client.get("/openapi.json").json()
    return document


def _ref(schema: dict[str, Any]) -> str:
    return str(schema["$ref"]).rsplit("/", 1)[1]


def _follows(doc: dict[str, Any], component: str, value: Any) -> None:
    """`value` is valid against the document's component (formats checked too)."""
    schema = {"$ref": f"#/components/schemas/{component}", "components": doc["components"]}
    validator = Draft202012Validator(schema, format_checker=FormatChecker())
    errors = [f"{list(e.absolute_path)}: {e.message}" for e in validator.iter_errors(value)]
    assert errors == [], component


def _no_free_form(doc: dict[str, Any], component: str, seen: set[str] | None = None) -> None:
    """Neither the component nor anything it refers to is an untyped object (a client's
    `unknown` / `{[key: string]: unknown}`)."""
    seen = set() if seen is None else seen
    if component in seen:
        return
    seen.add(component)

    def walk(node: Any, where: str) -> None:
        if isinstance(node, dict):
            assert node != {}, f"{component}{where}: any value"
            if node.get("type") == "object" and "properties" not in node:
                extra = node.get("additionalProperties", True)
                assert extra not in (True, {}), f"{component}{where}: a free-form object"
            if "$ref" in node:
                _no_free_form(doc, _ref(node), seen)
            for key, value in node.items():
                if key not in ("example", "examples", "default"):
                    walk(value, f"{where}/{key}")
        elif isinstance(node, list):
            for i, value in enumerate(node):
                walk(value, f"{where}/{i}")

    walk(doc["components"]["schemas"][component], "")


def test_batch_item_errors_are_problems_in_the_schema(doc):
    error = doc["components"]["schemas"]["BatchItemResult"]["properties"]["error"]
    assert [_ref(s) if "$ref" in s else s for s in error["anyOf"]] == ["Problem", {"type": "null"}]
    problem = doc["components"]["schemas"]["Problem"]
    assert {"type", "title", "status", "detail", "code", "errors", "request_id"} <= set(
        problem["properties"]
    )
    assert _ref(problem["properties"]["code"]) == "ProblemCode"
    assert {"in_future", "too_old", "internal_error", "validation_error"} <= set(
        doc["components"]["schemas"]["ProblemCode"]["enum"]
    )
    _no_free_form(doc, "BatchOut")


def test_report_json_pages_are_typed_and_exports_declare_their_headers(doc):
    for path, (page, items, row) in {
        **REPORTS,
        "/api/v1/reports/monthly": ("MonthlyBulletin", "divisions", "DivisionRow"),
    }.items():
        ok = doc["paths"][path]["get"]["responses"]["200"]
        assert _ref(ok["content"]["application/json"]["schema"]) == page
        listed = doc["components"]["schemas"][page]["properties"][items]
        assert _ref(listed["items"]) == row
        assert doc["components"]["schemas"][row]["properties"]
        _no_free_form(doc, page)
        for header in ("Content-Digest", "Zhucun-Receipt"):
            assert ok["headers"][header]["required"] is True, (path, header)
    bulletin = doc["components"]["schemas"]["MonthlyBulletin"]["properties"]
    assert _ref(bulletin["below_pace"]["items"]) == "BelowPaceRow"


def test_readyz_and_the_free_form_fields_have_schemas(doc):
    ready = doc["paths"]["/readyz"]["get"]["responses"]
    assert _ref(ready["200"]["content"]["application/json"]["schema"]) == "ReadyOut"
    assert "database_unavailable" in ready["503"]["description"]
    for component in ("ActionOut", "ReceiptOut", "OverviewOut", "VillageTeamOut", "ReadyOut"):
        _no_free_form(doc, component)
    team = doc["components"]["schemas"]["VillageTeamOut"]["properties"]["boundary"]
    assert {_ref(s) for s in team["oneOf"]} == {"Polygon", "MultiPolygon"}


def test_no_component_is_free_form(doc):
    for component in doc["components"]["schemas"]:
        _no_free_form(doc, component)


def test_report_answers_follow_their_schemas(world, doc, client):
    today = seed_story(world)
    start = (today - timedelta(days=6)).isoformat()
    queries = {
        "/api/v1/reports/presence": ({"from": start, "to": today.isoformat(), "limit": 5}, "items"),
        "/api/v1/reports/compliance": (
            {"period": f"{today.year}Q{(today.month - 1) // 3 + 1}"},
            "items",
        ),
        "/api/v1/reports/monthly": ({"month": today.strftime("%Y-%m")}, "divisions"),
    }
    for path, (params, rows) in queries.items():
        r = client.get(path, params={**params, "format": "json"}, headers=world.headers("city"))
        assert r.status_code == 200, r.text
        page = doc["paths"][path]["get"]["responses"]["200"]["content"]["application/json"]
        _follows(doc, _ref(page["schema"]), r.json())
        assert r.json()[rows], path  # rows to check
        assert re.fullmatch(r"sha-256=:[A-Za-z0-9+/]{43}=:", r.headers["Content-Digest"])
        receipt = client.get(
            f"/api/v1/reports/receipts/{r.headers['Zhucun-Receipt']}",
            headers=world.headers("city"),
        )
        assert receipt.status_code == 200
        _follows(doc, "ReceiptOut", receipt.json())
    overview = world.get("county", "/dashboard/overview")
    assert overview.status_code == 200
    assert any(v["geometry"] for v in overview.json()["villages"])
    _follows(doc, "OverviewOut", overview.json())
    team = world.get("county", "/dashboard/villages/430121001001")
    _follows(doc, "VillageTeamOut", team.json())
    _follows(doc, "ReadyOut", client.get("/readyz").json())


def test_action_payloads_follow_their_schemas(world, doc):
    checkin = world.post("alice", "/checkins", json=fix(ago=timedelta(hours=1))).json()
    for action in ("void", "restore"):
        r = world.post("township1", f"/checkins/{checkin['id']}/{action}", json={"reason": "核实"})
        assert r.status_code == 200, r.text
    leave = world.post(
        "alice",
        "/leave-requests",
        json={
            "type": "personal",
            "start_date": "2099-12-01",
            "end_date": "2099-12-02",
            "reason": "家中有事",
        },
    )
    assert leave.status_code == 201, leave.text
    assert world.post("township1", f"/leave-requests/{leave.json()['id']}/approve").is_success
    world.db.rollback()
    page = world.get("auditor", "/audit/actions").json()
    assert {a["action"] for a in page["items"]} >= {
        "checkin.void",
        "checkin.restore",
        "leave.request",
        "leave.approve",
    }
    for entry in page["items"]:
        _follows(doc, "ActionOut", entry)


def test_compliance_of_me_as_presence_takes_it(world):
    """Issue 18: /compliance/members/{member_id} refused `me`, which presence takes."""
    alice = world.members["alice"].id
    mine = world.get("alice", "/compliance/members/me")
    assert mine.status_code == 200, mine.text
    assert mine.json() == world.get("alice", f"/compliance/members/{alice}").json()
    rules = world.get("alice", "/compliance/members/me/rules")
    assert (rules.status_code, rules.json()["member_id"]) == (200, alice)
    annual = world.get("alice", "/compliance/members/me/annual")
    assert (annual.status_code, annual.json()["member_id"]) == (200, alice)
    # Someone who is no member has no `me`: as presence answers it.
    for path in ("/compliance/members/me", "/members/me/presence"):
        r = world.get("county", path)
        assert (r.status_code, r.json()["code"]) == (404, "member_not_found"), path
    bad = world.get("alice", "/compliance/members/you")
    assert (bad.status_code, bad.json()["code"]) == (422, "validation_error")
