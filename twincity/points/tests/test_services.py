"""Scoring runs, standard versions, what-if and the whitelist export."""

import csv
import io
from decimal import Decimal

import pytest
from django.apps import apps
from django.core.management import call_command
from openpyxl import load_workbook

import points_engine
from twincity.core.errors import Forbidden, InvalidInput
from twincity.core.models import AuditEntry
from twincity.points import selectors, services
from twincity.points.models import ScoreResult, ScoringRun, StandardVersion
from twincity.points.tests import scenario


@pytest.fixture(autouse=True)
def _settings(settings):
    settings.PASSWORD_HASHERS = ["django.contrib.auth.hashers.MD5PasswordHasher"]
    settings.POINTS_RUN_INLINE = True


def rows_of(run):
    return {r.enterprise_id: r for r in run.results.all()}


def snapshot(run):
    return sorted(ScoreResult.objects.filter(run=run).values_list(
        "enterprise_id", "verdict", "route", "score_min", "score_max", "grade", "points", "bands", "reasons", "facts",
        "stage", "peer_group"))


def test_the_migration_stored_every_builtin_standard(db):
    stored = {(s.standard_id, s.version): s for s in StandardVersion.objects.all()}
    for standard in points_engine.list_builtin():
        assert stored[(standard.id, standard.version)].definition == standard.to_dict()
    assert services.standards_builtin_sync() == []  # nothing new


def test_a_builtin_standard_stored_by_the_sync_is_audited_as_the_systems(db):
    from twincity.core.models import AuditEntry

    gone = StandardVersion.objects.get(standard_id="tsme-2017")
    gone.delete()  # as if the engine had gained a built-in the database does not hold yet
    before = AuditEntry.objects.count()
    created = services.standards_builtin_sync()
    assert [(v.standard_id, v.version) for v in created] == [(gone.standard_id, gone.version)]
    entry = AuditEntry.objects.get(pk__gt=0, object_type="points.standardversion", object_id=str(created[0].pk))
    assert (entry.actor_id, entry.action, entry.changes) == (
        None, AuditEntry.Action.CREATE, {"standard_id": {"before": None, "after": "tsme-2017"},
                                         "version": {"before": None, "after": gone.version},
                                         "note": {"before": None, "after": "built-in"}})
    assert AuditEntry.objects.count() == before + 1
    assert services.standards_builtin_sync() == []
    assert AuditEntry.objects.count() == before + 1  # nothing new, nothing audited


def test_a_run_stores_one_result_per_enterprise_with_counts_and_progress(cast):
    scenario.seed(cast)
    run = scenario.run(cast, "tsme-2017")
    assert run.status == ScoringRun.Status.DONE, run.error
    assert (run.total, run.done, run.percent) == (2, 2, 100)
    assert run.verdict_counts == {"pass": 2}
    assert run.duration_seconds is not None and run.duration_seconds >= 0
    assert run.reference == {}  # tsme has no percentile indicators
    assert run.started_by == cast.olivia
    results = rows_of(run)
    alice, bob = results[cast.alice_co.pk], results[cast.bob_co.pk]
    assert (alice.verdict, alice.score_min, alice.score_max) == ("pass", Decimal("100"), Decimal("100"))
    assert alice.points == {"staff": 20, "rd": 50, "ip": 30}
    assert alice.bands == {"staff": "A", "rd": "A", "ip": "A"}
    assert (bob.score_min, bob.points) == (Decimal("72"), {"staff": 12, "rd": 30, "ip": 30})
    assert bob.bands == {"staff": "C", "rd": "C", "ip": "A"}
    assert alice.facts["sales_y3"] == 5000.0 and alice.facts["credit_code"] == cast.alice_co.credit_code
    assert AuditEntry.objects.filter(object_type="points.scoringrun", object_id=str(run.pk)).count() == 1


def test_a_stored_result_is_reproduced_by_the_engine_from_its_snapshot(cast):
    scenario.seed(cast)
    run = scenario.run(cast, "scp-v1")  # percentile indicators: needs the frozen reference
    assert run.status == ScoringRun.Status.DONE, run.error
    assert run.reference["standard"] == "scp-v1" and run.reference["population"] == 2
    standard = services.engine_standard(run.standard)
    for result in run.results.all():
        again = points_engine.explain(result.facts, standard, evaluation_date=run.evaluation_date,
                                      reference=run.reference)
        assert again.verdict == result.verdict
        assert selectors._decimal(again.score_min) == result.score_min
        assert selectors._decimal(again.score_max) == result.score_max
        assert (again.grade or "") == result.grade
        assert {i.id: i.points for i in again.indicators} == result.points
        assert {i.id: i.band for i in again.indicators} == result.bands
        assert (again.stage or "", again.peer_group or "") == (result.stage, result.peer_group)


def test_a_run_can_be_executed_only_once(cast):
    scenario.seed(cast)
    run = scenario.run(cast, "tsme-2017")
    with pytest.raises(InvalidInput) as info:
        services.scoring_run_execute(run_id=run.pk)
    assert info.value.code == "run_not_pending"
    assert run.results.count() == 2


def test_a_failing_run_says_why_and_keeps_no_results(cast, monkeypatch):
    scenario.seed(cast)

    def broken(*args, **kwargs):
        raise RuntimeError("engine exploded")

    monkeypatch.setattr(points_engine, "score_batch", broken)
    run = scenario.run(cast, "tsme-2017")
    assert run.status == ScoringRun.Status.FAILED
    assert "engine exploded" in run.error
    assert run.results.count() == 0


def test_progress_is_stored_per_batch(cast):
    scenario.known_set(cast)
    standard = selectors.standard_get(standard_id="tsme-2017", version="1")
    run = services.scoring_run_create(actor=cast.olivia, standard=standard, evaluation_date=scenario.EVAL)
    seen = []

    def progress(done, total):
        seen.append((done, total, ScoringRun.objects.get(pk=run.pk).done))

    services.scoring_run_execute(run_id=run.pk, batch_size=2, on_progress=progress)
    assert seen == [(2, 5, 2), (4, 5, 4), (5, 5, 5)]


def test_only_administrators_create_runs(cast):
    standard = selectors.standard_get(standard_id="tsme-2017", version="1")
    for user in (cast.alice, cast.bella, cast.charlie):
        with pytest.raises(Forbidden):
            services.scoring_run_create(actor=user, standard=standard, evaluation_date=scenario.EVAL)
    assert not ScoringRun.objects.exists()


def test_a_new_standard_version_changes_no_stored_result_of_the_old_one(cast):
    scenario.seed(cast)
    v1 = selectors.standard_get(standard_id="tsme-2017", version="1")
    v1_definition = dict(v1.definition)
    run1 = scenario.run(cast, "tsme-2017", "1")
    before = snapshot(run1)

    changes = {"indicators.staff.banding.bands.C.points": 14}
    definition = services.standard_changes_apply(base=v1, changes=changes)
    v2 = services.standard_version_create(actor=cast.olivia, base=v1, definition=definition, version="2",
                                          note="staff C 12→14")
    run2 = scenario.run(cast, "tsme-2017", "2")

    assert snapshot(run1) == before
    v1.refresh_from_db()
    assert v1.definition == v1_definition
    assert v2.derived_from == v1 and v2.created_by == cast.olivia
    old, new = rows_of(run1), rows_of(run2)
    assert new[cast.bob_co.pk].points["staff"] == 14 and old[cast.bob_co.pk].points["staff"] == 12
    assert (old[cast.bob_co.pk].score_max, new[cast.bob_co.pk].score_max) == (Decimal("72"), Decimal("74"))
    assert new[cast.alice_co.pk].score_max == old[cast.alice_co.pk].score_max == Decimal("100")  # band A unchanged
    diff = selectors.standard_diff(a=v1, b=v2)
    assert {"path": "indicators.staff.banding.bands.C.points", "old": 12, "new": 14} in diff
    assert {"path": "version", "old": "1", "new": "2"} in diff
    assert AuditEntry.objects.filter(object_type="points.standardversion", object_id=str(v2.pk)).exists()


def test_a_version_number_is_never_reused_and_invalid_standards_are_refused(cast):
    v1 = selectors.standard_get(standard_id="tsme-2017", version="1")
    with pytest.raises(InvalidInput) as info:
        services.standard_version_create(actor=cast.olivia, base=v1, definition=v1.definition, version="1")
    assert info.value.code == "version_exists"
    broken = dict(v1.definition, indicators=[{"id": "x"}])
    with pytest.raises(InvalidInput) as info:
        services.standard_version_create(actor=cast.olivia, base=v1, definition=broken, version="2")
    assert info.value.code == "invalid_standard" and info.value.extra["errors"]
    with pytest.raises(InvalidInput):
        services.standard_changes_apply(base=v1, changes={"indicators.nope.max_points": 3})
    with pytest.raises(Forbidden):
        services.standard_version_create(actor=cast.alice, base=v1, definition=v1.definition, version="9")
    assert StandardVersion.objects.filter(standard_id="tsme-2017").count() == 1


def table_counts():
    return {m._meta.label: m.objects.count() for m in apps.get_models()}


def test_what_if_saves_nothing_and_more_rd_raises_the_score(cast):
    scenario.seed(cast)
    scenario.run(cast, "tsme-2017")
    standard = selectors.standard_get(standard_id="tsme-2017", version="1")
    counts = table_counts()
    # bob: rd 450 / sales 10000 = 4.5% (C, 30); 600 / 10000 = 6% reaches A (50)
    before, after = services.what_if(user=cast.bob, enterprise=cast.bob_co, standard=standard,
                                     changes={"rd_y3": "600"})
    assert table_counts() == counts
    assert (before.score_min, after.score_min) == (72, 92)
    rd_before = next(i for i in before.indicators if i.id == "rd")
    rd_after = next(i for i in after.indicators if i.id == "rd")
    assert (rd_before.band, rd_before.points, rd_after.band, rd_after.points) == ("C", 30, "A", 50)
    assert rd_before.next_band["label"] == "B"


def test_what_if_without_a_run_uses_fresh_registry_facts(cast, monkeypatch):
    scenario.seed(cast)
    monkeypatch.setattr(services.timezone, "localdate", lambda: scenario.EVAL)
    standard = selectors.standard_get(standard_id="tsme-2017", version="1")
    before, after = services.what_if(user=cast.olivia, enterprise=cast.alice_co, standard=standard,
                                     changes={"tech_staff": 10})
    assert before.evaluation_date == scenario.EVAL
    assert (before.score_min, after.score_min) == (100, 84)  # 10/100 staff: band E, 4 points instead of 20


def test_what_if_checks_fields_values_and_access(cast):
    scenario.seed(cast)
    standard = selectors.standard_get(standard_id="tsme-2017", version="1")
    with pytest.raises(InvalidInput) as info:
        services.what_if(user=cast.alice, enterprise=cast.alice_co, standard=standard, changes={"turnover": 1})
    assert info.value.extra == {"fields": {"turnover": ["unknown field (see facts.md)"]}}
    with pytest.raises(InvalidInput):
        services.what_if(user=cast.alice, enterprise=cast.alice_co, standard=standard, changes={"rd_y3": "lots"})
    for user in (cast.bob, cast.bella, cast.charlie):
        with pytest.raises(Forbidden):
            services.what_if(user=user, enterprise=cast.alice_co, standard=standard, changes={})


def graded_run(cast):
    scenario.known_set(cast)
    scenario.tsme_with_grades(cast)
    return scenario.run(cast, "tsme-2017", "2")


HEADER = ["credit_code", "name", "city", "industry_cluster", "standard", "version", "evaluation_date", "verdict",
          "score_min", "score_max", "grade"]


def test_whitelist_export_csv_and_xlsx(cast):
    run = graded_run(cast)
    rows = selectors.whitelist(run=run, min_grade="B")
    expected = [
        ["91500107MA5YP4QX2A", "重庆金凤微电子科技有限公司", "chongqing", "ic", "tsme-2017", "2", "2026-06-30", "pass",
         "100.0000", "100.0000", "A"],
        ["T00000000000000003", "丙公司", "chongqing", "ic", "tsme-2017", "2", "2026-06-30", "pass", "90.0000",
         "90.0000", "A"],
        ["91510100MA6CGNB36L", "成都天府星云软件有限公司", "chengdu", "ict", "tsme-2017", "2", "2026-06-30", "pass",
         "72.0000", "72.0000", "B"],
        ["T00000000000000005", "戊公司", "chongqing", "ev", "tsme-2017", "2", "2026-06-30", "pass", "72.0000",
         "72.0000", "B"],
    ]
    data = services.whitelist_export(rows=rows, fmt="csv")
    assert data.startswith("\ufeff".encode())
    assert list(csv.reader(io.StringIO(data.decode("utf-8-sig")))) == [HEADER, *expected]

    sheet = load_workbook(io.BytesIO(services.whitelist_export(rows=rows, fmt="xlsx"))).active
    values = [list(row) for row in sheet.iter_rows(values_only=True)]
    assert values[0] == HEADER
    assert values[1] == [*expected[0][:8], 100, 100, "A"]
    assert [v[0] for v in values[1:]] == [e[0] for e in expected]

    only_a = selectors.whitelist(run=run, min_grade="A")
    assert [r.enterprise.credit_code for r in only_a] == ["91500107MA5YP4QX2A", "T00000000000000003"]
    by_score = selectors.whitelist(run=run, min_score=Decimal("80"))
    assert [r.score_min for r in by_score] == [Decimal("100"), Decimal("90")]


def test_run_scoring_command_is_idempotent(cast):
    scenario.seed(cast)
    out = io.StringIO()
    call_command("run_scoring", "--standard", "tsme-2017", "--date", "2026-06-30", stdout=out)
    assert "2 enterprises scored" in out.getvalue() and "pass 2" in out.getvalue()
    out = io.StringIO()
    call_command("run_scoring", "--standard", "tsme-2017", "--version", "1", "--date", "2026-06-30", stdout=out)
    assert "already scored, skipped" in out.getvalue()
    assert ScoringRun.objects.count() == 1
    call_command("run_scoring", "--standard", "tsme-2017", "--date", "2026-06-30", "--force", stdout=io.StringIO())
    assert ScoringRun.objects.filter(status="done").count() == 2
