"""One HTTP request per delivery, as each receiver documents it, and its answer judged.

- `json`: the event as JSON, its id the idempotency key (`Zhucun-Event-Id`; at-least-once, so
  a receiver drops an id it has seen), signed `Zhucun-Signature: t=<unix s>,v1=<hex
  HMAC-SHA256(secret, "t.body")>` when ZHUCUN_WEBHOOK_SECRET is set. Any 2xx is delivered.
- `wecom`: a WeCom group robot, `{"msgtype": "markdown", "markdown": {"content"}}`.
- `dingtalk`: a DingTalk robot, `{"msgtype": "markdown", "markdown": {"title", "text"}}`, its
  URL signed (加签) with `&timestamp=<ms>&sign=<urlencode(base64(HMAC-SHA256(secret,
  "timestamp\\nsecret")))>` when ZHUCUN_DINGTALK_SECRET is set.
The robots answer HTTP 200 with `{"errcode": 0}` on success; any other errcode is a failure,
whatever the HTTP status.
"""

from __future__ import annotations

import base64
import hashlib
import hmac
import json
import re
import time
import urllib.parse
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any, Literal

from app.core.config import Settings
from app.core.targets import Webhook
from app.notify.rules import clip_utf8
from app.notify.topics import Message, markdown

if TYPE_CHECKING:  # httpx (and the CLI libraries it loads) only once something is sent
    import httpx

WECOM_LIMIT_BYTES = 4096  # WeCom's markdown content limit


@dataclass(frozen=True)
class Outcome:
    status: Literal["delivered", "failed", "refused"]
    error: str | None = None


DELIVERED = Outcome("delivered")


@dataclass(frozen=True)
class EventView:
    """What a receiver is told of the event."""

    id: int
    topic: str
    created_at: str
    payload: dict[str, Any]
    message: Message


def json_body(event: EventView) -> bytes:
    return json.dumps(
        {
            "id": event.id,
            "topic": event.topic,
            "created_at": event.created_at,
            "title": event.message.title,
            "text": markdown(event.message),
            "payload": event.payload,
        },
        ensure_ascii=False,
        separators=(",", ":"),
    ).encode()


def json_signature(secret: str, timestamp: int, body: bytes) -> str:
    digest = hmac.new(secret.encode(), f"{timestamp}.".encode() + body, hashlib.sha256)
    return f"t={timestamp},v1={digest.hexdigest()}"


def dingtalk_signed_url(url: str, secret: str, timestamp_ms: int) -> str:
    to_sign = f"{timestamp_ms}\n{secret}".encode()
    digest = hmac.new(secret.encode(), to_sign, hashlib.sha256).digest()
    sign = urllib.parse.quote_plus(base64.b64encode(digest))
    return f"{url}{'&' if '?' in url else '?'}timestamp={timestamp_ms}&sign={sign}"


def send_webhook(
    client: httpx.Client, settings: Settings, hook: Webhook, event: EventView, attempt: int
) -> Outcome:
    import httpx

    try:
        if hook.kind == "json":
            return _send_json(client, settings, hook, event, attempt)
        if hook.kind == "wecom":
            content = clip_utf8(markdown(event.message), WECOM_LIMIT_BYTES)
            body = {"msgtype": "markdown", "markdown": {"content": content}}
            return robot_answer(client.post(hook.url, json=body))
        text = markdown(event.message, line_break="\n\n")  # DingTalk joins single breaks
        body = {"msgtype": "markdown", "markdown": {"title": event.message.title, "text": text}}
        url = hook.url
        if settings.dingtalk_secret:
            url = dingtalk_signed_url(url, settings.dingtalk_secret, int(time.time() * 1000))
        return robot_answer(client.post(url, json=body))
    except httpx.HTTPError as exc:
        return Outcome("failed", http_error(exc))


def _send_json(
    client: httpx.Client, settings: Settings, hook: Webhook, event: EventView, attempt: int
) -> Outcome:
    body = json_body(event)
    headers = {
        "Content-Type": "application/json; charset=utf-8",
        "Zhucun-Event-Id": str(event.id),
        "Zhucun-Topic": event.topic,
        "Zhucun-Delivery-Attempt": str(attempt),
    }
    if settings.webhook_secret:
        headers["Zhucun-Signature"] = json_signature(
            settings.webhook_secret, int(time.time()), body
        )
    response = client.post(hook.url, content=body, headers=headers)
    if response.is_success:
        return DELIVERED
    return Outcome("failed", f"HTTP {response.status_code}")


def robot_answer(response: httpx.Response) -> Outcome:
    """A robot's answer: delivered only on `{"errcode": 0}`."""
    if not response.is_success:
        return Outcome("failed", f"HTTP {response.status_code}")
    try:
        answer = response.json()
    except ValueError:
        return Outcome("failed", "answer is not JSON")
    errcode = answer.get("errcode") if isinstance(answer, dict) else None
    if errcode == 0:
        return DELIVERED
    message = answer.get("errmsg", "") if isinstance(answer, dict) else ""
    return Outcome("failed", f"errcode {errcode} {message}".strip()[:300])


_URL = re.compile(r"\S+://\S+")


def http_error(exc: httpx.HTTPError) -> str:
    """An HTTP failure in words that never include a URL (a robot's URL holds its key, a
    WeChat call its access token)."""
    return _URL.sub("<url>", f"{type(exc).__name__}: {exc}")[:300]
