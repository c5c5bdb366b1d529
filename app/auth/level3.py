"""等保 2.0 level 3 (GB/T 22239-2019): which of its items the service covers, which are on under
the policy in force (`zhucun policy check`, the page an assessor reads), and the separation of
duties a production start checks."""

from __future__ import annotations

from dataclasses import dataclass

from sqlalchemy import select
from sqlalchemy.orm import Session

from app.auth.models import User
from app.core.policy import Policy


class DutiesNotSeparated(RuntimeError):
    """Separation of duties is on, yet an active account holds `admin`: an operator's to fix."""


@dataclass(frozen=True)
class Item:
    clause: str  # GB/T 22239-2019 clause, e.g. 8.1.4.1 a)
    what: str
    state: str  # "on", "off", or "deployment" (the deployment's, not the service's)
    setting: str  # how it is set


def items(policy: Policy, signing_alg: str | None) -> list[Item]:
    """The level-3 items of the application's computing environment (8.1.4) that sign-in,
    access control, audit and integrity touch, with their state under `policy`."""
    s = policy.security

    def on(flag: object) -> str:
        return "on" if flag else "off"

    complexity = f"≥ {s.password_min_length} characters" + (
        f" from ≥ {s.password_classes} character classes" if s.password_classes else ""
    )
    return [
        Item("8.1.4.1 a)", "unique user names", "on", "always (users.username is unique)"),
        Item(
            "8.1.4.1 a)",
            f"password complexity: {complexity}",
            on(s.password_classes),
            "security.password_min_length, security.password_classes",
        ),
        Item(
            "8.1.4.1 a)",
            f"password history: not one of the last {s.password_history or 0}",
            on(s.password_history),
            "security.password_history",
        ),
        Item(
            "8.1.4.1 a)",
            f"password maximum age: {s.password_max_age_days or 0} days (403 password_expired)",
            on(s.password_max_age_days),
            "security.password_max_age_days",
        ),
        Item(
            "8.1.4.1 b)",
            f"login failures: {s.lockout_failures or 0} wrong passwords lock the account for "
            f"{s.lockout_minutes} minutes (423 account_locked; security_admin unlocks)",
            on(s.lockout_failures),
            "security.lockout_failures, security.lockout_minutes",
        ),
        Item(
            "8.1.4.1 b)",
            "login throttle: 50 failures from one address in 15 minutes (429)",
            "on",
            "always",
        ),
        Item(
            "8.1.4.1 b)",
            f"idle sessions end after {s.idle_timeout_minutes or 0} minutes (non-members; 401 "
            "session_idle)",
            on(s.idle_timeout_minutes),
            "security.idle_timeout_minutes",
        ),
        Item(
            "8.1.4.1 c)",
            "credentials encrypted in transit (HTTPS)",
            "deployment",
            "the TLS reverse proxy in front of the service",
        ),
        Item(
            "8.1.4.1 d)",
            "two factors (password + TOTP, RFC 6238) for: "
            + (", ".join(s.second_factor_roles) or "no role"),
            on(s.second_factor_roles),
            "security.second_factor_roles",
        ),
        Item(
            "8.1.4.2 a)–c)",
            "accounts by role and scope; deactivation ends every session at once",
            "on",
            "always",
        ),
        Item(
            "8.1.4.2 d)",
            "separation of duties (三员分立): sysadmin, security_admin, audit_admin; no admin",
            on(s.separation_of_duties),
            "security.separation_of_duties",
        ),
        Item(
            "8.1.4.3 a)–b)",
            f"audit records: actions log, access log, login log (every attempt, kept "
            f"{s.login_log_days} days), security events on the JSON log",
            "on",
            "always; security.login_log_days",
        ),
        Item(
            "8.1.4.3 c)",
            "audit records protected: hash chains under signed checkpoints (zhucun audit verify)",
            "on",
            "always; off-site copies of checkpoints are the deployment's",
        ),
        Item(
            "8.1.4.8/9",
            "integrity of records and exports by commercial cryptography (SM2 over SM3)",
            on(signing_alg == "sm2-sm3"),
            "zhucun audit keygen --algorithm sm2 (ZHUCUN_SIGNING_KEY_FILE); now: "
            + (signing_alg or "no key file"),
        ),
    ]


def report(policy: Policy, signing_alg: str | None) -> list[str]:
    """The lines `zhucun policy check` prints."""
    listed = items(policy, signing_alg)
    own = [i for i in listed if i.state != "deployment"]
    lines = [
        "等保 2.0 level 3 (GB/T 22239-2019, 8.1.4 安全计算环境) — "
        f'policy.security.profile = "{policy.security.profile}"'
    ]
    for item in listed:
        lines.append(f"[{item.state[:3]:<3}] {item.clause:<13} {item.what}  ({item.setting})")
    lines.append(
        f"{sum(i.state == 'on' for i in own)} of {len(own)} items the service covers are on"
    )
    return lines


def admin_accounts(session: Session) -> list[str]:
    return list(
        session.scalars(
            select(User.username)
            .where(User.role == "admin", User.is_active.is_(True))
            .order_by(User.username)
        )
    )


def check_separation(session: Session, policy: Policy) -> None:
    """DutiesNotSeparated when separation of duties is on and an active account holds admin."""
    if not policy.security.separation_of_duties:
        return
    admins = admin_accounts(session)
    if admins:
        raise DutiesNotSeparated(
            "separation of duties is on (policy.security) but these accounts hold admin: "
            f"{', '.join(admins)}; give each sysadmin, security_admin or audit_admin, or "
            "deactivate it"
        )
