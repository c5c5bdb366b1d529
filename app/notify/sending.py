"""Sending a claimed batch: one target's rows in id order, one at a time; after a failure the
rest of that target's rows wait for its next try (a target down costs one timeout per try,
not one per event); different targets side by side."""

from __future__ import annotations

import random
import threading
import time
from collections import defaultdict
from collections.abc import Sequence
from concurrent.futures import ThreadPoolExecutor
from datetime import timedelta
from typing import TYPE_CHECKING

from app.core.config import Settings
from app.core.time import utcnow
from app.notify import senders, wechat
from app.notify.claims import LEASE, Outgoing, Result
from app.notify.rules import retry_delay

if TYPE_CHECKING:  # httpx (and the CLI libraries it loads) only once something is sent
    import httpx

SENDERS = 8  # targets sent to at once


def send_all(
    client: httpx.Client,
    settings: Settings,
    pool: ThreadPoolExecutor,
    items: Sequence[Outgoing],
    stop: threading.Event | None,
) -> list[Result]:
    by_target: dict[str, list[Outgoing]] = defaultdict(list)
    for item in items:
        by_target[item.target].append(item)
    deadline = time.monotonic() + LEASE.total_seconds() / 2
    futures = [
        pool.submit(_send_target, client, settings, group, deadline, stop)
        for group in by_target.values()
    ]
    return [result for future in futures for result in future.result()]


def _send_target(
    client: httpx.Client,
    settings: Settings,
    items: Sequence[Outgoing],
    deadline: float,
    stop: threading.Event | None,
) -> list[Result]:
    results: list[Result] = []
    for index, item in enumerate(items):
        if time.monotonic() > deadline or (stop is not None and stop.is_set()):
            return results + [Result(rest, None) for rest in items[index:]]
        outcome = _send_one(client, settings, item)
        if outcome.status != "failed":
            results.append(Result(item, outcome))
            continue
        delay = retry_delay(item.attempt, settings.notify_backoff_seconds, random.random())
        retry_at = utcnow() + timedelta(seconds=delay)
        results.append(Result(item, outcome, retry_at))
        # The target's later rows wait with it, in order.
        return results + [Result(rest, None, retry_at) for rest in items[index + 1 :]]
    return results


def _send_one(client: httpx.Client, settings: Settings, item: Outgoing) -> senders.Outcome:
    if item.refusal is not None:
        return senders.Outcome("refused", item.refusal)
    if item.wechat_body is not None:
        return wechat.send(client, settings, item.wechat_body)
    assert item.hook is not None
    return senders.send_webhook(client, settings, item.hook, item.event, item.attempt)
