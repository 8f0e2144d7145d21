"""The sharing evaluation of a fixture owner (重庆大学分析测试中心, owen's) for 2026, against figures computed by
hand (the arithmetic is in the comments), through the service, the API, the page and the XLSX pack."""

import io
from datetime import datetime
from decimal import Decimal

import pytest
from openpyxl import load_workbook

from twincity.instruments import services, usage
from twincity.instruments.evaluation import owner_evaluation
from twincity.instruments.models import SampleJob, SessionRating, UsageSession
from twincity.instruments.tests.conftest import SH, make_instrument


def at(y, m, d, h, minute=0):
    return datetime(y, m, d, h, minute, tzinfo=SH)


@pytest.fixture
def owner_year(cast):
    """Three instruments of the owner, their 2026 sessions, ratings and income.

    SEM (3,200,000 yuan, large):
      a. internal use (the owner's own people)  2026-03-02 08:00–18:00            10 h
      b. alice's booking 2026-03-03 09:00–13:00, checked in and out on time       4 h external (重庆金凤微电子)
      c. bob, unbooked, 2026-03-03 12:00–15:00 (overlaps b by 1 h)                3 h external (成都天府星云)
         → external = union 09:00–15:00 = 6 h, counted once
      d. internal 2025-12-31 22:00 – 2026-01-01 02:00                             2 h in 2026 (2 h in 2025)
      e. maintenance 2026-04-01 08:00–16:00, f. breakdown 2026-04-02 08:00–13:00  excluded
      g. alice 2027-01-01 09:00–12:00                                             another year
      effective = 10 + 6 + 2 = 18 h; external = 6 h; share = 6 / 18 = 0.3333; clients = alice_org, bob_org
      income: b settled on booked time: 4 h × 600 (industry) = 2400.00
    XPS (5,600,000 yuan, large):
      alice 2026-05-01 10:00–17:30 = 7.5 h external; internal 2026-05-02 09:00–11:00 = 2 h
      effective = 9.5 h; external = 7.5 h; share = 7.5 / 9.5 = 0.78947… → 0.7895
      income: a sample job reported 2026-05-10, quoted 1800.00
    UV-Vis (480,000 yuan, not large): bob 2026-06-01 09:00–10:00 = 1 h external; share = 1
    Ratings: b 4 (alice), XPS 5 (alice), UV-Vis 3 (bob) → 3 ratings, mean (4 + 5 + 3) / 3 = 4.00
    Owner: effective = 18 + 9.5 + 1 = 28.5 h; external = 6 + 7.5 + 1 = 14.5 h; share = 14.5 / 28.5 = 0.50877… → 0.5088
      large instruments: 2; average effective = (18 + 9.5) / 2 = 13.75 h; average external = (6 + 7.5) / 2 = 6.75 h
      vs national 2025 (1599 h / 273 h): 13.75 / 1599 = 0.0085991… → 0.0086; 6.75 / 273 = 0.0247252… → 0.0247
      vs Chongqing baseline 1400 h: 13.75 / 1400 = 0.0098214… → 0.0098
      income = 2400.00 + 1800.00 = 4200.00; clients = 2
    """
    sem = make_instrument(cast.institute, name="场发射扫描电子显微镜")
    xps = make_instrument(cast.institute, name="X射线光电子能谱仪", value="5600000")
    uv = make_instrument(cast.institute, name="紫外可见分光光度计", value="480000")

    def session(instrument, start, end, org=None, user=None, kind="normal"):
        return UsageSession.objects.create(instrument=instrument, started_at=start, ended_at=end, kind=kind,
                                           organisation=org, user=user, source="operator")

    session(sem, at(2026, 3, 2, 8), at(2026, 3, 2, 18), cast.institute, cast.owen)
    booking = services.booking_create(actor=cast.alice, instrument=sem, starts_at=at(2026, 3, 3, 9),
                                      ends_at=at(2026, 3, 3, 13), now=at(2026, 3, 1, 9))
    usage.session_check_in(actor=cast.owen, booking=booking, now=at(2026, 3, 3, 9))
    usage.session_check_out(actor=cast.owen, booking=booking, now=at(2026, 3, 3, 13))
    b = UsageSession.objects.get(booking=booking)
    session(sem, at(2026, 3, 3, 12), at(2026, 3, 3, 15), cast.bob_org, cast.bob)
    session(sem, at(2025, 12, 31, 22), at(2026, 1, 1, 2), cast.institute, cast.owen)
    session(sem, at(2026, 4, 1, 8), at(2026, 4, 1, 16), kind="maintenance")
    session(sem, at(2026, 4, 2, 8), at(2026, 4, 2, 13), kind="breakdown")
    session(sem, at(2027, 1, 1, 9), at(2027, 1, 1, 12), cast.alice_org, cast.alice)
    x = session(xps, at(2026, 5, 1, 10), at(2026, 5, 1, 17, 30), cast.alice_org, cast.alice)
    session(xps, at(2026, 5, 2, 9), at(2026, 5, 2, 11), cast.institute, cast.owen)
    u = session(uv, at(2026, 6, 1, 9), at(2026, 6, 1, 10), cast.bob_org, cast.bob)
    usage.session_rate(actor=cast.alice, session=b, score=4)
    usage.session_rate(actor=cast.alice, session=x, score=5)
    usage.session_rate(actor=cast.bob, session=u, score=3)
    SampleJob.objects.create(instrument=xps, requester=cast.alice, organisation=cast.alice_org, title="XPS",
                             state="reported", rate_class="industry", quote_amount=Decimal("1800.00"),
                             reported_at=at(2026, 5, 10, 16))
    return {"sem": sem, "xps": xps, "uv": uv}


def test_the_fixture_owners_figures_equal_the_hand_computed_ones(cast, owner_year):
    e = owner_evaluation(owner=cast.institute, year=2026)
    rows = {r.instrument.pk: r for r in e.rows}
    sem, xps, uv = (rows[owner_year[k].pk] for k in ("sem", "xps", "uv"))
    assert (sem.figures.effective_hours, sem.figures.external_hours, sem.figures.share_rate) == (
        Decimal("18.00"), Decimal("6.00"), Decimal("0.3333"))
    assert (sem.figures.maintenance_hours, sem.figures.breakdown_hours) == (Decimal("8.00"), Decimal("5.00"))
    assert sem.figures.clients == {cast.alice_org.pk, cast.bob_org.pk}
    assert (sem.ratings, sem.rating_mean, sem.income) == (1, Decimal("4.00"), Decimal("2400.00"))
    assert (xps.figures.effective_hours, xps.figures.external_hours, xps.figures.share_rate) == (
        Decimal("9.50"), Decimal("7.50"), Decimal("0.7895"))
    assert xps.income == Decimal("1800.00")
    assert (uv.figures.effective_hours, uv.figures.share_rate, uv.instrument.is_large) == (
        Decimal("1.00"), Decimal("1.0000"), False)
    assert (e.effective_hours, e.external_hours, e.share_rate) == (Decimal("28.50"), Decimal("14.50"),
                                                                   Decimal("0.5088"))
    assert (e.large_count, e.avg_effective_hours, e.avg_external_hours) == (2, Decimal("13.75"), Decimal("6.75"))
    assert {o.pk for o in e.clients} == {cast.alice_org.pk, cast.bob_org.pk}
    assert (e.ratings, e.rating_mean, e.income) == (3, Decimal("4.00"), Decimal("4200.00"))
    national = e.comparisons[0]
    assert (national["key"], national["effective_vs"], national["external_vs"]) == (
        "national_2025", Decimal("0.0086"), Decimal("0.0247"))
    chongqing = [c for c in e.comparisons if c["key"] == "chongqing_baseline"][0]
    assert chongqing["effective_vs"] == Decimal("0.0098")
    # 2025 holds only the SEM's two hours before midnight.
    assert owner_evaluation(owner=cast.institute, year=2025).effective_hours == Decimal("2.00")
    assert SessionRating.objects.count() == 3


def test_the_api_the_page_and_the_pack(client, cast, owner_year):
    client.force_login(cast.owen)
    r = client.get(f"/api/instrument-usage/evaluation/{cast.institute.pk}/2026")
    assert r.status_code == 200
    body = r.json()
    assert (body["effective_hours"], body["external_hours"], body["share_rate"], body["income"]) == (
        "28.50", "14.50", "0.5088", "4200.00")
    page = client.get("/instruments/evaluation/", {"owner": cast.institute.pk, "year": 2026}).content.decode()
    assert 'data-figure="effective">28.50<' in page and 'data-figure="share">51%<' in page
    assert 'data-chart="benchmarks"' in page and 'id="evaluation-data"' in page
    r = client.get("/instruments/evaluation/xlsx", {"owner": cast.institute.pk, "year": 2026})
    book = load_workbook(io.BytesIO(r.content))
    assert book.sheetnames == ["汇总", "仪器", "服务单位"]
    summary = {row[0]: row[1] for row in book["汇总"].iter_rows(min_row=2, values_only=True)}
    assert summary["有效工作机时合计（h）"] == 28.5 and summary["共享率"] == "50.9%"
    assert summary["服务单位数"] == 2 and summary["服务收入（元）"] == 4200
    # Others see nothing of it.
    client.force_login(cast.alice)
    assert client.get(f"/api/instrument-usage/evaluation/{cast.institute.pk}/2026").status_code == 403
    assert client.get("/instruments/evaluation/").status_code == 403
