"""ASGI middleware: request ids with an access log line (the query string in it, secrets
redacted), and the request body size limit.

Plain ASGI rather than BaseHTTPMiddleware, which costs a task and a copy per request on the
check-in path.
"""

from __future__ import annotations

import logging
import time
import uuid
from typing import Any
from urllib.parse import unquote_plus

from starlette.exceptions import HTTPException
from starlette.requests import Request
from starlette.types import ASGIApp, Message, Receive, Scope, Send

from app.core.errors import AppError, PayloadTooLarge, render_app_error
from app.core.i18n import pick_language, set_language
from app.core.proxies import client_address, parse_networks

access_log = logging.getLogger("zhucun.access")


class RequestIdMiddleware:
    """Gives each request an id (or keeps a sane `X-Request-ID`), logs it, echoes it back."""

    def __init__(self, app: ASGIApp, trusted_proxies: str = "") -> None:
        self.app = app
        self.trusted = parse_networks(trusted_proxies)

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        headers = dict(scope["headers"])
        choice = set_language(pick_language(headers.get(b"accept-language", b"").decode("latin-1")))
        incoming = headers.get(b"x-request-id", b"").decode("latin-1")
        request_id = incoming if 0 < len(incoming) <= 64 and incoming.isprintable() else ""
        request_id = request_id or uuid.uuid4().hex
        scope.setdefault("state", {})["request_id"] = request_id
        started = time.perf_counter()
        status = 500

        async def send_with_id(message: Message) -> None:
            nonlocal status
            if message["type"] == "http.response.start":
                status = message["status"]
                headers = list(message.get("headers", []))
                headers.append((b"x-request-id", request_id.encode()))
                said = any(name.lower() == b"content-language" for name, _ in headers)
                if choice.used and not said:
                    headers.append((b"content-language", choice.lang.encode()))
                if said or choice.used:
                    # The answer was chosen by Accept-Language: caches must key on it.
                    headers.append((b"vary", b"Accept-Language"))
                message = {**message, "headers": headers}
            await send(message)

        try:
            await self.app(scope, receive, send_with_id)
        finally:
            state: dict[str, Any] = scope.get("state", {})
            access_log.info(
                "request",
                extra={
                    "request_id": request_id,
                    "method": scope["method"],
                    "path": scope["path"],
                    "query": loggable_query(scope.get("query_string", b"")),
                    "status": status,
                    "ms": round((time.perf_counter() - started) * 1000, 2),
                    "user_id": state.get("user_id"),
                    "client": self._client(scope),
                },
            )

    def _client(self, scope: Scope) -> str | None:
        peer = scope.get("client")
        if not peer:
            return None
        if not self.trusted:
            return str(peer[0])
        forwarded = [
            value.decode("latin-1")
            for name, value in scope["headers"]
            if name.lower() == b"x-forwarded-for"
        ]
        return client_address(str(peer[0]), forwarded, self.trusted)


# A query parameter whose name holds one of these is logged as `***`: a client may put a
# token, a password or a WeChat code in a URL, and logs are read by more people than should
# read those.
SECRET_NAME_PARTS = ("token", "code", "password", "passwd", "secret", "key", "signature")
MAX_LOGGED_QUERY = 2000


def loggable_query(raw: bytes) -> str:
    """The query string for the access log: as sent, with the values of parameters named
    like secrets replaced by `***`, cut at `MAX_LOGGED_QUERY` characters."""
    if not raw:
        return ""
    pairs = []
    for pair in raw.decode("latin-1").split("&"):
        name, sep, _ = pair.partition("=")
        readable = unquote_plus(name).lower()
        if sep and any(part in readable for part in SECRET_NAME_PARTS):
            pair = f"{name}=***"
        pairs.append(pair)
    query = "&".join(pairs)
    if len(query) > MAX_LOGGED_QUERY:
        return query[:MAX_LOGGED_QUERY] + f"…({len(query):,} characters)"
    return query


class BodySizeLimitMiddleware:
    """Refuses bodies over `limit` bytes with 413 `payload_too_large`, whether declared or not."""

    def __init__(self, app: ASGIApp, limit: int) -> None:
        self.app = app
        self.limit = limit

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        declared = dict(scope["headers"]).get(b"content-length")
        if declared is not None and declared.isdigit() and int(declared) > self.limit:
            await self._refuse(scope, receive, send)
            return
        received = 0
        response_started = False

        async def limited_receive() -> Message:
            nonlocal received
            message = await receive()
            if message["type"] == "http.request":
                received += len(message.get("body", b""))
                if received > self.limit:
                    raise _TooLarge()
            return message

        async def tracking_send(message: Message) -> None:
            nonlocal response_started
            if message["type"] == "http.response.start":
                response_started = True
            await send(message)

        try:
            await self.app(scope, limited_receive, tracking_send)
        except _TooLarge:
            if not response_started:
                await self._refuse(scope, receive, send)

    async def _refuse(self, scope: Scope, receive: Receive, send: Send) -> None:
        response = render_app_error(Request(scope, receive), PayloadTooLarge(limit=self.limit))
        await response(scope, receive, send)


class _TooLarge(HTTPException):
    """Raised from `receive` mid-body. An HTTPException, because FastAPI turns any other error
    while parsing a body into a 400; this one passes through to the 413 handler."""

    def __init__(self) -> None:
        super().__init__(status_code=413)


class CorsNotConfigured(AppError):
    status = 403
    code = "cors_not_configured"
    title_zh = "未允许跨域访问"
    title_en = "Cross-origin calls not allowed"
    detail_zh = (
        "本服务未配置允许跨域访问的来源（ZHUCUN_CORS_ORIGINS 为空），浏览器中来自 {origin} "
        "的页面不能调用本接口；请运维人员在 ZHUCUN_CORS_ORIGINS 中加入该来源。"
    )
    detail_en = (
        "This service allows no cross-origin calls (ZHUCUN_CORS_ORIGINS is empty), so a page "
        "from {origin} cannot call it; the operator adds that origin to ZHUCUN_CORS_ORIGINS."
    )


class NoCorsMiddleware:
    """Installed when no CORS origins are configured: a browser's preflight (OPTIONS with
    `Origin` and `Access-Control-Request-Method`) is answered 403 `cors_not_configured`, saying
    so, where it would otherwise get a puzzling 405 `method_not_allowed`."""

    def __init__(self, app: ASGIApp) -> None:
        self.app = app

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] == "http" and scope["method"] == "OPTIONS":
            headers = dict(scope["headers"])
            origin = headers.get(b"origin")
            if origin is not None and b"access-control-request-method" in headers:
                error = CorsNotConfigured(origin=origin.decode("latin-1")[:200])
                response = render_app_error(Request(scope, receive), error)
                await response(scope, receive, send)
                return
        await self.app(scope, receive, send)
