"""The committed OpenAPI document is a contract teams generate clients from: it lints clean,
declares what every operation can answer, and a client generated from it runs the quick start
against a real server."""

from __future__ import annotations

import compileall
import importlib
import json
import os
import shutil
import subprocess
import sys
import uuid
from datetime import UTC, datetime, timedelta
from pathlib import Path
from zoneinfo import ZoneInfo

import pytest

from app.contract import declared_codes, problem_codes
from app.core.errors import AppError
from tests.loopback import serving
from tests.world import PASSWORD, centre

SPEC_PATH = Path(__file__).resolve().parents[2] / "openapi" / "openapi.json"
VENV_BIN = Path(sys.executable).parent

# Operation ids clients call by name: settled before any app shipped; never rename one.
STABLE_OPERATION_IDS = {
    "healthz", "readyz", "login", "refreshTokens", "loginWithWechat", "logout", "getMe",
    "changePassword", "deactivateUser", "activateUser", "listVillages", "locateVillage",
    "getVillage", "getMyAssignment", "getPolicy", "createCheckin", "listCheckins",
    "createCheckinBatch", "voidCheckin", "restoreCheckin", "getMemberPresence",
    "getOnPostRates", "createLeaveRequest", "listLeaveRequests", "getLeaveRequest",
    "approveLeave", "rejectLeave", "cancelLeave", "returnFromLeave", "extendLeave",
}  # fmt: skip


@pytest.fixture(scope="module")
def spec() -> dict:
    return json.loads(SPEC_PATH.read_text(encoding="utf-8"))


def _operations(spec: dict):  # type: ignore[no-untyped-def]
    for path, item in spec["paths"].items():
        for method, operation in item.items():
            yield path, method, operation


def test_spec_lints_clean(spec):
    from openapi_spec_validator import validate

    validate(spec)


def test_operation_ids_are_unique_and_the_shipped_ones_stay(spec):
    ids = [op["operationId"] for _, _, op in _operations(spec)]
    assert len(ids) == len(set(ids))
    assert set(ids) >= STABLE_OPERATION_IDS


def test_every_operation_declares_what_it_can_answer(spec):
    for path, method, op in _operations(spec):
        where = f"{method.upper()} {path}"
        if op["security"]:
            assert {"not_authenticated", "invalid_token"} <= set(declared_codes(op, "401")), where
        else:
            assert op["security"] == [], where
        if "requestBody" in op:
            assert declared_codes(op, "413") == ["payload_too_large"], where
            assert "validation_error" in declared_codes(op, "422"), where
        if path.startswith("/api/v1/"):
            assert "database_unavailable" in declared_codes(op, "503"), where
        for status, response in op["responses"].items():
            assert "X-Request-ID" in response["headers"], (where, status)
            if status in ("429", "503"):
                assert "Retry-After" in response["headers"], where
            if status >= "400" and status != "503":
                assert "Content-Language" in response["headers"], (where, status)
        assert {"$ref": "#/components/parameters/AcceptLanguage"} in op["parameters"], where


def test_role_checked_operations_declare_role_required(spec):
    deactivate = spec["paths"]["/api/v1/users/{user_id}/deactivate"]["post"]
    assert "role_required" in declared_codes(deactivate, "403")
    on_post = spec["paths"]["/api/v1/presence/on-post"]["get"]
    assert "role_required" in declared_codes(on_post, "403")


def test_public_operations_are_marked_public(spec):
    for path in ("/api/v1/auth/token", "/api/v1/auth/refresh", "/api/v1/auth/wechat", "/healthz"):
        assert spec["paths"][path]["post" if "auth" in path else "get"]["security"] == []


def test_request_bodies_have_examples(spec):
    schemas = spec["components"]["schemas"]
    for path, method, op in _operations(spec):
        if "requestBody" not in op:
            continue
        for media in op["requestBody"]["content"].values():
            body = media["schema"]
            refs = [o["$ref"] for o in body.get("anyOf", [body]) if "$ref" in o]
            assert refs, f"{method.upper()} {path}"
            for ref in refs:
                name = ref.rsplit("/", 1)[1]
                assert schemas[name].get("examples"), f"{method.upper()} {path}: {name}"


def test_schemas_use_json_schema_bounds_and_typed_items(spec):
    text = json.dumps(spec)
    for leftover in ('"ge":', '"le":', '"gt":', '"lt":', "x-zhucun-schema"):
        assert leftover not in text
    schemas = spec["components"]["schemas"]
    latitude = schemas["CheckInCreate"]["properties"]["latitude"]
    assert (latitude["minimum"], latitude["maximum"]) == (-90, 90)
    assert schemas["CheckInCreate"]["properties"]["accuracy_m"]["exclusiveMinimum"] == 0
    assert schemas["BatchIn"]["properties"]["items"]["items"] == {
        "$ref": "#/components/schemas/CheckInCreate"
    }
    geometry = schemas["VillageFeature"]["properties"]["geometry"]
    assert {o["$ref"] for o in geometry["oneOf"]} == {
        "#/components/schemas/Polygon",
        "#/components/schemas/MultiPolygon",
    }
    assert set(schemas["Role"]["enum"]) == {
        "member", "township", "county", "city", "unit", "auditor", "admin",
        "sysadmin", "security_admin", "audit_admin",  # 三员分立 (separation of duties)
    }  # fmt: skip
    grant_type = schemas["LoginForm"]["properties"]["grant_type"]  # optional, never null
    assert (grant_type["type"], grant_type["enum"]) == ("string", ["password"])


def test_problem_code_enumerates_every_error_class(spec):
    import app.main  # noqa: F401  (every domain's errors)

    enum = set(spec["components"]["schemas"]["ProblemCode"]["enum"])
    assert enum == set(problem_codes())
    assert {"validation_error", "role_required", "invalid_refresh_token"} <= enum
    for cls in AppError.__subclasses__():
        assert cls.code in enum
    assert "extensible" in spec["components"]["schemas"]["ProblemCode"]["description"].lower()


def _generate_client(tmp_path: Path) -> Path:
    out = tmp_path / "zhucun_client"
    env = {**os.environ, "PATH": f"{VENV_BIN}{os.pathsep}{os.environ.get('PATH', '')}"}
    result = subprocess.run(
        [
            str(VENV_BIN / "openapi-python-client"),
            "generate",
            "--path",
            str(SPEC_PATH),
            "--meta",
            "none",
            "--output-path",
            str(out),
        ],
        capture_output=True,
        text=True,
        env=env,
        timeout=120,
        check=False,
    )
    assert result.returncode == 0, result.stdout + result.stderr
    # Every operation generated: the tool warns (and skips) what it cannot express.
    assert "Warning" not in result.stdout + result.stderr, result.stdout + result.stderr
    assert compileall.compile_dir(str(out), quiet=1)
    return out


def test_a_generated_client_runs_the_quick_start(world, app, tmp_path):
    if shutil.which("openapi-python-client", path=str(VENV_BIN)) is None:
        raise AssertionError("openapi-python-client is a dev dependency: scripts/setup")
    out = _generate_client(tmp_path)
    sys.path.insert(0, str(tmp_path))
    try:
        _quick_start(app)
    finally:
        sys.path.remove(str(tmp_path))
        for name in [m for m in sys.modules if m == "zhucun_client" or m.startswith("zhucun_")]:
            del sys.modules[name]
    assert out.exists()


def _quick_start(app) -> None:  # type: ignore[no-untyped-def]
    c = importlib.import_module("zhucun_client")
    auth = importlib.import_module("zhucun_client.api.auth")
    checkins = importlib.import_module("zhucun_client.api.checkins")
    ledger = importlib.import_module("zhucun_client.api.ledger")
    leave = importlib.import_module("zhucun_client.api.leave")
    models = importlib.import_module("zhucun_client.models")
    for module in ("login", "refresh_tokens", "get_me"):
        importlib.import_module(f"zhucun_client.api.auth.{module}")
    for module in ("create_checkin", "create_checkin_batch"):
        importlib.import_module(f"zhucun_client.api.checkins.{module}")
    importlib.import_module("zhucun_client.api.ledger.get_member_presence")
    importlib.import_module("zhucun_client.api.leave.create_leave_request")

    lon, lat = centre("430121001001")
    with serving(app) as base:
        public = c.Client(base_url=base, raise_on_unexpected_status=True)
        token = auth.login.sync(
            client=public, body=models.LoginForm(username="alice", password=PASSWORD)
        )
        assert isinstance(token, models.Token), token
        # The same sign-in as JSON (a mini-program's wx.request): the client sends either.
        by_json = auth.login.sync(
            client=public, body=models.LoginIn(username="alice", password=PASSWORD)
        )
        assert isinstance(by_json, models.Token), by_json
        token = auth.refresh_tokens.sync(
            client=public, body=models.RefreshIn(refresh_token=token.refresh_token)
        )
        assert isinstance(token, models.Token), token
        client = c.AuthenticatedClient(
            base_url=base, token=token.access_token, raise_on_unexpected_status=True
        )
        me = auth.get_me.sync(client=client)
        assert me.username == "alice"
        assert me.role == models.Role.MEMBER

        def fix(minutes_ago: int) -> object:
            return models.CheckInCreate(
                client_id=uuid.uuid4(),
                captured_at=datetime.now(UTC) - timedelta(minutes=minutes_ago),
                latitude=lat,
                longitude=lon,
                accuracy_m=12.0,
                coord_system=models.CheckInCreateCoordSystem.WGS84,
            )

        body = fix(30)
        first = checkins.create_checkin.sync_detailed(client=client, body=body)
        assert first.status_code == 201, first.content
        again = checkins.create_checkin.sync_detailed(client=client, body=body)
        assert again.status_code == 200
        assert again.parsed.id == first.parsed.id
        assert first.parsed.geofence == models.CheckInOutGeofenceType0.INSIDE

        batch = checkins.create_checkin_batch.sync(
            client=client, body=models.BatchIn(items=[fix(400), fix(20)])
        )
        assert [r.status for r in batch.results] == [
            models.BatchItemResultStatus.CREATED,
            models.BatchItemResultStatus.CREATED,
        ]

        zone = ZoneInfo("Asia/Shanghai")
        today = datetime.now(zone).date()
        since = (datetime.now(zone) - timedelta(minutes=400)).date()
        presence = ledger.get_member_presence.sync("me", client=client, from_=since, to=today)
        assert isinstance(presence, models.PresenceOut), presence
        assert sum(day.counted_checkins for day in presence.days) == 3

        request = leave.create_leave_request.sync_detailed(
            client=client,
            body=models.LeaveCreate(
                type_=models.LeaveType.PERSONAL,
                start_date=today + timedelta(days=7),
                end_date=today + timedelta(days=8),
                reason="家中有事",
            ),
        )
        assert request.status_code == 201, request.content
        assert request.parsed.approver_level == models.LeaveRequestOutApproverLevel.TOWNSHIP

        bad = checkins.create_checkin.sync_detailed(
            client=client,
            body=models.CheckInCreate(
                client_id=uuid.uuid4(),
                captured_at=datetime.now(UTC),
                latitude=95.0,
                longitude=lon,
                accuracy_m=5.0,
            ),
        )
        assert bad.status_code == 422
        assert bad.parsed.code == models.ProblemCode.VALIDATION_ERROR
        assert bad.headers["content-language"] == "zh-CN"
