"""The 一业一证 pages: the packages (by city and industry, with their versions), the applicant's wizard
(questions → notice 告知单 → one form → submit), an application with its component cases (handled in the
govservices queues), the joint inspection and the licence (统一出件), the licence page with its QR code, the
package Excel export / import. Every decision is an access predicate; every write a service."""

import json
from datetime import date

from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.http import HttpResponse
from django.shortcuts import redirect, render
from django.views.decorators.http import require_GET, require_http_methods, require_POST

from twincity.core.access import require
from twincity.core.errors import ApplicationError
from twincity.enterprises.models import Enterprise
from twincity.licences import access, io, rules, selectors, services
from twincity.licences.models import (
    INDUSTRIES,
    LICENCE_DISCLOSABLE,
    IndustryLicence,
    IndustryPackage,
)

XLSX = "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet"
CITY_NAMES = {"chongqing": "重庆", "chengdu": "成都"}


def _error_text(exc: ApplicationError) -> str:
    text = exc.message
    details = exc.extra.get("missing") or exc.extra.get("waiting") or exc.extra.get("pending")
    if details:
        text += f"（{', '.join(map(str, details))}）"
    if isinstance(exc.extra.get("errors"), dict):
        text += "：" + "；".join(exc.extra["errors"].values())
    elif exc.extra.get("errors"):
        text += "：" + "；".join(map(str, exc.extra["errors"]))
    return f"{text} [{exc.code}]"


@login_required
@require_GET
def packages(request):
    require(access.can_view_packages(request.user))
    rows = IndustryPackage.objects.filter(status="published").order_by("city", "industry")
    return render(request, "licences/packages.html", {
        "rows": rows, "cities": CITY_NAMES, "industries": INDUSTRIES,
        "can_edit": access.can_edit_packages(request.user), "can_export": access.can_export_packages(request.user)})


@login_required
@require_http_methods(["GET", "POST"])
def package_detail(request, pk: int):
    """A package version; step 1 of the wizard: the situational questions (POST → the notice)."""
    package = selectors.package_for(request.user, pk)
    if request.method == "POST":
        require(access.can_apply(request.user))
        answers = {q["code"]: request.POST.get(f"q_{q['code']}") for q in package.definition["questions"]}
        enterprise = None
        if request.POST.get("uscc") and access.can_take_intake(request.user):
            enterprise = Enterprise.objects.filter(credit_code=request.POST["uscc"].strip()).first()
            if enterprise is None:
                messages.error(request, "登记库中没有这个统一社会信用代码 [unknown_enterprise]")
                return redirect("licences:package", pk)
        try:
            application = services.application_start(actor=request.user, package=package, answers=answers,
                                                     enterprise=enterprise)
        except ApplicationError as exc:
            messages.error(request, _error_text(exc))
        else:
            return redirect("licences:application", application.pk)
    items = services.package_items(package)
    components = [{**c, "item": items.get(c["item_code"])} for c in package.definition["components"]]
    versions = IndustryPackage.objects.filter(code=package.code).order_by("-version")
    return render(request, "licences/package.html", {
        "package": package, "components": components, "versions": versions,
        "questions": package.definition["questions"], "city": CITY_NAMES.get(package.city, package.city),
        "can_apply": package.status == "published" and access.can_apply(request.user),
        "can_edit": access.can_edit_packages(request.user),
        "is_window": access.can_take_intake(request.user) and not access.can_apply_online(request.user)})


@login_required
@require_http_methods(["GET", "POST"])
def package_new_version(request, pk: int):
    """The package editor: a change is published as the package's next version (never edited in place)."""
    require(access.can_edit_packages(request.user))
    package = selectors.package_for(request.user, pk)
    if request.method == "POST":
        try:
            definition = json.loads(request.POST.get("definition") or "{}")
        except ValueError:
            messages.error(request, "套餐定义须为 JSON [package_invalid]")
        else:
            try:
                new = services.package_version_create(
                    actor=request.user, package=package, note=request.POST.get("note", ""),
                    name=request.POST.get("name", package.name), scope=request.POST.get("scope", package.scope),
                    definition=definition, demo=request.POST.get("demo") == "1",
                    source=request.POST.get("source", package.source))
            except ApplicationError as exc:
                messages.error(request, _error_text(exc))
            else:
                messages.success(request, f"已发布第 {new.version} 版")
                return redirect("licences:package", new.pk)
    return render(request, "licences/package_edit.html", {
        "package": package, "definition_json": json.dumps(package.definition, ensure_ascii=False, indent=2)})


@login_required
@require_GET
def application_detail(request, pk: int):
    """An application: its notice, its one form (while not submitted), its component cases, inspection, licence."""
    application = selectors.application_for(request.user, pk)
    components = list(application.components.select_related("case", "case__department").order_by("pk"))
    licence = IndustryLicence.objects.filter(application=application).first()
    return render(request, "licences/application.html", {
        "app": application, "notice": application.notice, "components": components, "licence": licence,
        "shared_fields": services.SHARED_FIELDS, "own_fields": services.OWN_FIELDS, "routes": rules.ROUTES,
        "can_submit": application.state == "noticed" and access.can_submit(request.user, application),
        "can_inspect": (application.state == "submitted" or (application.state == "issued"
                        and application.inspected_at is None)) and access.can_inspect(request.user, application),
        "can_issue": application.state in ("submitted", "inspected") and access.can_issue(request.user, application)
                     and services.issue_refusal(application) is None,
        "city": CITY_NAMES.get(application.package.city, "")})


@login_required
@require_POST
def application_submit(request, pk: int):
    application = selectors.application_for(request.user, pk)
    post = request.POST
    form = {key: post.get(f"f_{key}", "") for key in [*services.SHARED_FIELDS, *services.OWN_FIELDS]}
    materials = {m["code"]: post.get(f"m_{m['code']}") for m in application.notice["materials"]
                 if post.get(f"m_{m['code']}") in ("submitted", "pledged")}
    routes = {c["code"]: "pledge" for c in application.notice["components"] if post.get(f"r_{c['code']}") == "pledge"}
    try:
        services.application_submit(actor=request.user, application=application, form=form, materials=materials,
                                    routes=routes)
    except ApplicationError as exc:
        messages.error(request, _error_text(exc))
    else:
        messages.success(request, f"已提交：{application.components.count()} 项许可并联办理")
    return redirect("licences:application", pk)


@login_required
@require_POST
def application_inspect(request, pk: int):
    application = selectors.application_for(request.user, pk)
    try:
        services.application_inspect(actor=request.user, application=application,
                                     passed=request.POST.get("passed") == "1", note=request.POST.get("note", ""))
    except ApplicationError as exc:
        messages.error(request, _error_text(exc))
    else:
        messages.success(request, "已记录联合核查")
    return redirect("licences:application", pk)


@login_required
@require_POST
def licence_issue(request, pk: int):
    application = selectors.application_for(request.user, pk)
    try:
        licence = services.licence_issue(actor=request.user, application=application)
    except ApplicationError as exc:
        messages.error(request, _error_text(exc))
        return redirect("licences:application", pk)
    messages.success(request, f"已发行业综合许可证：{licence.number}")
    return redirect("licences:licence", licence.pk)


@login_required
@require_GET
def licence_detail(request, pk: int):
    """The licence with every component's validity and status, and its QR code (the public verify page)."""
    from twincity.core.verification import code_url, qr_svg

    licence = selectors.licence_for(request.user, pk)
    url = code_url(services.licence_token(licence), base=request.build_absolute_uri("/"))
    components = list(licence.application.components.select_related("case").order_by("pk"))
    return render(request, "licences/licence.html", {
        "licence": licence, "components": components, "verify_url": url,
        "disclosure": [(key, label, key in licence.disclosure) for key, label in LICENCE_DISCLOSABLE.items()],
        "can_disclose": access.can_set_licence_disclosure(request.user, licence.application),
        "qr": qr_svg(url, title=f"行业综合许可证 {licence.number}"),
        "changeable": {c.pk for c in components if access.can_change_component(request.user, c)}})


@login_required
@require_POST
def component_change(request, pk: int):
    component = selectors.component_for(request.user, pk)
    licence = IndustryLicence.objects.filter(application=component.application).first()
    try:
        if request.POST.get("action") == "revoke":
            services.component_revoke(actor=request.user, component=component, reason=request.POST.get("reason", ""))
        else:
            try:
                until = date.fromisoformat(request.POST.get("valid_until", ""))
            except ValueError:
                messages.error(request, "有效期须为日期 [invalid_validity]")
                return redirect("licences:licence", licence.pk) if licence else redirect("licences:hall")
            services.component_renew(actor=request.user, component=component, valid_until=until,
                                     certificate_no=request.POST.get("certificate_no", ""))
    except ApplicationError as exc:
        messages.error(request, _error_text(exc))
    else:
        messages.success(request, "已更新分项许可")
    return redirect("licences:licence", licence.pk) if licence else redirect("licences:hall")


@login_required
@require_GET
def mine(request):
    require(access.can_apply_online(request.user))
    rows = access.applications_visible(request.user).filter(enterprise__isnull=False)
    return render(request, "licences/list.html", {"rows": rows, "title": "我的一业一证申请"})


@login_required
@require_GET
def hall(request):
    require(access.can_view_hall_list(request.user))
    return render(request, "licences/list.html", {"rows": access.applications_visible(request.user),
                                                  "title": "一业一证办件"})


@login_required
@require_GET
def packages_export(request):
    require(access.can_export_packages(request.user))
    response = HttpResponse(io.packages_xlsx(IndustryPackage.objects.filter(status="published")), content_type=XLSX)
    response["Content-Disposition"] = 'attachment; filename="yiye-yizheng-packages.xlsx"'
    return response


@login_required
@require_http_methods(["GET", "POST"])
def packages_import(request):
    require(access.can_edit_packages(request.user))
    result, errors = None, []
    if request.method == "POST" and request.FILES.get("file"):
        try:
            result = io.packages_import(actor=request.user, content=request.FILES["file"].read())
        except ApplicationError as exc:
            messages.error(request, _error_text(exc) if exc.code != "import_invalid" else exc.message)
            errors = exc.extra.get("errors", [])
    return render(request, "licences/import.html", {"result": result, "errors": errors})


@login_required
@require_POST
def licence_disclosure(request, pk: int):
    """The holder's choice of what the public verify page shows (the optional fields)."""
    licence = selectors.licence_for(request.user, pk)
    services.licence_disclosure_set(actor=request.user, licence=licence, fields=request.POST.getlist("fields"))
    messages.success(request, "已保存扫码公开信息")
    return redirect("licences:licence", licence.pk)
