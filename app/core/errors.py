"""RFC 9457 problem responses with stable codes, in zh-CN or en.

Every refusal is an `AppError` subclass carrying its HTTP status, its `code` and its message in
both languages; one handler renders them. Domain packages define their own subclasses next to
the rules that raise them.
"""

from __future__ import annotations

import logging
from collections.abc import Mapping, Sequence
from typing import Any, ClassVar

from fastapi import FastAPI, Request
from fastapi.exceptions import RequestValidationError
from fastapi.responses import JSONResponse
from starlette.exceptions import HTTPException as StarletteHTTPException

from app.core.i18n import Language, pick_language
from app.core.validation_zh import message_zh

log = logging.getLogger("zhucun.errors")

PROBLEM_JSON = "application/problem+json"
# Where each problem code is explained (app.core.problem_pages serves the pages).
PROBLEMS_PATH = "/problems"


def problem_type(code: str) -> str:
    """A problem's `type`: a URI reference to its page on this service, resolved against the
    request's URI (RFC 9457 §3.1.1), so that it resolves wherever the service is deployed."""
    return f"{PROBLEMS_PATH}/{code}"


class AppError(Exception):
    """A refusal the client can act on. Subclasses set the class attributes."""

    status: ClassVar[int] = 400
    code: ClassVar[str] = "bad_request"
    title_zh: ClassVar[str] = "请求有误"
    title_en: ClassVar[str] = "Bad request"
    # Templates formatted with the error's params; empty means "same as the title".
    detail_zh: ClassVar[str] = ""
    detail_en: ClassVar[str] = ""

    def __init__(self, **params: Any) -> None:
        super().__init__(self.code)
        self.params = params
        self.headers: dict[str, str] = {}

    def title(self, lang: Language) -> str:
        return self.title_zh if lang == "zh-CN" else self.title_en

    def detail(self, lang: Language) -> str:
        template = (self.detail_zh if lang == "zh-CN" else self.detail_en) or self.title(lang)
        try:
            return template.format(**self.params)
        except (KeyError, IndexError, ValueError):
            return template

    def extra(self) -> dict[str, Any]:
        """Further members of the problem object (RFC 9457 extensions)."""
        return {}

    def extra_for(self, lang: Language) -> dict[str, Any]:
        """`extra()` in the response's language (for members that carry text)."""
        return self.extra()


class NotFound(AppError):
    status = 404
    code = "not_found"
    title_zh = "资源不存在"
    title_en = "Not found"


class NotAuthenticated(AppError):
    status = 401
    code = "not_authenticated"
    title_zh = "未登录"
    title_en = "Not authenticated"
    detail_zh = "请先登录，在 Authorization 头中携带 Bearer 令牌。"
    detail_en = "Send a bearer token in the Authorization header."

    def __init__(self, **params: Any) -> None:
        super().__init__(**params)
        self.headers["WWW-Authenticate"] = "Bearer"


class PayloadTooLarge(AppError):
    status = 413
    code = "payload_too_large"
    title_zh = "请求体过大"
    title_en = "Payload too large"
    detail_zh = "请求体不得超过 {limit} 字节。"
    detail_en = "The request body may not exceed {limit} bytes."


class ValidationFailed(AppError):
    status = 422
    code = "validation_error"
    title_zh = "请求内容校验失败"
    title_en = "Validation failed"
    detail_zh = "请求中有 {count} 处错误。"
    detail_en = "The request has {count} error(s)."

    def __init__(self, errors: list[dict[str, Any]]) -> None:
        """`errors`: `{"loc", "msg"}` in English, with Pydantic's `type` and `ctx` when known,
        from which the zh-CN message is made."""
        super().__init__(count=len(errors))
        self.errors = errors

    def extra(self) -> dict[str, Any]:
        return self.extra_for("en")

    def extra_for(self, lang: Language) -> dict[str, Any]:
        out = []
        for err in self.errors:
            msg = str(err.get("msg", ""))
            if lang == "zh-CN":
                msg = message_zh(str(err.get("type", "")), err.get("ctx"), msg)
            out.append({"loc": list(err.get("loc", [])), "msg": msg})
        return {"errors": out}


def pydantic_errors(
    errors: Sequence[Mapping[str, Any]], prefix: Sequence[str] = ()
) -> list[dict[str, Any]]:
    """Pydantic's error list as ValidationFailed takes it (`loc` as text, under `prefix`)."""
    return [
        {
            "loc": [*prefix, *(str(p) for p in err.get("loc", ()))],
            "msg": str(err.get("msg", "")),
            "type": str(err.get("type", "")),
            "ctx": {k: _ctx_text(v) for k, v in (err.get("ctx") or {}).items()},
        }
        for err in errors
    ]


def _ctx_text(value: Any) -> Any:
    return value if isinstance(value, int | float | str) else str(value)


HTTP_CODES: dict[int, tuple[str, str, str]] = {
    404: ("not_found", "资源不存在", "Not found"),
    405: ("method_not_allowed", "不支持此方法", "Method not allowed"),
    406: ("not_acceptable", "无法提供所需格式", "Not acceptable"),
    413: ("payload_too_large", "请求体过大", "Payload too large"),
    415: ("unsupported_media_type", "不支持的内容类型", "Unsupported media type"),
}


def problem_response(
    request: Request,
    *,
    status: int,
    code: str,
    title: str,
    detail: str,
    extra: dict[str, Any] | None = None,
    headers: dict[str, str] | None = None,
    lang: Language | None = None,
) -> JSONResponse:
    body: dict[str, Any] = {
        "type": problem_type(code),
        "title": title,
        "status": status,
        "detail": detail,
        "code": code,
    }
    request_id = getattr(request.state, "request_id", None)
    if request_id:
        body["request_id"] = request_id
    if extra:
        body.update(extra)
    if lang is not None:
        headers = {**(headers or {}), "Content-Language": lang}
    return JSONResponse(body, status_code=status, media_type=PROBLEM_JSON, headers=headers)


def render_app_error(request: Request, exc: AppError) -> JSONResponse:
    lang = pick_language(request.headers.get("accept-language"))
    return problem_response(
        request,
        status=exc.status,
        code=exc.code,
        title=exc.title(lang),
        detail=exc.detail(lang),
        extra=exc.extra_for(lang),
        headers=exc.headers or None,
        lang=lang,
    )


# FastAPI answers 400 with this detail when a body cannot be read at all (bad UTF-8, say);
# The contract answers malformed bodies 422 validation_error, like any other bad body.
_BODY_PARSE_DETAIL = "There was an error parsing the body"
MALFORMED_BODY = {"loc": ["body"], "msg": "Malformed body", "type": "body_malformed"}


def allowed_methods(request: Request) -> list[str]:
    """Every method some route serves at this path. Starlette's 405 names only the first
    route that matched the path, but RFC 9110 wants `Allow` to list all of them (GET and POST
    of a collection are two routes)."""
    from app.core.routes import methods_at

    return sorted(methods_at(request.app, request.scope["path"]))


def install_error_handlers(app: FastAPI) -> None:
    async def on_app_error(request: Request, exc: Exception) -> JSONResponse:
        assert isinstance(exc, AppError)
        return render_app_error(request, exc)

    async def on_validation(request: Request, exc: Exception) -> JSONResponse:
        assert isinstance(exc, RequestValidationError)
        return render_app_error(request, ValidationFailed(pydantic_errors(exc.errors())))

    async def on_http(request: Request, exc: Exception) -> JSONResponse:
        assert isinstance(exc, StarletteHTTPException)
        if exc.status_code == 400:
            # FastAPI's "error parsing the body" (malformed JSON, undecodable bytes): API.md
            # answers every body that fails validation, malformed JSON included, with a 422.
            return render_app_error(request, ValidationFailed([MALFORMED_BODY]))
        lang = pick_language(request.headers.get("accept-language"))
        code, zh, en = HTTP_CODES.get(exc.status_code, ("http_error", "请求失败", "Request failed"))
        title = zh if lang == "zh-CN" else en
        headers = dict(exc.headers) if exc.headers else {}
        if exc.status_code == 405:
            headers["Allow"] = ", ".join(allowed_methods(request))
        return problem_response(
            request,
            status=exc.status_code,
            code=code,
            title=title,
            detail=title,
            headers=headers or None,
            lang=lang,
        )

    async def on_unexpected(request: Request, exc: Exception) -> JSONResponse:
        request_id = getattr(request.state, "request_id", "-")
        log.exception("unhandled error", extra={"request_id": request_id})
        lang = pick_language(request.headers.get("accept-language"))
        zh = f"服务器内部错误，请求编号 {request_id}。"
        en = f"Internal server error; request id {request_id}."
        return problem_response(
            request,
            status=500,
            code="internal_error",
            title="服务器内部错误" if lang == "zh-CN" else "Internal server error",
            detail=zh if lang == "zh-CN" else en,
            lang=lang,
        )

    app.add_exception_handler(AppError, on_app_error)
    app.add_exception_handler(RequestValidationError, on_validation)
    app.add_exception_handler(StarletteHTTPException, on_http)
    app.add_exception_handler(Exception, on_unexpected)


def error_responses(*errors: type[AppError]) -> dict[int | str, dict[str, Any]]:
    """`responses=` for a route, so OpenAPI lists the problems it can answer."""
    out: dict[int | str, dict[str, Any]] = {}
    for err in errors:
        entry = out.setdefault(
            err.status,
            {
                "description": "",
                "content": {PROBLEM_JSON: {"schema": {"$ref": "#/components/schemas/Problem"}}},
            },
        )
        codes = [c for c in entry["description"].split(", ") if c]
        codes.append(f"`{err.code}`")
        entry["description"] = ", ".join(codes)
    return out
