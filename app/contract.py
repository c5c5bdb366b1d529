"""The OpenAPI document as clients generate from it: what every operation can answer, derived
from the route table, so that a new router gets it without writing anything.

- an operation that takes the bearer token (a security dependency, so FastAPI lists its
  `security`) declares 401 (`not_authenticated`, `invalid_token`, and `session_idle` of
  policy.security) and 403 (`password_expired`, `second_factor_enrolment_required`: a
  restricted session's refusals, app.auth.hardening); any other is public (`security: []`);
- one behind `require_roles` declares 403 `role_required`;
- one with a body declares 413 `payload_too_large` and 422 `validation_error`;
- every operation under /api/v1 (each reads the database) declares 503
  `database_unavailable`;
- every answer declares `X-Request-ID`, every problem `Content-Language`, every 429 and 503
  `Retry-After`; every operation takes `Accept-Language`;
- the problem `code` is an enumeration of every AppError subclass's code (extensible);
- a value passed on as plain JSON but `documented_as` a type (app/core/schema_ref.py) refers
  to it, and the types so named become components;
- Pydantic's `ge`/`le`/`gt`/`lt` (which it leaves as is under some annotations) become JSON
  Schema's `minimum`/`maximum`/`exclusiveMinimum`/`exclusiveMaximum`.
"""

from __future__ import annotations

import re
from collections.abc import Iterator
from typing import Any

from fastapi import FastAPI
from fastapi.dependencies.models import Dependant
from fastapi.openapi.utils import get_openapi
from fastapi.routing import APIRoute
from pydantic import TypeAdapter

from app.auth.dependencies import RoleCheck
from app.auth.errors import (
    InvalidTokenError,
    PasswordExpired,
    RoleRequired,
    SecondFactorEnrolmentRequired,
    SessionIdle,
)
from app.core.bodies import BODY_MODELS
from app.core.errors import (
    HTTP_CODES,
    PROBLEM_JSON,
    AppError,
    NotAuthenticated,
    PayloadTooLarge,
    ValidationFailed,
)
from app.core.outage import DatabaseUnavailable
from app.core.routes import route_table
from app.core.schema_ref import MARKER, documented_types

EXTENSIBLE = (
    "Extensible: later versions may add values, and clients must accept values they do not know."
)
PROBLEM_REF = {"$ref": "#/components/schemas/Problem"}
REF_TEMPLATE = "#/components/schemas/{model}"
BOUNDS = {
    "ge": "minimum",
    "le": "maximum",
    "gt": "exclusiveMinimum",
    "lt": "exclusiveMaximum",
}
# Codes answered outside the AppError classes (app.core.errors, app.core.router's /readyz).
OTHER_CODES = ("http_error", "internal_error", "database_unavailable")


def operation_id(route: APIRoute) -> str:
    """Stable, readable ids for generated clients: the route function's name in camelCase
    (`createCheckin`, `createCheckinBatch`). Renaming a route function renames the client's
    method: don't, once an app has shipped (tests/core/test_contract.py pins them)."""
    head, *rest = route.name.split("_")
    return head + "".join(part[:1].upper() + part[1:] for part in rest)


def problem_codes() -> list[str]:
    """Every problem `code` the service can answer, from the AppError classes."""
    codes: set[str] = set(OTHER_CODES) | {code for code, _, _ in HTTP_CODES.values()}
    pending: list[type[AppError]] = [AppError]
    while pending:
        cls = pending.pop()
        codes.add(cls.code)
        pending.extend(cls.__subclasses__())
    return sorted(codes)


PROBLEM_SCHEMA: dict[str, Any] = {
    "type": "object",
    "description": "RFC 9457 problem details (application/problem+json)",
    "required": ["type", "title", "status", "detail", "code"],
    "properties": {
        "type": {
            "type": "string",
            "description": "a URI reference naming the problem type: its page on this service, "
            "`/problems/{code}`",
        },
        "title": {"type": "string", "description": "short, in the Accept-Language chosen"},
        "status": {"type": "integer", "description": "the HTTP status"},
        "detail": {"type": "string", "description": "what happened, in the language chosen"},
        "code": {"$ref": "#/components/schemas/ProblemCode"},
        "request_id": {"type": "string", "description": "as in X-Request-ID; quote it"},
        "errors": {
            "type": "array",
            "description": "validation_error only: each field that failed",
            "items": {
                "type": "object",
                "required": ["loc", "msg"],
                "properties": {
                    "loc": {
                        "type": "array",
                        "items": {"type": "string"},
                        "description": 'where, e.g. ["body", "latitude"]',
                    },
                    "msg": {"type": "string", "description": "why, in the language chosen"},
                },
            },
        },
    },
    "example": {
        "type": "/problems/validation_error",
        "title": "请求内容校验失败",
        "status": 422,
        "detail": "请求中有 1 处错误。",
        "code": "validation_error",
        "request_id": "9f1c2d3e4b5a69788796a5b4c3d2e1f0",
        "errors": [{"loc": ["body", "latitude"], "msg": "应小于或等于 90"}],
    },
}

HEADERS: dict[str, Any] = {
    "X-Request-ID": {
        "description": "The request's id (the client's own X-Request-ID if it sent a sane one); "
        "logged with the request",
        "schema": {"type": "string", "maxLength": 64},
    },
    "Content-Language": {
        "description": "The language of title, detail and errors[].msg: zh-CN or en",
        "schema": {"type": "string", "enum": ["zh-CN", "en"]},
    },
    "Retry-After": {
        "description": "Seconds until the request may be tried again",
        "schema": {"type": "integer", "minimum": 1},
    },
    "WWW-Authenticate": {
        "description": "Bearer challenge (RFC 6750)",
        "schema": {"type": "string"},
    },
}

ACCEPT_LANGUAGE: dict[str, Any] = {
    "name": "Accept-Language",
    "in": "header",
    "required": False,
    "description": "Language of problem titles, details and messages: zh-CN (default) or en",
    "schema": {"type": "string", "default": "zh-CN"},
    "example": "zh-CN",
}


def _dependencies(dependant: Dependant) -> Iterator[Any]:
    for dep in dependant.dependencies:
        yield dep.call
        yield from _dependencies(dep)


def _role_checked(app: FastAPI) -> set[tuple[str, str]]:
    """(path, method) of the operations behind `require_roles`, from the dependency trees."""
    found: set[tuple[str, str]] = set()
    for entry in route_table(app):
        route = entry.route
        if not isinstance(route, APIRoute) or not route.include_in_schema:
            continue
        if any(isinstance(call, RoleCheck) for call in _dependencies(route.dependant)):
            found.update((entry.path_format, method.lower()) for method in entry.methods)
    return found


def _declare(operation: dict[str, Any], *errors: type[AppError]) -> None:
    """Add problem responses (and their codes to the description) unless already there."""
    responses = operation.setdefault("responses", {})
    for err in errors:
        entry = responses.setdefault(str(err.status), {"description": ""})
        entry.setdefault("content", {PROBLEM_JSON: {"schema": PROBLEM_REF}})
        codes = [c for c in entry.get("description", "").split(", ") if c.startswith("`")]
        if f"`{err.code}`" not in codes:
            codes.append(f"`{err.code}`")
        entry["description"] = ", ".join(codes)


def _headers(status: str, response: dict[str, Any]) -> None:
    headers = response.setdefault("headers", {})
    headers["X-Request-ID"] = {"$ref": "#/components/headers/X-Request-ID"}
    if PROBLEM_JSON in response.get("content", {}):
        headers["Content-Language"] = {"$ref": "#/components/headers/Content-Language"}
    if status in ("429", "503"):
        headers["Retry-After"] = {"$ref": "#/components/headers/Retry-After"}
    if status == "401":
        headers["WWW-Authenticate"] = {"$ref": "#/components/headers/WWW-Authenticate"}


def _fix_schemas(node: Any) -> None:
    """JSON Schema keywords for Pydantic's leftover bounds, and `documented_as` references."""
    if isinstance(node, dict):
        for ours, theirs in BOUNDS.items():
            if ours in node and isinstance(node[ours], int | float):
                node.setdefault(theirs, node.pop(ours))
        if MARKER in node:
            node["$ref"] = f"#/components/schemas/{node.pop(MARKER)}"
        for value in node.values():
            _fix_schemas(value)
    elif isinstance(node, list):
        for value in node:
            _fix_schemas(value)


def _add_documented_types(schemas: dict[str, Any]) -> None:
    """The types that fields and responses are `documented_as`, as components (a name taken
    already is the same type's, generated by FastAPI)."""
    for name, kind in documented_types().items():
        top = TypeAdapter(kind).json_schema(
            mode="serialization", ref_template="#/components/schemas/{model}"
        )
        for inner, definition in top.pop("$defs", {}).items():
            schemas.setdefault(inner, definition)
        schemas.setdefault(name, top)


def build_openapi(app: FastAPI) -> dict[str, Any]:
    schema = get_openapi(
        title=app.title,
        version=app.version,
        summary=app.summary,
        description=app.description,
        routes=app.routes,
        servers=[{"url": "/", "description": "this server (paths carry /api/v1)"}],
    )
    components = schema.setdefault("components", {})
    schemas = components.setdefault("schemas", {})
    for name, model in BODY_MODELS.items():  # bodies read by app.core.bodies
        schemas.setdefault(name, model.model_json_schema(ref_template=REF_TEMPLATE))
    components["schemas"] = schemas = dict(sorted(schemas.items()))
    schemas["Problem"] = PROBLEM_SCHEMA
    schemas["ProblemCode"] = {
        "type": "string",
        "enum": problem_codes(),
        "description": f"Stable, snake_case; clients switch on it. {EXTENSIBLE}",
    }
    for unused in ("HTTPValidationError", "ValidationError"):
        schemas.pop(unused, None)
    _add_documented_types(schemas)
    components["headers"] = HEADERS
    components["parameters"] = {"AcceptLanguage": ACCEPT_LANGUAGE}

    role_checked = _role_checked(app)
    for path, item in schema.get("paths", {}).items():
        for method, operation in item.items():
            if operation.get("security"):
                _declare(
                    operation,
                    NotAuthenticated,
                    InvalidTokenError,
                    SessionIdle,
                    PasswordExpired,
                    SecondFactorEnrolmentRequired,
                )
            else:
                operation["security"] = []
            if (path, method) in role_checked:
                _declare(operation, RoleRequired)
            if "requestBody" in operation:
                _declare(operation, PayloadTooLarge, ValidationFailed)
            if path.startswith("/api/v1/"):
                _declare(operation, DatabaseUnavailable)
            responses = operation.get("responses", {})
            if "422" in responses:
                # FastAPI's own 422 schema is not what we answer: point it at Problem.
                responses["422"]["content"] = {PROBLEM_JSON: {"schema": PROBLEM_REF}}
                _declare(operation, ValidationFailed)
            for status, response in responses.items():
                _headers(status, response)
            parameters = operation.setdefault("parameters", [])
            parameters.append({"$ref": "#/components/parameters/AcceptLanguage"})
    _fix_schemas(schemas)
    _fix_schemas(schema.get("paths", {}))
    return schema


_CODE = re.compile(r"`([a-z0-9_]+)`")


def declared_codes(operation: dict[str, Any], status: str) -> list[str]:
    """The problem codes an operation's response description names (for tests and tools)."""
    entry = operation.get("responses", {}).get(status, {})
    return _CODE.findall(entry.get("description", ""))
