"""Pure rules of the reports domain: how the map colours a village."""

from __future__ import annotations

from typing import Literal

from app.core.policy import DashboardPolicy

VillageState = Literal["good", "fair", "poor", "leave", "empty"]


def on_post_rate(assigned: int, on_post: int, on_leave: int) -> float | None:
    """On post among those not on leave; None when nobody is expected."""
    expected = assigned - on_leave
    return None if expected <= 0 else on_post / expected


def village_state(
    policy: DashboardPolicy, assigned: int, on_post: int, on_leave: int
) -> VillageState:
    """empty: nobody assigned; leave: everyone away on leave; else by the on-post rate."""
    if assigned == 0:
        return "empty"
    rate = on_post_rate(assigned, on_post, on_leave)
    if rate is None:
        return "leave"
    if rate >= policy.good_rate:
        return "good"
    if rate >= policy.fair_rate:
        return "fair"
    return "poor"
