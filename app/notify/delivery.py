"""Delivering the outbox, pass after pass: route new events to their targets (routing.py),
claim the due deliveries (claims.py), send them with no transaction open (sending.py), record
each result under the claim.

A sender that dies mid-send leaves its rows to be sent again when their lease runs out:
delivery is at least once, and the JSON webhook carries the event id for the receiver to drop
a repeat. `deliver_pending` is the whole job for a command (`zhucun daily`, `zhucun outbox
retry`); the service runs the same passes in its notifier (worker.py).
"""

from __future__ import annotations

import secrets
import threading
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass
from typing import TYPE_CHECKING

from sqlalchemy.orm import Session, sessionmaker

from app.core.config import Settings
from app.core.db import session_scope
from app.core.policy import Policy
from app.core.targets import parse_webhooks
from app.core.time import utcnow
from app.notify import wechat
from app.notify.claims import claim, record, revive, waiting_after_failure
from app.notify.routing import route, settle
from app.notify.sending import SENDERS, send_all

if TYPE_CHECKING:  # httpx (and the CLI libraries it loads) only once something is sent
    import httpx


@dataclass
class DeliverySummary:
    routed: int = 0  # events given their deliveries
    stale: int = 0  # events too old when routed: sent nowhere
    delivered: int = 0
    failed: int = 0  # failed tries that will be tried again
    dead: int = 0  # failed for the last time (dead letters)
    refused: int = 0  # refused for good by the receiver
    revived: int = 0  # rows made due again by a retry
    waiting: int = 0  # at the end: deliveries waiting for their next try

    def line(self) -> str:
        return (
            f"outbox: {self.routed} event(s) routed, {self.delivered} delivered, "
            f"{self.dead} dead, {self.refused} refused, {self.waiting} waiting to retry"
            + (f", {self.stale} too old to send" if self.stale else "")
            + (f", {self.revived} revived" if self.revived else "")
        )

    @property
    def ok(self) -> bool:
        """Nothing left failing: no dead letter made, nothing waiting after a failure."""
        return not self.dead and not self.waiting


def enabled(settings: Settings) -> bool:
    """Anything to deliver to: a webhook, or the mini-program with a template."""
    return bool(parse_webhooks(settings.webhooks)) or any(
        wechat.subscription(topic, settings) for topic in wechat.SUBSCRIPTIONS
    )


def deliver_once(
    factory: sessionmaker[Session],
    settings: Settings,
    policy: Policy,
    client: httpx.Client,
    pool: ThreadPoolExecutor,
    summary: DeliverySummary,
    stop: threading.Event | None = None,
) -> bool:
    """One pass: route a batch, claim a batch, send it, record it. False when it found
    nothing to do."""
    token = secrets.token_hex(8)
    with session_scope(factory) as session:
        routed, stale = route(session, settings, utcnow())
    summary.routed += routed
    summary.stale += stale
    with session_scope(factory) as session:
        items = claim(session, settings, policy, utcnow(), token)
    if items:
        results = send_all(client, settings, pool, items, stop)
        with session_scope(factory) as session:
            counts = record(session, settings, token, results)
        summary.delivered += counts["delivered"]
        summary.refused += counts["refused"]
        summary.dead += counts["dead"]
        summary.failed += counts["failed"]
    if routed or items:
        with session_scope(factory) as session:
            settle(session, utcnow())
    return bool(routed or items)


def deliver_pending(
    session_factory: sessionmaker[Session],
    settings: Settings,
    policy: Policy | None = None,
    *,
    retry_failed: bool = False,
    retry_dead: bool = False,
    client: httpx.Client | None = None,
) -> DeliverySummary:
    """Deliver everything due now, pass after pass until nothing is (what failed again waits
    for its next try). `retry_failed` makes the deliveries waiting after a failure due now;
    `retry_dead` also gives the dead letters their tries again. For `zhucun daily` and
    `zhucun outbox retry`; the service runs the same passes in the background
    (app.notify.worker)."""
    from app.core.policy import get_policy

    summary = DeliverySummary()
    if not enabled(settings):  # events wait, unrouted, until a target is configured
        return summary
    policy = policy or get_policy()
    own = client is None
    http = client or new_client(settings)
    try:
        if retry_failed or retry_dead:
            with session_scope(session_factory) as session:
                summary.revived = revive(session, utcnow(), failed=retry_failed, dead=retry_dead)
        with ThreadPoolExecutor(SENDERS, thread_name_prefix="zhucun-notify") as pool:
            while deliver_once(session_factory, settings, policy, http, pool, summary):
                pass
        with session_scope(session_factory) as session:
            summary.waiting = waiting_after_failure(session)
    finally:
        if own:
            http.close()
    return summary


def new_client(settings: Settings) -> httpx.Client:
    import httpx

    return httpx.Client(
        timeout=settings.notify_timeout_seconds,
        follow_redirects=False,
        headers={"User-Agent": "zhucun-notify"},
    )
