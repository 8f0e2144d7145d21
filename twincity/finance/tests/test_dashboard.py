"""The finance dashboard (科技金融看板): exact figures on a small set of cases in known states and dates (2025,
across the National Day / Mid-Autumn holiday with its make-up working days), who sees what (olivia, bella,
bruno, alice), the exports, and a bound on the queries."""

import csv
import datetime as dt
import io
from decimal import Decimal

import pytest
from hypothesis import given
from hypothesis import strategies as st
from openpyxl import load_workbook

from twincity.core import workdays
from twincity.finance import dashboard as figures
from twincity.finance.models import Application, FinancialProduct
from twincity.points.models import ScoreResult, ScoringRun, StandardVersion

SH = workdays.SHANGHAI
YEAR_2025 = "date_from=2025-01-01&date_to=2025-12-31"
ALL_2025 = figures.Filters(dt.date(2025, 1, 1), dt.date(2025, 12, 31))
TODAY = dt.date(2026, 11, 29)
REASON = "经营现金流不足"


def at(day: str, hour: int = 10) -> dt.datetime:
    """A Shanghai wall-clock time, stored as it is (aware; Django stores UTC)."""
    return dt.datetime.combine(dt.date.fromisoformat(day), dt.time(hour), tzinfo=SH)


def d(day: str) -> dt.date:
    return dt.date.fromisoformat(day)


@pytest.fixture
def cases(cast):
    return make_cases(cast)


def make_cases(cast) -> dict[str, Application]:
    """Five demands, one application, one twin-city loan (see the module's figures below)."""
    kxc, gx = cast.bank_a_branch, cast.bank_b_branch  # 重庆农商行科学城支行 (bella), 成都银行高新支行 (bruno)
    product = FinancialProduct.objects.create(product_id="t-points", version=1, institution=kxc, kind="points_loan",
                                              name_zh="测试积分贷", name_en="Test points loan", definition={})
    twin = FinancialProduct.objects.create(product_id="t-twin", version=1, institution=kxc, kind="twin_city_loan",
                                           name_zh="测试双城贷", name_en="Test twin-city loan", definition={})
    alice, bob = cast.alice_co, cast.bob_co
    demand = {"kind": "demand", "term_months": 12, "purpose": "研发"}
    made = {
        # Published Fri 09-26, claimed Mon 09-29 (Sun 09-28 is a make-up working day): 2 wd, 3 cd; decided
        # Fri 10-10 across the holiday 10-01…10-08: 3 wd (09-30, 10-09, 10-10), 11 cd. Disbursed.
        "D1": Application(**demand, enterprise=alice, amount=Decimal("1000000"), registered_city="chongqing",
                          project_city="chongqing", lead_institution=kxc, state="disbursed",
                          submitted_at=at("2025-09-26"), claim_due=d("2025-09-30"), claimed_at=at("2025-09-29"),
                          decision_due=d("2025-10-20"), decided_at=at("2025-10-10"),
                          approved_amount=Decimal("800000"), disbursed_amount=Decimal("800000"),
                          disbursed_on=d("2025-10-15")),
        # Claimed in 2 wd (in time), rejected after 11 wd (late: due 03-19).
        "D2": Application(**demand, enterprise=alice, amount=Decimal("2000000"), registered_city="chongqing",
                          project_city="chongqing", lead_institution=kxc, state="rejected", reason=REASON,
                          submitted_at=at("2025-03-03"), claim_due=d("2025-03-06"), claimed_at=at("2025-03-05"),
                          decision_due=d("2025-03-19"), decided_at=at("2025-03-20")),
        # bob's demand in Chengdu, claimed late by bruno's branch after 4 wd (Mon 06-02 is the Dragon Boat holiday).
        "D3": Application(**demand, enterprise=bob, amount=Decimal("3000000"), registered_city="chengdu",
                          project_city="chengdu", lead_institution=gx, state="claimed",
                          submitted_at=at("2025-06-02"), claim_due=d("2025-06-05"), claimed_at=at("2025-06-06")),
        # Never claimed; its window is over and it was escalated (offered to every bank branch).
        "D4": Application(**demand, enterprise=bob, amount=Decimal("500000"), registered_city="chengdu",
                          project_city="chengdu", state="published", submitted_at=at("2025-07-01"),
                          claim_due=d("2025-07-04"), escalated_at=at("2025-07-05")),
        # Withdrawn before anyone claimed it: not a demand that could have been claimed.
        "D5": Application(**demand, enterprise=alice, amount=Decimal("700000"), registered_city="chongqing",
                          project_city="chongqing", state="withdrawn", submitted_at=at("2025-08-01"),
                          claim_due=d("2025-08-06")),
        # A draft never counts.
        "D6": Application(**demand, enterprise=alice, amount=Decimal("900000"), state="draft"),
        # An application accepted the next day (1 wd), approved after 4 wd (6 cd).
        "A1": Application(kind="application", enterprise=alice, product=product, amount=Decimal("500000"),
                          term_months=12, purpose="研发", lead_institution=kxc, state="approved",
                          submitted_at=at("2025-11-03"), claim_due=d("2025-11-06"), claimed_at=at("2025-11-04"),
                          decision_due=d("2025-11-18"), decided_at=at("2025-11-10"),
                          approved_amount=Decimal("500000")),
        # 双城贷: bob (registered in Chengdu), project in Chongqing; lead kxc, partner gx. Submitted Thu 09-25,
        # disbursed Mon 10-13: 8 wd (09-26, 09-28, 09-29, 09-30, 10-09, 10-10, 10-11, 10-13), 18 cd.
        "T1": Application(kind="application", enterprise=bob, product=twin, amount=Decimal("20000000"),
                          term_months=36, purpose="储能项目", registered_city="chengdu", project_city="chongqing",
                          lead_institution=kxc, partner_institution=gx, state="disbursed",
                          submitted_at=at("2025-09-25"), claim_due=d("2025-09-30"), claimed_at=at("2025-09-26"),
                          decision_due=d("2025-10-17"), decided_at=at("2025-10-09"),
                          approved_amount=Decimal("18000000"), disbursed_amount=Decimal("18000000"),
                          disbursed_on=d("2025-10-13")),
        # Outside the period.
        "OLD": Application(**demand, enterprise=alice, amount=Decimal("100000"), registered_city="chongqing",
                           project_city="chongqing", state="published", submitted_at=at("2024-12-31", 23),
                           claim_due=d("2025-01-03")),
    }
    for case in made.values():
        case.save()
    # alice was graded B under scp-v1 in a run evaluated before her 2025 cases.
    standard = StandardVersion.objects.get(standard_id=figures.GRADE_STANDARD)
    run = ScoringRun.objects.create(standard=standard, evaluation_date=d("2025-01-01"), status="done")
    ScoreResult.objects.create(run=run, enterprise=alice, verdict="pass", grade="B")
    return made


def board(institution_ids=None, filters=ALL_2025):
    return figures.dashboard(filters=filters, institution_ids=institution_ids, today=TODAY)


def test_the_calendar_behind_the_figures():
    """The working days the fixture's comments count, by the platform's calendar."""
    assert workdays.working_days_between(d("2025-09-26"), d("2025-09-29")) == 2
    assert workdays.working_days_between(d("2025-09-29"), d("2025-10-10")) == 3
    assert workdays.working_days_between(d("2025-09-25"), d("2025-10-13")) == 8
    assert workdays.working_days_between(d("2025-03-05"), d("2025-03-20")) == 11
    assert workdays.working_days_between(d("2025-06-02"), d("2025-06-06")) == 4


def test_overview_for_the_administrator(cases):
    o = board().overview
    assert (o.cases, o.demands, o.applications) == (7, 5, 2)  # not the draft, not 2024
    assert o.asked == Decimal("27700000.00")
    assert (o.approved, o.rejected, o.approval_rate) == (3, 1, 75.0)
    assert o.approved_amount == Decimal("19300000.00")
    assert (o.disbursed, o.disbursed_amount) == (2, Decimal("18800000.00"))
    # 5 published; D5 withdrawn before a claim; 3 claimed of the 4 that could be: 75 %.
    assert (o.claim.published, o.claim.claimable, o.claim.claimed, o.claim.rate) == (5, 4, 3, 75.0)
    # Time to claim: D1 2 wd / 3 cd, D2 2/2, D3 4/4, A1 1/1, T1 1/1.
    assert o.to_claim == figures.Durations(n=5, wd_mean=2.0, wd_median=2.0, wd_max=4, cd_mean=2.2, cd_median=2.0,
                                           cd_max=4)
    # Time to decision: D1 3 wd / 11 cd (across National Day), D2 11/15, A1 4/6, T1 4/13.
    assert o.to_decision == figures.Durations(n=4, wd_mean=5.5, wd_median=4.0, wd_max=11, cd_mean=11.2,
                                              cd_median=12.0, cd_max=15)


def test_volume_by_each_dimension(cases, cast):
    v = board().volumes
    by = {dim: {r.key: (r.cases, r.asked, r.approved, r.disbursed) for r in rows} for dim, rows in v.items()}
    assert by["product"] == {"": (5, Decimal("7200000.00"), 1, 1), "t-twin": (1, Decimal("20000000.00"), 1, 1),
                             "t-points": (1, Decimal("500000.00"), 1, 0)}
    kxc, gx = str(cast.bank_a_branch.pk), str(cast.bank_b_branch.pk)
    assert by["institution"] == {kxc: (4, Decimal("23500000.00"), 3, 2), gx: (1, Decimal("3000000.00"), 0, 0),
                                 "": (2, Decimal("1200000.00"), 0, 0)}
    assert by["city"] == {"chongqing": (4, Decimal("4200000.00"), 2, 1), "chengdu": (3, Decimal("23500000.00"), 1, 1)}
    assert by["cluster"] == {"ic": (4, Decimal("4200000.00"), 2, 1), "ict": (3, Decimal("23500000.00"), 1, 1)}
    # alice's cases carry her grade at submission (B); bob has none.
    assert by["grade"] == {"B": (4, Decimal("4200000.00"), 2, 1), "": (3, Decimal("23500000.00"), 1, 1)}
    labels = {r.key: r.label for r in v["city"]}
    assert labels == {"chongqing": "重庆", "chengdu": "成都"}


def test_league_table_for_the_administrator(cases, cast):
    rows = {r.institution_id: r for r in board().league}
    kxc, gx = rows[cast.bank_a_branch.pk], rows[cast.bank_b_branch.pk]
    assert len(rows) == 2  # the cast's two bank branches
    # kxc: D1, D2, A1, T1 routed; offered D1, D2 (Chongqing) + D4 (escalated); claimed D1, D2.
    assert (kxc.routed, kxc.offered, kxc.claimed, kxc.claim_rate) == (4, 3, 2, 66.7)
    assert (kxc.decided, kxc.approved, kxc.rejected, kxc.approval_rate) == (4, 3, 1, 75.0)
    assert (kxc.claimed_in_time, kxc.claim_due_known) == (4, 4)
    assert (kxc.decided_in_time, kxc.decision_due_known, kxc.decided_in_time_rate) == (3, 4, 75.0)
    assert (kxc.to_decision.wd_median, kxc.to_decision.cd_median) == (4.0, 12.0)
    assert kxc.reasons == [(REASON, 1)]
    assert kxc.named and kxc.name == cast.bank_a_branch.name and kxc.head_office == cast.bank_a.name
    # gx: D3 routed; offered D3 + D4; claimed D3 (late).
    assert (gx.routed, gx.offered, gx.claimed, gx.claim_rate) == (1, 2, 1, 50.0)
    assert (gx.claimed_in_time, gx.claim_due_known, gx.decided, gx.approval_rate) == (0, 1, 0, None)
    assert (gx.to_claim.wd_median, gx.to_claim.cd_median) == (4.0, 4.0)
    assert board().reasons == [(REASON, 1)]


def test_twin_city_time_to_disbursement(cases, cast):
    rows, summary = board().twin_city, board().twin_city_durations
    assert [(r.case_id, r.working_days, r.calendar_days) for r in rows] == [(cases["T1"].pk, 8, 18)]
    assert (summary.n, summary.wd_median, summary.cd_median) == (1, 8.0, 18.0)


def test_city_and_period_filters(cases):
    chengdu = board(filters=figures.Filters(ALL_2025.date_from, ALL_2025.date_to, "chengdu")).overview
    assert (chengdu.cases, chengdu.demands) == (3, 2)  # D3, D4, T1
    autumn = board(filters=figures.Filters(d("2025-09-25"), d("2025-09-26"))).overview
    assert autumn.cases == 2  # T1 (09-25) and D1 (09-26), both ends included
    default = figures.Filters.default(d("2026-11-29"))
    assert (default.date_from, default.date_to) == (d("2025-11-30"), d("2026-11-29"))


# --- access -----------------------------------------------------------------------------------------------------


def test_bella_sees_her_branch_and_an_anonymised_league(client, cases, cast):
    client.force_login(cast.bella)
    page = client.get(f"/finance/dashboard/?{YEAR_2025}")
    assert page.status_code == 200
    b = page.context["board"]
    assert b.overview.cases == 4  # D1, D2, A1 and T1: routed to her branch
    assert b.overview.claim.rate == 100.0  # her cases' demands: D1, D2 both claimed
    named = {r.name: r.named for r in b.league}
    assert named == {cast.bank_a_branch.name: True, "机构 A": False}
    anonymous = next(r for r in b.league if not r.named)
    assert (anonymous.routed, anonymous.claim_rate, anonymous.reasons, anonymous.head_office) == (1, 50.0, [], "")
    body = page.content.decode()
    assert cast.bank_b_branch.name in body  # only as T1's partner branch, in her twin-city loan
    assert "成都银行高新支行</td><td class=\"num\"" not in body


def test_bruno_sees_his_branch_and_his_twin_city_loan(client, cases, cast):
    client.force_login(cast.bruno)
    b = client.get(f"/finance/dashboard/?{YEAR_2025}").context["board"]
    assert b.overview.cases == 2  # D3 (lead) and T1 (partner)
    assert [r.case_id for r in b.twin_city] == [cases["T1"].pk]
    assert {r.name for r in b.league if r.named} == {cast.bank_b_branch.name}
    assert b.reasons == []  # D2 was bella's


def test_olivia_sees_every_institution(client, cases, cast):
    client.force_login(cast.olivia)
    b = client.get(f"/finance/dashboard/?{YEAR_2025}").context["board"]
    assert b.overview.cases == 7
    assert all(r.named for r in b.league)


@pytest.mark.parametrize("persona", ["alice", "bob", "clara", "charlie"])
def test_enterprises_and_others_see_nothing(client, cases, cast, persona):
    client.force_login(cast.personas[persona])
    assert client.get("/finance/dashboard/").status_code == 403
    assert client.get("/finance/dashboard/export/league.csv").status_code == 403


def test_the_navigation_entry(client, cast):
    client.force_login(cast.bella)
    assert "/finance/dashboard/" in client.get("/").content.decode()
    client.force_login(cast.alice)
    assert "/finance/dashboard/" not in client.get("/").content.decode()


def test_a_bad_period_is_refused(client, cast):
    client.force_login(cast.olivia)
    assert client.get("/finance/dashboard/?date_from=2025-12-31&date_to=2025-01-01").status_code == 400
    assert client.get("/finance/dashboard/export/league.csv?date_from=x").status_code == 400
    assert client.get("/finance/dashboard/export/nothing.csv").status_code == 404
    assert client.get("/finance/dashboard/export/league.pdf").status_code == 404


# --- exports ----------------------------------------------------------------------------------------------------


def test_league_csv_as_bella(client, cases, cast):
    client.force_login(cast.bella)
    response = client.get(f"/finance/dashboard/export/league.csv?{YEAR_2025}")
    assert response.status_code == 200
    assert response["Content-Disposition"] == 'attachment; filename="finance-league-2025-01-01-2025-12-31.csv"'
    text = response.content.decode("utf-8")
    assert text.startswith("\ufeff")
    rows = list(csv.reader(io.StringIO(text[1:])))
    header = rows[0]
    assert header[:4] == ["机构 institution", "总行 head office", "城市 city", "受理/认领笔数 cases routed"]
    own = dict(zip(header, rows[1]))
    assert own["机构 institution"] == cast.bank_a_branch.name
    assert own["抢单率% claim rate %"] == "66.7"
    assert own["审批用时中位数(工作日) median (working days)"] == "4.0"
    assert own["审批用时中位数(自然日) median (calendar days)"] == "12.0"
    assert own["主要拒绝原因 top rejection reasons"] == f"{REASON}（1）"
    other = dict(zip(header, rows[2]))
    assert (other["机构 institution"], other["总行 head office"], other["主要拒绝原因 top rejection reasons"]) == \
        ("机构 A", "", "")
    assert len(rows) == 3


def test_volume_xlsx_and_twin_city_csv(client, cases, cast):
    client.force_login(cast.olivia)
    response = client.get(f"/finance/dashboard/export/volume-city.xlsx?{YEAR_2025}")
    assert response.status_code == 200
    sheet = load_workbook(io.BytesIO(response.content)).active
    values = [[c.value for c in row] for row in sheet.iter_rows()]
    assert values[0][:3] == ["代码 key", "名称 name", "笔数 cases"]
    assert values[1:] == [["chongqing", "重庆", 4, 4200000, 2, 1300000, 1, 800000],
                          ["chengdu", "成都", 3, 23500000, 1, 18000000, 1, 18000000]]
    twin = client.get(f"/finance/dashboard/export/twin-city.csv?{YEAR_2025}&city=chengdu").content.decode()
    lines = twin.strip().splitlines()
    assert len(lines) == 2
    assert lines[1].endswith(",2025-09-25,2025-10-13,8,18")


# --- cost -----------------------------------------------------------------------------------------------------------


def test_the_page_costs_a_bounded_number_of_queries(client, cases, cast, django_assert_max_num_queries):
    """Every figure group is one query, whatever the number of cases: the same bound with 40 more cases (23: the
    session, the user, the unread badge, the cache version, 18 figure queries, the pools); the figures are then cached until the
    next audited write (5: the session, the user, the badge, the version, the pools)."""
    client.force_login(cast.olivia)
    with django_assert_max_num_queries(23):
        assert client.get(f"/finance/dashboard/?{YEAR_2025}").status_code == 200
    extra = []
    for n in range(40):
        source = cases["D1" if n % 2 else "T1"]
        extra.append(Application(**{f.attname: getattr(source, f.attname) for f in Application._meta.concrete_fields
                                    if f.attname not in ("id", "created_at", "updated_at")}))
    Application.objects.bulk_create(extra)
    with django_assert_max_num_queries(23):
        page = client.get(f"/finance/dashboard/?{YEAR_2025}&city=chongqing")
    assert page.context["board"].overview.cases == 4 + 20
    with django_assert_max_num_queries(5):
        assert client.get(f"/finance/dashboard/?{YEAR_2025}&city=chongqing").status_code == 200


# --- the durations' arithmetic ----------------------------------------------------------------------------------


@given(st.lists(st.tuples(st.integers(0, 30), st.integers(1, 5)), max_size=8))
def test_the_median_of_grouped_values_is_the_median_of_the_values(pairs):
    import statistics

    values = [v for v, n in pairs for _ in range(n)]
    expected = float(statistics.median(values)) if values else None
    assert figures._weighted_median(pairs) == expected


@given(st.dates(dt.date(2024, 1, 1), dt.date(2026, 12, 31)), st.integers(0, 60))
def test_the_calendar_counts_as_the_clocks_do(start, days):
    end = min(start + dt.timedelta(days=days), dt.date(2026, 12, 31))
    calendar = figures._Calendar([start, end])
    assert calendar.between(start, end) == workdays.working_days_between(start, end)


def test_an_officer_s_page_costs_as_much(client, cases, cast, django_assert_max_num_queries):
    """bella: her institutions (one query) on top of the administrator's count."""
    client.force_login(cast.bella)
    with django_assert_max_num_queries(24):
        assert client.get(f"/finance/dashboard/?{YEAR_2025}").status_code == 200
    with django_assert_max_num_queries(6):
        assert client.get(f"/finance/dashboard/?{YEAR_2025}").status_code == 200
