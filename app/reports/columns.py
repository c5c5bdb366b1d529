"""How a report's columns look in each format."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Literal

Kind = Literal["text", "int", "number", "date", "bool", "code"]


@dataclass(frozen=True)
class Column:
    key: str  # the JSON field
    header: str  # the CSV/XLSX header (Chinese)
    kind: Kind  # text: from people (neutralised in CSV); code: from us (a label if known)
    width: int = 12  # XLSX column width, in characters
    labels: dict[str, str] | None = None  # code → Chinese label in CSV/XLSX


POSITION_LABELS = {"first_secretary": "第一书记", "team_leader": "队长", "team_member": "队员"}
STATUS_LABELS = {
    "present": "在岗",
    "partial": "未满足在岗规则",
    "leave": "请假",
    "absent": "缺勤",
    "pending": "待定",
    "unassigned": "未派驻",
}
