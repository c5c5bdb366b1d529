"""What schemathesis found the schema and the service disagreeing on (issue 11): each row is
a request the schema called valid that the service refused or answered undocumented, fixed
by declaring the constraint, the status, or the header."""

from __future__ import annotations

import re

from app.main import create_app


def _schema(client) -> dict:
    return client.get("/openapi.json").json()


def test_text_fields_declare_that_nul_is_refused(world, client):
    schema = _schema(client)
    reason = schema["components"]["schemas"]["LeaveCreate"]["properties"]["reason"]
    pattern = re.compile(reason["pattern"])
    assert pattern.match("家中有事")
    assert not pattern.match("家中\x00有事")
    # And the service refuses exactly that: 422, never stored.
    r = world.post(
        "alice",
        "/leave-requests",
        json={
            "type": "personal",
            "start_date": "2026-12-20",
            "end_date": "2026-12-21",
            "reason": "家中\x00有事",
        },
    )
    assert (r.status_code, r.json()["code"]) == (422, "validation_error")


def test_login_form_declares_that_nul_is_refused(client):
    schema = _schema(client)
    form = schema["paths"]["/api/v1/auth/token"]["post"]["requestBody"]["content"]
    ref = form["application/x-www-form-urlencoded"]["schema"]["$ref"].rsplit("/", 1)[1]
    props = schema["components"]["schemas"][ref]["properties"]
    for field in ("username", "password"):
        assert not re.match(props[field]["pattern"], "a\x00b"), field


def test_dates_declare_the_years_the_service_takes(world, client):
    schema = _schema(client)
    params = schema["paths"]["/api/v1/reports/presence"]["get"]["parameters"]
    to = next(p for p in params if p.get("name") == "to")
    pattern = re.compile(to["schema"].get("pattern") or to["schema"]["anyOf"][0]["pattern"])
    assert pattern.match("2026-11-30")
    assert not pattern.match("1999-12-04")
    assert not pattern.match("2100-01-01")


def test_a_year_past_the_calendar_is_a_422_not_a_500(world):
    member = world.members["alice"].id
    r = world.get("county", f"/compliance/members/{member}/annual", params={"year": 2100})
    assert (r.status_code, r.json()["code"]) == (422, "validation_error")


def test_405_allows_every_method_of_the_path(world, client):
    # GET and POST of a collection are two routes: Allow must name both (RFC 9110 §15.5.6).
    for path in ("/api/v1/leave-requests", "/api/v1/events", "/api/v1/villages/430121001001/wifi"):
        r = client.options(path, headers=world.headers("county"))
        assert r.status_code == 405, path
        assert set(r.headers["allow"].replace(" ", "").split(",")) == {"GET", "POST"}, path
    r = client.delete("/api/v1/checkins", headers=world.headers("county"))
    assert r.status_code == 405
    assert set(r.headers["allow"].replace(" ", "").split(",")) == {"GET", "POST"}


def test_role_refusals_are_declared_on_routers_included_with_a_prefix(settings, policy):
    # FastAPI keeps included routers as branches of app.routes; the walk that declares 403
    # role_required must reach into them (it missed the Wi-Fi routes).
    schema = create_app(settings, policy).openapi()
    wifi = schema["paths"]["/api/v1/villages/{code}/wifi"]
    for method in ("get", "post"):
        assert "role_required" in wifi[method]["responses"]["403"]["description"], method


def test_login_grant_type_is_never_null_in_the_form_schema(client):
    # A form cannot carry null: `grant_type=null` arrives as the text "null" and is refused.
    props = _schema(client)["components"]["schemas"]["LoginForm"]["properties"]
    assert props["grant_type"] == {"type": "string", "enum": ["password"]} | {
        k: v for k, v in props["grant_type"].items() if k not in ("type", "enum", "anyOf")
    }
    assert "anyOf" not in props["grant_type"]


def test_scope_and_bssid_and_window_declare_what_is_refused(client):
    schema = _schema(client)
    params = schema["paths"]["/api/v1/villages"]["get"]["parameters"]
    scope = next(p for p in params if p.get("name") == "scope")["schema"]["anyOf"][0]
    assert re.match(scope["pattern"], "430121")
    assert not re.match(scope["pattern"], "东山")
    point = schema["components"]["schemas"]["AccessPointIn"]["properties"]["bssid"]
    assert re.match(point["pattern"], "3c:84:6a:12:ab:01")
    assert not re.match(point["pattern"], "00000000000000000")
    window = schema["components"]["schemas"]["RollCallCreate"]["properties"]["window_minutes"]
    assert (window["minimum"], window["maximum"]) == (1, 1440)


def test_an_empty_login_field_is_declared_refused(client):
    # FastAPI reads `password=` in a form as a missing field: the schema must not allow "".
    props = _schema(client)["components"]["schemas"]["LoginForm"]["properties"]
    assert props["username"]["minLength"] == props["password"]["minLength"] == 1
    r = client.post("/api/v1/auth/token", data={"username": "admin", "password": ""})
    assert (r.status_code, r.json()["code"]) == (422, "validation_error")


def test_a_password_change_with_nul_is_declared_and_refused(world, client):
    props = _schema(client)["components"]["schemas"]["PasswordChangeIn"]["properties"]
    for field in ("current_password", "new_password"):
        assert not re.match(props[field]["pattern"], "a\x00b"), field
    body = {"current_password": "x\x00y", "new_password": "another-long-pass-1"}
    r = world.post("alice", "/me/password", json=body)
    assert (r.status_code, r.json()["code"]) == (422, "validation_error")
    body = {"current_password": "correct-horse-battery", "new_password": "another\x00long-pass"}
    r = world.post("alice", "/me/password", json=body)
    assert (r.status_code, r.json()["code"]) == (422, "validation_error")


def test_a_user_id_past_the_column_is_a_422_not_a_500(world):
    # Found by the long schemathesis run on PostGIS: an integer the id column cannot hold.
    for action in ("deactivate", "activate"):
        r = world.post("admin", f"/users/{2**31}/{action}")
        assert (r.status_code, r.json()["code"]) == (422, "validation_error"), action
        assert world.post("admin", f"/users/{2**31 - 1}/{action}").status_code == 404, action
