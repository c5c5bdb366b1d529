"""The satisfaction wave's export (满意度测评结果): per village its answers, rates with and
without the excluded answers, and its anomalies counted by kind; per member the rates of the
villages served during the wave. Read from `app.surveys.results`, as the results route is."""

from __future__ import annotations

from typing import Any

from sqlalchemy.orm import Session

from app.core.policy import Policy
from app.reports.columns import Column
from app.reports.export import Render, Table
from app.surveys.models import Survey
from app.surveys.results import results

VILLAGE_COLUMNS = (
    Column("village_code", "村代码", "code", 14),
    Column("village_name", "村名", "text", 12),
    Column("codes", "发放测评码", "int", 10),
    Column("answers", "答卷数", "int", 8),
    Column("excluded", "剔除答卷", "int", 8),
    Column("satisfaction_rate", "满意率（剔除后）", "number", 12, nullable=True),
    Column("satisfaction_rate_all", "满意率（含剔除）", "number", 12, nullable=True),
    Column("known_rate", "知晓率", "number", 10, nullable=True),
    Column("identical_answers", "雷同答卷", "int", 8),
    Column("burst", "集中作答", "int", 8),
    Column("same_device", "同一设备", "int", 8),
    Column("off_hours", "深夜作答", "int", 8),
)
MEMBER_COLUMNS = (
    Column("member_id", "队员编号", "int", 10),
    Column("full_name", "姓名", "text", 10),
    Column("village_codes", "测评期间驻村", "text", 28),
    Column("answers", "答卷数", "int", 8),
    Column("satisfaction_rate", "满意率（剔除后）", "number", 12, nullable=True),
    Column("satisfaction_rate_all", "满意率（含剔除）", "number", 12, nullable=True),
    Column("known_rate", "知晓率", "number", 10, nullable=True),
)
KINDS = ("identical_answers", "burst", "same_device", "off_hours")


def tables(session: Session, policy: Policy, survey: Survey, prefix: str, fmt: Any) -> list[Table]:
    found = results(session, policy, survey, prefix)
    villages = Render(VILLAGE_COLUMNS, fmt)
    members = Render(MEMBER_COLUMNS, fmt)
    village_rows = []
    for v in found.villages:
        # Answers named by anomalies of each kind (an answer counted once per kind).
        named = {
            k: len({i for a in v.anomalies if a.kind == k for i in a.answer_ids}) for k in KINDS
        }
        village_rows.append(
            villages.part(
                0,
                (
                    v.village_code,
                    v.village_name,
                    v.codes,
                    v.tally.answers,
                    v.tally.excluded,
                    v.tally.satisfaction_rate,
                    v.tally.satisfaction_rate_all,
                    v.tally.known_rate,
                    *(named[k] for k in KINDS),
                ),
            )
        )
    member_rows = [
        members.part(
            0,
            (
                m.member_id,
                m.full_name,
                " ".join(m.village_codes),
                m.tally.answers,
                m.tally.satisfaction_rate,
                m.tally.satisfaction_rate_all,
                m.tally.known_rate,
            ),
        )
        for m in found.members
    ]
    return [
        Table("villages", "各村结果", VILLAGE_COLUMNS, village_rows),
        Table("members", "队员结果", MEMBER_COLUMNS, member_rows),
    ]
