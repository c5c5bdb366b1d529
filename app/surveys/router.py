"""HTTP routes of satisfaction waves: opening a wave, its card sheets, results and exclusions
(signed-in county, city and auditor users); and the public routes a card's code opens."""

from __future__ import annotations

from typing import Annotated, Literal

from fastapi import APIRouter, Depends, Path, Query, Request, Response, status
from fastapi.responses import HTMLResponse

from app.audit import actions as audit_actions
from app.auth.dependencies import require_roles
from app.auth.errors import RoleRequired
from app.auth.principal import Principal
from app.core import proxies
from app.core.deps import PolicyDep, SessionDep, SettingsDep
from app.core.errors import error_responses
from app.core.inputs import DivisionPrefix
from app.core.pagination import (
    CursorQuery,
    InvalidCursor,
    LimitQuery,
    Page,
    cursor_id,
    next_id_cursor,
)
from app.core.time import utcnow
from app.org.divisions import is_prefix
from app.org.errors import InvalidScope, ScopeNotFound
from app.surveys import answering, cards, exclusions, waves
from app.surveys.answering import Sender
from app.surveys.errors import (
    AlreadyAnswered,
    AnswerNotFound,
    CodeNotFound,
    InvalidAnswers,
    InvalidQuestions,
    InvalidSurveyWindow,
    NoVillages,
    SurveyClosed,
    SurveyNotFound,
    SurveyVillageNotFound,
    TooManyAnswers,
)
from app.surveys.results import Results
from app.surveys.results import results as wave_results
from app.surveys.schemas import (
    AnomalyOut,
    AnswerIn,
    ExclusionIn,
    ExclusionOut,
    ExclusionShown,
    MemberResult,
    PublicSurveyOut,
    ResultsOut,
    SurveyCreate,
    SurveyOut,
    SurveyReceiptOut,
    VillageResult,
)

router = APIRouter(tags=["surveys"])
public_router = APIRouter(tags=["surveys"])

SurveyId = Annotated[int, Path(ge=1, le=2**31 - 1)]
CodePath = Annotated[str, Path(max_length=32, description="the card's 8 characters")]
ScopeQuery = Annotated[
    DivisionPrefix | None, Query(max_length=12, description="division code prefix within your own")
]
OpenerPrincipal = Annotated[Principal, Depends(require_roles(*waves.OPENERS))]
ReaderPrincipal = Annotated[Principal, Depends(require_roles(*waves.READERS))]
AuditorPrincipal = Annotated[Principal, Depends(require_roles("auditor"))]


def _sender(request: Request) -> Sender:
    peer = request.client.host if request.client else "unknown"
    trusted = proxies.parse_networks(request.app.state.settings.trusted_proxies)
    address = proxies.client_address(peer, request.headers.getlist("x-forwarded-for"), trusted)
    return Sender(address, request.headers.get("user-agent", ""))


@router.post(
    "/surveys",
    status_code=status.HTTP_201_CREATED,
    response_model=SurveyOut,
    responses=error_responses(
        RoleRequired, ScopeNotFound, InvalidScope, InvalidSurveyWindow, InvalidQuestions, NoVillages
    ),
)
def open_survey(
    body: SurveyCreate,
    principal: OpenerPrincipal,
    session: SessionDep,
    policy: PolicyDep,
    settings: SettingsDep,
) -> SurveyOut:
    """Open a satisfaction wave (满意度测评) over `scope` (county and city): the questions
    (the standard five unless given) and `codes_per_village` single-use codes for every
    village under it, to be printed as cards (`/surveys/{id}/cards`)."""
    now = utcnow()
    survey = waves.open_wave(session, policy, principal, body, settings.secret_key, now)
    return waves.survey_out(survey, waves.counts(session, [survey.id])[survey.id], now)


@router.get(
    "/surveys",
    response_model=Page[SurveyOut],
    responses=error_responses(RoleRequired, ScopeNotFound, InvalidScope, InvalidCursor),
)
def list_surveys(
    principal: ReaderPrincipal,
    session: SessionDep,
    scope: ScopeQuery = None,
    cursor: CursorQuery = None,
    limit: LimitQuery = 100,
) -> Page[SurveyOut]:
    """Waves over the scope (or over a division holding it), newest first."""
    own = waves.own_prefix(principal, waves.READERS)
    prefix = own
    if scope:
        if not is_prefix(scope):
            raise InvalidScope()
        if not scope.startswith(own):
            raise ScopeNotFound(scope=scope)
        prefix = scope
    rows = waves.list_visible(session, principal, prefix, cursor_id(cursor), limit + 1)
    now = utcnow()
    page = rows[:limit]
    count = waves.counts(session, [s.id for s in page])
    return Page(
        items=[waves.survey_out(s, count[s.id], now) for s in page],
        next_cursor=next_id_cursor([s.id for s in rows], limit),
    )


@router.get(
    "/surveys/{survey_id}",
    response_model=SurveyOut,
    responses=error_responses(RoleRequired, SurveyNotFound),
)
def get_survey(survey_id: SurveyId, principal: ReaderPrincipal, session: SessionDep) -> SurveyOut:
    """One wave: its window, questions, villages and the answers so far."""
    survey = waves.get_visible(session, principal, survey_id)
    return waves.survey_out(survey, waves.counts(session, [survey.id])[survey.id], utcnow())


@router.get(
    "/surveys/{survey_id}/cards",
    response_class=HTMLResponse,
    responses={
        200: {
            "description": "The card sheet: HTML to print on A4 (eight cards a page, each with "
            "its code and a QR code of /s/{code}), or CSV (village_code, village_name, seq, "
            "code, url)",
            "content": {
                "text/html": {"schema": {"type": "string"}},
                "text/csv": {"schema": {"type": "string"}},
            },
        },
        **error_responses(RoleRequired, SurveyNotFound, SurveyVillageNotFound),
    },
)
def card_sheet(
    request: Request,
    survey_id: SurveyId,
    principal: ReaderPrincipal,
    session: SessionDep,
    policy: PolicyDep,
    settings: SettingsDep,
    village_code: Annotated[str, Query(max_length=12, pattern=r"^[0-9]{1,12}$")],
    format: Annotated[Literal["html", "csv"], Query(description="html or csv")] = "html",
) -> Response:
    """A village's printable sheet of single-use codes (county, city, auditor in scope):
    the same codes every time it is fetched. Inspectors hand the cards to households they
    draw themselves (三随机); members never hold codes. Each printing is logged."""
    survey = waves.get_visible(session, principal, survey_id)
    prefix = waves.within(principal, survey)
    village, items = cards.cards(
        session, survey, village_code, prefix, settings.secret_key, str(request.base_url)
    )
    audit_actions.record(
        session,
        actor=principal.user_id,
        action="survey.cards",
        subject=f"survey:{survey.id}",
        payload={"village_code": village.code, "format": format, "cards": len(items)},
    )
    headers = {"Cache-Control": "no-store"}
    if format == "csv":
        filename = f"survey-{survey.id}-{village.code}.csv"
        return Response(
            cards.as_csv(village, items),
            media_type="text/csv; charset=utf-8",
            headers={
                **headers,
                "Content-Disposition": f'attachment; filename="{filename}"',
            },
        )
    return HTMLResponse(
        cards.as_html(survey, village, items, policy),
        headers=headers,
        media_type="text/html; charset=utf-8",
    )


@router.get(
    "/surveys/{survey_id}/results",
    response_model=ResultsOut,
    responses=error_responses(RoleRequired, SurveyNotFound, ScopeNotFound, InvalidScope),
)
def survey_results(
    survey_id: SurveyId,
    principal: ReaderPrincipal,
    session: SessionDep,
    policy: PolicyDep,
    scope: ScopeQuery = None,
) -> ResultsOut:
    """Per village: answers, satisfaction rate (share of 4–5 among the satisfaction answers
    that are not 不清楚; `satisfaction_rate_all` keeps excluded answers), known rate, and every
    anomaly with the answers it names (shown, never dropped). Per member: the rates of the
    villages they served in during the wave."""
    survey = waves.get_visible(session, principal, survey_id)
    found = wave_results(session, policy, survey, waves.narrowed(principal, survey, scope))
    return results_out(found)


def results_out(found: Results) -> ResultsOut:
    return ResultsOut(
        survey_id=found.survey.id,
        villages=[
            VillageResult(
                village_code=v.village_code,
                village_name=v.village_name,
                codes=v.codes,
                answers=v.tally.answers,
                excluded=v.tally.excluded,
                excluded_answer_ids=v.excluded_ids,
                satisfaction_rate=v.tally.satisfaction_rate,
                satisfaction_rate_all=v.tally.satisfaction_rate_all,
                known_rate=v.tally.known_rate,
                anomalies=[
                    AnomalyOut(kind=a.kind, answer_ids=a.answer_ids, detail=a.detail)
                    for a in v.anomalies
                ],
                exclusions=[
                    ExclusionShown(answer_id=i, reason=reason, excluded_at=at)
                    for i, reason, at in v.exclusions
                ],
            )
            for v in found.villages
        ],
        members=[
            MemberResult(
                member_id=m.member_id,
                full_name=m.full_name,
                village_codes=m.village_codes,
                answers=m.tally.answers,
                satisfaction_rate=m.tally.satisfaction_rate,
                satisfaction_rate_all=m.tally.satisfaction_rate_all,
                known_rate=m.tally.known_rate,
            )
            for m in found.members
        ],
    )


@router.post(
    "/surveys/{survey_id}/exclusions",
    response_model=ExclusionOut,
    responses=error_responses(RoleRequired, SurveyNotFound, AnswerNotFound),
)
def exclude_answers(
    survey_id: SurveyId, body: ExclusionIn, principal: AuditorPrincipal, session: SessionDep
) -> ExclusionOut:
    """Leave answers out of the rates (auditor), with a reason: they stay in the results,
    counted in `satisfaction_rate_all`, and the actions log keeps who, when and why."""
    survey = waves.get_visible(session, principal, survey_id, roles=("auditor",))
    return exclusions.exclude(session, principal, survey, body, utcnow())


# ------------------------------------------------------------------------------------ public


@public_router.get(
    "/public/surveys/{code}",
    response_model=PublicSurveyOut,
    responses=error_responses(CodeNotFound, AlreadyAnswered, SurveyClosed, TooManyAnswers),
)
def public_survey(
    code: CodePath, request: Request, session: SessionDep, policy: PolicyDep, settings: SettingsDep
) -> PublicSurveyOut:
    """A card's questions, with its village and the names of the team serving it (no
    sign-in). Unknown codes count towards the address's limit."""
    try:
        return answering.read(
            session, policy, settings.secret_key, code, _sender(request), utcnow()
        )
    except CodeNotFound:
        session.commit()  # the miss counts
        raise


@public_router.post(
    "/public/surveys/{code}",
    response_model=SurveyReceiptOut,
    responses=error_responses(
        CodeNotFound, AlreadyAnswered, SurveyClosed, InvalidAnswers, TooManyAnswers
    ),
)
def answer_survey(
    code: CodePath,
    body: AnswerIn,
    request: Request,
    session: SessionDep,
    policy: PolicyDep,
    settings: SettingsDep,
) -> SurveyReceiptOut:
    """Answer a card once (no sign-in): every question 1–5 or `unknown` (不清楚). A receipt
    comes back; nothing identifies the sender beyond a keyed hash of address and browser."""
    try:
        return answering.answer(
            session, policy, settings.secret_key, code, body, _sender(request), utcnow()
        )
    except CodeNotFound:
        session.commit()
        raise
