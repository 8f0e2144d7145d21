"""Financing in a real browser: alice sees the products she qualifies for with reasons and net cost, grants
bella's bank consent and publishes a demand; bella claims it (a second officer's claim then fails with 409),
reads alice's points under the consent, approves, disburses and records the repayment; alice sees every step
on the case's timeline, was notified of each, and the audit trail has them all."""

import re
from datetime import date, timedelta
from decimal import Decimal

import pytest

from twincity.core.errors import Conflict
from twincity.core.models import AuditEntry
from twincity.demo.finance import demo_products
from twincity.finance import services
from twincity.finance.models import AccessLog, Application, FinancialProduct
from twincity.finance.tests.cases import officer
from twincity.notifications.models import Notification
from twincity.points.tests import scenario
from twincity.testing import PASSWORD, Cast

from .conftest import login


def test_alice_publishes_a_demand_bella_claims_approves_lends_and_it_is_repaid(page, browser, settings, tmp_path):
    settings.POINTS_RUN_INLINE = True
    cast = Cast.create()
    scenario.seed(cast)
    scenario.run(cast, "scp-v1")
    FinancialProduct.objects.bulk_create(demo_products({"crcb_kxc": cast.bank_a_branch,
                                                        "cq_guarantee": cast.guarantor}))

    # alice: the products she qualifies for, each with its reasons and, for 100万 over 12 months, the net cost.
    login(page, "alice", PASSWORD)
    page.goto(f"{page.base_url}/finance/products/")
    page.fill("#id_amount", "100")
    page.fill("#id_term_months", "12")
    page.click("form.filters button[type=submit]")
    page.wait_for_selector("section.offer[data-product=crcb-points-loan] [data-net-cost]")
    offer = page.locator("section.offer[data-product=crcb-points-loan]")
    assert offer.locator("ul.reasons li").count() >= 4
    assert offer.locator("[data-net-rate]").inner_text() == "1.95%"  # 3.45 % − 1.5 % interest subsidy
    assert offer.locator("[data-net-cost]").inner_text().startswith("19,500.00")  # 100万 × 1.95 % × 1 year

    # She grants bella's bank (重庆农商行科学城支行) consent for financing.
    page.goto(f"{page.base_url}/finance/consents/")
    page.select_option("#id_institution", str(cast.bank_a_branch.pk))
    page.select_option("#id_purpose", "financing")
    page.fill("#id_valid_until", (date.today() + timedelta(days=90)).isoformat())
    page.click("#consent-form button[type=submit]")
    page.wait_for_selector("#consents tr[data-consent]")

    # …and publishes a demand of 200万 over 24 months.
    page.goto(f"{page.base_url}/finance/cases/")
    page.fill("#id_amount", "200")
    page.fill("#id_term_months", "24")
    page.fill("#id_purpose", "28nm 流片")
    page.click("#case-form button[type=submit]")
    page.wait_for_url(re.compile(r"/finance/cases/\d+/$"))
    case = Application.objects.get()
    assert page.locator("#case-state").get_attribute("data-state") == "published"
    assert case.claim_due is not None and page.locator("[data-claim-due]").inner_text().startswith(
        case.claim_due.isoformat())

    # bella: her work queue has it; she claims it.
    bella = browser.new_context(locale="zh-CN", timezone_id="Asia/Shanghai").new_page()
    bella.base_url = page.base_url
    login(bella, "bella", PASSWORD)
    bella.goto(f"{bella.base_url}/finance/queue/")
    bella.click(f"#to-claim tr[data-case='{case.pk}'] a")
    bella.click("#claim-case")
    bella.wait_for_selector("#case-state[data-state=claimed]")
    # A second officer of the same branch claims it too, a moment later: 409, nothing changes.
    rival = officer("carl", cast.bank_a_branch)
    with pytest.raises(Conflict) as raised:
        services.case_claim(actor=rival, case=case)
    assert raised.value.status == 409
    case.refresh_from_db()
    assert (case.state, case.lead_institution) == ("claimed", cast.bank_a_branch)
    # Under alice's consent bella reads her points on the case page; the read is logged for alice.
    assert "scp-v1" in bella.locator("#case-consent").inner_text()
    assert AccessLog.objects.filter(user=cast.bella, enterprise=cast.alice_co, what="points").exists()

    # She approves 150万 at 3.45 % over 24 months, disburses, and records the repayment.
    bella.select_option("#decision_decision", "approve")
    bella.fill("#decision_amount", "150")
    bella.fill("#decision_rate", "3.45")
    bella.fill("#decision_term_months", "24")
    bella.click("#decision-form button[type=submit]")
    bella.wait_for_selector("#case-state[data-state=approved]")
    bella.click("#disburse-form button[type=submit]")
    bella.wait_for_selector("#case-state[data-state=disbursed]")
    bella.click("#repay-form button[type=submit]")
    bella.wait_for_selector("#case-state[data-state=repaid]")
    case.refresh_from_db()
    assert (case.approved_amount, case.approved_rate, case.disbursed_amount, case.repaid_amount) == (
        Decimal("1500000.00"), Decimal("0.034500"), Decimal("1500000.00"), Decimal("1500000.00"))

    # alice sees each step on the timeline, was notified of each, and the audit trail has each.
    page.goto(f"{page.base_url}/finance/cases/")
    page.click(f"#cases tr[data-case='{case.pk}'] a")
    page.wait_for_selector("#case-state[data-state=repaid]")
    steps = page.locator("#timeline li").evaluate_all("items => items.map(i => i.dataset.action)")
    assert steps == ["create", "publish", "claim", "approve", "disburse", "repay"]
    page.screenshot(path=str(tmp_path / "alice-case.png"), full_page=True)
    notified = list(Notification.objects.filter(recipient=cast.alice).order_by("pk").values_list("event", flat=True))
    assert notified == ["finance.demand.published", "finance.demand.claimed", "finance.demand.approved",
                        "finance.demand.disbursed", "finance.demand.repaid"]
    assert page.locator("#unread-badge").inner_text() == "5"
    page.goto(f"{page.base_url}/notifications/")
    inbox = page.locator("#notifications").inner_text()
    for step in ("已发布", "已受理（认领）", "已批准", "已放款", "已结清"):
        assert f"融资需求 #{case.pk}（{cast.alice_co.name}）{step}" in inbox, step
    states = [e.changes.get("state", {}).get("after") for e in AuditEntry.objects.filter(
        object_type="finance.application", object_id=str(case.pk)).order_by("id")]
    assert states == ["draft", "published", "claimed", "approved", "disbursed", "repaid"]
