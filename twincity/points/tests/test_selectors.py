"""Reads: an enterprise's points, rankings, whitelist and standards, with their access rules."""

from datetime import date
from decimal import Decimal

import pytest

import points_engine
from twincity.core.errors import InvalidInput
from twincity.enterprises.models import Enterprise
from twincity.enterprises.services import enterprise_update
from twincity.points import selectors, services
from twincity.points.tests import scenario


@pytest.fixture(autouse=True)
def _settings(settings):
    settings.PASSWORD_HASHERS = ["django.contrib.auth.hashers.MD5PasswordHasher"]
    settings.POINTS_RUN_INLINE = True


def test_standard_lookups(db):
    assert {s.standard_id for s in selectors.standard_list()} >= {"scp-v1", "tsme-2017", "hnte-2016"}
    assert selectors.standard_get(standard_id="scp-v1", version="1").name_en.startswith("Western Science City")
    assert selectors.standard_get(standard_id="scp-v1", version="9") is None
    assert selectors.standard_latest(standard_id="tsme-2017").version == "1"
    assert selectors.standard_latest(standard_id="nope") is None


def test_latest_is_by_effective_date_then_creation(cast):
    v1 = selectors.standard_get(standard_id="tsme-2017", version="1")
    definition = dict(v1.definition, effective_from="2027-01-01")
    services.standard_version_create(actor=cast.olivia, base=v1, definition=definition, version="2")
    older = dict(v1.definition, effective_from="2016-01-01")
    services.standard_version_create(actor=cast.olivia, base=v1, definition=older, version="0.9")
    assert selectors.standard_latest(standard_id="tsme-2017").version == "2"


def test_enterprise_points_are_the_stored_result_explained(cast):
    scenario.seed(cast)
    scenario.run(cast, "scp-v1", evaluation_date=date(2025, 6, 30))
    run = scenario.run(cast, "scp-v1")
    scenario.run(cast, "tsme-2017")
    data = selectors.enterprise_points(enterprise=cast.alice_co)
    assert data.current.standard_id == "scp-v1"  # the default
    assert {(s.standard_id, s.version) for s in data.standards} == {("scp-v1", "1"), ("tsme-2017", "1")}
    assert data.result.run == run and data.result.enterprise == cast.alice_co
    e = data.explanation
    assert (e.verdict, selectors._decimal(e.score_min), selectors._decimal(e.score_max), e.grade or "") == (
        data.result.verdict, data.result.score_min, data.result.score_max, data.result.grade)
    assert {i.id: i.points for i in e.indicators} == data.result.points
    assert {i.id: i.band for i in e.indicators} == data.result.bands
    by_id = {c["id"]: c for c in data.categories}
    assert [c["id"] for c in data.categories] == ["tech", "growth", "aux", "bonus", "negative"]
    tech = [i for i in e.indicators if i.category == "tech"]
    assert by_id["tech"]["points"] == round(sum(i.points or 0 for i in tech), 4)
    assert by_id["tech"]["max_points"] == round(sum(i.max_points for i in tech), 4)
    assert [(h["evaluation_date"], h["standard_version"]) for h in data.history] == [
        (date(2025, 6, 30), "1"), (date(2026, 6, 30), "1")]
    assert data.history[-1]["run_public_id"] == run.public_id

    tsme = selectors.enterprise_points(enterprise=cast.alice_co, standard_id="tsme-2017")
    assert tsme.current.standard_id == "tsme-2017"
    assert tsme.categories == [
        {"id": "staff", "name_zh": "科技人员", "name_en": "S&T staff", "points": 20.0, "max_points": 20.0},
        {"id": "rd", "name_zh": "研发投入", "name_en": "R&D investment", "points": 50.0, "max_points": 50.0},
        {"id": "ip", "name_zh": "科技成果", "name_en": "S&T results", "points": 30.0, "max_points": 30.0},
    ]
    assert [(h["score_min"], h["verdict"]) for h in tsme.history] == [(Decimal("100"), "pass")]


def test_the_latest_result_of_each_standard_is_for_those_who_may_see_the_points(cast):
    scenario.seed(cast)
    scenario.run(cast, "tsme-2017", evaluation_date=date(2025, 6, 30))
    latest = scenario.run(cast, "tsme-2017")
    assert [r.run for r in selectors.result_latest_per_standard(user=cast.alice, enterprise=cast.alice_co)] == [latest]
    assert selectors.result_latest(enterprise=cast.alice_co, standard_id="tsme-2017").run == latest
    for user in (cast.bob, cast.bella, cast.charlie):
        assert selectors.result_latest_per_standard(user=user, enterprise=cast.alice_co) == []


def test_enterprise_points_without_a_run(cast):
    data = selectors.enterprise_points(enterprise=cast.alice_co)
    assert (data.standards, data.current, data.result, data.explanation, data.history) == ([], None, None, None, [])


def test_rankings_on_a_known_set(cast):
    scenario.known_set(cast)
    scenario.tsme_with_grades(cast)
    run = scenario.run(cast, "tsme-2017", "2")
    by_city = selectors.rankings(run=run, group_by="city")
    assert by_city.count == 5
    assert by_city.groups == [
        {"key": "chongqing", "label": "重庆", "count": 4, "mean": 75.5, "median": 81.0, "p90": 97.0,
         "grade_counts": {"A": 2, "B": 1, "C": 1, "D": 0, "E": 0}},
        {"key": "chengdu", "label": "成都", "count": 1, "mean": 72.0, "median": 72.0, "p90": 72.0,
         "grade_counts": {"A": 0, "B": 1, "C": 0, "D": 0, "E": 0}},
    ]
    assert [r.enterprise.credit_code for r in by_city.top] == [
        "91500107MA5YP4QX2A", "T00000000000000003", "91510100MA6CGNB36L", "T00000000000000005", "T00000000000000004"]
    assert [b["count"] for b in by_city.histogram] == [0, 0, 0, 0, 1, 0, 0, 2, 0, 2]
    assert (by_city.histogram[0]["bucket_start"], by_city.histogram[-1]["bucket_end"]) == (0, 100)

    by_cluster = selectors.rankings(run=run, group_by="industry_cluster")
    assert [(g["key"], g["label"], g["count"], g["mean"]) for g in by_cluster.groups] == [
        ("ev", "智能网联新能源汽车", 2, 56.0), ("ic", "集成电路", 2, 95.0), ("ict", "新一代信息技术/软件", 1, 72.0)]
    by_stage = selectors.rankings(run=run, group_by="stage")
    assert [(g["key"], g["count"]) for g in by_stage.groups] == [("", 5)]  # tsme has no stages


def test_runs_are_seen_by_administrators_only(cast):
    scenario.seed(cast)
    run = scenario.run(cast, "tsme-2017")
    with pytest.raises(InvalidInput):
        selectors.rankings(run=run, group_by="colour")
    with pytest.raises(InvalidInput):
        selectors.whitelist(run=run, min_grade="Z")
    assert list(selectors.run_list()) == [run]
    assert selectors.run_get_visible(user=cast.olivia, public_id=run.public_id) == run
    for user in (cast.alice, cast.bella, cast.charlie):
        assert selectors.run_get_visible(user=user, public_id=run.public_id) is None
    assert selectors.run_get_visible(user=cast.olivia, public_id="not-a-uuid") is None


def test_standard_diff_lists_the_changed_paths(cast):
    v1 = selectors.standard_get(standard_id="scp-v1", version="1")
    definition = points_engine.derive_version(
        services.engine_standard(v1), {"indicators.ip_I.banding.bands.A.lower": 12}, version="2").to_dict()
    v2 = services.standard_version_create(actor=cast.olivia, base=v1, definition=definition, version="2")
    assert selectors.standard_diff(a=v1, b=v2) == [
        {"path": "version", "old": "1", "new": "2"},
        {"path": "indicators.ip_I.banding.bands.A.lower", "old": 10, "new": 12},
        {"path": "derived_from", "old": None, "new": {"id": "scp-v1", "version": "1"}},
    ]


def test_rankings_are_cached_until_a_write_changes_the_groups(cast, django_capture_on_commit_callbacks):
    scenario.known_set(cast)
    scenario.tsme_with_grades(cast)
    run = scenario.run(cast, "tsme-2017", "2")
    cities = [(g["key"], g["count"]) for g in selectors.rankings(run=run, group_by="city").groups]
    assert cities == [("chongqing", 4), ("chengdu", 1)]
    # Written around the services (no audit): the cached rankings stay as they were.
    Enterprise.objects.filter(pk=cast.alice_co.pk).update(city="chengdu")
    assert [(g["key"], g["count"]) for g in selectors.rankings(run=run, group_by="city").groups] == cities
    # Any audited write invalidates them when it commits: the next rankings see alice's company moved.
    with django_capture_on_commit_callbacks(execute=True):
        enterprise_update(actor=cast.olivia, enterprise=cast.bob_co, changes={"district": "武侯区"})
    again = selectors.rankings(run=run, group_by="city")
    assert [(g["key"], g["count"]) for g in again.groups] == [("chongqing", 3), ("chengdu", 2)]
    assert again.run is run
