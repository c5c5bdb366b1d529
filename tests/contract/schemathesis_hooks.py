"""Schemathesis hooks (loaded through SCHEMATHESIS_HOOKS): every case signs in as one of
several roles, in turn per operation, so each operation is exercised by callers it serves and
callers it refuses; and a check that stands in for `positive_data_acceptance`.

Tokens come from the environment as JSON: ZHUCUN_ST_TOKENS {role: token}, and
ZHUCUN_ST_SPARE [token, ...] for the operations that end a session (logout, password change):
those get a session of their own each time, so the run's callers stay signed in.
"""

from __future__ import annotations

import itertools
import json
import os
from typing import Any

import schemathesis

# 422 `validation_error` to schema-valid input means the schema says less than the model checks
# (the drift schemathesis found: NUL, dates, scopes, BSSIDs): a failure. Two cross-field rules
# JSON Schema cannot say are documented instead. Refusals with a domain code of their own (a
# cursor's content, a configured period, a fix too old, a member not assigned, policy bounds)
# judge data against state, not shape: schema-valid requests may meet them.
CROSS_FIELD_RULES = ("required unless you are a member", "send username and password together")

_ENDS_SESSION = {("POST", "/api/v1/auth/logout"), ("POST", "/api/v1/me/password")}


@schemathesis.auth()
class RoleRotation:
    def __init__(self) -> None:
        self.tokens: dict[str, str] = json.loads(os.environ["ZHUCUN_ST_TOKENS"])
        self.spare = itertools.cycle(json.loads(os.environ.get("ZHUCUN_ST_SPARE", "[]")) or [""])
        self.turns: dict[str, itertools.cycle[str]] = {}

    def get(self, case: Any, context: Any) -> dict[str, str]:
        return self.tokens

    def set(self, case: Any, data: dict[str, str], context: Any) -> None:
        operation = (case.operation.method.upper(), case.operation.path)
        if operation in _ENDS_SESSION:
            token = next(self.spare)
        else:
            key = f"{operation[0]} {operation[1]}"
            turn = self.turns.setdefault(key, itertools.cycle(sorted(data)))
            token = data[next(turn)]
        case.headers = {**(case.headers or {}), "Authorization": f"Bearer {token}"}
        if os.environ.get("ZHUCUN_ST_DEBUG"):
            with open(os.environ["ZHUCUN_ST_DEBUG"], "a") as out:
                out.write(f"{operation} {token[-12:]}\n")


@schemathesis.check
def schema_valid_input_is_not_refused_as_malformed(ctx: Any, response: Any, case: Any) -> None:
    meta = case.meta
    if meta is None or not meta.generation.mode.is_positive or response.status_code != 422:
        return
    try:
        body = response.json()
    except ValueError:
        raise AssertionError("a 422 without a problem body") from None
    if body.get("code") != "validation_error":
        return
    messages = [str(error.get("msg", "")) for error in body.get("errors", [])]
    if messages and all(any(rule in m for rule in CROSS_FIELD_RULES) for m in messages):
        return
    raise AssertionError(f"schema-valid input refused as malformed: {body.get('errors')}")
