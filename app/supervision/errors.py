"""Refusals of the supervision domain."""

from app.core.errors import AppError, NotFound


class RollCallNotFound(NotFound):
    code = "roll_call_not_found"
    title_zh = "点名不存在"
    title_en = "Roll call not found"
    detail_zh = "没有编号为 {roll_call_id} 的点名，或不在您的管辖范围内。"
    detail_en = "No roll call {roll_call_id} in your scope."


class InspectionNotFound(NotFound):
    code = "inspection_not_found"
    title_zh = "暗访记录不存在"
    title_en = "Inspection not found"
    detail_zh = "没有编号为 {inspection_id} 的暗访记录，或不在您的管辖范围内。"
    detail_en = "No inspection {inspection_id} in your scope."


class EventNotFound(NotFound):
    code = "event_not_found"
    title_zh = "事件报告不存在"
    title_en = "Event report not found"
    detail_zh = "没有编号为 {event_id} 的事件报告，或不在您的管辖范围内。"
    detail_en = "No event report {event_id} in your scope."


class RectificationNotFound(NotFound):
    code = "rectification_not_found"
    title_zh = "整改事项不存在"
    title_en = "Rectification not found"
    detail_zh = "没有编号为 {rectification_id} 的整改事项，或不在您的管辖范围内。"
    detail_en = "No rectification {rectification_id} in your scope."


class InvalidWindow(AppError):
    status = 422
    code = "invalid_window"
    title_zh = "点名时限无效"
    title_en = "Invalid roll-call window"
    detail_zh = "点名时限（window_minutes）应为 {low} 至 {high} 分钟，收到 {minutes}。"
    detail_en = "window_minutes must be {low} to {high}; got {minutes}."


class NobodyCalled(AppError):
    status = 422
    code = "nobody_called"
    title_zh = "范围内无驻村队员"
    title_en = "Nobody to call"
    detail_zh = "范围 {scope} 内今天没有驻村队员。"
    detail_en = "No member is assigned under {scope} today."


class InFuture(AppError):
    status = 422
    code = "in_future"
    title_zh = "时间在未来"
    title_en = "In the future"
    detail_zh = "{field} 晚于当前时间。"
    detail_en = "{field} is later than now."


class TooOld(AppError):
    status = 422
    code = "too_old"
    title_zh = "时间过早"
    title_en = "Too long ago"
    detail_zh = "{field} 早于 {earliest}，不予受理。"
    detail_en = "{field} is before {earliest}: no record of this service is that old."


class MemberNotAssigned(AppError):
    status = 422
    code = "member_not_assigned"
    title_zh = "队员未驻该村"
    title_en = "Member not assigned to the village"
    detail_zh = "队员 {member_ids} 在 {day} 未派驻 {village_code}。"
    detail_en = "Member(s) {member_ids} not assigned to {village_code} on {day}."


class MemberListedTwice(AppError):
    status = 422
    code = "member_listed_twice"
    title_zh = "队员重复"
    title_en = "Member listed twice"
    detail_zh = "队员 {member_ids} 同时出现在在岗与不在岗名单中。"
    detail_en = "Member(s) {member_ids} are both found present and found absent."


class AlreadyAcknowledged(AppError):
    status = 409
    code = "already_acknowledged"
    title_zh = "事件已确认"
    title_en = "Already acknowledged"
    detail_zh = "事件报告 {event_id} 已于 {at} 确认。"
    detail_en = "Event report {event_id} was acknowledged at {at}."


class UnknownViolationCode(AppError):
    status = 422
    code = "unknown_violation_code"
    title_zh = "违规代码未知"
    title_en = "Unknown violation code"
    detail_zh = "未知的违规代码 {code}。"
    detail_en = "Unknown violation code {code}."


class InvalidPeriod(AppError):
    status = 422
    code = "invalid_period"
    title_zh = "期间无效"
    title_en = "Invalid period"
    detail_zh = "期间应为 2026Q4、2026-11 或 2026 的形式，收到 {period}。"
    detail_en = "A period is 2026Q4, 2026-11 or 2026; got {period}."


class MemberNotInspected(AppError):
    status = 422
    code = "member_not_inspected"
    title_zh = "队员不在该次暗访中"
    title_en = "Member not in the inspection"
    detail_zh = "暗访记录 {inspection_id} 未涉及队员 {member_id}。"
    detail_en = "Inspection {inspection_id} does not name member {member_id}."


class DueInPast(AppError):
    status = 422
    code = "due_in_past"
    title_zh = "整改期限已过"
    title_en = "Due date in the past"
    detail_zh = "整改期限 {due_date} 早于今天。"
    detail_en = "The due date {due_date} is before today."


class InvalidTransition(AppError):
    status = 409
    code = "invalid_transition"
    title_zh = "状态不允许此操作"
    title_en = "Not allowed in this state"
    detail_zh = "整改事项 {rectification_id} 已销号，不能再次销号。"
    detail_en = "Rectification {rectification_id} is closed already."


class ReviewerLevelRequired(AppError):
    status = 403
    code = "reviewer_level_required"
    title_zh = "需上级审核销号"
    title_en = "A higher-level reviewer is required"
    detail_zh = "该整改事项源于暗访，由{opened_level}开立，须由更高一级（或另一名市级）审核人销号。"
    detail_en = (
        "This item comes from an inspection opened at {opened_level} level: a reviewer above it "
        "(or another city user) must close it."
    )


class RollCallCap(AppError):
    status = 422
    code = "roll_call_cap"
    title_zh = "点名次数已达上限"
    title_en = "Roll-call cap reached"
    detail_zh = (
        "本月已对队员 {member_id} 点名 {count} 次，达到每人每月上限 {cap} 次"
        "（policy.supervision.max_roll_calls_per_member_month，为基层减负）。"
    )
    detail_en = (
        "Member {member_id} has been called {count} times this month, the cap per member "
        "per month ({cap}, policy.supervision.max_roll_calls_per_member_month)."
    )
