"""The finance dashboard in a real browser: olivia follows the navigation to it, sees the figures and the
ECharts charts drawn, filters by period and city (htmx swaps the figures and the charts are drawn again) and
downloads the league table; bella sees the other institutions anonymised."""

import csv
import io

from twincity.finance.tests.test_dashboard import make_cases
from twincity.testing import PASSWORD, Cast

from .conftest import login, nav_click


def test_olivia_filters_the_dashboard_and_bella_sees_others_anonymised(page, browser):
    cast = Cast.create()
    make_cases(cast)

    login(page, "olivia", PASSWORD)
    nav_click(page, "/finance/dashboard/")
    page.wait_for_selector("h1:text('科技金融看板')")
    assert page.locator('[data-figure="cases"]').inner_text() == "0"  # the last 12 months: the cases are 2025's

    page.fill("#id_date_from", "2025-01-01")
    page.fill("#id_date_to", "2025-12-31")
    page.click("#dashboard-filters button[type=submit]")
    page.wait_for_function("document.querySelector('[data-figure=cases]').textContent.trim() === '7'")
    assert page.locator('[data-figure="claim-rate"]').inner_text() == "75.0 %"
    assert page.locator('[data-figure="approval-rate"]').inner_text() == "75.0 %"
    page.wait_for_selector("[data-chart=league-rates][data-chart-ready] canvas")
    assert page.locator("#twin-city tr[data-case] td").nth(8).inner_text() == "8"  # working days to disbursement

    page.select_option("#id_city", "chengdu")
    page.wait_for_function("document.querySelector('[data-figure=cases]').textContent.trim() === '3'")
    assert "city=chengdu" in page.url
    page.wait_for_selector("[data-chart=league-days][data-chart-ready] canvas")

    with page.expect_download() as download:
        page.click("#league .exports a:text('CSV')")
    text = open(download.value.path(), encoding="utf-8-sig").read()
    rows = list(csv.reader(io.StringIO(text)))
    assert download.value.suggested_filename == "finance-league-2025-01-01-2025-12-31-chengdu.csv"
    assert rows[0][0] == "机构 institution" and len(rows) == 3

    page.context.clear_cookies()
    login(page, "bella", PASSWORD)
    page.goto(f"{page.base_url}/finance/dashboard/?date_from=2025-01-01&date_to=2025-12-31")
    assert page.locator('[data-figure="cases"]').inner_text() == "4"
    assert page.locator("#league tr[data-institution=anonymous] td").first.inner_text() == "机构 A"
    assert page.locator("#league tr.own td").first.inner_text().startswith(cast.bank_a_branch.name)
