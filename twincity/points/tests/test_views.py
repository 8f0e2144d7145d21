"""The innovation-points pages: an enterprise's points and what-if, scoring runs, rankings, the whitelist
export and the standard editor — each for the right person, and refused to everyone else."""

import csv
import io
import json
import re

import pytest
from django.template.defaultfilters import floatformat
from openpyxl import load_workbook

from twincity.core.models import AuditEntry
from twincity.enterprises.models import AnnualDeclaration
from twincity.points import selectors, services, tasks
from twincity.points.models import ScoreResult, ScoringRun, StandardVersion
from twincity.points.tests import scenario
from twincity.testing import ALICE_CODE, BOB_CODE


@pytest.fixture(autouse=True)
def _settings(settings):
    settings.PASSWORD_HASHERS = ["django.contrib.auth.hashers.MD5PasswordHasher"]
    settings.POINTS_RUN_INLINE = True


@pytest.fixture
def scored(cast):
    """Both companies declared for 2023–2025 and scored under scp-v1 at 2026-06-30."""
    scenario.seed(cast)
    return scenario.run(cast, "scp-v1", "1")


def html(response) -> str:
    return response.content.decode()


def one_place(value) -> str:
    return f"{float(value):,.1f}".rstrip("0").rstrip(".")


def score_text(result) -> str:
    """A score as the pages print it: exact, or [min, max] while expert input is missing."""
    lo, hi = result.score_min, result.score_max
    return one_place(lo) if float(lo) == float(hi) else f"[{one_place(lo)}, {one_place(hi)}]"


# --- an enterprise's points ---------------------------------------------------------------------------------


def test_alice_sees_her_points_with_every_indicator_of_the_standard(client, cast, scored):
    result = ScoreResult.objects.get(run=scored, enterprise=cast.alice_co)
    client.force_login(cast.alice)

    response = client.get(f"/points/enterprises/{ALICE_CODE}/?standard=scp-v1")

    assert response.status_code == 200
    page = html(response)
    assert result.verdict == "pass" and result.grade == "A"
    assert f"<div class=\"value\" data-score>{score_text(result)}</div>" in page
    assert "<div class=\"value\" data-grade>A</div>" in page
    definition = selectors.standard_get(standard_id="scp-v1", version="1").definition
    for indicator in definition["indicators"]:
        assert f'data-indicator="{indicator["id"]}"' in page
        assert indicator["name_zh"] in page
    # The chart data for points.js, the history row and the what-if form pre-filled from the facts.
    categories = json.loads(re.search(r'<script id="category-data" type="application/json">(.*?)</script>',
                                      page, re.S).group(1))
    assert categories["labels"] == [c["name_zh"] for c in definition["categories"]]
    assert f'data-run="{scored.public_id}"' in page
    assert 'id="what-if-form"' in page
    assert 'name="rd_y3" value="400"' in page
    # Ratios read as percentages; what it takes to reach the next band is spelled out, on the result's scale.
    row = re.search(r'<tr data-indicator="rd_staff_share">(.*?)</tr>', page, re.S).group(1)
    assert "20.0%" in row
    assert "30.0%" in row and "（+11.3 分）" in row


def _without_tokens(page: str) -> str:
    return re.sub(r'(csrfmiddlewaretoken" value="|"X-CSRFToken": ")[^"]+', r"\1-", page)


def test_the_what_if_fields_rendered_once_per_result_read_as_rendered_afresh(client, cast, scored):
    """The result's section and the form's fields are kept per finished result (points.views._result_fragments):
    the page that reads them from the cache is the page rendered without it, byte for byte."""
    from django.core.cache import cache

    client.force_login(cast.alice)
    url = f"/points/enterprises/{ALICE_CODE}/?standard=scp-v1"
    cache.clear()
    first = _without_tokens(html(client.get(url)))
    again = _without_tokens(html(client.get(url)))
    assert again == first
    assert 'name="rd_y3" value="400"' in again


def test_a_new_run_shows_its_own_figures_in_the_what_if_form(client, cast, scored):
    """A new result (new figures declared, scored again) has keys of its own: the form shows its figures."""
    client.force_login(cast.alice)
    url = f"/points/enterprises/{ALICE_CODE}/?standard=scp-v1"
    assert 'name="rd_y3" value="400"' in html(client.get(url))
    declaration = AnnualDeclaration.objects.get(enterprise=cast.alice_co, fiscal_year=2025)
    figures = {name: getattr(declaration, name) for name in scenario.ALICE_YEARS[2025]}
    from twincity.enterprises.services import declaration_upsert

    declaration_upsert(actor=cast.olivia, enterprise=cast.alice_co, fiscal_year=2025, figures={**figures, "rd": 444})
    scenario.run(cast, "scp-v1", "1")
    page = html(client.get(url))
    assert 'name="rd_y3" value="444"' in page
    assert 'name="rd_y3" value="400"' not in page


def test_bob_bella_and_charlie_do_not_see_alice_points(client, cast, scored):
    # bob and charlie may not see the company (404); bella sees its profile, not its points (403).
    for user, status in ((cast.bob, 404), (cast.charlie, 404), (cast.bella, 403)):
        client.force_login(user)
        page = client.get(f"/points/enterprises/{ALICE_CODE}/")
        assert page.status_code == status
        what_if = client.post(f"/points/enterprises/{ALICE_CODE}/what-if", {"standard": "scp-v1"})
        assert what_if.status_code == status
        assert "data-score" not in page.content.decode()
    client.logout()
    response = client.get(f"/points/enterprises/{ALICE_CODE}/")
    assert response.status_code == 302 and response["Location"].startswith("/accounts/login/")


def test_without_a_run_the_page_says_so_and_offers_administrators_the_runs_page(client, cast):
    client.force_login(cast.alice)
    page = html(client.get(f"/points/enterprises/{ALICE_CODE}/"))
    assert 'data-state="no-result"' in page
    assert 'href="/points/runs/"' not in page

    client.force_login(cast.olivia)
    page = html(client.get(f"/points/enterprises/{ALICE_CODE}/"))
    assert 'data-state="no-result"' in page
    assert 'href="/points/runs/"' in page


def test_the_tabs_switch_between_kinds_of_evaluation_with_results(client, cast, scored):
    scenario.run(cast, "tsme-2017", "1")
    client.force_login(cast.alice)
    page = html(client.get(f"/points/enterprises/{ALICE_CODE}/?kind=tsme"))
    assert 'data-kind="scp"' in page and 'data-kind="tsme"' in page
    assert re.search(r'<a href="\?kind=tsme" data-kind="tsme" class="active"', page)
    assert 'data-standard="tsme-2017"' in page
    for indicator in selectors.standard_get(standard_id="tsme-2017", version="1").definition["indicators"]:
        assert f'data-indicator="{indicator["id"]}"' in page
    # A standard asked for by its id (the home page's links) still opens.
    assert 'data-standard="tsme-2017"' in html(client.get(f"/points/enterprises/{ALICE_CODE}/?standard=tsme-2017"))


def test_my_points_takes_alice_to_her_company(client, cast):
    client.force_login(cast.alice)
    response = client.get("/points/mine/")
    assert response.status_code == 302
    assert response["Location"] == f"/points/enterprises/{ALICE_CODE}/"


# --- what-if ------------------------------------------------------------------------------------------------


def test_what_if_answers_the_partial_with_the_new_score_and_saves_nothing(client, cast, scored):
    before = ScoreResult.objects.get(run=scored, enterprise=cast.alice_co)
    expected_before, expected_after = services.what_if(
        user=cast.alice, enterprise=cast.alice_co, standard=scored.standard,
        changes={"rd_staff": 40, "ip_I_self": 12},
    )
    counts = (ScoreResult.objects.count(), AnnualDeclaration.objects.count(), AuditEntry.objects.count())
    form = {name: "" if value is None else value for name, value in before.facts.items()}
    form.update({"standard": "scp-v1", "rd_staff": "40", "ip_I_self": "12"})
    client.force_login(cast.alice)

    response = client.post(f"/points/enterprises/{ALICE_CODE}/what-if", form, headers={"HX-Request": "true"})

    assert response.status_code == 200
    page = html(response)
    assert "<html" not in page
    assert page.lstrip().startswith('<div id="what-if-result" data-state="done">')
    after_text = score_text(expected_after)
    assert expected_after.score_max > expected_before.score_max
    assert f'<div class="value" data-score>{after_text}</div>' in page
    assert f'<div class="value" data-score>{score_text(before)}</div>' in page
    assert 'data-figure="rd_staff"' in page and 'data-figure="ip_I_self"' in page
    assert 'data-figure="sales_y3"' not in page  # unchanged figures are not listed
    assert '<tr data-indicator="rd_staff_share">' in page and '<tr data-indicator="ip_I">' in page
    assert counts == (ScoreResult.objects.count(), AnnualDeclaration.objects.count(),
                      AuditEntry.objects.count())
    assert ScoreResult.objects.get(pk=before.pk).score_max == before.score_max

    # Without htmx the form posts the classic way and gets the whole page with the result in place.
    page = html(client.post(f"/points/enterprises/{ALICE_CODE}/what-if", form))
    assert "<html" in page and 'id="category-chart"' in page
    assert f'<div class="value" data-score>{after_text}</div>' in page
    assert counts == (ScoreResult.objects.count(), AnnualDeclaration.objects.count(),
                      AuditEntry.objects.count())


def test_what_if_shows_invalid_figures_in_the_partial(client, cast, scored):
    client.force_login(cast.alice)
    response = client.post(f"/points/enterprises/{ALICE_CODE}/what-if",
                           {"standard": "scp-v1", "rd_y3": "lots"}, headers={"HX-Request": "true"})
    assert response.status_code == 200
    page = html(response)
    assert 'data-state="error"' in page
    assert "研发费用（2025年）" in page


# --- scoring runs -------------------------------------------------------------------------------------------


def test_only_administrators_open_or_start_runs(client, cast, scored):
    standard = selectors.standard_get(standard_id="scp-v1", version="1")
    for user in (cast.alice, cast.bella):
        client.force_login(user)
        assert client.get("/points/runs/").status_code == 403
        assert client.post("/points/runs/", {"standard": standard.pk, "evaluation_date": "2026-06-30"}
                           ).status_code == 403
        # A run is not theirs to see: 404, as on the API.
        assert client.get(f"/points/runs/{scored.public_id}/").status_code == 404
        assert client.get(f"/points/runs/{scored.public_id}/whitelist.csv").status_code == 404
    assert ScoringRun.objects.count() == 1


def test_olivia_starts_a_run_from_the_runs_page(client, cast):
    scenario.seed(cast)
    standard = selectors.standard_get(standard_id="scp-v1", version="1")
    client.force_login(cast.olivia)
    page = html(client.get("/points/runs/"))
    assert f'<option value="{standard.pk}">' in page
    assert 'name="evaluation_date"' in page

    response = client.post("/points/runs/", {"standard": standard.pk, "evaluation_date": "2026-06-30"})

    assert response.status_code == 302 and response["Location"] == "/points/runs/"
    run = ScoringRun.objects.get()
    assert (run.standard, str(run.evaluation_date), run.started_by, run.status) == (
        standard, "2026-06-30", cast.olivia, "done")
    page = html(client.get("/points/runs/"))
    assert f'data-run="{run.public_id}" data-status="done"' in page
    assert 'data-verdict="pass">' in page


def test_a_pending_run_polls_itself_until_it_is_done(client, cast):
    run = services.scoring_run_create(actor=cast.olivia, standard=selectors.standard_get(
        standard_id="tsme-2017", version="1"), evaluation_date=scenario.EVAL)
    client.force_login(cast.olivia)
    page = html(client.get("/points/runs/"))
    assert f'hx-get="/points/runs/{run.public_id}/status" hx-trigger="every 1s"' in page

    partial = html(client.get(f"/points/runs/{run.public_id}/status", headers={"HX-Request": "true"}))
    assert partial.lstrip().startswith(f'<tr id="run-{run.public_id}"')
    assert 'hx-trigger="every 1s"' in partial

    tasks.scoring_run_start(run=run)
    partial = html(client.get(f"/points/runs/{run.public_id}/status", headers={"HX-Request": "true"}))
    assert 'data-status="done"' in partial and "hx-trigger" not in partial
    detail = client.get(f"/points/runs/{run.public_id}/status?on=detail", headers={"HX-Request": "true"})
    assert detail["HX-Refresh"] == "true"


def test_the_run_page_shows_rankings_by_group_and_the_top_enterprises(client, cast, scored):
    client.force_login(cast.olivia)
    page = html(client.get(f"/points/runs/{scored.public_id}/"))
    assert '<tr data-group="ic"><td>集成电路</td><td class="num">1</td>' in page
    assert '<tr data-group="ict"><td>新一代信息技术/软件</td><td class="num">1</td>' in page
    assert 'id="group-chart" data-chart="group-mean"' in page
    group_data = json.loads(re.search(r'<script id="group-data" type="application/json">(.*?)</script>',
                                      page, re.S).group(1))
    assert group_data["labels"] == ["集成电路", "新一代信息技术/软件"]
    histogram = json.loads(re.search(r'<script id="histogram-data" type="application/json">(.*?)</script>',
                                     page, re.S).group(1))
    assert sum(histogram["counts"]) == 2
    top = re.findall(r'<tr data-credit-code="(\w+)">', page)
    assert top == [ALICE_CODE, BOB_CODE]
    assert f'href="/points/enterprises/{ALICE_CODE}/?kind=scp"' in page
    assert 'data-count="total">2<' in page

    url = f"/points/runs/{scored.public_id}/?group_by=city"
    partial = html(client.get(url, headers={"HX-Request": "true"}))
    assert "<html" not in partial
    assert partial.lstrip().startswith('<div id="rankings" data-group-by="city">')
    assert '<tr data-group="chongqing">' in partial and '<tr data-group="chengdu">' in partial


def test_the_whitelist_exports_csv_and_xlsx(client, cast, scored):
    alice = ScoreResult.objects.get(run=scored, enterprise=cast.alice_co)
    bob = ScoreResult.objects.get(run=scored, enterprise=cast.bob_co)
    client.force_login(cast.olivia)

    response = client.get(f"/points/runs/{scored.public_id}/whitelist.csv?min_grade=B")

    assert response.status_code == 200
    assert response["Content-Type"] == "text/csv; charset=utf-8"
    assert response["Content-Disposition"] == 'attachment; filename="whitelist-scp-v1-1-2026-06-30.csv"'
    rows = list(csv.reader(io.StringIO(response.content.decode("utf-8-sig"))))
    assert rows == [
        ["credit_code", "name", "city", "industry_cluster", "standard", "version", "evaluation_date",
         "verdict", "score_min", "score_max", "grade"],
        [ALICE_CODE, cast.alice_co.name, "chongqing", "ic", "scp-v1", "1", "2026-06-30", "pass",
         str(alice.score_min), str(alice.score_max), "A"],
        [cast.bob_co.credit_code, cast.bob_co.name, "chengdu", "ict", "scp-v1", "1", "2026-06-30", "pass",
         str(bob.score_min), str(bob.score_max), bob.grade],
    ]
    assert (alice.score_max > bob.score_max, bob.grade) == (True, "B")
    high = client.get(f"/points/runs/{scored.public_id}/whitelist.csv?min_score=99999")
    assert len(list(csv.reader(io.StringIO(high.content.decode("utf-8-sig"))))) == 1

    response = client.get(f"/points/runs/{scored.public_id}/whitelist.xlsx?min_grade=A")
    assert response["Content-Type"] == "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet"
    assert response["Content-Disposition"] == 'attachment; filename="whitelist-scp-v1-1-2026-06-30.xlsx"'
    sheet = load_workbook(io.BytesIO(response.content)).active
    values = list(sheet.iter_rows(values_only=True))
    assert values[0][0] == "credit_code" and values[1][0] == ALICE_CODE and len(values) == 2

    assert client.get(f"/points/runs/{scored.public_id}/whitelist.csv?min_grade=Z").status_code == 400


# --- standards ----------------------------------------------------------------------------------------------


def test_signed_in_people_read_the_standards_but_only_administrators_edit(client, cast):
    client.force_login(cast.alice)
    page = html(client.get("/points/standards/"))
    for standard_id in ("scp-v1", "tsme-2017", "hnte-2016", "innov-2022", "srdi-2022"):
        assert f'data-standard="{standard_id}"' in page
    detail = client.get("/points/standards/scp-v1/1/")
    assert detail.status_code == 200
    page = html(detail)
    assert "研发人员占比" in page and '<tr data-grade="A"><td>A</td><td class="num">700</td></tr>' in page
    assert 'id="standard-form"' not in page

    base = selectors.standard_get(standard_id="scp-v1", version="1")
    response = client.post("/points/standards/scp-v1/1/", {
        "version": "2", "note": "x", "definition": json.dumps(base.definition)})
    assert response.status_code == 403
    assert StandardVersion.objects.filter(standard_id="scp-v1").count() == 1

    client.logout()
    assert client.get("/points/standards/").status_code == 302


def test_olivia_derives_a_new_version_and_lands_on_the_diff(client, cast):
    base = selectors.standard_get(standard_id="scp-v1", version="1")
    client.force_login(cast.olivia)
    page = html(client.get("/points/standards/scp-v1/1/"))
    assert 'id="standard-form"' in page and 'name="version" value="2"' in page
    assert "&quot;rd_staff_share&quot;" in page  # the definition, pretty-printed, in the textarea

    definition = json.loads(json.dumps(base.definition))
    ip_I = next(i for i in definition["indicators"] if i["id"] == "ip_I")
    ip_I["banding"]["bands"][0]["points"] = 90
    response = client.post("/points/standards/scp-v1/1/", {
        "version": "2", "note": "Ⅰ类知识产权A档降为90分", "definition": json.dumps(definition, ensure_ascii=False)})

    assert response.status_code == 302
    assert response["Location"] == "/points/standards/scp-v1/diff?a=1&b=2"
    created = StandardVersion.objects.get(standard_id="scp-v1", version="2")
    assert (created.derived_from, created.created_by, created.note) == (base, cast.olivia, "Ⅰ类知识产权A档降为90分")

    page = html(client.get(response["Location"]))
    row = re.search(r'<tr data-path="indicators.ip_I.banding.bands.A.points">(.*?)</tr>', page, re.S).group(1)
    assert '<td class="mono old">100</td>' in row and '<td class="mono new">90</td>' in row
    assert '<tr data-path="version">' in page
    listing = html(client.get("/points/standards/"))
    assert '<tr data-version="2">' in listing and "Ⅰ类知识产权A档降为90分" in listing


def test_the_standards_page_read_from_the_cache_follows_a_new_version(client, cast,
                                                                     django_capture_on_commit_callbacks):
    """Readers' standards page is rendered once per registry version (twincity.core.caching): the same page as
    rendered afresh, and a new version (audited) shows at once."""
    from django.core.cache import cache

    client.force_login(cast.alice)
    cache.clear()
    first = _without_tokens(html(client.get("/points/standards/")))
    assert _without_tokens(html(client.get("/points/standards/"))) == first
    assert '<tr data-version="2">' not in first

    base = selectors.standard_get(standard_id="scp-v1", version="1")
    with django_capture_on_commit_callbacks(execute=True):
        services.standard_version_create(actor=cast.olivia, base=base, definition=base.definition, version="2",
                                         note="新版本")
    listing = html(client.get("/points/standards/"))
    assert '<tr data-version="2">' in listing and "新版本" in listing


def test_invalid_json_is_shown_with_the_text_kept_and_nothing_saved(client, cast):
    client.force_login(cast.olivia)
    broken = '{"id": "scp-v1", "indicators": [ oops'
    response = client.post("/points/standards/scp-v1/1/", {"version": "2", "note": "", "definition": broken})
    assert response.status_code == 422
    page = html(response)
    assert 'id="standard-errors"' in page and "这不是有效的 JSON（第 1 行，第" in page
    assert "oops" in page  # the text is kept in the form
    assert StandardVersion.objects.filter(standard_id="scp-v1").count() == 1


def test_an_invalid_standard_lists_the_engines_errors(client, cast):
    base = selectors.standard_get(standard_id="scp-v1", version="1")
    definition = json.loads(json.dumps(base.definition))
    definition["grades"] = [{"grade": "A", "min": 100}, {"grade": "B", "min": 200}]
    client.force_login(cast.olivia)
    response = client.post("/points/standards/scp-v1/1/",
                           {"version": "2", "definition": json.dumps(definition)})
    assert response.status_code == 422
    page = html(response)
    assert "grades: 各档 min 必须是严格递减的数字 / grade minimums must be strictly decreasing numbers" in page
    assert StandardVersion.objects.filter(standard_id="scp-v1").count() == 1


def test_the_diff_page_compares_any_two_versions(client, cast):
    base = selectors.standard_get(standard_id="tsme-2017", version="1")
    definition = dict(base.definition, name_zh="科技型中小企业评价（修订）")
    services.standard_version_create(actor=cast.olivia, base=base, definition=definition, version="1.1")
    client.force_login(cast.alice)
    page = html(client.get("/points/standards/tsme-2017/diff?a=1&b=1.1"))
    assert '<tr data-path="name_zh">' in page and "科技型中小企业评价（修订）" in page
    assert '<option value="1.1" selected>' in page
    same = html(client.get("/points/standards/tsme-2017/diff?a=1&b=1"))
    assert 'data-change-count="0"' in same
    assert client.get("/points/standards/nope/diff").status_code == 404
    assert client.get("/points/standards/scp-v1/99/").status_code == 404


# --- navigation and links -----------------------------------------------------------------------------------


def test_the_navigation_and_the_enterprise_page_lead_to_the_points_pages(client, cast):
    def urls(user):
        client.force_login(user)
        return [item.url for item in client.get("/").context["navigation"]]

    assert {"/points/runs/", "/points/standards/"} <= set(urls(cast.olivia))
    assert "/points/mine/" in urls(cast.alice) and "/points/runs/" not in urls(cast.alice)
    # The published standards are for everyone signed in; runs and points are not bella's.
    assert [u for u in urls(cast.bella) if u.startswith("/points/")] == ["/points/standards/"]

    client.force_login(cast.alice)
    assert f'href="/points/enterprises/{ALICE_CODE}/"' in html(client.get(f"/enterprises/{ALICE_CODE}/"))
    client.force_login(cast.bella)
    assert "/points/enterprises/" not in html(client.get(f"/enterprises/{ALICE_CODE}/"))



def test_alice_home_page_summarises_her_latest_points(client, cast, scored):
    alice = ScoreResult.objects.get(run=scored, enterprise=cast.alice_co)
    client.force_login(cast.alice)
    page = html(client.get("/"))
    code = cast.alice_co.credit_code
    card = re.search(rf'<a class="stat" href="/points/enterprises/{code}/\?standard=scp-v1" data-standard="scp-v1">(.*?)</a>',
                     page, re.S).group(1)
    assert '<span class="badge ok">通过</span>' in card
    low, high = floatformat(alice.score_min, "-1"), floatformat(alice.score_max, "-1")
    expected = high if alice.score_min == alice.score_max else f"{low}–{high}"
    assert f'<div class="value">{expected} · {alice.grade}</div>' in card
    # bob sees his own company's summary, never alice's.
    client.force_login(cast.bob)
    bob_home = html(client.get("/"))
    assert f"/points/enterprises/{cast.alice_co.credit_code}/" not in bob_home
    assert f"/points/enterprises/{cast.bob_co.credit_code}/?standard=scp-v1" in bob_home
