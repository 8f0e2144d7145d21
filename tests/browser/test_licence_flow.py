"""Browser test (一业一证): bob, whose company is registered in Chengdu, opens a catering shop in Chongqing. He
answers the package's questions, gets the one notice (告知单), fills the one form (the shared fields come from
the registry), submits; the four component cases land in clara's queue (the Chongqing service hall) and are
accepted there in parallel; the departments' decisions are taken (olivia acts for them); clara records the
joint inspection and issues the industry licence; its QR code's verify page shows every component. The
database and the audit trail are checked after each stage."""

from tests.browser.conftest import login, nav_click
from twincity.testing import PASSWORD


def test_bob_opens_a_catering_shop_in_chongqing(page, cast):
    from twincity.core.models import AuditEntry
    from twincity.demo.licences import licences_catalogue_load
    from twincity.govservices.models import ServiceCase
    from twincity.licences.models import IndustryLicence, PackageApplication

    licences_catalogue_load(actor=cast.olivia)
    cast.bob_co.contact_person, cast.bob_co.address = "鲍勃", "成都高新区天府大道中段 1268 号"
    cast.bob_co.save()
    base = page.base_url

    # --- bob: questions → notice -------------------------------------------------------------------------
    login(page, "bob", PASSWORD)
    nav_click(page, "/licences/")
    page.click("#packages a:has-text('重庆高新区“一业一证”·开办餐饮店')")
    assert "演示数据" in page.inner_text("#demo-mark")
    page.fill("#q_area", "320")
    page.fill("#q_seats", "80")
    page.select_option("#q_food_prep", "true")
    page.select_option("#q_tobacco", "true")
    page.select_option("#q_outdoor_sign", "true")
    page.click("#get-notice")
    page.wait_for_selector("#notice")
    assert page.inner_text("#component-count") == "4"
    assert page.inner_text("#promised-days") == "13"
    rows = page.locator("#notice-components tbody tr")
    assert [rows.nth(i).get_attribute("data-code") for i in range(rows.count())] == ["food", "fire", "sign", "tobacco"]
    materials = page.locator("#notice-materials tbody tr")
    codes = [materials.nth(i).get_attribute("data-code") for i in range(materials.count())]
    assert len(codes) == len(set(codes)) == 13  # each material once, whatever the number of permits asking for it
    assert "食品经营许可" not in page.inner_text("#notice-materials")  # (material names, not permits)
    assert "政府部门已有（免提交）" in page.inner_text("#notice-materials tr[data-code=business_licence]")
    app = PackageApplication.objects.get()
    assert (app.state, app.enterprise_id, app.channel) == ("noticed", cast.bob_co.pk, "online")
    assert ServiceCase.objects.count() == 0

    # --- bob: the one form, shared fields filled from the registry ------------------------------------------
    assert page.input_value("#f_name") == cast.bob_co.name
    assert page.input_value("#f_uscc") == cast.bob_co.credit_code
    assert page.input_value("#f_legal_rep") == "鲍勃"
    assert page.input_value("#f_address") == "成都高新区天府大道中段 1268 号"
    page.fill("#f_shop_name", "星云小馆")
    page.fill("#f_premises", "重庆高新区科学大道 88 号")
    page.fill("#f_phone", "023-60000000")
    page.check("#r_food")  # the pledge route (告知承诺) for the food business licence
    page.click("#submit-form")
    page.wait_for_selector("#component-cases")
    assert page.get_attribute("#app-state", "data-state") == "submitted"
    states = page.locator("#component-cases td.case-state")
    assert [states.nth(i).get_attribute("data-state") for i in range(4)] == ["received"] * 4
    app.refresh_from_db()
    cases = {c.code: c.case for c in app.components.select_related("case", "case__department")}
    assert {code: case.department.name for code, case in cases.items()} == {
        "food": "重庆高新区市场监督管理局", "fire": "重庆高新区消防救援支队", "sign": "重庆高新区城市管理局",
        "tobacco": "重庆市烟草专卖局高新区分局"}
    assert app.components.get(code="food").route == "pledge"
    assert {c.item.city for c in cases.values()} == {"chongqing"}
    page.context.clear_cookies()

    # --- clara: the four cases in her queue, accepted in parallel -----------------------------------------
    login(page, "clara", PASSWORD)
    nav_click(page, "/govservices/queue/")
    for case in cases.values():
        row = page.locator(f"#queue tr[data-case='{case.pk}']")
        assert row.get_attribute("data-state") == "received"
    for case in cases.values():
        page.goto(f"{base}/govservices/cases/{case.pk}/")
        page.click("form.step[data-action=accept] button")
        page.wait_for_selector("ul.messages li.success")
    assert set(ServiceCase.objects.filter(pk__in=[c.pk for c in cases.values()]).values_list("state", flat=True)) \
        == {"handling"}
    page.context.clear_cookies()

    # --- the departments decide (olivia acts for them on the case pages) ----------------------------------
    login(page, "olivia", PASSWORD)
    for case in cases.values():
        page.goto(f"{base}/govservices/cases/{case.pk}/")
        page.select_option("form.step[data-action=decide] select[name=outcome]", "approve")
        page.click("form.step[data-action=decide] button")
        page.wait_for_selector("form.step[data-action=deliver]")
    page.context.clear_cookies()

    # --- clara: joint inspection, then the licence -----------------------------------------------------------
    login(page, "clara", PASSWORD)
    nav_click(page, "/licences/hall/")
    page.click(f"#applications a:has-text('{app.number}')")
    page.fill("#inspect-note", "联合核查：场所、消防设施与招牌符合要求")
    page.click("#inspect-submit")
    page.wait_for_selector("#issue-submit")
    page.click("#issue-submit")
    page.wait_for_selector("#licence-qr svg")
    licence = IndustryLicence.objects.get()
    assert page.inner_text("#licence-number") == licence.number
    statuses = page.locator("#licence-components td[data-status]")
    assert [statuses.nth(i).get_attribute("data-status") for i in range(4)] == ["valid"] * 4
    app.refresh_from_db()
    assert app.state == "issued" and app.inspection_passed is True
    assert set(ServiceCase.objects.filter(pk__in=[c.pk for c in cases.values()]).values_list("state", flat=True)) \
        == {"delivered"}

    # --- the QR code's verify page, signed out, shows every component -------------------------------------
    verify = page.get_attribute("#verify-link", "href")
    page.context.clear_cookies()
    page.goto(verify)
    assert page.get_attribute(".verify-result", "data-result") == "valid"
    shown = page.inner_text(".verify-fields")
    for name in ("食品经营许可（新办）", "公众聚集场所投入使用、营业前消防安全检查", "户外招牌设施设置（规范管理）",
                 "烟草专卖零售许可证核发（新办）"):
        assert name in shown
    assert shown.count("有效 · ") == 4 and cast.bob_co.credit_code in shown
    # a component revoked: the same code re-renders with it revoked, the others still valid
    from twincity.licences.services import component_revoke
    component_revoke(actor=cast.olivia, component=app.components.get(code="sign"), reason="招牌设置不符合规范")
    page.goto(verify)
    shown = page.inner_text(".verify-fields")
    assert shown.count("有效 · ") == 3 and "已撤销" in shown and "招牌设置不符合规范" in shown

    # --- the audit trail -----------------------------------------------------------------------------------
    contexts = list(AuditEntry.objects.filter(object_type__startswith="licences").values_list("context", flat=True))
    for step in ("notice", "submit", "inspect", "licence_issue", "component_revoke"):
        assert step in contexts
    assert contexts.count("component_filed") == 4 and contexts.count("component_issued") == 4
    case_steps = AuditEntry.objects.filter(object_type__startswith="govservices", context__startswith="accept")
    assert {e.actor_id for e in case_steps} == {cast.clara.pk} and case_steps.count() == 4
