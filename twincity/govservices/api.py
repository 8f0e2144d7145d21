"""The public-services JSON endpoints: the catalogue (read by everyone signed in; new items, new versions,
withdrawal, Excel import and export by administrators) and cases (filed online or at a window; every step
through one endpoint, checked by the rules' transition table and the access predicates; the clock; 好差评).

Refusals use the one error shape {"message", "code", "extra"}: 403 who, 404 what, 409 a step out of order
(`illegal_transition`, with `extra.allowed`), `correction_once`, `already_rated`, `not_closed`; 422 what is
missing or invalid (`materials_incomplete` and `pledged_not_supplied` with `extra.missing`, `import_invalid`
with `extra.errors` [{row, column, value, reason_zh, reason_en}])."""

from typing import Any

from django.http import HttpResponse
from django.utils import timezone
from ninja import File, Path, Query, Router, Status
from ninja.files import UploadedFile
from ninja.pagination import paginate

from twincity.accounts.models import Organisation
from twincity.core import workdays
from twincity.core.access import require, visible
from twincity.core.api import Pagination, errors
from twincity.enterprises.access import own_enterprise
from twincity.enterprises.imports.jobs import upload_check_size
from twincity.govservices import access, catalogue_io, rules, selectors, services
from twincity.govservices.models import ServiceCase, ServiceItem
from twincity.govservices.schemas import (
    AreaIn,
    CaseDetailOut,
    CaseFileIn,
    CaseOut,
    CityIn,
    ImportOut,
    ItemIn,
    ItemOut,
    ItemVersionIn,
    OverdueGroupOut,
    QueueRowOut,
    RatingIn,
    RatingOut,
    StepIn,
)

router = Router(tags=["govservices 政务服务"])
XLSX = "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet"
CaseId = Path(..., ge=1, le=2**31 - 1)
ItemCode = Path(..., min_length=1, max_length=64)


def _today():
    return workdays.shanghai_date(timezone.now())


def _department(pk: int | None) -> Organisation | None:
    if pk is None:
        return None
    return visible(Organisation.objects.filter(pk=pk, kind=Organisation.Kind.GOVERNMENT).first(),
                   "部门不存在 (no such department)")


# --- catalogue ---------------------------------------------------------------------------------------------


@router.get("/items", response={200: list[ItemOut], **errors(401)},
            summary="The published catalogue items (filters: city, area, department, the 8-area framework)")
@paginate(Pagination)
def item_list_api(request, city: CityIn | None = None, area: AreaIn | None = None,
                  department_id: int | None = Query(None, ge=1, le=2**31 - 1), framework: bool = False,
                  q: str = Query("", max_length=100)):
    require(access.can_view_catalogue(request.user))
    return selectors.catalogue(city=city or "", area=area or "", department_id=department_id,
                               framework=framework, q=q)


@router.get("/items/export.xlsx", response={200: None, **errors(401, 403)},
            summary="The published catalogue as an Excel sheet (the import's format)",
            openapi_extra={"responses": {"200": {"description": "XLSX", "content": {XLSX: {"schema": {
                "type": "string", "format": "binary"}}}}}})
def item_export_api(request):
    require(access.can_export_catalogue(request.user))
    response = HttpResponse(catalogue_io.catalogue_xlsx(selectors.catalogue()), content_type=XLSX)
    response["Content-Disposition"] = 'attachment; filename="govservices-catalogue.xlsx"'
    return response


@router.post("/items/import", response={200: ImportOut, **errors(401, 403, 413, 422)},
             summary="Import an Excel catalogue sheet, all or nothing (administrators)",
             description="New codes create items; changed published codes get a new version; identical rows are "
                         "left. Any invalid row refuses the whole file with 422 `import_invalid` and "
                         "`extra.errors` = [{row, column, value, reason_zh, reason_en}].")
def item_import_api(request, file: File[UploadedFile]):
    require(access.can_edit_catalogue(request.user))
    upload_check_size(file)
    return catalogue_io.catalogue_import(actor=request.user, content=file.read())


@router.get("/items/{code}", response={200: ItemOut, **errors(401, 404)},
            summary="An item's latest version (withdrawn items: clerks and administrators)")
def item_detail_api(request, code: str = ItemCode):
    return selectors.item_latest_for(request.user, code)


@router.get("/items/{code}/versions", response={200: list[ItemOut], **errors(401, 404)},
            summary="Every version of an item, newest first (versions are never edited)")
def item_versions_api(request, code: str = ItemCode):
    selectors.item_latest_for(request.user, code)
    return list(selectors.item_versions(code).select_related("department", "implementing_body"))


@router.post("/items", response={201: ItemOut, **errors(401, 403, 404, 409, 422)},
             summary="Create an item, version 1 (administrators)",
             description="A code already used answers 409 `item_exists`; an invalid definition 422 with "
                         "`extra.errors`; a promise longer than the legal limit 422 `promise_over_legal_limit`.")
def item_create_api(request, payload: ItemIn):
    require(access.can_edit_catalogue(request.user))
    data = payload.dict()
    data["department"] = _department(data.pop("department_id"))
    data["implementing_body"] = _department(data.pop("implementing_body_id"))
    return Status(201, services.item_create(actor=request.user, **data))


@router.post("/items/{code}/versions", response={201: ItemOut, **errors(401, 403, 404, 409, 422)},
             summary="Publish a new version of an item (administrators); the old one is kept, superseded",
             description="A withdrawn item answers 409 `not_published`.")
def item_version_api(request, payload: ItemVersionIn, code: str = ItemCode):
    item = selectors.item_latest_for(request.user, code)
    changes: dict[str, Any] = {k: v for k, v in payload.dict().items() if v is not None and k != "note"}
    for key in ("department_id", "implementing_body_id"):
        if key in changes:
            changes[key.removesuffix("_id")] = _department(changes.pop(key))
    return Status(201, services.item_version_create(actor=request.user, item=item, note=payload.note, **changes))


@router.post("/items/{code}/withdraw", response={200: ItemOut, **errors(401, 403, 404, 409)},
             summary="Stop offering an item (administrators); its cases go on under their version")
def item_withdraw_api(request, code: str = ItemCode):
    return services.item_withdraw(actor=request.user, item=selectors.item_latest_for(request.user, code))


# --- cases -------------------------------------------------------------------------------------------------


def _case(request, pk: int) -> ServiceCase:
    return selectors.case_for(request.user, pk)


def _detail(case: ServiceCase) -> dict[str, Any]:
    data = {f.attname: getattr(case, f.attname) for f in ServiceCase._meta.concrete_fields}
    data.update({"id": case.pk, "item.code": case.item.code, "item.version": case.item.version,
                 "item.name": case.item.name, "item.city": case.item.city, "department.name": case.department.name})
    data["clock"] = vars(selectors.case_clock(case, _today()))
    data["allowed_actions"] = rules.allowed_actions(case.state)
    data["material_states"] = rules.material_states(case.item.definition, case.situations, case.materials)
    data["events"] = list(case.events.values("at", "action", "from_state", "to_state", "actor_id",
                                             "organisation_id", "comment", "data"))
    return data


@router.get("/cases", response={200: list[CaseOut], **errors(401)},
            summary="The cases you may see: your own, your department's or hall's, all for administrators")
@paginate(Pagination)
def case_list_api(request, state: str = Query("", max_length=16)):
    cases = access.cases_visible(request.user)
    return cases.filter(state=state) if state else cases


@router.post("/cases", response={201: CaseDetailOut, **errors(401, 403, 404, 409, 422)},
             summary="File a case online (anyone signed in) or at a window (a service hall's clerk)",
             description="At a window of the other city the case is collected (`collected`) and forwarded by a "
                         "task. Unknown situations or materials answer 422; an item that is only handled "
                         "locally, filed in the other city, 422 `not_cross_city`.")
def case_file_api(request, payload: CaseFileIn):
    item = visible(ServiceItem.objects.filter(code=payload.item_code, status=ServiceItem.Status.PUBLISHED).first(),
                   selectors.NO_ITEM)
    enterprise = own_enterprise(request.user) if payload.for_enterprise else None
    case = services.case_file(actor=request.user, item=item, applicant_name=payload.applicant_name,
                              channel=payload.channel, situations=payload.situations, materials=payload.materials,
                              enterprise=enterprise, delivery=payload.delivery)
    return Status(201, _detail(case))


@router.get("/cases/{pk}", response={200: CaseDetailOut, **errors(401, 404)},
            summary="A case with its clock, the steps allowed now, its materials and its timeline")
def case_detail_api(request, pk: int = CaseId):
    return _detail(_case(request, pk))


@router.post("/cases/{pk}/steps", response={200: CaseDetailOut, **errors(401, 403, 404, 409, 422)},
             summary="Take the next step of a case",
             description="One step at a time by the rules' table (409 `illegal_transition` with "
                         "`extra.allowed`). accept: 422 `materials_incomplete` unless the required materials are "
                         "submitted, held by the government or (容缺) pledged. decide approve: 422 "
                         "`pledged_not_supplied` while a promised material is missing. notify_correction: once "
                         "(409 `correction_once`). pause: `step` names a special step of the item or `correction`.")
def case_step_api(request, payload: StepIn, pk: int = CaseId):
    case = _case(request, pk)
    return _detail(services.case_step(actor=request.user, case=case, data=payload.dict()))


@router.post("/cases/{pk}/rating", response={201: RatingOut, **errors(401, 403, 404, 409, 422)},
             summary="好差评: the applicant rates a closed case, once",
             description="Before closing: 409 `not_closed`; a second rating: 409 `already_rated`; a grade outside "
                         "1–5: 422 `invalid_grade`.")
def case_rate_api(request, payload: RatingIn, pk: int = CaseId):
    rating = services.case_rate(actor=request.user, case=_case(request, pk), grade=payload.grade,
                                comment=payload.comment)
    return Status(201, {"case_id": rating.case_id, "grade": rating.grade, "comment": rating.comment,
                        "rated_at": rating.rated_at})


@router.get("/queue", response={200: list[QueueRowOut], **errors(401, 403, 404)},
            summary="The work queue with the clock (clerks: their department's or hall's; administrators: all)")
def queue_api(request, department_id: int | None = Query(None, ge=1, le=2**31 - 1), overdue: bool = False):
    require(access.can_view_queue(request.user))
    rows = selectors.queue(request.user, today=_today(), department=_department(department_id), overdue_only=overdue)
    return [{"case": row.case, "clock": vars(row.clock)} for row in rows]


@router.get("/overdue", response={200: list[OverdueGroupOut], **errors(401, 403)},
            summary="Cases past their promised limit, per department")
def overdue_api(request):
    require(access.can_view_queue(request.user))
    return [{"department_id": g["department"].pk, "department": g["department"].name,
             "cases": [{"case": c["case"], "days_over": c["days_over"]} for c in g["cases"]]}
            for g in selectors.overdue_by_department(request.user, today=_today())]
