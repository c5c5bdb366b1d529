"""How a report's columns look in each format."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date
from typing import Any, Literal

from pydantic import BaseModel, Field, create_model

# percent: a fraction (0.935) in JSON, shown as a percentage (93.5%) in CSV and XLSX.
Kind = Literal["text", "int", "number", "percent", "date", "bool", "code"]


@dataclass(frozen=True)
class Column:
    key: str  # the JSON field
    header: str  # the CSV/XLSX header (Chinese)
    kind: Kind  # text: from people (neutralised in CSV); code: from us (a label if known)
    width: int = 12  # XLSX column width, in characters
    labels: dict[str, str] | None = None  # code → Chinese label in CSV/XLSX
    nullable: bool = False  # the value may be missing (JSON null, an empty cell)


POSITION_LABELS = {"first_secretary": "第一书记", "team_leader": "队长", "team_member": "队员"}
STATUS_LABELS = {
    "present": "在岗",
    "partial": "未满足在岗规则",
    "leave": "请假",
    "absent": "缺勤",
    "pending": "待定",
    "unassigned": "未派驻",
}


_JSON_TYPES: dict[Kind, Any] = {
    "text": str,
    "int": int,
    "number": float,
    "percent": float,
    "date": date,
    "bool": bool,
    "code": str,
}


def row_model(name: str, doc: str, columns: tuple[Column, ...]) -> type[BaseModel]:
    """A JSON row of a report, as a model for the OpenAPI document: one field per column, typed
    by its kind (a coded column with labels: one of their codes), described by its header."""
    fields: dict[str, Any] = {}
    for col in columns:
        kind: Any = _JSON_TYPES[col.kind]
        if col.kind == "code" and col.labels:
            kind = Literal[tuple(col.labels)]
        if col.nullable:
            kind = kind | None
        fields[col.key] = (kind, Field(description=col.header))
    return create_model(name, __doc__=doc, **fields)
