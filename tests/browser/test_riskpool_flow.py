"""Guarantees and the risk pool in a real browser: gary (guarantee officer) opens 担保与风险池 from the navigation
and attaches a guarantee with a re-guarantor to bella's disbursed loan through the page form (the fee of
¥15,000.00 at 1 %). The loan is reported overdue and declared in default by the bank. bella files a claim of
¥1,234,567.89 on the guarantee page; gary starts the review and approves it; olivia pays it out. Every party then
sees the same split at 4:3:2:1 to the fen (493,827.15 / 370,370.37 / 246,913.58 / 123,456.79), the pool's balance
falls by its share, and the audit trail holds each step."""

import re
from datetime import date
from decimal import Decimal

from playwright.sync_api import expect

from twincity.accounts.models import Organisation
from twincity.core.models import AuditEntry
from twincity.finance import services as finance_services
from twincity.finance.models import ApplicationState
from twincity.riskpool import selectors, services
from twincity.riskpool.models import Claim, Guarantee
from twincity.riskpool.tests.conftest import ANHUI, make_loan
from twincity.testing import PASSWORD, Cast

from .conftest import login, nav_click


def test_a_guarantee_from_attachment_to_payout_through_the_pages(page, browser):
    cast = Cast.create()
    reguarantor = Organisation.objects.create(name="四川省再担保", kind="guarantor", city="chengdu")
    pool = services.pool_create(actor=cast.olivia, name="科学城风险补偿资金池", operator=cast.committee,
                                city="chongqing", default_shares=ANHUI, breaker_threshold="0.5")
    services.pool_contribute(actor=cast.olivia, pool=pool, contributor=cast.committee, amount="10000000.00")
    loan = make_loan(cast, amount="1500000.00")

    # gary attaches the guarantee through the form on 担保与风险池
    login(page, "gary", PASSWORD)
    nav_click(page, "/riskpool/")
    if page.locator("#attach").get_attribute("open") is None:  # open at first when he has no guarantee yet
        page.locator("#attach summary").click()
    page.select_option("#attach select[name=application]", str(loan.pk))
    page.select_option("#attach select[name=reguarantor]", str(reguarantor.pk))
    page.fill("#attach input[name=fee_rate]", "0.01")
    page.click("#attach button[type=submit]")
    page.wait_for_url(re.compile(r"/riskpool/guarantees/\d+/$"))
    guarantee = Guarantee.objects.get()
    assert page.url.endswith(f"/riskpool/guarantees/{guarantee.pk}/")
    expect(page.locator("[data-fee]")).to_have_text("15,000.00 元")
    assert (guarantee.guarantor_id, guarantee.reguarantor_id, guarantee.covered_amount) == (
        cast.guarantor.pk, reguarantor.pk, Decimal("1500000.00"))

    # the bank reports the loan overdue, then in default (finance's state machine)
    finance_services.case_mark_overdue(actor=cast.bella, case=loan, amount="1500000.00", on=date(2026, 6, 30))
    finance_services.case_default(actor=cast.bella, case=loan, on=date(2026, 9, 30), comment="逾期90天")
    loan.refresh_from_db()
    assert loan.state == ApplicationState.DEFAULTED

    # bella files the claim on the guarantee page
    page.context.clear_cookies()
    login(page, "bella", PASSWORD)
    page.goto(f"{page.base_url}/riskpool/guarantees/{guarantee.pk}/")
    page.fill("#file-claim input[name=amount]", "1234567.89")
    page.fill("#file-claim input[name=description]", "借款人停产，贷款逾期")
    page.click("#file-claim button[type=submit]")
    expect(page.locator("[data-claim]")).to_have_attribute("data-status", "filed")
    claim = Claim.objects.get()
    expect(page.locator("#file-claim")).to_have_count(0)

    # gary reviews and approves it
    page.context.clear_cookies()
    login(page, "gary", PASSWORD)
    page.goto(f"{page.base_url}/riskpool/guarantees/{guarantee.pk}/")
    page.click(f"[data-claim='{claim.pk}'] button[data-action=review]")
    page.click(f"[data-claim='{claim.pk}'] button[data-action=approve]")
    expect(page.locator(f"[data-claim='{claim.pk}']")).to_have_attribute("data-status", "approved")
    expect(page.locator(f"[data-claim='{claim.pk}'] button[data-action=pay]")).to_have_count(0)

    # olivia pays it out; every party's loss is its share to the fen
    page.context.clear_cookies()
    login(page, "olivia", PASSWORD)
    page.goto(f"{page.base_url}/riskpool/guarantees/{guarantee.pk}/")
    page.click(f"[data-claim='{claim.pk}'] button[data-action=pay]")
    expect(page.locator(f"[data-claim='{claim.pk}']")).to_have_attribute("data-status", "paid")
    losses = {role: page.locator(f"tr[data-party='{role}'] td[data-loss]").inner_text().removesuffix(" 元").strip()
              for role in ("guarantor", "reguarantor", "bank", "pool")}
    assert losses == {"guarantor": "493,827.15", "reguarantor": "370,370.37", "bank": "246,913.58",
                      "pool": "123,456.79"}

    # the pool's overview: contributions + the pool's fee share − its payout
    page.goto(f"{page.base_url}/riskpool/pools/{pool.pk}/")
    figures = selectors.pool_figures(pool)
    assert figures.payouts == Decimal("123456.79")
    expect(page.locator("[data-figure=balance]")).to_have_text(f"{figures.balance:,.2f} 元")
    assert figures.balance == Decimal("10000000.00") + figures.fees - Decimal("123456.79")

    steps = list(AuditEntry.objects.filter(object_type="riskpool.claim", object_id=str(claim.pk))
                 .order_by("at", "pk").values_list("action", "context", "actor__username"))
    assert steps == [("create", "", "bella"), ("update", "review: ", "gary"), ("update", "approve: ", "gary"),
                     ("update", "pay: ", "olivia")]
