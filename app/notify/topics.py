"""What each outbox topic says, in Chinese, to the people in a robot's group.

One entry of `TOPICS` per topic: a renderer from the event's payload (and names looked up in
the database) to a title and labelled lines. Adding a topic is adding its entry; a topic with
no entry still goes to `json` webhooks (machines), never to the robots. Members' free text
(messages, summaries, requirements) is quoted as inert one-line text; leave reasons are not
sent at all (a sick leave's reason is nobody's business in a group chat).
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from datetime import date, datetime
from typing import Any
from zoneinfo import ZoneInfo

from app.notify.names import Names
from app.notify.rules import plain

LEVELS = {"township": "乡镇党委", "county": "县区组织部门", "city": "市委组织部"}
LEAVE_TYPES = {
    "personal": "事假",
    "sick": "病假",
    "annual": "年休假",
    "official": "公出",
    "recall": "召回",
}
EVENT_KINDS = {"petition": "信访", "safety": "安全事故", "dispute": "矛盾纠纷", "other": "其他"}
TITLE_MARK = "【驻村】"  # every title carries it: a DingTalk robot's keyword can be "驻村"


@dataclass(frozen=True)
class Message:
    title: str
    lines: tuple[tuple[str, str], ...]  # (label, value), shown in order


@dataclass(frozen=True)
class Context:
    names: Names
    zone: ZoneInfo

    def day(self, iso: object) -> str:
        if not isinstance(iso, str) or not iso:
            return "（未填）"
        d = date.fromisoformat(iso[:10])
        return f"{d.year}年{d.month}月{d.day}日"

    def moment(self, iso: object) -> str:
        if not isinstance(iso, str) or not iso:
            return "（未填）"
        local = datetime.fromisoformat(iso).astimezone(self.zone)
        return f"{local.year}年{local.month}月{local.day}日 {local:%H:%M}"

    def who(self, member_id: object) -> str:
        village = self.names.member_village(member_id)
        name = f"**{plain(self.names.member(member_id), 40)}**"
        return f"{name}（{village}）" if village else name


Renderer = Callable[[dict[str, Any], Context], Message]


def _leave_lines(p: dict[str, Any], c: Context) -> list[tuple[str, str]]:
    span = f"{c.day(p.get('start_date'))} 至 {c.day(p.get('end_date'))}，共 {p.get('days')} 天"
    return [
        ("申请人", c.who(p.get("member_id"))),
        ("假别", LEAVE_TYPES.get(str(p.get("type")), str(p.get("type")))),
        ("日期", span),
    ]


def leave_submitted(p: dict[str, Any], c: Context) -> Message:
    level = LEVELS.get(str(p.get("approver_level")), str(p.get("approver_level")))
    approval = f"{level}审批" + ("，报市委组织部备案" if p.get("filed_with") == "city" else "")
    title = "续假申请待审批" if p.get("extends_id") else "请假申请待审批"
    return Message(title, (*_leave_lines(p, c), ("审批", approval)))


def leave_decided(p: dict[str, Any], c: Context) -> Message:
    approved = p.get("status") == "approved"
    level = LEVELS.get(str(p.get("approver_level")), "")
    approver = plain(c.names.user(p.get("decided_by")), 40)
    lines = [*_leave_lines(p, c), ("审批人", f"{approver}（{level}）")]
    if p.get("comment"):
        lines.append(("意见", plain(str(p["comment"]))))
    return Message("请假已批准" if approved else "请假未获批准", tuple(lines))


def leave_cancelled(p: dict[str, Any], c: Context) -> Message:
    return Message("请假已撤销", tuple(_leave_lines(p, c)))


def leave_returned(p: dict[str, Any], c: Context) -> Message:
    return Message("已销假", (*_leave_lines(p, c), ("返岗日期", c.day(p.get("returned_on")))))


def leave_overdue(p: dict[str, Any], c: Context) -> Message:
    return Message(
        "超假未归",
        (
            *_leave_lines(p, c),
            ("超假起始", c.day(p.get("overdue_since"))),
            ("状态", "假期已满，未销假返岗"),
        ),
    )


def roll_call_issued(p: dict[str, Any], c: Context) -> Message:
    return Message(
        "点名已发起",
        (
            ("范围", c.names.scope(p.get("scope"))),
            ("内容", plain(str(p.get("message", "")))),
            ("截止", c.moment(p.get("deadline"))),
            ("应答人数", str(p.get("called"))),
        ),
    )


def event_reported(p: dict[str, Any], c: Context) -> Message:
    kind = EVENT_KINDS.get(str(p.get("kind")), str(p.get("kind")))
    return Message(
        f"大事报告：{kind}",
        (
            ("报告人", c.who(p.get("member_id"))),
            ("村", c.names.village(p.get("village_code"))),
            ("发生时间", c.moment(p.get("occurred_at"))),
            ("概要", plain(str(p.get("summary", "")))),
        ),
    )


def rectification_overdue(p: dict[str, Any], c: Context) -> Message:
    return Message(
        "整改逾期",
        (
            ("对象", c.who(p.get("member_id"))),
            ("整改要求", plain(str(p.get("requirement", "")))),
            ("整改期限", c.day(p.get("due_date"))),
            ("状态", "逾期未整改"),
        ),
    )


FEEDBACK_KINDS = {
    "complaint": "投诉",
    "suggestion": "建议",
    "burden": "减负反映",
    "data_correction": "数据更正",
}


def feedback_received(p: dict[str, Any], c: Context) -> Message:
    # The text itself is not sent: a complaint may name people; it is read in the service.
    who = c.who(p["member_id"]) if p.get("member_id") else plain(c.names.user(p.get("user_id")), 40)
    return Message(
        "收到投诉建议",
        (
            ("类别", FEEDBACK_KINDS.get(str(p.get("kind")), str(p.get("kind")))),
            ("提交人", who),
            ("答复期限", c.day(p.get("due_date"))),
        ),
    )


TOPICS: dict[str, Renderer] = {
    "leave.submitted": leave_submitted,
    "leave.decided": leave_decided,
    "leave.cancelled": leave_cancelled,
    "leave.returned": leave_returned,
    "leave.overdue": leave_overdue,
    "roll_call.issued": roll_call_issued,
    "event.reported": event_reported,
    "rectification.overdue": rectification_overdue,
    "feedback.received": feedback_received,
}


def render(topic: str, payload: dict[str, Any], context: Context) -> Message:
    """The topic's message; a topic with no renderer is named as it is (json targets only)."""
    renderer = TOPICS.get(topic)
    if renderer is None:
        return Message(topic, ())
    message = renderer(payload, context)
    return Message(TITLE_MARK + message.title, message.lines)


def markdown(message: Message, line_break: str = "\n") -> str:
    """The message as robot markdown: a heading, then one quoted line per label."""
    body = line_break.join(f"> {label}：{value}" for label, value in message.lines)
    return f"### {message.title}\n{body}" if body else f"### {message.title}"
