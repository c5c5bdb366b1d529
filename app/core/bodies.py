"""A request body taken as a form or as JSON, by its Content-Type, on one route.

FastAPI reads a body one way per route (a `Form()` model parses the form, and answers a JSON
body as if every field were missing). A route that must take both (`POST /auth/token`: OAuth2
clients send a form, `wx.request` sends JSON) reads its body with `form_or_json` and declares
both with `form_or_json_openapi`, so that generated clients can send either. The two models
are put in the document's components by app/contract.py (`BODY_MODELS`).
"""

from __future__ import annotations

import json
from typing import Any, TypeVar

from fastapi import Request
from pydantic import BaseModel, ValidationError

from app.core.errors import MALFORMED_BODY, ValidationFailed, pydantic_errors

FORM = "application/x-www-form-urlencoded"  # multipart/form-data is read as well
JSON = "application/json"

# Models named by some route's `form_or_json_openapi`, for the OpenAPI components.
BODY_MODELS: dict[str, type[BaseModel]] = {}

FormModel = TypeVar("FormModel", bound=BaseModel)
JsonModel = TypeVar("JsonModel", bound=BaseModel)


def form_or_json_openapi(
    form: type[BaseModel], json_body: type[BaseModel], *, description: str
) -> dict[str, Any]:
    """`openapi_extra` of a route that reads its body with `form_or_json`."""
    for model in (form, json_body):
        BODY_MODELS[model.__name__] = model

    def ref(model: type[BaseModel]) -> dict[str, Any]:
        return {"schema": {"$ref": f"#/components/schemas/{model.__name__}"}}

    return {
        "requestBody": {
            "required": True,
            "description": description,
            "content": {FORM: ref(form), JSON: ref(json_body)},
        }
    }


async def form_or_json(
    request: Request, form: type[FormModel], json_body: type[JsonModel]
) -> FormModel | JsonModel:
    """The body as `json_body` when it is sent as `application/json`, else as the `form` (the
    form, as FastAPI reads one: an empty field counts as missing). 422 `validation_error` for
    a body that does not fit, malformed JSON included."""
    media_type = request.headers.get("content-type", "").partition(";")[0].strip().lower()
    data: Any
    model: type[FormModel] | type[JsonModel]
    if media_type == JSON:
        model = json_body
        try:
            data = json.loads(await request.body())
        except (ValueError, UnicodeDecodeError):
            raise ValidationFailed([MALFORMED_BODY]) from None
    else:
        model = form
        received = await request.form()
        data = {key: value for key, value in received.items() if value != ""}
    try:
        return model.model_validate(data)
    except ValidationError as exc:
        raise ValidationFailed(pydantic_errors(exc.errors(), ("body",))) from None
