"""The authorization matrix (issue 11): every /api/v1 route × every kind of caller, with the
status each must answer, as one table checked against the app's own route table — a route
without a row (or a row without a route) fails the test. The token columns (no token, expired,
tampered, other secret, `alg: none`) are tests/auth/test_token_matrix.py.

The target of every request is the member Alice's data (village 430121001001, township
430121001, county 430121, unit 市农业农村局). Rows run in order in one world, so a state
change shows in later rows (a leave approved by the first approver answers 409 to the next:
that caller got past authorization). The moved-member case is its own test below.
"""

from __future__ import annotations

from datetime import UTC, date, datetime, timedelta
from typing import Any

from app.org.models import Assignment, Member
from app.privacy.notice import VERSION as NOTICE_VERSION
from tests.checkins.helpers import fix
from tests.conftest import BACKEND
from tests.world import PASSWORD, World

# member (own data), other member, township A, township B, county, other county, city, unit,
# auditor, admin.
CALLERS = (
    "alice",
    "bob",
    "township1",
    "township2",
    "county",
    "othercounty",
    "city",
    "unit",
    "auditor",
    "admin",
)
PUBLIC = {
    "/api/v1/auth/token",
    "/api/v1/auth/refresh",
    "/api/v1/auth/wechat",
    "/api/v1/privacy/notice",
    "/api/v1/public/surveys/{code}",
}
VILLAGE = "430121001001"
# The national rollup's tables are PostgreSQL's: SQLite answers 409 rollup_not_configured.
ROLLUP = "200" if BACKEND == "postgis" else "409"


def _days(n: int) -> str:
    return str(date.today() + timedelta(days=n))


def _ago(hours: float) -> str:
    return (datetime.now(UTC) - timedelta(hours=hours)).isoformat()


# (method, route template) -> (concrete path, JSON body or None, expected statuses in CALLERS
# order). Path fields in braces are filled from the arranged ids.
Row = tuple[str, Any, str]
ROWS: dict[tuple[str, str], Row] = {
    ("GET", "/me"): ("/me", None, "200 200 200 200 200 200 200 200 200 200"),
    ("POST", "/me/password"): (
        "/me/password",
        {"current_password": "wrong-" + PASSWORD, "new_password": "another-long-pass-1"},
        "403 403 403 403 403 403 403 403 403 403",
    ),
    ("GET", "/me/assignment"): ("/me/assignment", None, "200 200 403 403 403 403 403 403 403 403"),
    ("GET", "/me/roll-calls"): ("/me/roll-calls", None, "200 200 403 403 403 403 403 403 403 403"),
    ("GET", "/policy"): ("/policy", None, "200 200 200 200 200 200 200 200 200 200"),
    ("GET", "/villages/locate"): (
        "/villages/locate?latitude={lat}&longitude={lon}",
        None,
        "200 200 200 200 200 200 200 200 200 200",
    ),
    ("GET", "/villages"): (
        "/villages?scope=430121001",
        None,
        "200 200 200 404 200 404 200 200 200 200",
    ),
    ("GET", "/villages/{code}"): (
        f"/villages/{VILLAGE}",
        None,
        "200 404 200 404 200 404 200 200 200 200",
    ),
    ("GET", "/villages/{code}/wifi"): (
        f"/villages/{VILLAGE}/wifi",
        None,
        "403 403 200 404 200 404 200 403 403 200",
    ),
    ("POST", "/villages/{code}/wifi"): (
        f"/villages/{VILLAGE}/wifi",
        {"bssid": "aa:bb:cc:dd:ee:{n:02x}", "label": "村委会"},
        "403 403 201 404 201 404 201 403 403 201",
    ),
    ("PUT", "/units/{name}/office"): (
        "/units/市农业农村局/office",
        {"latitude": 28.31, "longitude": 112.95, "radius_m": 150},
        "403 403 403 403 200 404 200 403 403 200",
    ),
    ("GET", "/units/{name}/office"): (
        "/units/市农业农村局/office",
        None,
        "403 403 200 404 200 404 200 200 200 200",
    ),
    ("POST", "/checkins"): ("/checkins", "fix", "201 201 403 403 403 403 403 403 403 403"),
    ("POST", "/checkins/batch"): (
        "/checkins/batch",
        "batch",
        "200 200 403 403 403 403 403 403 403 403",
    ),
    ("GET", "/checkins"): (
        "/checkins?member_id={alice}",
        None,
        "200 404 200 404 200 404 200 200 200 200",
    ),
    ("POST", "/checkins/{checkin_id}/void"): (
        "/checkins/{checkin}/void",
        {"reason": "漂移"},
        "403 403 200 404 409 404 409 403 403 409",
    ),
    ("POST", "/checkins/{checkin_id}/restore"): (
        "/checkins/{checkin}/restore",
        {"reason": "核实"},
        "403 403 200 404 409 404 409 403 403 409",
    ),
    ("GET", "/members/{member_id}/presence"): (
        "/members/{alice}/presence",
        None,
        "200 404 200 404 200 404 200 200 200 200",
    ),
    ("GET", "/presence/on-post"): (
        "/presence/on-post?scope=430121001",
        None,
        "403 403 200 404 200 404 200 403 200 200",
    ),
    ("POST", "/leave-requests"): (
        "/leave-requests",
        {"type": "personal", "start_date": _days(60), "end_date": _days(61), "reason": "事"},
        "201 201 403 403 403 403 403 403 403 403",
    ),
    ("GET", "/leave-requests"): (
        "/leave-requests?member_id={alice}",
        None,
        "200 404 200 404 200 404 200 200 200 200",
    ),
    ("GET", "/leave-requests/{leave_id}"): (
        "/leave-requests/{leave_a}",
        None,
        "200 404 200 404 200 404 200 200 200 200",
    ),
    ("POST", "/leave-requests/{leave_id}/approve"): (
        "/leave-requests/{leave_a}/approve",
        {},
        "403 403 200 404 403 404 403 403 403 403",
    ),
    ("POST", "/leave-requests/{leave_id}/reject"): (
        "/leave-requests/{leave_b}/reject",
        {},
        "403 403 200 404 403 404 403 403 403 403",
    ),
    ("POST", "/leave-requests/{leave_id}/extend"): (
        "/leave-requests/{leave_a}/extend",
        {"end_date": _days(32)},
        "201 404 403 403 403 403 403 403 403 403",
    ),
    ("POST", "/leave-requests/{leave_id}/return"): (
        "/leave-requests/{leave_a}/return",
        {"returned_on": _days(31)},
        "409 404 403 403 403 403 403 403 403 403",
    ),
    ("POST", "/leave-requests/{leave_id}/cancel"): (
        "/leave-requests/{leave_c}/cancel",
        {},
        "200 404 403 403 403 403 403 403 403 403",
    ),
    ("POST", "/roll-calls"): (
        "/roll-calls",
        {"scope": "430121001", "window_minutes": 30, "message": "点名"},
        "403 403 403 403 201 404 201 403 403 403",
    ),
    ("GET", "/roll-calls"): (
        "/roll-calls?scope=430121001",
        None,
        "403 403 200 404 200 404 200 403 200 200",
    ),
    ("GET", "/roll-calls/{roll_call_id}"): (
        "/roll-calls/{roll_call}",
        None,
        "403 403 200 404 200 404 200 403 200 200",
    ),
    ("POST", "/inspections"): (
        "/inspections",
        {"village_code": VILLAGE, "visited_at": _ago(2), "found_present": ["{alice}"]},
        "403 403 201 404 201 404 201 403 201 201",
    ),
    ("GET", "/inspections"): (
        "/inspections?scope=430121001",
        None,
        "403 403 200 404 200 404 200 403 200 200",
    ),
    ("GET", "/inspections/{inspection_id}"): (
        "/inspections/{inspection}",
        None,
        "403 403 200 404 200 404 200 403 200 200",
    ),
    ("POST", "/events"): (
        "/events",
        {"kind": "petition", "occurred_at": _ago(1), "summary": "上访", "village_code": VILLAGE},
        "201 422 403 403 403 403 403 403 403 403",
    ),
    ("GET", "/events"): (
        "/events?scope=430121001",
        None,
        "200 200 200 404 200 404 200 200 200 200",
    ),
    ("GET", "/events/{event_id}"): (
        "/events/{event}",
        None,
        "200 404 200 404 200 404 200 200 200 200",
    ),
    ("POST", "/events/{event_id}/acknowledge"): (
        "/events/{event}/acknowledge",
        {},
        "403 403 200 404 409 404 409 403 403 409",
    ),
    ("POST", "/rectifications"): (
        "/rectifications",
        {
            "member_id": "{alice}",
            "source": {"kind": "manual"},
            "requirement": "补齐驻村天数",
            "due_date": _days(30),
        },
        "403 403 201 404 201 404 201 403 403 403",
    ),
    ("GET", "/rectifications"): (
        "/rectifications?scope=430121001",
        None,
        "200 200 200 404 200 404 200 200 200 200",
    ),
    ("GET", "/rectifications/{rectification_id}"): (
        "/rectifications/{rectification}",
        None,
        "200 404 200 404 200 404 200 200 200 200",
    ),
    ("POST", "/rectifications/{rectification_id}/close"): (
        "/rectifications/{rectification}/close",
        {"evidence": "已整改"},
        "403 403 200 404 409 404 409 403 403 403",
    ),
    ("POST", "/surveys"): (
        "/surveys",
        {"scope": "430121001", "title": "测评", "opens_at": _ago(1), "closes_at": _ago(-48)},
        "403 403 403 403 201 404 201 403 403 403",
    ),
    ("GET", "/surveys"): (
        "/surveys?scope=430121001",
        None,
        "403 403 403 403 200 404 200 403 200 403",
    ),
    ("GET", "/surveys/{survey_id}"): (
        "/surveys/{survey}",
        None,
        "403 403 403 403 200 404 200 403 200 403",
    ),
    ("GET", "/surveys/{survey_id}/cards"): (
        f"/surveys/{{survey}}/cards?village_code={VILLAGE}",
        None,
        "403 403 403 403 200 404 200 403 200 403",
    ),
    ("GET", "/surveys/{survey_id}/results"): (
        "/surveys/{survey}/results",
        None,
        "403 403 403 403 200 404 200 403 200 403",
    ),
    ("POST", "/surveys/{survey_id}/exclusions"): (
        "/surveys/{survey}/exclusions",
        {"answer_ids": ["{answer}"], "reason": "代答"},
        "403 403 403 403 403 403 403 403 200 403",
    ),
    ("GET", "/compliance/members/{member_id}"): (
        "/compliance/members/{alice}",
        None,
        "200 404 200 404 200 404 200 200 200 200",
    ),
    ("GET", "/compliance/members/{member_id}/rules"): (
        "/compliance/members/{alice}/rules",
        None,
        "200 404 200 404 200 404 200 200 200 200",
    ),
    ("GET", "/compliance/members/{member_id}/annual"): (
        "/compliance/members/{alice}/annual",
        None,
        "200 404 200 404 200 404 200 200 200 200",
    ),
    ("GET", "/compliance"): (
        "/compliance?scope=430121001",
        None,
        "403 403 200 404 200 404 200 200 200 200",
    ),
    ("POST", "/households/import"): (
        "/households/import",
        {"not": "a csv"},
        "403 403 403 403 422 422 422 403 403 422",
    ),
    ("GET", "/households"): (
        "/households?scope=430121001",
        None,
        "403 403 200 404 200 404 200 200 200 200",
    ),
    ("GET", "/me/households"): ("/me/households", None, "200 200 403 403 403 403 403 403 403 403"),
    ("GET", "/households/{household_id}"): (
        "/households/{household}",
        None,
        "200 404 200 404 200 404 200 200 200 200",
    ),
    ("POST", "/households/{household_id}/pairing"): (
        "/households/{household}/pairing",
        {"member_id": "{alice}", "from": _days(-30)},
        "403 403 200 404 200 404 200 403 403 200",
    ),
    ("PUT", "/households/{household_id}/plan"): (
        "/households/{household}/plan",
        {"measures": [{"kind": "health", "description": "慢病随访", "status": "planned"}]},
        "200 404 200 404 200 404 200 403 403 200",
    ),
    ("GET", "/households/{household_id}/plan/history"): (
        "/households/{household}/plan/history",
        None,
        "200 404 200 404 200 404 200 200 200 200",
    ),
    ("POST", "/visits"): ("/visits", "visit", "201 404 403 403 403 403 403 403 403 403"),
    # Public (no sign-in): every caller alike; the code and the page before the answer.
    ("POST", "/public/countersign"): (
        "/public/countersign",
        {"code": "{code}"},
        "200 200 200 200 200 200 200 200 200 200",
    ),
    ("GET", "/public/countersign/{token}"): (
        "/public/countersign/{token}",
        None,
        "200 200 200 200 200 200 200 200 200 200",
    ),
    ("POST", "/public/countersign/{token}"): (
        "/public/countersign/{token}",
        {"confirmed": True, "knows_member": True},
        "200 409 409 409 409 409 409 409 409 409",
    ),
    ("POST", "/callbacks/draws"): (
        "/callbacks/draws",
        {"scope": "430121001", "from": _days(-7), "to": _days(0)},
        "403 403 201 404 201 404 403 403 403 403",
    ),
    ("POST", "/callbacks/{callback_id}/outcome"): (
        "/callbacks/{callback}/outcome",
        {"reached": False},
        "403 403 200 404 409 404 403 403 403 403",
    ),
    ("GET", "/callbacks"): (
        "/callbacks?scope=430121001",
        None,
        "403 403 200 404 200 404 200 403 200 200",
    ),
    ("GET", "/reports/households"): (
        "/reports/households?scope=430121001",
        None,
        "403 403 200 404 200 404 200 200 200 200",
    ),
    ("GET", "/audit/public-keys"): (
        "/audit/public-keys",
        None,
        "200 200 200 200 200 200 200 200 200 200",
    ),
    ("POST", "/audit/checkpoints"): (
        "/audit/checkpoints",
        {},
        "403 403 403 403 403 403 403 403 403 201",
    ),
    ("GET", "/audit/checkpoints/latest"): (
        "/audit/checkpoints/latest",
        None,
        "403 403 403 403 403 403 403 403 200 200",
    ),
    ("GET", "/audit/actions"): (
        "/audit/actions",
        None,
        "403 403 403 403 403 403 403 403 200 200",
    ),
    ("GET", "/reports/presence"): (
        "/reports/presence?scope=430121001&from={from}&to={to}",
        None,
        "403 403 200 404 200 404 200 200 200 200",
    ),
    ("GET", "/reports/compliance"): (
        "/reports/compliance?scope=430121001&period={quarter}",
        None,
        "403 403 200 404 200 404 200 200 200 200",
    ),
    ("GET", "/reports/monthly"): (
        "/reports/monthly?scope=430121001&month={month}",
        None,
        "403 403 200 404 200 404 200 200 200 200",
    ),
    ("GET", "/reports/surveys"): (
        "/reports/surveys?survey_id={survey}",
        None,
        "403 403 403 403 200 404 200 403 200 403",
    ),
    ("GET", "/reports/receipts/{receipt_id}"): (
        "/reports/receipts/{receipt}",
        None,
        "403 403 200 404 200 404 200 404 200 200",
    ),
    ("GET", "/dashboard/overview"): (
        "/dashboard/overview?scope=430121001",
        None,
        "403 403 200 404 200 404 200 403 200 200",
    ),
    ("GET", "/dashboard/villages/{code}"): (
        f"/dashboard/villages/{VILLAGE}",
        None,
        "403 403 200 404 200 404 200 403 200 200",
    ),
    ("GET", "/rollup/on-post"): (
        "/rollup/on-post?scope=430121001",
        None,
        f"403 403 {ROLLUP} 404 {ROLLUP} 404 {ROLLUP} 403 {ROLLUP} {ROLLUP}",
    ),
    ("GET", "/rollup/compliance"): (
        "/rollup/compliance?scope=430121001&period={quarter}",
        None,
        f"403 403 {ROLLUP} 404 {ROLLUP} 404 {ROLLUP} 403 {ROLLUP} {ROLLUP}",
    ),
    ("GET", "/reports/rollup-compliance"): (
        "/reports/rollup-compliance?scope=430121001&period={quarter}",
        None,
        f"403 403 {ROLLUP} 404 {ROLLUP} 404 {ROLLUP} 403 {ROLLUP} {ROLLUP}",
    ),
    ("POST", "/users/{user_id}/deactivate"): (
        "/users/{target}/deactivate",
        {},
        "403 403 403 403 403 403 403 403 403 200",
    ),
    ("POST", "/users/{user_id}/activate"): (
        "/users/{target}/activate",
        {},
        "403 403 403 403 403 403 403 403 403 200",
    ),
    ("POST", "/users/{user_id}/unlock"): (
        "/users/{target}/unlock",
        {},
        "403 403 403 403 403 403 403 403 403 200",
    ),
    ("GET", "/audit/logins"): (
        "/audit/logins",
        None,
        "403 403 403 403 403 403 403 403 200 200",
    ),
    ("POST", "/me/totp"): ("/me/totp", {}, "200 200 200 200 200 200 200 200 200 200"),
    ("POST", "/me/totp/confirm"): (
        "/me/totp/confirm",
        {"code": "abcdef"},
        "422 422 422 422 422 422 422 422 422 422",
    ),
    # Privacy (issue 21): the access log, the notice, the member's copy, feedback, burden.
    ("GET", "/me/access-log"): ("/me/access-log", None, "200 200 403 403 403 403 403 403 403 403"),
    ("GET", "/audit/access-log"): (
        "/audit/access-log",
        None,
        "403 403 403 403 403 403 403 403 200 200",
    ),
    ("POST", "/me/notice"): (
        "/me/notice",
        {"version": NOTICE_VERSION},
        "200 200 200 200 200 200 200 200 200 200",
    ),
    ("GET", "/me/export"): ("/me/export", None, "200 200 200 200 200 200 200 200 200 200"),
    ("POST", "/feedback"): (
        "/feedback",
        {"kind": "suggestion", "text": "建议 {n}"},
        "201 201 201 201 201 201 201 201 201 201",
    ),
    ("GET", "/me/feedback"): ("/me/feedback", None, "200 200 200 200 200 200 200 200 200 200"),
    ("GET", "/feedback"): ("/feedback", None, "403 403 403 403 200 200 200 403 403 200"),
    ("POST", "/feedback/{feedback_id}/reply"): (
        "/feedback/{feedback}/reply",
        {"text": "已答复"},
        "403 403 403 403 200 404 409 403 403 409",
    ),
    ("GET", "/reports/burden"): (
        "/reports/burden?scope=430121001&month={month}",
        None,
        "403 403 200 404 200 404 200 403 200 200",
    ),
    # Last: it ends each caller's session.
    ("POST", "/auth/logout"): ("/auth/logout", {}, "204 204 204 204 204 204 204 204 204 204"),
}


def _arrange(world: World) -> dict[str, Any]:
    """Alice's records every row reads or changes, made through the API."""
    ids: dict[str, Any] = {"alice": world.members["alice"].id}
    ids["target"] = world.add_user("target", "township", "430121001").id
    world.db.commit()
    lon, lat = 113.01, 28.31
    ids |= {"lon": lon, "lat": lat}
    r = world.post("alice", "/checkins", json=fix(VILLAGE, ago=timedelta(hours=3)))
    assert r.status_code == 201, r.text
    ids["checkin"] = r.json()["id"]
    for key, start in (("leave_a", 20), ("leave_b", 40), ("leave_c", 50)):
        body = {"type": "personal", "start_date": _days(start), "end_date": _days(start + 2)}
        r = world.post("alice", "/leave-requests", json=body)
        assert r.status_code == 201, r.text
        ids[key] = r.json()["id"]
    r = world.post("county", "/roll-calls", json={"scope": "430121001", "window_minutes": 30})
    assert r.status_code == 201, r.text
    ids["roll_call"] = r.json()["id"]
    visit = {"village_code": VILLAGE, "visited_at": _ago(2), "found_present": [ids["alice"]]}
    r = world.post("county", "/inspections", json=visit)
    assert r.status_code == 201, r.text
    ids["inspection"] = r.json()["id"]
    event = {"kind": "petition", "occurred_at": _ago(1), "summary": "上访", "village_code": VILLAGE}
    r = world.post("alice", "/events", json=event)
    assert r.status_code == 201, r.text
    ids["event"] = r.json()["id"]
    item = {
        "member_id": ids["alice"],
        "source": {"kind": "manual"},
        "requirement": "补齐驻村天数",
        "due_date": _days(30),
    }
    r = world.post("county", "/rectifications", json=item)
    assert r.status_code == 201, r.text
    ids["rectification"] = r.json()["id"]
    ids |= _arrange_households(world)
    wave = {"scope": "430121001", "title": "测评", "opens_at": _ago(1), "closes_at": _ago(-48)}
    r = world.post("county", "/surveys", json=wave)
    assert r.status_code == 201, r.text
    ids["survey"] = r.json()["id"]
    r = world.get("county", f"/surveys/{ids['survey']}/cards?village_code={VILLAGE}&format=csv")
    code = r.text.splitlines()[1].split(",")[3]
    answers = dict.fromkeys(("q1", "q2", "q3", "q4", "q5"), 4)
    r = world.client.post(f"/api/v1/public/surveys/{code}", json={"answers": answers})
    assert r.status_code == 200, r.text
    ids["answer"] = r.json()["answer_id"]
    today = date.today()
    ids["month"] = today.strftime("%Y-%m")
    ids["quarter"] = f"{today.year}Q{(today.month - 1) // 3 + 1}"
    ids["from"], ids["to"] = str(today - timedelta(days=7)), str(today)
    r = world.get("county", f"/reports/presence?scope=430121001&from={ids['from']}&to={ids['to']}")
    assert r.status_code == 200, r.text
    ids["receipt"] = r.headers["zhucun-receipt"]
    r = world.post("alice", "/feedback", json={"kind": "complaint", "text": "投诉"})
    assert r.status_code == 201, r.text
    ids["feedback"] = r.json()["id"]
    return ids


def _arrange_households(world: World) -> dict[str, Any]:
    """A household paired with Alice, her visit (its countersign) and a call-back draw."""
    from tests.households.support import csv_of, import_csv, row, visit

    r = import_csv(world, csv_of(row("H1", 0, "alice", date.today() - timedelta(days=30))))
    assert r.status_code == 200, r.text
    household = world.get("county", "/households").json()["items"][0]
    r = world.post("alice", "/visits", json=visit(household))
    assert r.status_code == 201, r.text
    offer = r.json()["countersign"]
    r = world.post(
        "county", "/callbacks/draws", json={"scope": "430121001", "from": _days(-7), "to": _days(0)}
    )
    assert r.status_code == 201, r.text
    return {
        "household": household["id"],
        "household_body": household,
        "token": offer["url"].rsplit("/", 1)[1],
        "code": offer["code"],
        "callback": r.json()["items"][0]["callback_id"],
    }


def _fill(value: Any, ids: dict[str, Any], n: int) -> Any:
    if isinstance(value, str):
        if value.startswith("{") and value.endswith("}") and value[1:-1] in ids:
            return ids[value[1:-1]]  # a whole-value id keeps its type
        return value.format(**ids, n=n)
    if isinstance(value, dict):
        return {k: _fill(v, ids, n) for k, v in value.items()}
    if isinstance(value, list):
        return [_fill(v, ids, n) for v in value]
    return value


def _body(spec: Any, ids: dict[str, Any], n: int) -> Any:
    if spec == "fix":
        return fix(VILLAGE, ago=timedelta(minutes=5 + n))
    if spec == "visit":
        from tests.households.support import visit

        return visit(ids["household_body"])
    if spec == "batch":
        return {"items": [fix(VILLAGE, ago=timedelta(minutes=30 + n))]}
    return _fill(spec, ids, n)


def test_every_route_answers_every_caller_as_the_table_says(world, app):
    served = {
        (method.upper(), path.removeprefix("/api/v1"))
        for path, operations in app.openapi()["paths"].items()
        if path.startswith("/api/v1/") and path not in PUBLIC
        for method in operations
    }
    assert served == set(ROWS), "every /api/v1 route needs a row, and every row a route"
    ids = _arrange(world)
    wrong: dict[tuple[str, str], str] = {}
    for (method, template), (path, body, expected) in ROWS.items():
        got = []
        for n, caller in enumerate(CALLERS):
            url = "/api/v1" + _fill(path, ids, n)
            kwargs = {} if body is None else {"json": _body(body, ids, n)}
            r = world.client.request(method, url, headers=world.headers(caller), **kwargs)
            got.append(str(r.status_code))
        if " ".join(got) != expected:
            wrong[(method, template)] = " ".join(got)
    assert not wrong, (
        "rows that differ (callers: "
        + " ".join(CALLERS)
        + "):\n"
        + "\n".join(f"{k}: got {v!r}, table {ROWS[k][2]!r}" for k, v in wrong.items())
    )


def test_a_moved_member_is_seen_by_each_township_for_their_days_and_by_the_county_for_all(
    world,
):
    """Township A sees the days before the move, township B the days after, the county both
    (app/org/scope.py, rule 2)."""
    today = date.today()
    moved_on = today - timedelta(days=9)
    mover = Member(
        full_name="Mover",
        position="team_member",
        unit_id=world.members["alice"].unit_id,
        created_at=datetime.now(UTC),
    )
    world.db.add(mover)
    world.db.flush()
    world.db.add_all(
        [
            Assignment(
                member_id=mover.id,
                village_code="430121001001",
                start_date=today - timedelta(days=200),
                end_date=moved_on - timedelta(days=1),
            ),
            Assignment(
                member_id=mover.id, village_code="430121002001", start_date=moved_on, end_date=None
            ),
        ]
    )
    world.members["mover"] = mover
    world.add_user("mover", "member", "", member_id=mover.id)
    world.db.commit()
    noon = datetime.combine(today, datetime.min.time(), UTC).replace(hour=4)
    before = world.post(
        "mover", "/checkins", json=fix("430121001001", at=noon - timedelta(days=12))
    )
    after = world.post("mover", "/checkins", json=fix("430121002001", at=noon - timedelta(days=3)))
    assert (before.status_code, after.status_code) == (201, 201), (before.text, after.text)
    leave = world.post(
        "mover",
        "/leave-requests",
        json={"type": "personal", "start_date": _days(5), "end_date": _days(5)},
    )
    assert leave.status_code == 201, leave.text

    def fixes(caller: str) -> set[int] | int:
        r = world.get(caller, f"/checkins?member_id={mover.id}")
        return r.status_code if r.status_code != 200 else {c["id"] for c in r.json()["items"]}

    b, a = before.json()["id"], after.json()["id"]
    assert fixes("township1") == {b}
    assert fixes("township2") == {a}
    assert fixes("county") == {a, b}
    assert fixes("city") == {a, b}
    assert fixes("mover") == {a, b}
    assert fixes("othercounty") == 404

    span = f"from={today - timedelta(days=14)}&to={today}"

    def days(caller: str) -> set[str] | int:
        r = world.get(caller, f"/members/{mover.id}/presence?{span}")
        return r.status_code if r.status_code != 200 else {d["date"] for d in r.json()["days"]}

    all_days = {str(today - timedelta(days=n)) for n in range(15)}
    before_move = {d for d in all_days if d < str(moved_on)}
    assert days("township1") == before_move
    assert days("township2") == all_days - before_move
    assert days("county") == all_days
    assert days("othercounty") == 404

    leave_path = f"/leave-requests/{leave.json()['id']}"
    statuses = {
        c: world.get(c, leave_path).status_code for c in ("township1", "township2", "county")
    }
    assert statuses == {"township1": 404, "township2": 200, "county": 200}
    queue = world.get("township1", f"/leave-requests?member_id={mover.id}").json()["items"]
    assert queue == []
    # Voiding follows the day too: A may not void B's fix, B may.
    void = {"reason": "漂移"}
    assert world.post("township1", f"/checkins/{a}/void", json=void).status_code == 404
    assert world.post("township2", f"/checkins/{a}/void", json=void).status_code == 200

    # Compliance too: each township judges the member over its own days, pro-rated as a part
    # assignment; the county above both over the whole period.
    quarter = f"{today.year}Q{(today.month - 1) // 3 + 1}"

    def judged(caller: str) -> dict:
        r = world.get(caller, f"/compliance/members/{mover.id}?period={quarter}")
        assert r.status_code == 200, r.text
        return r.json()

    county, township_a, township_b = judged("county"), judged("township1"), judged("township2")
    if moved_on >= date(today.year, 3 * ((today.month - 1) // 3) + 1, 1):  # moved in the quarter
        assert township_a["pro_rated"]
        assert township_b["pro_rated"]
        assert township_a["required_days"] < county["required_days"]
        assert township_b["required_days"] < county["required_days"]
        assert township_a["present_days"] + township_b["present_days"] == county["present_days"]


# Separation of duties (三员分立, issue 21 item 7): the three administrators, every route, in the
# order of ROWS (one world). An audit administrator changes nothing; a system administrator
# reads no audit log; the security administrator unlocks accounts and signs checkpoints.
DUTY_CALLERS = ("sysadmin", "security_admin", "audit_admin")
# The separated administrators read no member's records (404: outside what they see).
DUTY_ROWS: dict[tuple[str, str], str] = {
    ("GET", "/me/access-log"): "403 403 403",
    ("GET", "/audit/access-log"): "403 403 200",
    ("POST", "/me/notice"): "200 200 200",
    ("GET", "/me/export"): "200 200 200",
    ("POST", "/feedback"): "201 201 201",
    ("GET", "/me/feedback"): "200 200 200",
    ("GET", "/feedback"): "403 403 403",
    ("POST", "/feedback/{feedback_id}/reply"): "403 403 403",
    ("GET", "/reports/burden"): "403 403 403",
    ("PUT", "/units/{name}/office"): "403 403 403",
    ("GET", "/units/{name}/office"): "403 403 403",
    ("POST", "/households/import"): "403 403 403",
    ("GET", "/households"): "403 403 403",
    ("GET", "/me/households"): "403 403 403",
    ("GET", "/households/{household_id}"): "404 404 404",
    ("POST", "/households/{household_id}/pairing"): "403 403 403",
    ("PUT", "/households/{household_id}/plan"): "404 404 404",
    ("GET", "/households/{household_id}/plan/history"): "404 404 404",
    ("POST", "/visits"): "403 403 403",
    ("POST", "/callbacks/draws"): "403 403 403",
    ("POST", "/callbacks/{callback_id}/outcome"): "403 403 403",
    ("GET", "/callbacks"): "403 403 403",
    ("GET", "/reports/households"): "403 403 403",
    ("GET", "/me"): "200 200 200",
    ("POST", "/me/password"): "403 403 403",
    ("GET", "/me/assignment"): "403 403 403",
    ("GET", "/me/roll-calls"): "403 403 403",
    ("GET", "/policy"): "200 200 200",
    ("GET", "/villages/locate"): "200 200 200",
    ("GET", "/villages"): "404 404 404",
    ("GET", "/villages/{code}"): "404 404 404",
    ("GET", "/villages/{code}/wifi"): "403 403 403",
    ("POST", "/villages/{code}/wifi"): "403 403 403",
    ("POST", "/checkins"): "403 403 403",
    ("POST", "/checkins/batch"): "403 403 403",
    ("GET", "/checkins"): "404 404 404",
    ("POST", "/checkins/{checkin_id}/void"): "403 403 403",
    ("POST", "/checkins/{checkin_id}/restore"): "403 403 403",
    ("GET", "/members/{member_id}/presence"): "404 404 404",
    ("GET", "/presence/on-post"): "403 403 403",
    ("POST", "/leave-requests"): "403 403 403",
    ("GET", "/leave-requests"): "404 404 404",
    ("GET", "/leave-requests/{leave_id}"): "404 404 404",
    ("POST", "/leave-requests/{leave_id}/approve"): "403 403 403",
    ("POST", "/leave-requests/{leave_id}/reject"): "403 403 403",
    ("POST", "/leave-requests/{leave_id}/extend"): "403 403 403",
    ("POST", "/leave-requests/{leave_id}/return"): "403 403 403",
    ("POST", "/leave-requests/{leave_id}/cancel"): "403 403 403",
    ("POST", "/roll-calls"): "403 403 403",
    ("GET", "/roll-calls"): "403 403 403",
    ("GET", "/roll-calls/{roll_call_id}"): "403 403 403",
    ("POST", "/inspections"): "403 403 403",
    ("GET", "/inspections"): "403 403 403",
    ("GET", "/inspections/{inspection_id}"): "403 403 403",
    ("POST", "/events"): "403 403 403",
    ("GET", "/events"): "404 404 404",
    ("GET", "/events/{event_id}"): "404 404 404",
    ("POST", "/events/{event_id}/acknowledge"): "403 403 403",
    ("POST", "/rectifications"): "403 403 403",
    ("GET", "/rectifications"): "404 404 404",
    ("GET", "/rectifications/{rectification_id}"): "404 404 404",
    ("POST", "/rectifications/{rectification_id}/close"): "403 403 403",
    ("POST", "/surveys"): "403 403 403",
    ("GET", "/surveys"): "403 403 403",
    ("GET", "/surveys/{survey_id}"): "403 403 403",
    ("GET", "/surveys/{survey_id}/cards"): "403 403 403",
    ("GET", "/surveys/{survey_id}/results"): "403 403 403",
    ("POST", "/surveys/{survey_id}/exclusions"): "403 403 403",
    ("GET", "/compliance/members/{member_id}"): "404 404 404",
    ("GET", "/compliance/members/{member_id}/rules"): "404 404 404",
    ("GET", "/compliance/members/{member_id}/annual"): "404 404 404",
    ("GET", "/compliance"): "403 403 403",
    ("GET", "/audit/public-keys"): "200 200 200",
    ("POST", "/audit/checkpoints"): "403 201 403",
    ("GET", "/audit/checkpoints/latest"): "403 403 200",
    ("GET", "/audit/actions"): "403 403 200",
    ("GET", "/reports/presence"): "403 403 403",
    ("GET", "/reports/compliance"): "403 403 403",
    ("GET", "/reports/monthly"): "403 403 403",
    ("GET", "/reports/surveys"): "403 403 403",
    ("GET", "/reports/receipts/{receipt_id}"): "403 403 403",
    ("GET", "/dashboard/overview"): "403 403 403",
    ("GET", "/dashboard/villages/{code}"): "403 403 403",
    ("GET", "/rollup/on-post"): "403 403 403",
    ("GET", "/rollup/compliance"): "403 403 403",
    ("GET", "/reports/rollup-compliance"): "403 403 403",
    ("POST", "/users/{user_id}/deactivate"): "200 403 403",
    ("POST", "/users/{user_id}/activate"): "200 403 403",
    ("POST", "/users/{user_id}/unlock"): "403 200 403",
    ("GET", "/audit/logins"): "403 403 200",
    ("POST", "/me/totp"): "200 200 200",
    ("POST", "/me/totp/confirm"): "422 422 422",
    ("POST", "/auth/logout"): "204 204 204",
}
AUDIT_LOG_READS = {
    ("GET", "/audit/actions"),
    ("GET", "/audit/logins"),
    ("GET", "/audit/access-log"),
    ("GET", "/audit/checkpoints/latest"),
}
# What every account may do to itself.
SELF_SERVICE = {
    ("POST", "/me/password"),
    ("POST", "/me/totp"),
    ("POST", "/me/totp/confirm"),
    ("POST", "/me/notice"),  # acknowledging the privacy notice
    ("POST", "/feedback"),  # any signed-in user may complain or suggest
    ("POST", "/auth/logout"),
}


def test_the_separated_administrators_answer_as_the_duty_table_says(world, app):
    for name in DUTY_CALLERS:
        world.add_user(name, name, "")
    world.db.commit()
    ids = _arrange(world)
    got: dict[tuple[str, str], str] = {}
    for (method, template), (path, body, _) in ROWS.items():
        if template.startswith("/public/"):  # a villager's routes: no token, no duty
            continue
        statuses = []
        for n, caller in enumerate(DUTY_CALLERS):
            url = "/api/v1" + _fill(path, ids, 20 + n)
            kwargs = {} if body is None else {"json": _body(body, ids, 20 + n)}
            r = world.client.request(method, url, headers=world.headers(caller), **kwargs)
            statuses.append(str(r.status_code))
        got[(method, template)] = " ".join(statuses)
    for key, statuses in got.items():
        sysadmin, _, audit_admin = statuses.split()
        if key[0] != "GET" and key not in SELF_SERVICE:
            assert not audit_admin.startswith("2"), f"audit_admin changed something: {key}"
        if key in AUDIT_LOG_READS:
            assert sysadmin == "403", f"sysadmin read an audit log: {key}"
            assert audit_admin == "200", f"audit_admin could not read {key}"
    assert got[("POST", "/users/{user_id}/unlock")] == "403 200 403"
    assert got[("POST", "/users/{user_id}/deactivate")] == "200 403 403"
    missing = {k: v for k, v in got.items() if k not in DUTY_ROWS}
    assert not missing, f"every route needs a duty row: {missing}"
    assert set(got) == set(DUTY_ROWS), "a duty row names a route that is gone"
    wrong = {k: v for k, v in got.items() if v != DUTY_ROWS[k]}
    assert not wrong, f"(callers: {' '.join(DUTY_CALLERS)}) got {wrong}"
