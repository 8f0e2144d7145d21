"""The 一业一证 JSON endpoints: packages (read by everyone signed in; Excel export and import), the notice of a
set of answers, applications (start → submit the one form → joint inspection → issue), the licence and a
component's renewal or revocation. Refusals use the one error shape {"message", "code", "extra"}: 403 who,
404 what, 409 a step out of order (`already_submitted`, `illegal_transition`, `components_not_accepted`,
`not_inspected`, `components_not_approved`, `revoked`), 422 what is invalid (`answers_invalid` with
`extra.errors`, `form_incomplete` with `extra.missing`, `pledge_not_allowed`, `import_invalid`)."""

from django.http import HttpResponse
from ninja import File, Router, Status
from ninja.files import UploadedFile

from twincity.core.access import require
from twincity.core.api import errors
from twincity.core.errors import InvalidInput
from twincity.enterprises.imports.jobs import upload_check_size
from twincity.enterprises.models import Enterprise
from twincity.licences import access, io, selectors, services
from twincity.licences.models import ApplicationComponent, IndustryLicence, IndustryPackage, PackageApplication
from twincity.licences.schemas import (
    AnswersIn,
    ApplicationOut,
    ComponentChangeIn,
    ComponentOut,
    ImportOut,
    InspectIn,
    LicenceOut,
    NoticeOut,
    PackageOut,
    StartIn,
    SubmitIn,
)

router = Router(tags=["licences 一业一证"])
XLSX = "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet"


def _component(c: ApplicationComponent) -> dict:
    return {"id": c.pk, "code": c.code, "name": c.name, "route": c.route, "case_id": c.case_id,
            "case_number": c.case.number, "case_state": c.case.state, "department": c.case.department.name,
            "certificate_no": c.certificate_no, "valid_from": c.valid_from, "valid_until": c.valid_until,
            "cert_status": c.cert_status}


def _application(a: PackageApplication) -> dict:
    licence = IndustryLicence.objects.filter(application=a).first()
    components = a.components.select_related("case", "case__department").order_by("pk")
    return {"id": a.pk, "number": a.number, "package_id": a.package_id, "state": a.state, "answers": a.answers,
            "notice": a.notice, "form": a.form, "channel": a.channel, "intake_city": a.intake_city,
            "submitted_at": a.submitted_at, "inspection_passed": a.inspection_passed,
            "components": [_component(c) for c in components], "licence_id": licence.pk if licence else None}


@router.get("/packages", response={200: list[PackageOut], **errors(401, 403)}, summary="The published packages")
def packages_api(request):
    require(access.can_view_packages(request.user))
    return list(IndustryPackage.objects.filter(status="published"))


@router.get("/packages.xlsx", response={200: None, **errors(401, 403)},
            summary="The published packages as an Excel sheet (the govservices catalogue's format)",
            openapi_extra={"responses": {200: {"description": "XLSX", "content": {XLSX: {}}}}})
def packages_export_api(request):
    require(access.can_export_packages(request.user))
    response = HttpResponse(io.packages_xlsx(IndustryPackage.objects.filter(status="published")), content_type=XLSX)
    response["Content-Disposition"] = 'attachment; filename="yiye-yizheng-packages.xlsx"'
    return response


@router.post("/packages/import", response={200: ImportOut, **errors(401, 403, 413, 422)},
             summary="Import packages from Excel, all or nothing (administrators)")
def packages_import_api(request, file: File[UploadedFile]):
    require(access.can_edit_packages(request.user))
    upload_check_size(file)
    return io.packages_import(actor=request.user, content=file.read())


@router.get("/packages/{pk}", response={200: PackageOut, **errors(401, 404)}, summary="A package version")
def package_api(request, pk: int):
    return selectors.package_for(request.user, pk)


@router.post("/packages/{pk}/notice", response={200: NoticeOut, **errors(401, 403, 404, 422)},
             summary="The notice (告知单) these answers would get, without filing anything")
def notice_api(request, pk: int, payload: AnswersIn):
    return services.package_notice(selectors.package_for(request.user, pk), payload.answers)


@router.post("/packages/{pk}/applications", response={201: ApplicationOut, **errors(401, 403, 404, 409, 422)},
             summary="Answer the questions: an application with its notice (online, or at a window for a company)")
def start_api(request, pk: int, payload: StartIn):
    package = selectors.package_for(request.user, pk)
    enterprise = None
    if payload.enterprise_uscc:
        enterprise = Enterprise.objects.filter(credit_code=payload.enterprise_uscc.strip()).first()
        if enterprise is None:
            raise InvalidInput("登记库中没有这个统一社会信用代码 / no such company", code="unknown_enterprise")
    application = services.application_start(actor=request.user, package=package, answers=payload.answers,
                                             enterprise=enterprise)
    return Status(201, _application(application))


@router.get("/applications/{pk}", response={200: ApplicationOut, **errors(401, 404)}, summary="An application")
def application_api(request, pk: int):
    return _application(selectors.application_for(request.user, pk))


@router.post("/applications/{pk}/submit", response={200: ApplicationOut, **errors(401, 403, 404, 409, 422)},
             summary="Submit the one form: one component case per applying permit, in parallel")
def submit_api(request, pk: int, payload: SubmitIn):
    application = services.application_submit(actor=request.user, application=selectors.application_for(request.user, pk),
                                              form=payload.form, materials=payload.materials, routes=payload.routes)
    return _application(application)


@router.post("/applications/{pk}/inspect", response={200: ApplicationOut, **errors(401, 403, 404, 409, 422)},
             summary="Record the joint inspection (the package city's hall)")
def inspect_api(request, pk: int, payload: InspectIn):
    application = services.application_inspect(actor=request.user, application=selectors.application_for(request.user, pk),
                                               passed=payload.passed, note=payload.note)
    return _application(application)


def _licence(request, licence: IndustryLicence) -> dict:
    from twincity.core.verification import code_url

    components = licence.application.components.select_related("case", "case__department").order_by("pk")
    return {"id": licence.pk, "number": licence.number, "holder_name": licence.holder_name,
            "holder_uscc": licence.holder_uscc, "industry_name": licence.industry_name, "city": licence.city,
            "issued_at": licence.issued_at, "verify_path": code_url(services.licence_token(licence)),
            "components": [_component(c) for c in components]}


@router.post("/applications/{pk}/issue", response={201: LicenceOut, **errors(401, 403, 404, 409)},
             summary="Issue the industry licence (inspection passed, every component approved)")
def issue_api(request, pk: int):
    licence = services.licence_issue(actor=request.user, application=selectors.application_for(request.user, pk))
    return Status(201, _licence(request, licence))


@router.get("/licences/{pk}", response={200: LicenceOut, **errors(401, 404)}, summary="A licence and its components")
def licence_api(request, pk: int):
    licence = selectors.licence_for(request.user, pk)
    return _licence(request, licence)


@router.post("/components/{pk}", response={200: ComponentOut, **errors(401, 403, 404, 409, 422)},
             summary="Renew or revoke a component permit of an issued licence")
def component_api(request, pk: int, payload: ComponentChangeIn):
    component = selectors.component_for(request.user, pk)
    if payload.action == "revoke":
        component = services.component_revoke(actor=request.user, component=component, reason=payload.reason)
    elif payload.action == "renew" and payload.valid_until is not None:
        component = services.component_renew(actor=request.user, component=component,
                                             valid_until=payload.valid_until, certificate_no=payload.certificate_no)
    else:
        raise InvalidInput("action 须为 renew（带 valid_until）或 revoke / renew with valid_until, or revoke",
                           code="invalid_choice", extra={"field": "action", "allowed": ["renew", "revoke"]})
    component = ApplicationComponent.objects.select_related("case", "case__department").get(pk=component.pk)
    return _component(component)
