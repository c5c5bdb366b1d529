"""The household's countersign of a visit: a one-time link and a 6-digit code, answered once.

Nothing secret is stored: the token and the code are derived from a random salt with the
server's key (HMAC-SHA256), so that a resent visit answers the same link, and only keyed
hashes of them are kept. A confirming browser is known by a hash of its address and user
agent; one that matches the member's own requests, or that has confirmed visits of more than
`policy.visits.max_households_per_confirmer` households in 30 days, marks the visit
`same_confirmer` (the member confirming their own visits is the attack to make visible).
"""

from __future__ import annotations

import base64
import hashlib
import hmac
import secrets
from datetime import datetime, timedelta

from sqlalchemy import func, select
from sqlalchemy.orm import Session

from app.auth.models import LoginFailure
from app.core.policy import Policy
from app.core.time import as_utc
from app.households.errors import (
    AlreadyAnswered,
    CountersignNotFound,
    Expired,
    TooManyCodes,
)
from app.households.models import Countersign, Household, Visit
from app.households.schemas import (
    CountersignAnswer,
    CountersignOffer,
    CountersignView,
)
from app.households.service import refresh_last_visit
from app.org.models import Member, Village

FLAG = "same_confirmer"
CONFIRMER_DAYS = 30
RECEIPT_ALPHABET = "23456789ABCDEFGHJKLMNPQRSTUVWXYZ"  # no 0/O/1/I
# Wrong codes from one address within the window before it must wait (as logins).
MAX_CODE_FAILURES = 5
CODE_WINDOW = timedelta(minutes=15)


def _mac(secret: str, text: str) -> bytes:
    return hmac.new(secret.encode(), text.encode(), hashlib.sha256).digest()


def token_of(secret: str, salt: str) -> str:
    return base64.urlsafe_b64encode(_mac(secret, f"countersign-token:{salt}")).decode()[:32]


def code_of(secret: str, salt: str) -> str:
    number = int.from_bytes(_mac(secret, f"countersign-code:{salt}")[:8], "big") % 1_000_000
    return f"{number:06d}"


def token_hash(token: str) -> str:
    return hashlib.sha256(token.encode()).hexdigest()


def code_hash(secret: str, code: str) -> str:
    return _mac(secret, f"countersign-code-lookup:{code}").hex()


def source_key(address: str, user_agent: str) -> str:
    """A browser, as far as the server can tell: its address and user agent, hashed."""
    return hashlib.sha256(f"{address}\n{user_agent}".encode()).hexdigest()


def open_for(
    session: Session, policy: Policy, secret: str, visit: Visit, now: datetime
) -> CountersignOffer:
    """A countersign for the visit: its link and a code no other open countersign holds."""
    expires = now + timedelta(hours=policy.visits.countersign_valid_hours)
    for _ in range(20):
        salt = secrets.token_hex(16)
        hashed = code_hash(secret, code_of(secret, salt))
        clash = session.scalar(
            select(Countersign.id).where(
                Countersign.code_hash == hashed,
                Countersign.answered_at.is_(None),
                Countersign.expires_at > now,
            )
        )
        if clash is None:
            break
    row = Countersign(
        visit_id=visit.id,
        salt=salt,
        token_hash=token_hash(token_of(secret, salt)),
        code_hash=hashed,
        created_at=now,
        expires_at=expires,
    )
    session.add(row)
    session.flush()
    return _offer(secret, row)


def _offer(secret: str, row: Countersign) -> CountersignOffer:
    return CountersignOffer(
        url=f"/v/{token_of(secret, row.salt)}",
        code=code_of(secret, row.salt),
        expires_at=as_utc(row.expires_at),
    )


def offer_for(session: Session, secret: str, visit: Visit) -> CountersignOffer | None:
    """The visit's countersign as first answered (a resent visit), while it is unanswered."""
    row = session.scalar(select(Countersign).where(Countersign.visit_id == visit.id))
    if row is None or row.answered_at is not None:
        return None
    return _offer(secret, row)


def _find(session: Session, token: str, *, lock: bool = False) -> Countersign:
    query = select(Countersign).where(Countersign.token_hash == token_hash(token))
    if lock:
        query = query.with_for_update()
    row = session.scalar(query)
    if row is None:
        raise CountersignNotFound()
    return row


def _usable(row: Countersign, now: datetime) -> None:
    if row.answered_at is not None:
        raise AlreadyAnswered()
    expires = as_utc(row.expires_at)
    if now >= expires:
        raise Expired(expires_at=expires.isoformat())


def view(session: Session, token: str, now: datetime) -> CountersignView:
    row = _find(session, token)
    _usable(row, now)
    visit = session.get(Visit, row.visit_id)
    assert visit is not None
    member = session.get(Member, visit.member_id)
    household = session.get(Household, visit.household_id)
    assert member is not None
    assert household is not None
    village = session.get(Village, household.village_code)
    return CountersignView(
        member_name=member.full_name,
        village_name=village.name if village else household.village_code,
        visited_at=as_utc(visit.captured_at),
        expires_at=as_utc(row.expires_at),
    )


def answer(
    session: Session,
    policy: Policy,
    token: str,
    body: CountersignAnswer,
    confirmer: str,
    now: datetime,
) -> str:
    """Record the household's answer once (the row locked first: of two racing answers, one
    wins, the other gets 409). Returns the receipt."""
    row = _find(session, token, lock=True)
    _usable(row, now)
    visit = session.scalar(select(Visit).where(Visit.id == row.visit_id).with_for_update())
    assert visit is not None
    row.answered_at = now
    row.confirmed = body.confirmed
    row.knows_member = body.knows_member
    row.satisfaction = body.satisfaction
    row.comment = body.comment
    row.confirmer_key = confirmer
    row.receipt = "".join(secrets.choice(RECEIPT_ALPHABET) for _ in range(8))
    visit.confirmation = "confirmed" if body.confirmed else "denied"
    session.flush()
    _judge_confirmer(session, policy, visit, confirmer, now)
    if not body.confirmed:
        refresh_last_visit(session, policy, visit.household_id)
    return row.receipt


def _judge_confirmer(
    session: Session, policy: Policy, visit: Visit, confirmer: str, now: datetime
) -> None:
    since = now - timedelta(days=CONFIRMER_DAYS)
    own = session.scalar(
        select(Visit.id)
        .where(
            Visit.member_id == visit.member_id,
            Visit.source_key == confirmer,
            Visit.received_at >= since,
        )
        .limit(1)
    )
    households = session.scalar(
        select(func.count(func.distinct(Visit.household_id)))
        .select_from(Countersign)
        .join(Visit, Visit.id == Countersign.visit_id)
        .where(Countersign.confirmer_key == confirmer, Countersign.answered_at >= since)
    )
    if own is not None:
        _flag(visit)
    if (households or 0) > policy.visits.max_households_per_confirmer:
        for other in session.scalars(
            select(Visit)
            .join(Countersign, Countersign.visit_id == Visit.id)
            .where(Countersign.confirmer_key == confirmer, Countersign.answered_at >= since)
        ):
            _flag(other)


def _flag(visit: Visit) -> None:
    flags = [f for f in visit.flags.split(",") if f]
    if FLAG not in flags:
        visit.flags = ",".join([*flags, FLAG])


# --- the code typed on /v -------------------------------------------------------------------


def _throttle_key(address: str) -> str:
    return f"countersign:{address}"[:64]


def check_throttle(session: Session, address: str, now: datetime) -> None:
    """Refuse (429) an address that typed too many wrong codes in the window."""
    times = session.scalars(
        select(LoginFailure.at)
        .where(LoginFailure.username == _throttle_key(address), LoginFailure.at > now - CODE_WINDOW)
        .order_by(LoginFailure.at.desc())
        .limit(MAX_CODE_FAILURES)
    ).all()
    if len(times) >= MAX_CODE_FAILURES:
        oldest = min(as_utc(t) for t in times)
        wait = max(1, int((oldest + CODE_WINDOW - now).total_seconds()) + 1)
        raise TooManyCodes(retry_after=wait)


def record_failure(session: Session, address: str, now: datetime) -> None:
    session.add(LoginFailure(username=_throttle_key(address), address=address[:64], at=now))


def token_for_code(session: Session, secret: str, code: str, now: datetime) -> str:
    """The token of the open countersign holding this code (404 when none; 409 answered;
    410 expired)."""
    rows = session.scalars(
        select(Countersign)
        .where(Countersign.code_hash == code_hash(secret, code))
        .order_by(Countersign.id.desc())
        .limit(5)
    ).all()
    if not rows:
        raise CountersignNotFound()
    live = [r for r in rows if r.answered_at is None and as_utc(r.expires_at) > now]
    row = live[0] if live else rows[0]
    _usable(row, now)
    return token_of(secret, row.salt)
