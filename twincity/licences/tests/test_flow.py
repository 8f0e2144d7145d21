"""The 一业一证 flow through the services: answers → notice → one form → parallel component cases (govservices)
→ joint inspection → one licence whose QR verification shows every component, re-rendered when one changes."""

from datetime import date, timedelta

import pytest
from django.utils import timezone

from twincity.core.errors import Conflict, Forbidden, InvalidInput
from twincity.core.models import AuditEntry
from twincity.core.verification import code_verify
from twincity.govservices import services as gov
from twincity.govservices.models import ServiceCase
from twincity.licences import services
from twincity.licences.models import ApplicationComponent, IndustryLicence, PackageApplication
from twincity.licences.tests.conftest import FORM

ALL_YES = {"area": 320, "seats": 80, "food_prep": True, "tobacco": True, "outdoor_sign": True}


def _submitted(cast, yy, answers=ALL_YES, routes=None):
    app = services.application_start(actor=cast.bob, package=yy.cq_catering, answers=answers)
    materials = {m["code"]: "submitted" for m in app.notice["materials"] if not m["held"]}
    return services.application_submit(actor=cast.bob, application=app, form=FORM, materials=materials,
                                       routes=routes or {})


def _approve_all(actor, app):
    for component in app.components.select_related("case"):
        case = gov.case_accept(actor=actor, case=component.case)
        gov.case_decide(actor=actor, case=case, outcome="approve")


def test_notice_from_answers(cast, yy):
    app = services.application_start(actor=cast.bob, package=yy.cq_catering,
                                      answers={"area": "80", "seats": "20", "food_prep": "true", "tobacco": "false",
                                               "outdoor_sign": "true"})
    assert app.state == "noticed" and app.channel == "online" and app.enterprise == cast.bob_co
    assert [c["code"] for c in app.notice["components"]] == ["food", "sign"]
    assert app.notice["not_applying"] == ["fire", "tobacco"]
    assert [m["code"] for m in app.notice["materials"]] == [
        "business_licence", "id_card", "premises_proof", "layout_plan", "food_safety_rules", "process_flow",
        "staff_health", "sign_design"]
    assert app.notice["materials"][2]["components"] == ["food", "sign"]
    assert (app.notice["promised_days"], app.notice["legal_days"]) == (13, 23)
    # the shared fields come from the registry
    assert app.form["name"] == cast.bob_co.name and app.form["uscc"] == cast.bob_co.credit_code
    assert ServiceCase.objects.count() == 0  # nothing filed before the form


def test_full_flow_to_licence_and_qr(cast, yy):
    app = _submitted(cast, yy, routes={"food": "pledge"})
    assert app.state == "submitted"
    comps = list(app.components.select_related("case", "case__department").order_by("pk"))
    assert [c.code for c in comps] == ["food", "fire", "sign", "tobacco"]
    assert [c.route for c in comps] == ["pledge", "standard", "standard", "standard"]
    assert [c.case.department.name for c in comps] == ["重庆高新区市场监督管理局", "重庆高新区消防救援支队",
                                                       "重庆高新区城市管理局", "重庆市烟草专卖局高新区分局"]
    assert {c.case.state for c in comps} == {"received"}
    assert {c.case.enterprise_id for c in comps} == {cast.bob_co.pk}
    assert {c.case.applicant_name for c in comps} == {cast.bob_co.name}
    # business licence is held by the government: not asked; the others as submitted once
    assert comps[0].case.materials["id_card"] == "submitted" and "business_licence" not in comps[0].case.materials
    # the inspection waits for every acceptance
    with pytest.raises(Conflict) as exc:
        services.application_inspect(actor=cast.clara, application=app, passed=True)
    assert exc.value.code == "components_not_accepted"
    for c in comps:  # clara (the hall of the item's city) accepts each case: 一窗受理
        gov.case_accept(actor=cast.clara, case=c.case)
    services.application_inspect(actor=cast.clara, application=app, passed=True, note="符合要求")
    with pytest.raises(Conflict) as exc:
        services.licence_issue(actor=cast.clara, application=app)
    assert exc.value.code == "components_not_approved"
    assert exc.value.extra["pending"] == ["food", "fire", "sign", "tobacco"]
    for c in comps:
        gov.case_decide(actor=cast.olivia, case=ServiceCase.objects.get(pk=c.case_id), outcome="approve")
    licence = services.licence_issue(actor=cast.clara, application=app)
    app.refresh_from_db()
    assert app.state == "issued"
    comps = list(app.components.select_related("case").order_by("pk"))
    assert {c.case.state for c in comps} == {"delivered"}
    assert [c.cert_status for c in comps] == ["valid"] * 4
    today = comps[0].valid_from
    assert comps[0].valid_until == today.replace(year=today.year + 5)
    assert comps[1].valid_until is None  # the fire check does not expire
    assert comps[0].certificate_no == comps[0].case.result_ref == f"{licence.number}-FOOD"
    outcome = code_verify(services.licence_token(licence))
    fields = dict(outcome.verification.fields)
    assert outcome.verification.status == "valid"
    assert [name for name, _ in outcome.verification.fields][5:9] == [c.name for c in comps]
    assert fields["食品经营许可（新办）"].startswith(f"有效 · {licence.number}-FOOD · 有效期 {today:%Y-%m-%d} 至")
    # a component revoked, another renewed: the same QR code re-renders with the new statuses
    component_fire, component_food = comps[1], comps[0]
    services.component_revoke(actor=cast.olivia, component=component_fire, reason="消防检查不合格，撤销")
    services.component_renew(actor=cast.clara, component=component_food, valid_until=date(2040, 1, 1))
    fields = dict(code_verify(services.licence_token(licence)).verification.fields)
    assert fields["公众聚集场所投入使用、营业前消防安全检查"].startswith("已撤销")
    assert "消防检查不合格，撤销" in fields["公众聚集场所投入使用、营业前消防安全检查"]
    assert "至 2040-01-01" in fields["食品经营许可（新办）"]
    assert fields["烟草专卖零售许可证核发（新办）"].startswith("有效")
    # the holder chooses what the public page shows beyond the number, holder, industry and the components' status
    assert {"统一社会信用代码", "经营场所"} <= set(fields)
    with pytest.raises(Forbidden):
        services.licence_disclosure_set(actor=cast.alice, licence=licence, fields=[])
    services.licence_disclosure_set(actor=cast.bob, licence=licence, fields=["address", "unknown"])
    shown = code_verify(services.licence_token(licence)).verification.fields
    names = [name for name, _ in shown]
    assert names[:4] == ["许可证编号", "持证主体", "行业", "经营场所"] and "统一社会信用代码" not in names
    assert not any(licence.number + "-FOOD" in value for _, value in shown)  # the certificate numbers left out
    assert dict(shown)["食品经营许可（新办）"].startswith("有效 · 有效期")
    licence.refresh_from_db()
    assert licence.disclosure == ["address"]
    contexts = list(AuditEntry.objects.filter(object_type__icontains="licences").values_list("context", flat=True))
    for step in ("notice", "component_filed", "submit", "inspect", "component_issued", "licence_issue", "issued",
                 "component_revoke", "component_renew", "licence_disclosure"):
        assert step in contexts, step


def test_refusals(cast, yy):
    with pytest.raises(Forbidden):  # a bank officer is not an applicant
        services.application_start(actor=cast.bella, package=yy.cq_catering, answers=ALL_YES)
    with pytest.raises(InvalidInput) as exc:
        services.application_start(actor=cast.bob, package=yy.cq_catering, answers={"area": 10})
    assert exc.value.code == "answers_invalid" and set(exc.value.extra["errors"]) == {
        "seats", "food_prep", "tobacco", "outdoor_sign"}
    app = services.application_start(actor=cast.bob, package=yy.cq_catering, answers=ALL_YES)
    with pytest.raises(InvalidInput) as exc:
        services.application_submit(actor=cast.bob, application=app, form={**FORM, "shop_name": ""}, materials={})
    assert exc.value.code == "form_incomplete" and exc.value.extra["missing"] == ["shop_name"]
    with pytest.raises(InvalidInput) as exc:  # tobacco does not allow the pledge route
        services.application_submit(actor=cast.bob, application=app, form=FORM, materials={},
                                    routes={"tobacco": "pledge"})
    assert exc.value.code == "pledge_not_allowed"
    with pytest.raises(Forbidden):
        services.application_submit(actor=cast.alice, application=app, form=FORM, materials={})
    assert ServiceCase.objects.count() == 0 and app.components.count() == 0
    services.application_submit(actor=cast.bob, application=app, form={**FORM, "name": "改名"}, materials={})
    app.refresh_from_db()
    assert app.form["name"] == cast.bob_co.name  # the registry's name, not a typed one
    with pytest.raises(Conflict):
        services.application_submit(actor=cast.bob, application=app, form=FORM, materials={})
    assert ServiceCase.objects.count() == 4
    with pytest.raises(Forbidden):  # chen's hall is Chengdu's: not the Chongqing package's inspector
        services.application_inspect(actor=cast.chen, application=app, passed=True)


def test_filed_at_the_other_citys_window_is_collected_and_forwarded(cast, yy, django_capture_on_commit_callbacks):
    """chen (Chengdu hall) takes alice's Chongqing catering package at his window: the component cases are
    collected in Chengdu, and the forwarding task (queued once per case) sends each on to Chongqing."""
    from django_tasks_db.models import DBTaskResult

    from twincity.govservices.tasks import case_forward_task

    with django_capture_on_commit_callbacks(execute=True):
        app = services.application_start(actor=cast.chen, package=yy.cq_catering, enterprise=cast.alice_co,
                                          answers={**ALL_YES, "tobacco": False, "outdoor_sign": False})
        materials = {m["code"]: "submitted" for m in app.notice["materials"] if not m["held"]}
        services.application_submit(actor=cast.chen, application=app, form=FORM, materials=materials)
    assert app.channel == "window" and app.intake_city == "chengdu" and app.applicant_user is None
    cases = ServiceCase.objects.filter(package_component__application=app).order_by("pk")
    assert [(c.intake_city, c.item.city, c.intake_office.name, c.state) for c in cases] == [
        ("chengdu", "chongqing", "成都高新区政务服务中心", "collected")] * 2
    queued = DBTaskResult.objects.filter(task_path="twincity.govservices.tasks.case_forward_task")
    assert sorted(q.args_kwargs["kwargs"]["case_id"] for q in queued) == [c.pk for c in cases]
    for case in cases:
        assert case_forward_task.call(case_id=case.pk) == "received"
    assert [c.forwarded_at is not None for c in ServiceCase.objects.filter(pk__in=[c.pk for c in cases])] == [True] * 2
    # the Chongqing hall (clara) now sees and accepts them; chen's Chengdu hall sees the application it took
    from twincity.licences.access import can_view_application
    assert can_view_application(cast.clara, app) and can_view_application(cast.chen, app)
    assert not can_view_application(cast.bob, app)


def test_expiry_schedule(cast, yy):
    app = _submitted(cast, yy)
    _approve_all(cast.olivia, app)
    services.application_inspect(actor=cast.olivia, application=app, passed=True)
    services.licence_issue(actor=cast.olivia, application=app, at=timezone.now() - timedelta(days=6 * 366))
    expired = services.components_expire()
    assert ApplicationComponent.objects.filter(pk__in=expired).count() == 3  # food, sign, tobacco; fire never
    assert sorted(ApplicationComponent.objects.filter(cert_status="expired").values_list("code", flat=True)) == [
        "food", "sign", "tobacco"]
    assert services.components_expire() == []
    assert IndustryLicence.objects.count() == 1 and PackageApplication.objects.get().state == "issued"


def test_all_pledge_route_licence_first_then_inspection_revokes_on_a_false_pledge(cast, yy):
    """Every applying permit on the pledge route (告知承诺): the licence is issued on the approvals, before the
    joint inspection; the inspection afterwards finds the pledge untrue and revokes the pledged permits."""
    answers = {"area": 50, "seats": 10, "food_prep": False, "tobacco": False, "outdoor_sign": True}
    app = _submitted(cast, yy, answers=answers, routes={"food": "pledge", "sign": "pledge"})
    _approve_all(cast.olivia, app)
    licence = services.licence_issue(actor=cast.clara, application=app)
    app.refresh_from_db()
    assert app.state == "issued" and app.inspected_at is None
    with pytest.raises(InvalidInput):
        services.application_inspect(actor=cast.clara, application=app, passed=False)
    services.application_inspect(actor=cast.clara, application=app, passed=False, note="经营场所与承诺不符")
    assert sorted(app.components.values_list("code", "cert_status")) == [("food", "revoked"), ("sign", "revoked")]
    fields = dict(code_verify(services.licence_token(licence)).verification.fields)
    assert fields["食品经营许可（新办）"].startswith("已撤销") and "告知承诺核查不符：经营场所与承诺不符" in fields[
        "食品经营许可（新办）"]
    with pytest.raises(Conflict):  # inspected once
        services.application_inspect(actor=cast.clara, application=app, passed=True)


def test_a_standard_route_component_needs_the_inspection_first(cast, yy):
    answers = {"area": 50, "seats": 10, "food_prep": False, "tobacco": True, "outdoor_sign": False}
    app = _submitted(cast, yy, answers=answers, routes={"food": "pledge"})
    _approve_all(cast.olivia, app)
    with pytest.raises(Conflict) as exc:
        services.licence_issue(actor=cast.clara, application=app)
    assert exc.value.code == "not_inspected" and IndustryLicence.objects.count() == 0
