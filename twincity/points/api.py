"""The points JSON endpoints. Access goes through the predicates of `access`: an object named in the path that
the caller may not see answers 404 (a run, another company); an action on one they may see but may not take
answers 403 (reading a company's points as its bank, deriving a standard as anyone but an administrator)."""

from typing import Literal
from uuid import UUID

from django.http import HttpResponse, StreamingHttpResponse
from django.utils import timezone
from ninja import Path, Query, Router, Status
from ninja.pagination import paginate

from twincity.core.access import require, visible
from twincity.core.api import IsoDate, Pagination, errors
from twincity.enterprises.api import CreditCode
from twincity.enterprises.selectors import enterprise_get_visible
from twincity.points import access, selectors, services, tasks
from twincity.points.models import EvaluationInput, ScoringRun, StandardVersion
from twincity.points.schemas import (
    EnterprisePointsOut,
    EvaluationInputIn,
    EvaluationInputOut,
    GroupBy,
    KindIn,
    KindInForceOut,
    RankingsOut,
    RenewalRuleIn,
    RenewalRuleOut,
    RunCreateIn,
    RunOut,
    StandardDeriveIn,
    StandardDetailOut,
    StandardDiffOut,
    StandardOut,
    WhatIfIn,
    WhatIfOut,
    WhitelistFilters,
    WhitelistPageOut,
    explanation_data,
    plain,
)

router = Router(tags=["points 创新积分"])

InputFact = Literal[tuple(EvaluationInput.Fact.values)]  # type: ignore[valid-type]
XLSX = "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet"
CSV_FILE = {"schema": {"type": "string", "description": "UTF-8 CSV with a header row"}}
XLSX_FILE = {"schema": {"type": "string", "format": "binary"}}


ADMINISTRATORS_ONLY = "只有管理员可以执行此操作 (administrators only)"
StandardId = Path(..., max_length=32, pattern=r"^[0-9A-Za-z][0-9A-Za-z._-]*$")
Version = Path(..., max_length=16, pattern=r"^[0-9A-Za-z][0-9A-Za-z._-]*$")
PublicId = Path(..., description="the run's public id (UUID)")


def _standard(standard_id: str, version: str) -> StandardVersion:
    return visible(selectors.standard_get(standard_id=standard_id, version=version),
                   "评分标准版本不存在 (no such standard version)")


def _run(request, public_id) -> ScoringRun:
    return visible(selectors.run_get_visible(user=request.user, public_id=public_id),
                   "评分任务不存在 (no such scoring run)")


# --- standards ---------------------------------------------------------------------------------------------


@router.get("/standards", response={200: list[StandardOut], **errors(401)},
            summary="Standard versions (every signed-in user)")
def standard_list_api(request):
    return list(selectors.standard_list())


@router.get("/standards/{standard_id}/diff", response={200: StandardDiffOut, **errors(401, 404, 422)},
            summary="What changed between two versions")
def standard_diff_api(request, a: str = Query(..., max_length=16), b: str = Query(..., max_length=16),
                      standard_id: str = StandardId):
    old, new = _standard(standard_id, a), _standard(standard_id, b)
    changes = [{**c, "old": plain(c["old"]), "new": plain(c["new"])} for c in selectors.standard_diff(a=old, b=new)]
    return {"standard_id": standard_id, "a": old.version, "b": new.version, "changes": changes}


@router.get("/standards/{standard_id}/{version}", response={200: StandardDetailOut, **errors(401, 404, 422)},
            summary="One version with its definition")
def standard_detail_api(request, standard_id: str = StandardId, version: str = Version):
    return _standard(standard_id, version)


@router.post("/standards/{standard_id}/{version}/derive",
             response={201: StandardDetailOut, **errors(401, 403, 404, 409, 422)},
             summary="A new version derived from this one (administrators)",
             description="Give the whole new `definition`, or `changes` {dotted path: new value} (paths as in the "
                         "diff). A definition that is not a valid standard answers 422 with every error; a "
                         "version number already taken answers 409.")
def standard_derive_api(request, payload: StandardDeriveIn, standard_id: str = StandardId,
                        version: str = Version):
    base = _standard(standard_id, version)
    require(access.can_edit_standards(request.user), ADMINISTRATORS_ONLY)
    if payload.definition is not None:
        definition = payload.definition
    else:
        definition = services.standard_changes_apply(base=base, changes=payload.changes or {})
    created = services.standard_version_create(
        actor=request.user, base=base, definition=definition, version=payload.version, note=payload.note
    )
    return Status(201, created)


@router.get("/in-force", response={200: list[KindInForceOut], **errors(401, 422)},
            summary="For each kind of evaluation, the version in force on a date (new applications, renewals)")
def in_force_api(request, on: IsoDate | None = Query(None, description="default: today (Asia/Shanghai)")):
    day = on or timezone.localdate()
    return [
        {"kind": k.kind, "name_zh": k.name_zh, "name_en": k.name_en,
         "new": f"{k.new.standard_id} v{k.new.version}" if k.new else None,
         "renewal": f"{k.renewal.standard_id} v{k.renewal.version}" if k.renewal else None,
         "renewal_configured": k.renewal_rule is not None,
         "superseded": [f"{v.standard_id} v{v.version}" for v in k.superseded]}
        for k in selectors.kinds_in_force(on=day)
    ]


@router.get("/renewal-rules", response={200: list[RenewalRuleOut], **errors(401)},
            summary="Which version judges a year's renewals (复核), per kind of evaluation")
def renewal_rule_list_api(request):
    return list(selectors.renewal_rules())


@router.put("/renewal-rules/{kind}/{year}", response={200: RenewalRuleOut, **errors(401, 403, 404, 422)},
            summary="Set the version that judges a year's renewals of a kind (administrators)")
def renewal_rule_set_api(request, kind: KindIn, payload: RenewalRuleIn,
                         year: int = Path(..., ge=2000, le=2100)):
    require(access.can_edit_standards(request.user), ADMINISTRATORS_ONLY)
    standard = _standard(payload.standard_id, payload.version)
    return services.renewal_rule_set(actor=request.user, kind=kind, year=year, standard=standard, note=payload.note)


# --- runs --------------------------------------------------------------------------------------------------


@router.get("/runs", response={200: list[RunOut], **errors(401, 403, 422)}, summary="Scoring runs (administrators)")
@paginate(Pagination)
def run_list_api(request):
    require(access.can_manage_runs(request.user), ADMINISTRATORS_ONLY)
    return selectors.run_list(details=False)


@router.post("/runs", response={202: RunOut, **errors(401, 403, 404, 422)},
             summary="Start a scoring run (administrators)")
def run_create_api(request, payload: RunCreateIn):
    require(access.can_manage_runs(request.user), ADMINISTRATORS_ONLY)
    if payload.kind:
        standard = selectors.standard_in_force(kind=payload.kind, on=payload.evaluation_date,
                                               application=payload.application)
    elif payload.version:
        standard = selectors.standard_get(standard_id=payload.standard_id, version=payload.version)
    else:
        standard = selectors.standard_latest(standard_id=payload.standard_id)
    standard = visible(standard, "未知的评分标准或版本，或该日期无有效版本 (unknown standard or version, or none in force)")
    run = services.scoring_run_create(actor=request.user, standard=standard, evaluation_date=payload.evaluation_date,
                                      application=payload.application)
    tasks.scoring_run_start(run=run)
    run.refresh_from_db()
    return Status(202, run)


@router.get("/runs/{public_id}", response={200: RunOut, **errors(401, 404, 422)},
            summary="A run: status, progress, duration, counts by verdict")
def run_detail_api(request, public_id: UUID = PublicId):
    return _run(request, public_id)


@router.get("/runs/{public_id}/rankings", response={200: RankingsOut, **errors(401, 404, 422)},
            summary="Rankings and distributions (administrators)")
def run_rankings_api(request, public_id: UUID = PublicId, group_by: GroupBy = "industry_cluster"):
    run = _run(request, public_id)
    data = selectors.rankings(run=run, group_by=group_by)
    return {"run": run, "group_by": data.group_by, "count": data.count, "groups": data.groups, "top": data.top,
            "histogram": data.histogram}


@router.get("/runs/{public_id}/whitelist", response={200: WhitelistPageOut, **errors(401, 404, 422)},
            summary="Enterprises meeting a grade or score (administrators); format=csv|xlsx for a file",
            openapi_extra={"responses": {"200": {"description": "JSON page, or the whole list as a file",
                                                 "content": {"text/csv": CSV_FILE, XLSX: XLSX_FILE}}}})
def run_whitelist_api(request, filters: Query[WhitelistFilters], public_id: UUID = PublicId):
    run = _run(request, public_id)
    rows = selectors.whitelist(run=run, min_grade=filters.min_grade, min_score=filters.min_score)
    if filters.format == "json":
        return {"items": list(rows[filters.offset: filters.offset + filters.limit]), "count": rows.count()}
    name = f"whitelist-{run.standard.standard_id}-v{run.standard.version}-{run.evaluation_date.isoformat()}"
    if filters.format == "csv":
        response = StreamingHttpResponse(services.whitelist_csv_lines(rows=rows),
                                         content_type="text/csv; charset=utf-8")
    else:
        response = HttpResponse(services.whitelist_export(rows=rows, fmt="xlsx"), content_type=XLSX)
    response["Content-Disposition"] = f'attachment; filename="{name}.{filters.format}"'
    return response


# --- an enterprise's points --------------------------------------------------------------------------------


def _points_of(request, credit_code: str):
    enterprise = visible(enterprise_get_visible(user=request.user, credit_code=credit_code),
                         "企业不存在或无权查看 (no such enterprise)")
    require(access.can_view_points(request.user, enterprise),
            "无权查看该企业的积分 (you may not see this enterprise's points)")
    return enterprise


def _ref(standard):
    return {"standard_id": standard.standard_id, "version": standard.version, "name_zh": standard.name_zh,
            "name_en": standard.name_en}


@router.get("/enterprises/{credit_code}", response={200: EnterprisePointsOut, **errors(401, 403, 404, 422)},
            summary="An enterprise's points: result, indicators, categories, history",
            description="`result` is the stored result of the latest finished run, explained indicator by "
                        "indicator; `explained` is false when that run was scored by another engine version, and "
                        "the indicators then carry their stored points and bands only.")
def enterprise_points_api(request, credit_code: str = CreditCode, kind: KindIn | None = None,
                          standard_id: str | None = Query(None, max_length=32, pattern=r"^[0-9A-Za-z._-]*$"),
                          version: str | None = Query(None, max_length=16, pattern=r"^[0-9A-Za-z._-]*$")):
    enterprise = _points_of(request, credit_code)
    data = selectors.enterprise_points(enterprise=enterprise, standard_id=standard_id, version=version, kind=kind)
    run = data.run
    return {
        "credit_code": enterprise.credit_code,
        "name": enterprise.name,
        "standards": [_ref(s) for s in data.standards],
        "current": _ref(data.current) if data.current else None,
        "run_public_id": run.public_id if run else None,
        "evaluation_date": run.evaluation_date if run else None,
        "application": run.application if run else None,
        "engine_version": run.engine_version if run else None,
        "explained": data.explained,
        "result": explanation_data(data.explanation) if data.explanation else None,
        "categories": data.categories,
        "history": data.history,
    }


@router.get("/enterprises/{credit_code}/inputs", response={200: list[EvaluationInputOut], **errors(401, 403, 404, 422)},
            summary="The facts recorded for an enterprise that the registry cannot derive")
def evaluation_input_list_api(request, credit_code: str = CreditCode):
    return list(selectors.evaluation_inputs(enterprise=_points_of(request, credit_code)))


@router.put("/enterprises/{credit_code}/inputs/{fact}",
            response={200: EvaluationInputOut, **errors(401, 403, 404, 422)},
            summary="Record a development score of a year, a market share or a reviewer's judgement "
                    "(administrators)")
def evaluation_input_set_api(request, fact: InputFact, payload: EvaluationInputIn, credit_code: str = CreditCode):
    enterprise = _points_of(request, credit_code)
    return services.evaluation_input_set(actor=request.user, enterprise=enterprise, fact=fact, value=payload.value,
                                         year=payload.year, source=payload.source, note=payload.note)


@router.delete("/enterprises/{credit_code}/inputs/{fact}", response={204: None, **errors(401, 403, 404, 422)},
               summary="Remove a recorded input (administrators)")
def evaluation_input_delete_api(request, fact: InputFact, credit_code: str = CreditCode,
                                year: int = Query(0, ge=0, le=2100, description="the score's year; 0 otherwise")):
    enterprise = _points_of(request, credit_code)
    item = visible(selectors.evaluation_inputs(enterprise=enterprise).filter(fact=fact, year=year).first())
    services.evaluation_input_clear(actor=request.user, item=item)
    return Status(204, None)


@router.post("/enterprises/{credit_code}/what-if", response={200: WhatIfOut, **errors(403, 404, 409)},
             summary="Change figures and see the new points, without saving",
             description="A standard scored against the registry (percentiles) answers 409, code `no_run`, until "
                         "a run of its version has finished.")
def what_if_api(request, payload: WhatIfIn, credit_code: str = CreditCode):
    enterprise = _points_of(request, credit_code)
    standard = visible(selectors.standard_for_enterprise(enterprise=enterprise, standard_id=payload.standard_id,
                                                         version=payload.version),
                       "未知的评分标准或版本 (unknown standard or version)")
    before, after = services.what_if(user=request.user, enterprise=enterprise, standard=standard,
                                     changes=payload.changes.model_dump(exclude_unset=True))
    b, a = explanation_data(before), explanation_data(after)
    changed = {
        old["id"]: [old["points"], new["points"]]
        for old, new in zip(b["indicators"], a["indicators"], strict=True)
        if old["points"] != new["points"]
    }
    return {"before": b, "after": a, "changed": changed}
