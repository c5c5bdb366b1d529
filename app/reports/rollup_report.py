"""The national compliance report (全国考核汇总): one row per province for a period, from the
compliance results the provinces publish into the national database (app.rollup)."""

from __future__ import annotations

from collections.abc import Iterator

from sqlalchemy import Connection

from app.reports.columns import Column
from app.reports.compliance_report import STATUS_LABELS
from app.reports.export import Render, Row
from app.rollup import service

COLUMNS = (
    Column("province", "省份代码", "code", 10),
    Column("period", "考核期", "code", 8),
    Column("members", "考核人数", "int", 8),
    Column("compliant", "达标人数", "int", 8),
    Column("compliance_rate", "达标率", "percent", 8, nullable=True),
    *(Column(code, f"{label}（人）", "int", 8) for code, label in STATUS_LABELS.items()),
    Column("as_of", "最早评定日", "date", 11, nullable=True),
)


def rows(connection: Connection, period: str, prefix: str, render: Render) -> Iterator[Row]:
    """Provinces whose code starts with `prefix`, in code order."""
    for p in service.compliance(connection, period, prefix):
        rate = None if p.rate is None else round(p.rate, 4)
        yield render.part(
            0,
            (
                p.province,
                period,
                p.members,
                p.compliant,
                rate,
                *(p.summary.get(code, 0) for code in STATUS_LABELS),
                p.as_of,
            ),
        )
