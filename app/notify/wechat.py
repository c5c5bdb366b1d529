"""WeChat subscription messages (订阅消息) to members: roll calls and leave decisions reach the
member's phone even with the mini-program closed.

Who: members whose account is bound to an openid of the configured mini-program (POST
/auth/wechat). What: the template ids and keyword maps in the settings (a template's keywords
are the operator's choice in the WeChat console). How: `POST /cgi-bin/message/subscribe/send`
with an access token from `POST /cgi-bin/stable_token`, which hands every caller the same
token while it is valid: several processes and hosts share it without invalidating each
other's, as each fetching `/cgi-bin/token` would. A token refused (40001, 42001, 40014) is
fetched again once. errcode 43101 (the member refused the subscription) and 40003 (an openid
WeChat does not know) are final.
"""

from __future__ import annotations

import threading
import time
from collections.abc import Callable
from dataclasses import dataclass
from datetime import date, datetime
from typing import TYPE_CHECKING, Any

from sqlalchemy import Select, select
from sqlalchemy.orm import Session

from app.auth.models import User, WechatBinding
from app.core.config import Settings
from app.core.policy import Policy
from app.core.targets import LEAVE_DECISION_SOURCES, ROLL_CALL_SOURCES, parse_fields
from app.notify.rules import Value, template_value
from app.notify.senders import DELIVERED, Outcome, http_error
from app.notify.topics import LEAVE_TYPES
from app.org.models import Member
from app.supervision.models import RollCallMember

if TYPE_CHECKING:  # httpx (and the CLI libraries it loads) only once something is sent
    import httpx

TOKEN_REFUSED = {40001, 42001, 40014}
FINAL = {43101, 40003}


@dataclass(frozen=True)
class Subscription:
    """How one topic becomes a subscription message."""

    template: Callable[[Settings], str]
    fields: Callable[[Settings], tuple[tuple[str, str], ...]]
    page: Callable[[Settings], str]
    page_query: str  # the payload key appended to the page as `?id=…`
    recipients: Callable[[dict[str, Any]], Select[Any]]  # the members it is for
    values: Callable[[dict[str, Any]], dict[str, Value]]


def _roll_call_values(p: dict[str, Any]) -> dict[str, Value]:
    return {
        "message": str(p.get("message", "")),
        "deadline": datetime.fromisoformat(p["deadline"]),
        "issued_at": datetime.fromisoformat(p["issued_at"]),
        "window": f"{p.get('window_minutes')}分钟",
        "scope": str(p.get("scope", "")),
    }


def _leave_values(p: dict[str, Any]) -> dict[str, Value]:
    start, end = date.fromisoformat(p["start_date"]), date.fromisoformat(p["end_date"])
    return {
        "result": "已批准" if p.get("status") == "approved" else "未批准",
        "type": LEAVE_TYPES.get(str(p.get("type")), str(p.get("type"))),
        "period": (start, end),
        "start_date": start,
        "end_date": end,
        "days": int(p.get("days") or 0),
        "comment": str(p.get("comment") or "无"),
    }


SUBSCRIPTIONS: dict[str, Subscription] = {
    "roll_call.issued": Subscription(
        template=lambda s: s.wechat_template_roll_call,
        fields=lambda s: parse_fields(
            s.wechat_fields_roll_call, ROLL_CALL_SOURCES, "ZHUCUN_WECHAT_FIELDS_ROLL_CALL"
        ),
        page=lambda s: s.wechat_page_roll_call,
        page_query="roll_call_id",
        recipients=lambda p: select(RollCallMember.member_id).where(
            RollCallMember.roll_call_id == p.get("roll_call_id")
        ),
        values=_roll_call_values,
    ),
    "leave.decided": Subscription(
        template=lambda s: s.wechat_template_leave_decision,
        fields=lambda s: parse_fields(
            s.wechat_fields_leave_decision,
            LEAVE_DECISION_SOURCES,
            "ZHUCUN_WECHAT_FIELDS_LEAVE_DECISION",
        ),
        page=lambda s: s.wechat_page_leave_decision,
        page_query="leave_id",
        recipients=lambda p: select(Member.id).where(Member.id == p.get("member_id")),
        values=_leave_values,
    ),
}


def configured(settings: Settings) -> bool:
    return bool(settings.wechat_appid and settings.wechat_secret)


def subscription(topic: str, settings: Settings) -> Subscription | None:
    """The topic's subscription, when the mini-program and its template are configured."""
    sub = SUBSCRIPTIONS.get(topic)
    if sub is None or not configured(settings) or not sub.template(settings):
        return None
    return sub


def bound_recipients(
    session: Session, settings: Settings, sub: Subscription, payload: dict[str, Any]
) -> list[int]:
    """The topic's members who have an active account bound to the mini-program."""
    members = sub.recipients(payload).scalar_subquery()
    return list(
        session.scalars(
            select(User.member_id)
            .join(WechatBinding, WechatBinding.user_id == User.id)
            .where(
                User.member_id.in_(members),
                User.is_active.is_(True),
                WechatBinding.appid == settings.wechat_appid,
            )
            .order_by(User.member_id)
        )
    )


def openid_of(session: Session, settings: Settings, member_id: int) -> str | None:
    return session.scalar(
        select(WechatBinding.openid)
        .join(User, User.id == WechatBinding.user_id)
        .where(
            User.member_id == member_id,
            User.is_active.is_(True),
            WechatBinding.appid == settings.wechat_appid,
        )
    )


def message_body(
    settings: Settings, policy: Policy, topic: str, payload: dict[str, Any], openid: str
) -> dict[str, Any]:
    sub = SUBSCRIPTIONS[topic]
    values = sub.values(payload)
    body: dict[str, Any] = {
        "touser": openid,
        "template_id": sub.template(settings),
        "lang": "zh_CN",
        "data": {
            keyword: {"value": template_value(keyword, values[source], policy.zone)}
            for keyword, source in sub.fields(settings)
        },
    }
    page = sub.page(settings)
    if page:
        joiner = "&" if "?" in page else "?"
        body["page"] = f"{page}{joiner}{sub.page_query}={payload.get(sub.page_query)}"
    return body


class AccessTokens:
    """The process's cache of access tokens, per API base and appid, until shortly before they
    expire."""

    def __init__(self) -> None:
        self._lock = threading.Lock()
        self._cache: dict[tuple[str, str], tuple[str, float]] = {}

    def get(self, client: httpx.Client, settings: Settings, refused: str | None = None) -> str:
        key = (settings.wechat_api_base, settings.wechat_appid)
        with self._lock:  # one fetch at a time; the others then find it cached
            cached = self._cache.get(key)
            if cached and cached[0] != refused and cached[1] > time.monotonic():
                return cached[0]
            response = client.post(
                f"{settings.wechat_api_base.rstrip('/')}/cgi-bin/stable_token",
                json={
                    "grant_type": "client_credential",
                    "appid": settings.wechat_appid,
                    "secret": settings.wechat_secret,
                    "force_refresh": False,
                },
            )
            answer = response.json() if response.is_success else {}
            token = answer.get("access_token") if isinstance(answer, dict) else None
            if not isinstance(token, str) or not token:
                code = answer.get("errcode") if isinstance(answer, dict) else None
                raise TokenUnavailable(f"stable_token: HTTP {response.status_code} errcode {code}")
            lifetime = int(answer.get("expires_in") or 7200)
            self._cache[key] = (token, time.monotonic() + max(60, lifetime - 300))
            return token


class TokenUnavailable(Exception):
    pass


TOKENS = AccessTokens()


def send(client: httpx.Client, settings: Settings, body: dict[str, Any]) -> Outcome:
    import httpx

    base = settings.wechat_api_base.rstrip("/")
    refused: str | None = None
    detail = ""
    try:
        for _ in range(2):
            token = TOKENS.get(client, settings, refused)
            response = client.post(
                f"{base}/cgi-bin/message/subscribe/send",
                params={"access_token": token},
                json=body,
            )
            if not response.is_success:
                return Outcome("failed", f"HTTP {response.status_code}")
            answer = response.json()
            errcode = answer.get("errcode", 0) if isinstance(answer, dict) else None
            if errcode == 0:
                return DELIVERED
            detail = f"errcode {errcode} {answer.get('errmsg', '')}".strip()[:300]
            if errcode in FINAL:
                return Outcome("refused", detail)
            if errcode not in TOKEN_REFUSED:
                return Outcome("failed", detail)
            refused = token
        return Outcome("failed", detail)
    except TokenUnavailable as exc:
        return Outcome("failed", str(exc))
    except ValueError:
        return Outcome("failed", "answer is not JSON")
    except httpx.HTTPError as exc:
        return Outcome("failed", http_error(exc))
