"""The one write path of 一业一证: packages (create, new version, withdraw; the Excel import uses these) and
applications (answers → notice, the one form → one govservices case per applying component, the joint
inspection, the licence, a component renewed or revoked, expiry). Every write is audited in its transaction.

    package_create(actor, code, city, industry, name, definition, scope="", demo=False, source="", note="")
    package_version_create(actor, package, note="", **changes) -> the next version (the old one superseded)
    package_withdraw(actor, package, note="")
    package_notice(package, answers) -> the 告知单 (pure rules over the published catalogue items)
    application_start(actor, package, answers, enterprise=None) -> PackageApplication ("noticed")
    form_prefill(enterprise) -> the shared fields, filled once from the enterprise registry
    application_submit(actor, application, form, materials, routes) -> "submitted": one govservices case per
        applying component, filed through govservices.services.case_file (online by the applicant; at a window
        by the clerk — a window of the other city collects and forwards, govservices' forwarding task)
    application_inspect(actor, application, passed, note) -> "inspected" (every component case accepted)
    application_inspect(...) after the licence: the 核查 of an all-pledge licence; failed → pledged components revoked
    licence_issue(actor, application) -> IndustryLicence (inspection passed — or every component on the pledge
        route —, every component approved; each component case delivered through govservices with its number)
    component_renew(actor, component, valid_until, certificate_no="") / component_revoke(actor, component, reason)
    components_expire(today) -> ids (the schedule licences-components-expire)
    licence_verification(public_id) -> the kernel's Verification (every component with validity and status)
"""

import secrets
from collections.abc import Mapping
from datetime import date, datetime
from typing import Any

from django.db import transaction
from django.utils import timezone

from twincity.accounts.models import City
from twincity.core import workdays
from twincity.core.access import require
from twincity.core.audit import audit_record, snapshot
from twincity.core.errors import Conflict, InvalidInput
from twincity.core.models import AuditEntry
from twincity.enterprises.access import own_enterprise
from twincity.govservices import rules as gov_rules
from twincity.govservices import services as gov
from twincity.govservices.access import hall_of
from twincity.govservices.models import ServiceItem
from twincity.licences import access, rules
from twincity.licences.models import (
    INDUSTRIES,
    LICENCE_DISCLOSABLE,
    ApplicationComponent,
    IndustryLicence,
    IndustryPackage,
    PackageApplication,
)

CODE_KIND = "licences.licence"
PACKAGE_AUDIT_FIELDS = ("code", "version", "status", "city", "industry", "name", "scope", "definition", "demo",
                        "source", "note")
APPLICATION_AUDIT_FIELDS = ("number", "package_id", "state", "answers", "form", "enterprise_id", "channel",
                            "intake_city", "intake_office_id", "submitted_at", "inspected_at", "inspection_passed",
                            "inspection_note")
COMPONENT_AUDIT_FIELDS = ("code", "case_id", "route", "certificate_no", "valid_from", "valid_until", "cert_status",
                          "status_note")
#: The shared fields of the one form (一表申请), filled once from the enterprise registry.
SHARED_FIELDS = {"name": "主体名称", "uscc": "统一社会信用代码", "legal_rep": "法定代表人（负责人）",
                 "address": "住所"}
#: The form's own fields, asked once for every component.
OWN_FIELDS = {"shop_name": "门店名称（招牌）", "premises": "经营场所地址", "phone": "联系电话"}
#: A component case in one of these states has been accepted (the joint inspection may take place).
ACCEPTED_STATES = frozenset({"handling", "paused", "decided", "delivered", "closed"})


def _rule_error(exc: gov_rules.RuleError) -> Exception:
    return InvalidInput(exc.message, code=exc.code, extra=exc.extra)


# --- packages -------------------------------------------------------------------------------------------------


def _package_values(values: dict[str, Any]) -> dict[str, Any]:
    if values.get("city") not in City.values:
        raise InvalidInput("城市须为重庆或成都 / city is chongqing or chengdu", code="invalid_city",
                           extra={"field": "city"})
    if values.get("industry") not in INDUSTRIES:
        raise InvalidInput("未知行业 / unknown industry", code="invalid_choice",
                           extra={"field": "industry", "allowed": sorted(INDUSTRIES)})
    if not str(values.get("name") or "").strip():
        raise InvalidInput("套餐名称不能为空 / a package needs a name", extra={"field": "name"})
    values["name"] = str(values["name"]).strip()[:200]
    try:
        values["definition"] = rules.definition_check(values.get("definition") or {})
    except gov_rules.RuleError as exc:
        raise _rule_error(exc) from exc
    return values


def _audit_create(actor, instance, fields, context: str) -> None:
    audit_record(actor=actor, action=AuditEntry.Action.CREATE, instance=instance,
                 after=snapshot(instance, fields), context=context)


@transaction.atomic
def package_create(*, actor, code: str, city: str, industry: str, name: str, definition: Mapping[str, Any],
                   scope: str = "", demo: bool = False, source: str = "", note: str = "") -> IndustryPackage:
    """Version 1 of a new package (409 package_exists for a code in use, or a region and industry that already
    have a published package)."""
    require(access.can_edit_packages(actor))
    code = (code or "").strip()
    if not code:
        raise InvalidInput("套餐编码不能为空 / a package needs a code", extra={"field": "code"})
    values = _package_values({"city": city, "industry": industry, "name": name, "definition": definition})
    if IndustryPackage.objects.filter(code=code).exists():
        raise Conflict("套餐编码已存在，请发布新版本 / the code exists: publish a new version", code="package_exists")
    if IndustryPackage.objects.filter(city=city, industry=industry, status="published").exists():
        raise Conflict("该地区该行业已有套餐 / the region already has a package for this industry",
                       code="package_exists", extra={"city": city, "industry": industry})
    package = IndustryPackage.objects.create(code=code, version=1, created_by=actor, scope=scope or "", demo=demo,
                                             source=(source or "")[:500], note=(note or "")[:255], **values)
    _audit_create(actor, package, PACKAGE_AUDIT_FIELDS, "package_create")
    return package


@transaction.atomic
def package_version_create(*, actor, package: IndustryPackage, note: str = "", **changes: Any) -> IndustryPackage:
    """Publish the next version with `changes` (name, scope, definition, demo, source); the published one is
    superseded and kept. 409 not_published when `package` is not the published version."""
    require(access.can_edit_packages(actor))
    current = IndustryPackage.objects.select_for_update().filter(code=package.code, status="published").first()
    if current is None or current.pk != package.pk:
        raise Conflict("只能基于当前发布版本修改 / only the published version can be revised", code="not_published")
    unknown = set(changes) - {"name", "scope", "definition", "demo", "source"}
    if unknown:
        raise InvalidInput(f"不能修改 {sorted(unknown)} / these fields cannot change", extra={"fields": sorted(unknown)})
    values = {"city": current.city, "industry": current.industry, "name": changes.get("name", current.name),
              "definition": changes.get("definition", current.definition)}
    values = _package_values(values)
    before = snapshot(current, PACKAGE_AUDIT_FIELDS)
    current.status = IndustryPackage.Status.SUPERSEDED
    current.save(update_fields=["status", "updated_at"])
    audit_record(actor=actor, action=AuditEntry.Action.UPDATE, instance=current, before=before,
                 after=snapshot(current, PACKAGE_AUDIT_FIELDS), context="package_superseded")
    new = IndustryPackage.objects.create(
        code=current.code, version=current.version + 1, derived_from=current, created_by=actor,
        scope=changes.get("scope", current.scope), demo=bool(changes.get("demo", current.demo)),
        source=str(changes.get("source", current.source))[:500], note=(note or "")[:255], **values)
    _audit_create(actor, new, PACKAGE_AUDIT_FIELDS, "package_version")
    return new


@transaction.atomic
def package_withdraw(*, actor, package: IndustryPackage, note: str = "") -> IndustryPackage:
    require(access.can_edit_packages(actor))
    package = IndustryPackage.objects.select_for_update().get(pk=package.pk)
    if package.status != IndustryPackage.Status.PUBLISHED:
        raise Conflict("只能停用当前发布版本 / only the published version can be withdrawn", code="not_published")
    before = snapshot(package, PACKAGE_AUDIT_FIELDS)
    package.status, package.note = IndustryPackage.Status.WITHDRAWN, (note or package.note)[:255]
    package.save(update_fields=["status", "note", "updated_at"])
    audit_record(actor=actor, action=AuditEntry.Action.UPDATE, instance=package, before=before,
                 after=snapshot(package, PACKAGE_AUDIT_FIELDS), context="package_withdraw")
    return package


def package_items(package: IndustryPackage) -> dict[str, ServiceItem]:
    """The published catalogue items of the package's components (of the package's city), by code."""
    codes = [c["item_code"] for c in package.definition.get("components", [])]
    items = ServiceItem.objects.filter(code__in=codes, city=package.city, status="published")
    return {i.code: i for i in items.select_related("implementing_body")}


def _item_facts(item: ServiceItem) -> dict[str, Any]:
    return {"name": item.name, "department": item.implementing_body.name,
            "promised_limit_days": item.promised_limit_days, "legal_limit_days": item.legal_limit_days,
            "fee": str(item.fee), "legal_basis": item.legal_basis,
            "materials": item.definition.get("materials", []),
            "situations": [s["code"] for s in item.definition.get("situations", [])]}


def package_notice(package: IndustryPackage, answers: Mapping[str, Any]) -> dict[str, Any]:
    """The 告知单 of these answers (422 answers_invalid / item_missing)."""
    try:
        clean = rules.answers_check(package.definition, answers)
        items = {code: _item_facts(item) for code, item in package_items(package).items()}
        return rules.notice(package.definition, clean, items)
    except gov_rules.RuleError as exc:
        raise _rule_error(exc) from exc


# --- applications ---------------------------------------------------------------------------------------------


def _number(city: str, at: datetime) -> str:
    return f"YY{'CQ' if city == City.CHONGQING else 'CD'}{workdays.shanghai_date(at):%Y%m%d}{secrets.token_hex(3).upper()}"


def form_prefill(enterprise) -> dict[str, str]:
    """The shared fields from the enterprise registry. The registry keeps no legal representative: its contact
    person stands in (the applicant may correct it on the form)."""
    if enterprise is None:
        return {key: "" for key in SHARED_FIELDS}
    return {"name": enterprise.name, "uscc": enterprise.credit_code, "legal_rep": enterprise.contact_person,
            "address": enterprise.address}


@transaction.atomic
def application_start(*, actor, package: IndustryPackage, answers: Mapping[str, Any], enterprise=None,
                      at: datetime | None = None) -> PackageApplication:
    """Answer the package's questions: the notice is generated and kept with the application. Online for the
    user's own company; at a window (a hall clerk) for the company named by `enterprise`."""
    at = at or timezone.now()
    package = IndustryPackage.objects.get(pk=package.pk)
    if package.status != IndustryPackage.Status.PUBLISHED:
        raise Conflict("该套餐版本已不再受理 / this package version is no longer offered", code="not_published")
    hall = hall_of(actor)
    if enterprise is None or (own_enterprise(actor) is not None and enterprise == own_enterprise(actor)):
        require(access.can_apply_online(actor), "只有企业用户可以网上申请 (only an enterprise user applies online)")
        enterprise, channel, office, intake_city = own_enterprise(actor), "online", None, package.city
        applicant_user = actor
    else:
        require(access.can_take_intake(actor), "只有政务服务大厅窗口可以代为收件 (only a service hall takes it)")
        assert hall is not None
        channel, office, intake_city, applicant_user = "window", hall.organisation, hall.city, None
    notice = package_notice(package, answers)
    if not notice["components"]:
        raise InvalidInput("按您的回答，本套餐没有需要办理的许可 / no permit applies to these answers",
                           code="nothing_applies")
    application = PackageApplication.objects.create(
        number=_number(package.city, at), package=package, answers=notice["answers"], notice=notice,
        form={**form_prefill(enterprise), **{k: "" for k in OWN_FIELDS}}, applicant_user=applicant_user,
        enterprise=enterprise, channel=channel, intake_city=intake_city, intake_office=office)
    _audit_create(actor, application, APPLICATION_AUDIT_FIELDS, "notice")
    return application


def _form_values(application: PackageApplication, form: Mapping[str, Any]) -> dict[str, str]:
    values = {key: str(form.get(key, application.form.get(key, "")) or "").strip()[:300]
              for key in [*SHARED_FIELDS, *OWN_FIELDS]}
    registry = form_prefill(application.enterprise)
    # The registry's own facts are not typed again: name and USCC always come from it.
    values["name"], values["uscc"] = registry["name"], registry["uscc"]
    missing = [key for key in [*SHARED_FIELDS, *OWN_FIELDS] if not values[key]]
    if missing:
        raise InvalidInput("申请表有未填写的项目 / the form has empty fields", code="form_incomplete",
                           extra={"missing": missing})
    return values


@transaction.atomic
def application_submit(*, actor, application: PackageApplication, form: Mapping[str, Any],
                       materials: Mapping[str, str], routes: Mapping[str, str] | None = None,
                       at: datetime | None = None) -> PackageApplication:
    """The one form: shared fields once, the merged materials once (code → submitted / pledged), the route of
    each component (告知承诺 only where the package allows it). Files one govservices case per applying
    component through its one write path; each is routed to the item's implementing department."""
    at = at or timezone.now()
    application = PackageApplication.objects.select_for_update(of=("self",)).select_related("package", "enterprise").get(
        pk=application.pk)
    require(access.can_submit(actor, application), "只有申请人或收件窗口可以提交 (only the applicant submits)")
    if application.state != PackageApplication.State.NOTICED:
        raise Conflict("该申请已提交 / the application was already submitted", code="already_submitted",
                       extra={"state": application.state})
    values = _form_values(application, form)
    routes = dict(routes or {})
    notice = application.notice
    components = {c["code"]: c for c in notice["components"]}
    bad_routes = {code: route for code, route in routes.items()
                  if code not in components or route not in rules.ROUTES
                  or (route == "pledge" and not components[code]["pledge"])}
    if bad_routes:
        raise InvalidInput("告知承诺只适用于允许承诺的许可 / the pledge route is not allowed for these permits",
                           code="pledge_not_allowed", extra={"routes": bad_routes})
    merged = {m["code"]: m for m in notice["materials"]}
    unknown = sorted(set(materials) - set(merged))
    if unknown:
        raise InvalidInput(f"告知单没有这些材料：{unknown} / unknown materials", code="unknown_material",
                           extra={"unknown": unknown})
    items = package_items(application.package)
    channel = application.channel
    for row in notice["components"]:
        item = items.get(row["item_code"])
        if item is None:
            raise Conflict(f"事项 {row['item_code']} 已不再受理 / the item is no longer offered", code="not_published")
        own = {m["code"] for m in item.definition.get("materials", [])}
        given = {code: state for code, state in materials.items() if code in own and state in ("submitted", "pledged")}
        case = gov.case_file(
            actor=actor, item=item, applicant_name=values["name"], channel=channel, situations=row["situations"],
            materials=given, enterprise=application.enterprise,
            applicant_user=application.applicant_user if channel == "online" else None,
            intake_office=application.intake_office, at=at)
        component = ApplicationComponent.objects.create(
            application=application, code=row["code"], name=row["name"], case=case,
            route=routes.get(row["code"], "standard"), valid_years=row["valid_years"])
        _audit_create(actor, component, COMPONENT_AUDIT_FIELDS, "component_filed")
    before = snapshot(application, APPLICATION_AUDIT_FIELDS)
    application.form, application.state, application.submitted_at = values, PackageApplication.State.SUBMITTED, at
    application.save()
    audit_record(actor=actor, action=AuditEntry.Action.UPDATE, instance=application, before=before,
                 after=snapshot(application, APPLICATION_AUDIT_FIELDS), context="submit")
    return application


def _components(application: PackageApplication) -> list[ApplicationComponent]:
    return list(application.components.select_related("case", "case__item").order_by("pk"))


@transaction.atomic
def application_inspect(*, actor, application: PackageApplication, passed: bool, note: str = "",
                        at: datetime | None = None) -> PackageApplication:
    """The joint inspection (一同核查), once every component case has been accepted: passed or not, with the
    inspectors' note (a failed inspection states why). Before the licence, as a rule; after it when every
    component took the pledge route (告知承诺: permit first, 核查 afterwards) — then a failed inspection revokes
    the pledged components (承诺不实)."""
    at = at or timezone.now()
    application = PackageApplication.objects.select_for_update().select_related("package").get(pk=application.pk)
    require(access.can_inspect(actor, application), "只有套餐所在地政务服务中心可以组织联合核查")
    after_pledge = application.state == PackageApplication.State.ISSUED and application.inspected_at is None
    if application.state != PackageApplication.State.SUBMITTED and not after_pledge:
        raise Conflict("只有已提交、未核查的申请可以核查 / only a submitted application is inspected",
                       code="illegal_transition", extra={"state": application.state})
    components = _components(application)
    waiting = [c.code for c in components if c.case.state not in ACCEPTED_STATES]
    if waiting:
        raise Conflict("各项许可受理后才能联合核查 / every component case must be accepted first",
                       code="components_not_accepted", extra={"waiting": waiting})
    if not passed and not (note or "").strip():
        raise InvalidInput("核查不通过须说明理由 / a failed inspection states why", code="reason_required")
    before = snapshot(application, APPLICATION_AUDIT_FIELDS)
    application.inspected_at, application.inspected_by = at, actor
    application.inspection_passed, application.inspection_note = bool(passed), (note or "")[:500]
    if passed and not after_pledge:
        application.state = PackageApplication.State.INSPECTED
    application.save()
    audit_record(actor=actor, action=AuditEntry.Action.UPDATE, instance=application, before=before,
                 after=snapshot(application, APPLICATION_AUDIT_FIELDS), context="inspect")
    if after_pledge and not passed:
        for component in components:
            if component.route == "pledge" and component.cert_status == ApplicationComponent.CertStatus.VALID:
                _component_change(actor, component, "component_revoke",
                                  cert_status=ApplicationComponent.CertStatus.REVOKED,
                                  status_note=f"告知承诺核查不符：{note.strip()}"[:300])
    return application


def issue_refusal(application: PackageApplication) -> tuple[str, str] | None:
    """Why the licence cannot be issued now ((code, message)), or None: the joint inspection passed, or every
    component took the pledge route (核查 follows the licence); and every component approved."""
    components = _components(application)
    all_pledged = bool(components) and all(c.route == "pledge" for c in components)
    if application.state == PackageApplication.State.SUBMITTED and all_pledged:
        pass
    elif application.state != PackageApplication.State.INSPECTED:
        return ("not_inspected", "联合核查通过后才能发证（全部许可选择告知承诺的除外） / the licence is issued after a "
                                 "passed joint inspection, unless every permit took the pledge route")
    pending = [c.code for c in components if c.case.outcome != "approve"]
    if pending:
        return ("components_not_approved", "各项许可均准予后才能发证 / every component must be approved first: "
                + "、".join(pending))
    return None


def _add_years(day: date, years: int) -> date:
    try:
        return day.replace(year=day.year + years)
    except ValueError:  # 29 February
        return day.replace(year=day.year + years, day=28)


@transaction.atomic
def licence_issue(*, actor, application: PackageApplication, at: datetime | None = None) -> IndustryLicence:
    """一证准营: once the inspection passed and every component case is approved, deliver each component case
    (govservices, with its certificate number) and issue the one industry licence."""
    at = at or timezone.now()
    application = PackageApplication.objects.select_for_update(of=("self",)).select_related("package", "enterprise").get(
        pk=application.pk)
    require(access.can_issue(actor, application), "只有套餐所在地政务服务中心可以发证")
    components = _components(application)
    refusal = issue_refusal(application)
    if refusal is not None:
        pending = [c.code for c in components if c.case.outcome != "approve"]
        raise Conflict(refusal[1], code=refusal[0], extra={"state": application.state, "pending": pending})
    today = workdays.shanghai_date(at)
    licence_number = f"{'渝' if application.package.city == City.CHONGQING else '蓉'}YYYZ{today:%Y%m%d}" \
                     f"{secrets.token_hex(2).upper()}"
    for component in components:
        before = snapshot(component, COMPONENT_AUDIT_FIELDS)
        case = component.case
        certificate = case.result_ref or f"{licence_number}-{component.code.upper()}"
        if case.state == "decided":
            case = gov.case_deliver(actor=actor, case=case, delivery="e_licence", result_ref=certificate, at=at)
        component.certificate_no = case.result_ref or certificate
        component.valid_from = today
        component.valid_until = _add_years(today, component.valid_years) if component.valid_years else None
        component.cert_status = ApplicationComponent.CertStatus.VALID
        component.save()
        audit_record(actor=actor, action=AuditEntry.Action.UPDATE, instance=component, before=before,
                     after=snapshot(component, COMPONENT_AUDIT_FIELDS), context="component_issued")
    form = application.form
    licence = IndustryLicence.objects.create(
        number=licence_number, application=application, holder_name=form.get("name", ""),
        holder_uscc=form.get("uscc", ""), address=form.get("premises", ""),
        industry_name=INDUSTRIES.get(application.package.industry, application.package.industry),
        city=application.package.city, issued_at=at, issued_by=actor)
    _audit_create(actor, licence, ("number", "application_id", "holder_name", "holder_uscc", "address", "city",
                                   "code_version"), "licence_issue")
    before = snapshot(application, APPLICATION_AUDIT_FIELDS)
    application.state = PackageApplication.State.ISSUED
    application.save()
    audit_record(actor=actor, action=AuditEntry.Action.UPDATE, instance=application, before=before,
                 after=snapshot(application, APPLICATION_AUDIT_FIELDS), context="issued")
    return licence


def _component_change(actor, component: ApplicationComponent, context: str, **changes: Any) -> ApplicationComponent:
    before = snapshot(component, COMPONENT_AUDIT_FIELDS)
    for name, value in changes.items():
        setattr(component, name, value)
    component.save()
    audit_record(actor=actor, action=AuditEntry.Action.UPDATE, instance=component, before=before,
                 after=snapshot(component, COMPONENT_AUDIT_FIELDS), context=context)
    return component


def _issued_component(component: ApplicationComponent) -> ApplicationComponent:
    component = ApplicationComponent.objects.select_for_update(of=("self",)).select_related(
        "case", "application", "application__package").get(pk=component.pk)
    if component.cert_status == ApplicationComponent.CertStatus.PENDING:
        raise Conflict("该许可尚未发证 / the component has not been issued", code="not_issued")
    return component


@transaction.atomic
def component_renew(*, actor, component: ApplicationComponent, valid_until: date, certificate_no: str = "",
                    at: datetime | None = None) -> ApplicationComponent:
    """A component renewed (延续): a later validity (and a new certificate number if given). The licence's QR
    view shows it at once (it reads the components when scanned)."""
    component = _issued_component(component)
    require(access.can_change_component(actor, component))
    if component.cert_status == ApplicationComponent.CertStatus.REVOKED:
        raise Conflict("已撤销的许可不能延续 / a revoked permit is not renewed", code="revoked")
    if not isinstance(valid_until, date) or (component.valid_until and valid_until <= component.valid_until):
        raise InvalidInput("延续后的有效期须晚于原有效期 / the new validity ends later", code="invalid_validity",
                           extra={"field": "valid_until"})
    return _component_change(actor, component, "component_renew", valid_until=valid_until,
                             certificate_no=(certificate_no or component.certificate_no)[:64],
                             cert_status=ApplicationComponent.CertStatus.VALID, status_note="已延续")


@transaction.atomic
def component_revoke(*, actor, component: ApplicationComponent, reason: str,
                     at: datetime | None = None) -> ApplicationComponent:
    """A component revoked (撤销 / 注销), with the reason; the licence shows it revoked, the others unchanged."""
    component = _issued_component(component)
    require(access.can_change_component(actor, component))
    if not (reason or "").strip():
        raise InvalidInput("撤销须说明理由 / a revocation states why", code="reason_required")
    if component.cert_status == ApplicationComponent.CertStatus.REVOKED:
        raise Conflict("该许可已撤销 / already revoked", code="revoked")
    return _component_change(actor, component, "component_revoke",
                             cert_status=ApplicationComponent.CertStatus.REVOKED, status_note=reason.strip()[:300])


def components_expire(*, today: date | None = None) -> list[int]:
    """The schedule: valid components past their last valid day become expired (one audited change each)."""
    today = today or workdays.shanghai_date(timezone.now())
    done = []
    for component in ApplicationComponent.objects.filter(cert_status="valid", valid_until__lt=today).order_by("pk"):
        with transaction.atomic():
            _component_change(None, component, "component_expire",
                              cert_status=ApplicationComponent.CertStatus.EXPIRED, status_note="有效期届满")
        done.append(component.pk)
    return done


# --- the QR code ---------------------------------------------------------------------------------------------


def licence_token(licence: IndustryLicence) -> str:
    from twincity.core.verification import code_sign

    return code_sign(kind=CODE_KIND, object_id=str(licence.public_id), version=licence.code_version)


def component_line(component: ApplicationComponent, *, with_number: bool = True) -> str:
    validity = f"有效期 {component.valid_from:%Y-%m-%d} 至 " + (
        f"{component.valid_until:%Y-%m-%d}" if component.valid_until else "长期") if component.valid_from else ""
    parts = [component.get_cert_status_display(), component.certificate_no if with_number else "", validity,
             component.status_note]
    return " · ".join(p for p in parts if p)


@transaction.atomic
def licence_disclosure_set(*, actor, licence: IndustryLicence, fields: list[str]) -> IndustryLicence:
    """The holder chooses which optional fields (LICENCE_DISCLOSABLE) the public verify page shows; audited."""
    require(access.can_set_licence_disclosure(actor, licence.application))
    locked = IndustryLicence.objects.select_for_update().get(pk=licence.pk)
    before = snapshot(locked, ("disclosure",))
    locked.disclosure = [key for key in LICENCE_DISCLOSABLE if key in set(fields)]
    if locked.disclosure != before["disclosure"]:
        locked.save(update_fields=["disclosure"])
        audit_record(actor=actor, action=AuditEntry.Action.UPDATE, instance=locked, before=before,
                     after=snapshot(locked, ("disclosure",)), context="licence_disclosure")
    return locked


def licence_verification(object_id: str):
    """The resolver of licence codes: the licence and every component with its own validity and status, read
    when scanned (so a renewed or revoked component shows at once). 一码亮证: a licence's content is public."""
    import uuid

    from twincity.core.verification import Verification, disclosed

    try:
        public_id = uuid.UUID(object_id)
    except ValueError:
        return None
    licence = IndustryLicence.objects.select_related("application").filter(public_id=public_id).first()
    if licence is None:
        return None
    components = list(licence.application.components.order_by("pk"))
    shown = set(licence.disclosure)
    fields: list[tuple[str, str]] = [("许可证编号", licence.number), ("持证主体", licence.holder_name)]
    fields += disclosed({"holder_uscc": ("统一社会信用代码", licence.holder_uscc)}, shown)
    fields.append(("行业", licence.industry_name))
    fields += disclosed({"address": ("经营场所", licence.address)}, shown)
    fields += [(c.name, component_line(c, with_number="certificate_no" in shown)) for c in components]
    ends = [c.valid_until for c in components if c.cert_status == "valid" and c.valid_until]
    if ends:
        fields.append(("最早到期", f"{min(ends):%Y-%m-%d}"))
    title = f"{licence.industry_name}行业综合许可证 · {licence.holder_name}"
    if licence.revoked_at is not None:
        return Verification("revoked", licence.code_version, title, (), "该综合许可证已注销")
    return Verification("valid", licence.code_version, title, tuple(fields))

