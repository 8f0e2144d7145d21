"""Innovation points in a real browser: olivia runs the scoring, reads the rankings, exports the whitelist and
derives a new standard version; alice reads her points and tries a what-if."""

import csv
import io
import json
import re

from twincity.points import selectors
from twincity.points.models import ScoringRun, StandardVersion
from twincity.points.tests import scenario
from twincity.testing import ALICE_CODE, PASSWORD, Cast

from .conftest import login, nav_click


def test_olivia_scores_the_registry_and_alice_reads_her_points(page, browser, settings, tmp_path):
    settings.POINTS_RUN_INLINE = True  # the live server runs in this process: the run finishes in the request
    cast = Cast.create()
    scenario.seed(cast)
    standard = selectors.standard_get(standard_id="scp-v1", version="1")

    # Olivia starts a run from the runs page.
    login(page, "olivia", PASSWORD)
    nav_click(page, "/points/runs/")
    page.select_option("select[name=standard]", str(standard.pk))
    page.fill("input[name=evaluation_date]", "2026-06-30")
    page.click("#run-start")
    page.wait_for_selector("table.runs tr[data-status=done]")
    run = ScoringRun.objects.get()
    assert run.status == "done" and run.verdict_counts == {"pass": 2}

    # The run page draws its charts (ECharts renders a canvas inside each chart div).
    page.click(f"tr[data-run='{run.public_id}'] a[data-link=run]")
    page.wait_for_url(re.compile(rf"/points/runs/{run.public_id}/$"))
    page.wait_for_selector("#group-chart canvas")
    page.wait_for_selector("#grade-chart canvas")
    page.wait_for_selector("#histogram-chart canvas")
    assert page.locator("table.top tr[data-credit-code]").count() == 2
    page.screenshot(path=str(tmp_path / "olivia-run.png"), full_page=True)

    # Regrouping by city swaps the rankings in place, with a fresh chart.
    page.select_option("#rankings-form select[name=group_by]", "city")
    page.wait_for_selector("#rankings[data-group-by=city] #group-chart canvas")

    # The whitelist of grade B or better, as CSV.
    page.select_option("select[name=min_grade]", "B")
    with page.expect_download() as download_info:
        page.click("#whitelist-csv")
    download = download_info.value
    assert download.suggested_filename == "whitelist-scp-v1-1-2026-06-30.csv"
    rows = list(csv.reader(io.StringIO(open(download.path(), encoding="utf-8-sig").read())))
    assert [row[0] for row in rows] == ["credit_code", ALICE_CODE, cast.bob_co.credit_code]

    # A new version of the standard, derived from v1 with one band changed, then the diff.
    nav_click(page, "/points/standards/")
    page.click("section[data-standard=scp-v1] tr[data-version='1'] a[data-link=version]")
    page.screenshot(path=str(tmp_path / "olivia-standard.png"), full_page=True)
    definition = json.loads(page.input_value("#id_definition"))
    next(i for i in definition["indicators"] if i["id"] == "ip_I")["banding"]["bands"][0]["points"] = 90
    assert page.input_value("#id_version") == "2"
    page.fill("#id_note", "A档降为90分")
    page.fill("#id_definition", json.dumps(definition, ensure_ascii=False, indent=2))
    page.click("#standard-submit")
    page.wait_for_url(re.compile(r"/points/standards/scp-v1/diff\?a=1&b=2$"))
    row = page.locator("tr[data-path='indicators.ip_I.banding.bands.A.points']")
    assert row.locator("td.old").inner_text() == "100"
    assert row.locator("td.new").inner_text() == "90"
    assert StandardVersion.objects.get(standard_id="scp-v1", version="2").derived_from == standard
    page.screenshot(path=str(tmp_path / "olivia-diff.png"), full_page=True)

    # Alice, in her own browser context, reads her points and tries a what-if.
    context = browser.new_context(locale="zh-CN", timezone_id="Asia/Shanghai",
                                  viewport={"width": 1280, "height": 900})
    try:
        alice = context.new_page()
        alice.set_default_timeout(15_000)
        alice.base_url = page.base_url
        login(alice, "alice", PASSWORD)
        nav_click(alice, "/points/mine/")
        alice.wait_for_url(re.compile(rf"/points/enterprises/{ALICE_CODE}/$"))
        alice.wait_for_selector("#category-chart canvas")
        alice.wait_for_selector("#history-chart canvas")
        before = alice.locator("#points-summary [data-score]").inner_text()
        indicators = alice.locator("table.indicators tr[data-indicator]")
        assert indicators.count() == len(standard.definition["indicators"])

        alice.fill("#what-if-form input[name=rd_staff]", "40")
        alice.fill("#what-if-form input[name=ip_I_self]", "12")
        alice.click("#what-if-submit")
        alice.wait_for_selector("#what-if-result[data-state=done]")
        assert alice.locator("#what-if-result [data-side=before] [data-score]").inner_text() == before
        after = alice.locator("#what-if-result [data-side=after] [data-score]").inner_text()
        assert after != before
        assert alice.locator("#what-if-result tr[data-figure=rd_staff]").count() == 1
        alice.locator("#what-if").screenshot(path=str(tmp_path / "alice-what-if.png"))
        # Nothing was saved: the page still shows the stored score.
        alice.reload()
        assert alice.locator("#points-summary [data-score]").inner_text() == before
        alice.screenshot(path=str(tmp_path / "alice-points.png"), full_page=True)
    finally:
        context.close()
