"""The service's notifier: one thread per process that delivers the outbox within seconds.

It wakes when a session of this process commits events (app.core.outbox.on_emitted_commit),
when a retry falls due, and at least every second for events other processes queued (a
command, another worker). Each wake first asks, on a read-only connection, whether anything is
due: an idle notifier never takes SQLite's write lock. Nothing runs when nothing is configured.
"""

from __future__ import annotations

import logging
import threading
from concurrent.futures import ThreadPoolExecutor
from datetime import datetime
from typing import TYPE_CHECKING

from sqlalchemy import Engine, exists, func, select
from sqlalchemy.orm import Session, sessionmaker

from app.core.config import Settings
from app.core.db import read_only_engine
from app.core.outbox import OutboxEvent, on_emitted_commit
from app.core.policy import Policy
from app.core.time import as_utc, utcnow
from app.notify.delivery import DeliverySummary, deliver_once, enabled, new_client
from app.notify.models import OutboxDelivery
from app.notify.sending import SENDERS

if TYPE_CHECKING:  # httpx (and the CLI libraries it loads) only once something is sent
    import httpx

log = logging.getLogger("zhucun.notify")

POLL_S = 1.0
MIN_WAIT_S = 0.02
BUSY_WAIT_S = 0.2
MAX_FAILED_WAIT_S = 30.0


def next_due(engine: Engine) -> datetime | None:
    """When the next delivery falls due (now when an event waits to be routed), or None."""
    with engine.connect() as conn:
        unrouted = conn.scalar(select(exists().where(OutboxEvent.routed_at.is_(None))))
        if unrouted:
            return utcnow()
        due = conn.scalar(
            select(func.min(OutboxDelivery.next_attempt_at)).where(
                OutboxDelivery.status == "pending"
            )
        )
    return None if due is None else as_utc(due)


class Notifier:
    def __init__(
        self,
        engine: Engine,
        factory: sessionmaker[Session],
        settings: Settings,
        policy: Policy,
    ) -> None:
        self._probe = read_only_engine(engine)
        self._factory = factory
        self._settings = settings
        self._policy = policy
        self._failures = 0  # passes failed in a row
        self._wake = threading.Event()
        self._stop = threading.Event()
        self._thread = threading.Thread(target=self._run, name="zhucun-notifier", daemon=True)
        self._unhook = on_emitted_commit(factory, self._wake.set)

    def start(self) -> None:
        self._thread.start()

    def wake(self) -> None:
        self._wake.set()

    def stop(self) -> None:
        """Finish the send in flight (its rows are released, not lost) and end."""
        self._unhook()
        self._stop.set()
        self._wake.set()
        self._thread.join(timeout=self._settings.notify_timeout_seconds * 2 + 5)

    def _run(self) -> None:
        client = new_client(self._settings)
        summary = DeliverySummary()
        try:
            with ThreadPoolExecutor(SENDERS, thread_name_prefix="zhucun-notify") as pool:
                while not self._stop.is_set():
                    wait = self._pass(client, pool, summary)
                    self._wake.wait(wait)
                    self._wake.clear()
        finally:
            client.close()

    def _pass(
        self, client: httpx.Client, pool: ThreadPoolExecutor, summary: DeliverySummary
    ) -> float:
        """Deliver while anything is due; returns how long to sleep."""
        try:
            while not self._stop.is_set():
                due = next_due(self._probe)
                if due is None:
                    return POLL_S
                wait = (due - utcnow()).total_seconds()
                if wait > 0:
                    return max(MIN_WAIT_S, min(POLL_S, wait))
                worked = deliver_once(
                    self._factory, self._settings, self._policy, client, pool, summary, self._stop
                )
                self._failures = 0
                if not worked:  # what is due is being claimed by another sender right now
                    return BUSY_WAIT_S
        except Exception:  # the database away, say: logged once, then tried less often
            if self._failures == 0:
                log.exception("notifier pass failed; trying again")
            self._failures += 1
            return min(MAX_FAILED_WAIT_S, POLL_S * 2.0 ** min(self._failures, 8))
        return POLL_S


def start_notifier(
    engine: Engine, factory: sessionmaker[Session], settings: Settings, policy: Policy
) -> Notifier | None:
    """The process's notifier, started; None when no target is configured."""
    if not enabled(settings):
        return None
    notifier = Notifier(engine, factory, settings, policy)
    notifier.start()
    return notifier
