"""Every operation lists the refusals it can answer (issue 18, item 6): a generated client
switches on `code`, so each business 4xx a route can reach is declared with its status.

What a route can reach is read from the code (tests/contract/reach.py): a refusal added deep in
a service, on a path some route takes, fails here until that route declares it. The reading
over-estimates; each exception below says why the operation never answers that code."""

from __future__ import annotations

from fastapi.routing import APIRoute

from app.contract import declared_codes
from app.core.routes import route_table
from tests.contract.reach import route_refusals

# Reachable in the code, never answered by the operation.
NEVER_ANSWERED: dict[tuple[str, str], dict[str, str]] = {
    ("POST", "/api/v1/checkins/batch"): dict.fromkeys(
        ("idempotency_conflict", "in_future", "too_old", "internal_error"),
        "an item's refusal: answered inside the 200's results[].error",
    ),
    ("POST", "/api/v1/auth/token"): {
        "wrong_password": "the shared password check's refusal for /me/password"
    },
    ("POST", "/api/v1/auth/wechat"): {
        "wrong_password": "the shared password check's refusal for /me/password",
        "user_not_found": "accounts' refusal for users/{id}/(de)activate",
    },
    ("POST", "/api/v1/me/password"): {
        "invalid_credentials": "the shared password check's default; this route passes its own"
    },
    ("POST", "/api/v1/users/{user_id}/activate"): {"cannot_deactivate_self": "deactivating only"},
    ("POST", "/api/v1/households/import"): {
        "invalid_pairing": "caught by the import: answered as a line of import_refused"
    },
    **{
        ("GET", path): {"invalid_scope": "a scope that is no division code: scope_not_found"}
        for path in (
            "/api/v1/reports/presence",
            "/api/v1/reports/compliance",
            "/api/v1/reports/monthly",
            "/api/v1/dashboard/overview",
        )
    },
}


def test_every_reachable_refusal_is_declared_with_its_status(app):
    schema = app.openapi()
    undeclared: dict[str, list[str]] = {}
    for entry in route_table(app):
        route = entry.route
        if not isinstance(route, APIRoute) or not route.include_in_schema:
            continue
        refusals = route_refusals(route)
        for method in entry.methods:
            operation = schema["paths"][entry.path_format][method.lower()]
            excused = NEVER_ANSWERED.get((method, entry.path_format), {})
            missing = sorted(
                f"{err.status} {err.code}"
                for err in refusals
                if err.code not in declared_codes(operation, str(err.status))
                and err.code not in excused
            )
            if missing:
                undeclared[f"{method} {entry.path_format}"] = missing
    assert undeclared == {}


def test_the_reading_finds_refusals_raised_deep_in_a_service(app):
    """The reading reaches what the routes call: leave's refusals are raised in its service,
    the window of a fix in the check-in rules, two calls down."""
    routes = {
        (method, entry.path_format): entry.route
        for entry in route_table(app)
        for method in entry.methods
    }
    leave = {e.code for e in route_refusals(routes[("POST", "/api/v1/leave-requests")])}
    assert {"leave_overlap", "retroactive_leave", "invalid_range"} <= leave
    single = {e.code for e in route_refusals(routes[("POST", "/api/v1/checkins")])}
    assert {"too_old", "in_future", "idempotency_conflict", "role_required"} <= single
