"""Refusals of the check-ins domain."""

from app.core.errors import AppError, NotFound


class TooOld(AppError):
    status = 422
    code = "too_old"
    title_zh = "定位时间过早"
    title_en = "Fix too old"
    detail_zh = "定位时间早于 {max_age_days} 天前，不再受理。"
    detail_en = "The fix was captured more than {max_age_days} days ago."


class InFuture(AppError):
    status = 422
    code = "in_future"
    title_zh = "定位时间在未来"
    title_en = "Fix in the future"
    detail_zh = "定位时间晚于服务器时间 {max_future_hours} 小时以上，请校准手机时钟。"
    detail_en = "The fix is more than {max_future_hours} hours ahead of the server's clock."


class IdempotencyConflict(AppError):
    status = 409
    code = "idempotency_conflict"
    title_zh = "client_id 已用于另一条签到"
    title_en = "client_id already used for another check-in"
    detail_zh = "client_id {client_id} 已提交过内容不同的签到；新的签到请生成新的 client_id。"
    detail_en = "client_id {client_id} was already sent with a different body; use a new one."


class CheckInNotFound(NotFound):
    code = "checkin_not_found"
    title_zh = "签到不存在"
    title_en = "Check-in not found"
    detail_zh = "没有编号为 {checkin_id} 的签到，或不在您的管辖范围内。"
    detail_en = "No check-in {checkin_id} in your scope."


class InvalidTransition(AppError):
    status = 409
    code = "invalid_transition"
    title_zh = "当前状态不允许此操作"
    title_en = "Not allowed in the current state"
    detail_zh = "签到 {checkin_id} {state}，不能{action}。"
    detail_en = "Check-in {checkin_id} is {state_en}; it cannot be {action_en}."


class BatchTooLarge(AppError):
    status = 422
    code = "batch_too_large"
    title_zh = "批量签到条数过多"
    title_en = "Batch too large"
    detail_zh = "一次最多提交 {limit} 条签到，本次 {count} 条。"
    detail_en = "A batch holds at most {limit} check-ins; this one has {count}."


class ItemNotStored(AppError):
    """A batch item that failed for a reason of ours (a defect, a database error): rejected
    alone, so that the rest of the batch is stored and the phone resends only this one."""

    status = 500
    code = "internal_error"
    title_zh = "服务器内部错误"
    title_en = "Internal server error"
    detail_zh = "这条签到未能保存，请稍后重新提交；同批其他各条不受影响。"
    detail_en = (
        "This check-in could not be stored; send it again later. The other items of the batch "
        "are not affected."
    )
