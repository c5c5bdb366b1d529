"""Where outbox events go, as the settings spell it: `ZHUCUN_WEBHOOKS` targets (`KIND:URL`,
comma-separated) and the field maps of WeChat subscription templates (`thing1=message,…`).

Parsed here, in core, so that the settings refuse a bad value at start-up with one line that
names it (app.notify delivers; it never re-parses what it was given).
"""

from __future__ import annotations

import hashlib
import re
from dataclasses import dataclass
from functools import lru_cache
from typing import Literal
from urllib.parse import urlsplit

WebhookKind = Literal["json", "wecom", "dingtalk"]
KINDS: tuple[WebhookKind, ...] = ("json", "wecom", "dingtalk")


@dataclass(frozen=True)
class Webhook:
    kind: WebhookKind
    url: str

    @property
    def key(self) -> str:
        """The name a delivery row keeps for this target: kind, host and path, and a digest of
        the whole URL (a robot's URL carries its key, which the database must not hold)."""
        parts = urlsplit(self.url)
        digest = hashlib.sha256(self.url.encode()).hexdigest()[:8]
        return f"{self.kind}:{parts.netloc}{parts.path}#{digest}"[:200]


@lru_cache(maxsize=8)
def parse_webhooks(spec: str) -> tuple[Webhook, ...]:
    """`json:https://a/hook, wecom:https://…` → targets; ValueError naming a bad entry."""
    targets: list[Webhook] = []
    for raw in spec.split(","):
        entry = raw.strip()
        if not entry:
            continue
        kind, _, url = entry.partition(":")
        if kind not in KINDS:
            raise ValueError(
                f"ZHUCUN_WEBHOOKS: {entry!r} must start with one of {', '.join(KINDS)} and a colon"
            )
        parts = urlsplit(url)
        if parts.scheme not in ("http", "https") or not parts.netloc:
            raise ValueError(f"ZHUCUN_WEBHOOKS: {entry!r} needs an http(s) URL after {kind}:")
        target = Webhook(kind=kind, url=url)
        if any(t.key == target.key for t in targets):
            raise ValueError(f"ZHUCUN_WEBHOOKS: {entry!r} is listed twice")
        targets.append(target)
    return tuple(targets)


# What a subscription template's keywords may be filled with, per message.
ROLL_CALL_SOURCES = ("message", "deadline", "issued_at", "window", "scope")
LEAVE_DECISION_SOURCES = ("result", "type", "period", "start_date", "end_date", "days", "comment")
_KEYWORD = re.compile(r"^[a-z_]+[0-9]+$")


@lru_cache(maxsize=16)
def parse_fields(spec: str, sources: tuple[str, ...], setting: str) -> tuple[tuple[str, str], ...]:
    """`thing1=message,time2=deadline` → ((keyword, source), …); ValueError naming a bad pair.
    A keyword is the template's own (`thing1`, `time2`, …: WeChat's type, then a number)."""
    pairs: list[tuple[str, str]] = []
    for raw in spec.split(","):
        entry = raw.strip()
        if not entry:
            continue
        keyword, _, source = (p.strip() for p in entry.partition("="))
        if not _KEYWORD.match(keyword) or source not in sources:
            raise ValueError(
                f"{setting}: {entry!r} must be KEYWORD=SOURCE, a template keyword such as thing1 "
                f"and one of {', '.join(sources)}"
            )
        pairs.append((keyword, source))
    if not pairs:
        raise ValueError(f"{setting} names no field")
    return tuple(pairs)
