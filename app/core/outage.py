"""The database going away: 503 `database_unavailable` with Retry-After instead of a 500, and
no failed request on a stale pooled connection once it is back.

An engine listener tags SQLAlchemy errors that mean "no database" (a failed connect, or a
disconnect, which also makes SQLAlchemy invalidate the whole pool). A disconnect on the first
statement of a freshly checked-out connection means the pool handed out a connection that died
while idle and nothing of the request reached the database: the middleware runs the request
once more, on a new connection. There is no pre-ping on checkout (a round trip per request).
"""

from __future__ import annotations

from typing import Any

from sqlalchemy import Engine, event
from sqlalchemy.engine import ExceptionContext
from starlette.requests import Request
from starlette.types import ASGIApp, Message, Receive, Scope, Send

from app.core.errors import AppError, render_app_error

RETRY_AFTER_SECONDS = 5
_FRESH = "zhucun_fresh_checkout"


class DatabaseUnavailable(AppError):
    status = 503
    code = "database_unavailable"
    title_zh = "数据库暂不可用"
    title_en = "Database unavailable"
    detail_zh = "数据库暂时无法访问，请稍后重试。"
    detail_en = "The database cannot be reached; try again shortly."

    def __init__(self) -> None:
        super().__init__()
        self.headers["Retry-After"] = str(RETRY_AFTER_SECONDS)


def watch_engine(engine: Engine) -> None:
    """Tag this engine's outage errors (see the module docstring)."""
    event.listen(engine, "checkout", _on_checkout)
    event.listen(engine, "after_cursor_execute", _on_execute)
    event.listen(engine, "handle_error", _on_error)


def _on_checkout(_dbapi_conn: Any, record: Any, _proxy: Any) -> None:
    record.info[_FRESH] = True


def _on_execute(conn: Any, *_args: Any) -> None:
    conn.info[_FRESH] = False


def _on_error(context: ExceptionContext) -> None:
    error = context.sqlalchemy_exception
    if error is None or context.is_pre_ping:
        return
    connecting = context.connection is None
    if not (context.is_disconnect or (connecting and _is_operational(context))):
        return
    error.zhucun_outage = True  # type: ignore[attr-defined]
    if context.is_disconnect and not connecting:
        # Fresh from the pool and nothing run on it yet: it died while idle.
        error.zhucun_retryable = bool(context.connection.info.get(_FRESH))  # type: ignore[union-attr,attr-defined]


def _is_operational(context: ExceptionContext) -> bool:
    dbapi = context.dialect.loaded_dbapi
    return isinstance(context.original_exception, dbapi.OperationalError)


def take_fresh(connection: Any) -> bool:
    """Whether nothing has run on the connection since checkout, marking it used: for
    statements run on the driver's connection directly (`app.core.roundtrip`), which the
    engine's listener does not see."""
    fresh = bool(connection.info.get(_FRESH))
    connection.info[_FRESH] = False
    return fresh


def tag_driver_error(exc: BaseException, connection: Any, fresh: bool) -> None:
    """A driver error raised outside SQLAlchemy, tagged as `_on_error` tags SQLAlchemy's: when
    the connection is gone, it and the rest of the pool are discarded (as SQLAlchemy does on a
    disconnect) and the request may run again if nothing had run on the connection before."""
    driver_connection = connection.connection.driver_connection
    if driver_connection is None or not (driver_connection.closed or driver_connection.broken):
        return
    connection.invalidate(exc)
    connection.engine.dispose(close=False)
    exc.zhucun_outage = True  # type: ignore[attr-defined]
    exc.zhucun_retryable = fresh  # type: ignore[attr-defined]


def is_outage(exc: BaseException) -> bool:
    return bool(getattr(exc, "zhucun_outage", False))


def _retryable(exc: BaseException) -> bool:
    return bool(getattr(exc, "zhucun_retryable", False))


class DatabaseOutageMiddleware:
    """Runs a request again once after a stale pooled connection; answers 503 while the
    database is away."""

    def __init__(self, app: ASGIApp) -> None:
        self.app = app

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        received: list[Message] = []
        started = False

        async def recording_receive() -> Message:
            message = await receive()
            received.append(message)
            return message

        async def tracking_send(message: Message) -> None:
            nonlocal started
            if message["type"] == "http.response.start":
                started = True
            await send(message)

        try:
            await self.app(scope, recording_receive, tracking_send)
            return
        except Exception as exc:
            if started or not is_outage(exc):
                raise
            if not _retryable(exc):
                await self._unavailable(scope, receive, send)
                return
        replay = list(received)

        async def replaying_receive() -> Message:
            return replay.pop(0) if replay else await receive()

        try:
            await self.app(scope, replaying_receive, tracking_send)
        except Exception as exc:
            if started or not is_outage(exc):
                raise
            await self._unavailable(scope, receive, send)

    async def _unavailable(self, scope: Scope, receive: Receive, send: Send) -> None:
        response = render_app_error(Request(scope, receive), DatabaseUnavailable())
        await response(scope, receive, send)
