"""Every route but the public ones refuses every bad token with 401, generated from the
app's routes (its OpenAPI document): a new route is covered without a new row (issue 11, the
token columns of the authorization matrix)."""

from __future__ import annotations

import re
import time

import jwt

from tests.checkins.helpers import fix
from tests.world import SECRET

# API.md "Conventions": the routes that need no token.
PUBLIC = {
    "/api/v1/auth/token",
    "/api/v1/auth/refresh",
    "/api/v1/auth/wechat",
    "/healthz",
    "/readyz",
    "/openapi.json",
    "/docs",
    "/dashboard",
    # The household's countersign (API.md "Households and visits"): no sign-in.
    "/api/v1/public/countersign",
    "/api/v1/public/countersign/{token}",
    "/api/v1/public/surveys/{code}",
}
PARAM_VALUES = {"code": "430121001001", "member_id": "me"}
# Valid bodies, so that a route that validates its body before the token (the check-in hot
# path) is judged on the token.
BODIES = {
    "/api/v1/checkins": fix(),
    "/api/v1/checkins/batch": {"items": [fix()]},
    "/api/v1/visits": {**fix(), "household_id": 1},
    "/api/v1/leave-requests": {
        "type": "personal",
        "start_date": "2099-01-01",
        "end_date": "2099-01-02",
    },
    "/api/v1/leave-requests/{leave_id}/return": {"returned_on": "2099-01-01"},
    "/api/v1/leave-requests/{leave_id}/extend": {"end_date": "2099-01-03"},
    "/api/v1/checkins/{checkin_id}/void": {"reason": "x"},
    "/api/v1/checkins/{checkin_id}/restore": {"reason": "x"},
}


def _bad_tokens(world) -> dict[str, str]:
    user = world.users["admin"]
    claims = {"sub": str(user.id), "role": "admin", "scope": ""}
    good = world.token("admin")
    head, payload, sig = good.split(".")
    return {
        "expired": jwt.encode({**claims, "exp": int(time.time()) - 60}, SECRET, "HS256"),
        "tampered": f"{head}.{payload}.{sig[:-3]}abc",
        "other secret": jwt.encode(
            {**claims, "exp": int(time.time()) + 600}, "another-secret-" + "y" * 40, "HS256"
        ),
        "alg none": jwt.encode({**claims, "exp": int(time.time()) + 600}, None, "none"),
        "garbage": "not-a-token",
    }


def test_every_private_route_refuses_every_bad_token(world, app):
    # The app's own OpenAPI document lists every route it serves.
    routes = [
        (method.upper(), path)
        for path, operations in app.openapi()["paths"].items()
        if path not in PUBLIC
        for method in operations
    ]
    assert len(routes) >= 20  # the table really is the app's
    wrong = {}
    for method, template in routes:
        path = re.sub(r"\{(\w+)\}", lambda m: PARAM_VALUES.get(m.group(1), "1"), template)
        cases = {
            "no token": {},
            **{k: {"Authorization": f"Bearer {t}"} for k, t in _bad_tokens(world).items()},
        }
        for name, headers in cases.items():
            body = BODIES.get(template, {})
            r = world.client.request(method, path, headers=headers, json=body)
            if r.status_code != 401 or r.json()["code"] not in (
                "not_authenticated",
                "invalid_token",
            ):
                wrong[(method, template, name)] = r.status_code
    assert not wrong
