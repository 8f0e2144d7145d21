"""The points JSON endpoints. Access goes through the selectors; writes through the services.

404 for what the caller may not see (another company's points), 403 for administrator-only actions.
"""

from django.http import Http404, HttpResponse, StreamingHttpResponse
from ninja import Query, Router, Status
from ninja.pagination import paginate

from twincity.accounts.selectors import user_is_admin
from twincity.core.api import Pagination
from twincity.core.errors import Forbidden, InvalidInput
from twincity.enterprises.selectors import enterprise_get_visible
from twincity.points import selectors, services
from twincity.points.models import ScoringRun, StandardVersion
from twincity.points.schemas import (
    EnterprisePointsOut,
    GroupBy,
    RankingsOut,
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

XLSX = "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet"


def _standard(standard_id: str, version: str) -> StandardVersion:
    standard = selectors.standard_get(standard_id=standard_id, version=version)
    if standard is None:
        raise Http404
    return standard


def _run(request, public_id: str) -> ScoringRun:
    run = selectors.run_get_visible(user=request.user, public_id=public_id)
    if run is None:
        if not user_is_admin(request.user):
            raise Forbidden("只有管理员可以查看评分任务 (administrators only)")
        raise Http404
    return run


def _admin(request) -> None:
    if not user_is_admin(request.user):
        raise Forbidden("只有管理员可以执行此操作 (administrators only)")


# --- standards ---------------------------------------------------------------------------------------------


@router.get("/standards", response=list[StandardOut], summary="Standard versions (every signed-in user)")
def standard_list_api(request):
    return list(selectors.standard_list())


@router.get("/standards/{standard_id}/diff", response=StandardDiffOut, summary="What changed between two versions")
def standard_diff_api(request, standard_id: str, a: str, b: str):
    old, new = _standard(standard_id, a), _standard(standard_id, b)
    changes = [{**c, "old": plain(c["old"]), "new": plain(c["new"])} for c in selectors.standard_diff(a=old, b=new)]
    return {"standard_id": standard_id, "a": old.version, "b": new.version, "changes": changes}


@router.get("/standards/{standard_id}/{version}", response=StandardDetailOut, summary="One version with its definition")
def standard_detail_api(request, standard_id: str, version: str):
    return _standard(standard_id, version)


@router.post("/standards/{standard_id}/{version}/derive", response={201: StandardDetailOut},
             summary="A new version derived from this one (administrators)")
def standard_derive_api(request, standard_id: str, version: str, payload: StandardDeriveIn):
    _admin(request)
    base = _standard(standard_id, version)
    if payload.definition is not None and payload.changes is not None:
        raise InvalidInput("请只给出 definition 或 changes 之一 (give definition or changes, not both)",
                           extra={"fields": {"definition": ["exclusive with changes"]}})
    if payload.definition is not None:
        definition = payload.definition
    else:
        definition = services.standard_changes_apply(base=base, changes=payload.changes or {})
    created = services.standard_version_create(
        actor=request.user, base=base, definition=definition, version=payload.version, note=payload.note
    )
    return Status(201, created)


# --- runs --------------------------------------------------------------------------------------------------


@router.get("/runs", response=list[RunOut], summary="Scoring runs (administrators)")
@paginate(Pagination)
def run_list_api(request):
    _admin(request)
    return selectors.run_list_visible(user=request.user)


@router.post("/runs", response={202: RunOut}, summary="Start a scoring run (administrators)")
def run_create_api(request, payload: RunCreateIn):
    _admin(request)
    if payload.version:
        standard = selectors.standard_get(standard_id=payload.standard_id, version=payload.version)
    else:
        standard = selectors.standard_latest(standard_id=payload.standard_id)
    if standard is None:
        raise InvalidInput("未知的评分标准或版本 (unknown standard or version)",
                           extra={"fields": {"standard_id": [payload.standard_id], "version": [payload.version]}})
    run = services.scoring_run_create(actor=request.user, standard=standard, evaluation_date=payload.evaluation_date)
    services.scoring_run_start(run=run)
    run.refresh_from_db()
    return Status(202, run)


@router.get("/runs/{public_id}", response=RunOut, summary="A run: status, progress, duration, counts by verdict")
def run_detail_api(request, public_id: str):
    return _run(request, public_id)


@router.get("/runs/{public_id}/rankings", response=RankingsOut, summary="Rankings and distributions (administrators)")
def run_rankings_api(request, public_id: str, group_by: GroupBy = "industry_cluster"):
    run = _run(request, public_id)
    data = selectors.rankings(user=request.user, run=run, group_by=group_by)
    return {"run": run, "group_by": data.group_by, "count": data.count, "groups": data.groups, "top": data.top,
            "histogram": data.histogram}


@router.get("/runs/{public_id}/whitelist", response=WhitelistPageOut,
            summary="Enterprises meeting a grade or score (administrators); format=csv|xlsx for a file")
def run_whitelist_api(request, public_id: str, filters: Query[WhitelistFilters]):
    run = _run(request, public_id)
    rows = selectors.whitelist(user=request.user, run=run, min_grade=filters.min_grade, min_score=filters.min_score)
    if filters.format == "json":
        return {"items": list(rows[filters.offset: filters.offset + filters.limit]), "count": rows.count()}
    name = f"whitelist-{run.standard.standard_id}-v{run.standard.version}-{run.evaluation_date.isoformat()}"
    if filters.format == "csv":
        response = StreamingHttpResponse(services.whitelist_csv_lines(rows=rows), content_type="text/csv; charset=utf-8")
    else:
        response = HttpResponse(services.whitelist_export(rows=rows, fmt="xlsx"), content_type=XLSX)
    response["Content-Disposition"] = f'attachment; filename="{name}.{filters.format}"'
    return response


# --- an enterprise's points --------------------------------------------------------------------------------


def _enterprise(request, credit_code: str):
    enterprise = enterprise_get_visible(user=request.user, credit_code=credit_code)
    if enterprise is None:
        raise Http404
    return enterprise


def _ref(standard):
    return {"standard_id": standard.standard_id, "version": standard.version, "name_zh": standard.name_zh,
            "name_en": standard.name_en}


@router.get("/enterprises/{credit_code}", response=EnterprisePointsOut,
            summary="An enterprise's points: result, indicators, categories, history")
def enterprise_points_api(request, credit_code: str, standard_id: str | None = None, version: str | None = None):
    enterprise = _enterprise(request, credit_code)
    data = selectors.enterprise_points(user=request.user, enterprise=enterprise, standard_id=standard_id,
                                       version=version)
    if data is None:
        raise Http404
    run = data.run
    return {
        "credit_code": enterprise.credit_code,
        "name": enterprise.name,
        "standards": [_ref(s) for s in data.standards],
        "current": _ref(data.current) if data.current else None,
        "run_public_id": run.public_id if run else None,
        "evaluation_date": run.evaluation_date if run else None,
        "result": explanation_data(data.explanation) if data.explanation else None,
        "categories": data.categories,
        "history": data.history,
    }


@router.post("/enterprises/{credit_code}/what-if", response=WhatIfOut,
             summary="Change figures and see the new points, without saving")
def what_if_api(request, credit_code: str, payload: WhatIfIn):
    enterprise = _enterprise(request, credit_code)
    if not selectors.points_visible(user=request.user, enterprise=enterprise):
        raise Http404
    standard = selectors.standard_for_enterprise(enterprise=enterprise, standard_id=payload.standard_id,
                                                 version=payload.version)
    if standard is None:
        raise InvalidInput("未知的评分标准或版本 (unknown standard or version)",
                           extra={"fields": {"standard_id": [payload.standard_id]}})
    before, after = services.what_if(user=request.user, enterprise=enterprise, standard=standard,
                                     changes=payload.changes)
    b, a = explanation_data(before), explanation_data(after)
    changed = {
        old["id"]: [old["points"], new["points"]]
        for old, new in zip(b["indicators"], a["indicators"], strict=True)
        if old["points"] != new["points"]
    }
    return {"before": b, "after": a, "changed": changed}
