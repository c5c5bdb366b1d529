"""Refusals of the leave domain."""

from app.core.errors import AppError, NotFound


class LeaveNotFound(NotFound):
    code = "leave_not_found"
    title_zh = "请假申请不存在"
    title_en = "Leave request not found"
    detail_zh = "没有编号为 {leave_id} 的请假申请，或不在您的管辖范围内。"
    detail_en = "No leave request {leave_id} in your scope."


class LeaveOverlap(AppError):
    status = 409
    code = "leave_overlap"
    title_zh = "请假时间重叠"
    title_en = "Leave overlaps"
    detail_zh = "与已有的请假申请 {leave_id}（{start} 至 {end}）时间重叠。"
    detail_en = "Overlaps leave request {leave_id} ({start} to {end})."


class RetroactiveLeave(AppError):
    status = 422
    code = "retroactive_leave"
    title_zh = "不能事后请假"
    title_en = "Leave may not start in the past"
    detail_zh = "请假开始日期早于今天；只有紧急情况（emergency）可以事后补假。"
    detail_en = "The leave starts before today; only an emergency may be asked for afterwards."


class InvalidRange(AppError):
    status = 422
    code = "invalid_range"
    title_zh = "日期范围无效"
    title_en = "Invalid date range"
    detail_zh = "{reason}"
    detail_en = "{reason_en}"


class InvalidTransition(AppError):
    status = 409
    code = "invalid_transition"
    title_zh = "当前状态不允许此操作"
    title_en = "Not allowed in the current state"
    detail_zh = "请假申请 {leave_id} 当前为 {status}，不能{action_zh}。"
    detail_en = "Leave request {leave_id} is {status}; it cannot be {action_en}."


LEVEL_NAMES_ZH = {"township": "乡镇党委", "county": "县区组织部门", "city": "市委组织部"}


class ApproverLevelMismatch(AppError):
    status = 403
    code = "approver_level_mismatch"
    title_zh = "审批层级不符"
    title_en = "Wrong approver level"
    detail_zh = "此请假申请应由{level_zh}审批。"
    detail_en = "This leave request is decided at the {level} level."

    def __init__(self, level: str) -> None:
        super().__init__(level=level, level_zh=LEVEL_NAMES_ZH.get(level, level))


class LeaveOutsideAssignment(AppError):
    status = 422
    code = "leave_outside_assignment"
    title_zh = "请假首日无驻村任务"
    title_en = "No assignment on the first day of leave"
    detail_zh = "{start} 您没有驻村任务，无需请假。"
    detail_en = "You have no village assignment on {start}; no leave is needed."
