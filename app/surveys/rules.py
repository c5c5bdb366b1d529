"""The rules of satisfaction waves that need no database: codes, answer vectors, rates and the
anomaly checks (identical vectors above chance, bursts, one device for several codes, odd
hours). Each anomaly names its answers; nothing here drops one."""

from __future__ import annotations

import hashlib
import hmac
import math
from collections import Counter, defaultdict
from collections.abc import Iterable, Sequence
from dataclasses import dataclass, field
from datetime import datetime, timedelta
from typing import Literal

from app.core.policy import SurveyPolicy, SurveyQuestion

# 32 symbols: digits and capitals without 0, O, 1 and I (read aloud and typed without doubt).
ALPHABET = "23456789ABCDEFGHJKLMNPQRSTUVWXYZ"
CODE_LENGTH = 8
UNKNOWN = "unknown"
_UNKNOWN_MARK = "u"

AnomalyKind = Literal["identical_answers", "burst", "same_device", "off_hours"]


def derive_code(secret: str, survey_id: int, village_code: str, seq: int, salt: int = 0) -> str:
    """The `seq`-th card of a village: 40 bits of HMAC-SHA256 under the server's secret, so
    the sheet printed again shows the same codes and the database alone cannot show them."""
    message = f"zhucun-survey-code:{survey_id}:{village_code}:{seq}:{salt}".encode()
    digest = hmac.new(secret.encode(), message, hashlib.sha256).digest()
    number = int.from_bytes(digest[:5], "big")
    return "".join(ALPHABET[(number >> (5 * i)) & 31] for i in reversed(range(CODE_LENGTH)))


def code_hash(secret: str, code: str) -> str:
    """The stored form of a code (keyed: 40 bits are too few for a plain hash)."""
    return hmac.new(secret.encode(), f"code:{code}".encode(), hashlib.sha256).hexdigest()


def normal_code(text: str) -> str | None:
    """A code as typed (spaces, hyphens, lower case forgiven), or None when it cannot be one."""
    code = "".join(ch for ch in text.upper() if ch not in " -")
    if len(code) != CODE_LENGTH or any(ch not in ALPHABET for ch in code):
        return None
    return code


def keyed(secret: str, purpose: str, text: str) -> str:
    return hmac.new(secret.encode(), f"{purpose}:{text}".encode(), hashlib.sha256).hexdigest()


def device_of(secret: str, address: str, user_agent: str) -> str:
    """What an answer keeps of its sender: a keyed hash of address and user agent."""
    return keyed(secret, "device", f"{address}\n{user_agent}")


# --------------------------------------------------------------------------------- vectors

Answer = int | str  # 1–5 or "unknown"


def vector_of(questions: Sequence[SurveyQuestion], answers: dict[str, Answer]) -> str:
    """The stored form: each question's answer in order, `u` for unknown."""
    return ",".join(_mark(answers[q.id]) for q in questions)


def _mark(answer: Answer) -> str:
    return _UNKNOWN_MARK if answer == UNKNOWN else str(answer)


def parse_vector(vector: str) -> tuple[int | None, ...]:
    return tuple(None if v == _UNKNOWN_MARK else int(v) for v in vector.split(","))


def answers_of(questions: Sequence[SurveyQuestion], vector: str) -> dict[str, Answer]:
    return {
        q.id: (UNKNOWN if v is None else v)
        for q, v in zip(questions, parse_vector(vector), strict=True)
    }


# ----------------------------------------------------------------------------------- rates


@dataclass
class Tally:
    """Counts behind the rates: answers to the satisfaction questions that were not unknown
    (`satisfaction_n`) and those of 4–5 among them; the same for the `known` question. The
    plain counts leave excluded answers out; `_all` keeps them."""

    answers: int = 0
    excluded: int = 0
    satisfaction_n: int = 0
    satisfied: int = 0
    satisfaction_n_all: int = 0
    satisfied_all: int = 0
    known_n: int = 0
    known: int = 0

    def add(self, other: Tally) -> None:
        for name in self.__dataclass_fields__:
            setattr(self, name, getattr(self, name) + getattr(other, name))

    @property
    def satisfaction_rate(self) -> float | None:
        return rate(self.satisfied, self.satisfaction_n)

    @property
    def satisfaction_rate_all(self) -> float | None:
        return rate(self.satisfied_all, self.satisfaction_n_all)

    @property
    def known_rate(self) -> float | None:
        return rate(self.known, self.known_n)


def rate(part: int, whole: int) -> float | None:
    return None if whole == 0 else round(part / whole, 4)


def tally(questions: Sequence[SurveyQuestion], vectors: Iterable[tuple[str, bool]]) -> Tally:
    """The counts of `(stored vector, excluded)` pairs. A stored vector holds one character
    per answer (`1`–`5` or `u`) at every other place, so it is read without being split."""
    satisfaction = [2 * i for i, q in enumerate(questions) if q.kind == "satisfaction"]
    known = [2 * i for i, q in enumerate(questions) if q.kind == "known"]
    out = Tally()
    for vector, excluded in vectors:
        out.answers += 1
        n = yes = 0
        for i in satisfaction:
            v = vector[i]
            if v != _UNKNOWN_MARK:
                n += 1
                yes += v in "45"
        out.satisfaction_n_all += n
        out.satisfied_all += yes
        if excluded:
            out.excluded += 1
            continue
        out.satisfaction_n += n
        out.satisfied += yes
        for i in known:
            v = vector[i]
            if v != _UNKNOWN_MARK:
                out.known_n += 1
                out.known += v in "45"
    return out


# ------------------------------------------------------------------------------- anomalies


@dataclass(frozen=True)
class AnswerFact:
    id: int
    at: datetime  # UTC
    local_hour: int
    vector: str
    device: str


@dataclass(frozen=True)
class Anomaly:
    kind: AnomalyKind
    answer_ids: list[int] = field(hash=False)
    detail: str


def anomalies(facts: Sequence[AnswerFact], policy: SurveyPolicy) -> list[Anomaly]:
    """Every check over one village's answers (excluded ones included: shown, never hidden)."""
    return [
        *identical_answers(facts, policy),
        *bursts(facts, policy),
        *same_devices(facts, policy),
        *off_hours(facts, policy),
    ]


def identical_answers(facts: Sequence[AnswerFact], policy: SurveyPolicy) -> list[Anomaly]:
    """Vectors given more often than chance gives: each question answered independently with
    the village's own shares of each answer, a vector's probability is the product of its
    answers' shares; a vector given k times of n is flagged when P(X ≥ k), X ~ Bin(n, p), is
    below `identical_max_probability`. The village's own shares include the suspect answers,
    which makes the check lenient, never harsher."""
    n = len(facts)
    if n < policy.identical_min_answers:
        return []
    groups: dict[str, list[int]] = defaultdict(list)
    for f in facts:
        groups[f.vector].append(f.id)
    width = len(facts[0].vector)
    shares = [Counter(f.vector[i] for f in facts) for i in range(0, width, 2)]
    out = []
    for vector, ids in groups.items():
        k = len(ids)
        if k < policy.identical_min_answers:
            continue
        p = math.prod(shares[i][v] / n for i, v in enumerate(vector[::2]))
        chance = binomial_tail(n, k, p)
        if chance < policy.identical_max_probability:
            shown = vector.replace(_UNKNOWN_MARK, "不清楚")
            out.append(
                Anomaly(
                    "identical_answers",
                    sorted(ids),
                    f"{k} of {n} answers are identical ({shown}); chance gives {n * p:.1f} "
                    f"(P = {chance:.1e}) (答卷雷同)",
                )
            )
    return out


def binomial_tail(n: int, k: int, p: float) -> float:
    """P(X ≥ k) for X ~ Bin(n, p), summed in logarithms (no overflow at any n)."""
    if k <= 0 or (p >= 1 and k <= n):
        return 1.0
    if p <= 0 or k > n:
        return 0.0
    log_p, log_q = math.log(p), math.log1p(-p)
    terms = [
        math.lgamma(n + 1)
        - math.lgamma(i + 1)
        - math.lgamma(n - i + 1)
        + i * log_p
        + (n - i) * log_q
        for i in range(k, n + 1)
    ]
    top = max(terms)
    return min(1.0, math.exp(top) * sum(math.exp(t - top) for t in terms))


def bursts(facts: Sequence[AnswerFact], policy: SurveyPolicy) -> list[Anomaly]:
    """Runs of answers where `burst_min_answers` or more fall within `burst_minutes`: each
    such window's answers are marked, overlapping windows make one burst."""
    window = timedelta(minutes=policy.burst_minutes)
    least = policy.burst_min_answers
    ordered = sorted(facts, key=lambda f: (f.at, f.id))
    spans: list[list[int]] = []  # [first, last] indices, merged when they overlap
    j = 0
    for i in range(len(ordered)):
        j = max(j, i)
        while j + 1 < len(ordered) and ordered[j + 1].at - ordered[i].at <= window:
            j += 1
        if j - i + 1 >= least:
            if spans and i <= spans[-1][1]:
                spans[-1][1] = max(spans[-1][1], j)
            else:
                spans.append([i, j])
    out = []
    for first, last in spans:
        run = ordered[first : last + 1]
        minutes = (run[-1].at - run[0].at).total_seconds() / 60
        out.append(
            Anomaly(
                "burst",
                sorted(f.id for f in run),
                f"{len(run)} answers within {minutes:.0f} minute(s), from "
                f"{run[0].at.isoformat()} to {run[-1].at.isoformat()} (集中作答)",
            )
        )
    return out


def same_devices(facts: Sequence[AnswerFact], policy: SurveyPolicy) -> list[Anomaly]:
    """One device (address and browser) answering `same_device_min_answers` or more codes."""
    groups: dict[str, list[int]] = defaultdict(list)
    for f in facts:
        groups[f.device].append(f.id)
    return [
        Anomaly(
            "same_device",
            sorted(ids),
            f"{len(ids)} codes answered from one device (同一设备作答)",
        )
        for ids in sorted(groups.values(), key=lambda ids: min(ids))
        if len(ids) >= policy.same_device_min_answers
    ]


def is_off_hour(hour: int, policy: SurveyPolicy) -> bool:
    start, end = policy.off_hours_start, policy.off_hours_end
    if start == end:
        return False
    return start <= hour < end if start < end else hour >= start or hour < end


def off_hours(facts: Sequence[AnswerFact], policy: SurveyPolicy) -> list[Anomaly]:
    """Answers given at odd local hours, shown together once there are enough of them."""
    ids = sorted(f.id for f in facts if is_off_hour(f.local_hour, policy))
    if len(ids) < policy.off_hours_min_answers:
        return []
    hours = f"{policy.off_hours_start:02d}:00–{policy.off_hours_end:02d}:00"
    return [Anomaly("off_hours", ids, f"{len(ids)} answers between {hours} local time (深夜作答)")]
