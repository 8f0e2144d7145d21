"""A scoring run reads the registry column-wise and writes its results from frames: what it stores is exactly
what the straightforward path (facts dict by dict, a model instance per result) stored, value and type, and the
facts of one enterprise on one date are kept once for all the runs that scored the same facts."""

from datetime import date
from decimal import Decimal

import polars as pl
import pytest
from polars.testing import assert_frame_equal

import points_engine
from points_engine.facts import coerce_frame
from twincity.enterprises.models import AnnualDeclaration, Enterprise, Qualification
from twincity.points import selectors, services
from twincity.points.facts import registry_facts, registry_frames
from twincity.points.models import FactsSnapshot, ScoreResult
from twincity.points.tests import scenario


@pytest.fixture(autouse=True)
def _settings(settings):
    settings.POINTS_RUN_INLINE = True


def varied_registry(cast) -> None:
    """Known figures, titles, recorded inputs, an enterprise without a registration date and one whose money has
    16 significant digits (its sums are taken value by value)."""
    scenario.known_set(cast)
    Qualification.objects.create(enterprise=cast.alice_co, kind=Qualification.Kind.HNTE, certificate_no="GR1",
                                 valid_from=date(2024, 1, 1), valid_until=date(2026, 12, 31))
    Qualification.objects.create(enterprise=cast.bob_co, kind=Qualification.Kind.TSME, certificate_no="T1",
                                 valid_from=date(2020, 1, 1), valid_until=date(2023, 1, 1))
    services.evaluation_input_set(actor=cast.olivia, enterprise=cast.alice_co, fact="key_chain_link", value=True)
    services.evaluation_input_set(actor=cast.olivia, enterprise=cast.bob_co, fact="quality_score", value=63.5,
                                  year=2026)
    services.evaluation_input_set(actor=cast.olivia, enterprise=cast.bob_co, fact="market_share", value="0.125")
    undated = scenario.extra_enterprise("T00000000000000006", "己公司", employees=10, tech_staff=2, sales=10, rd=1,
                                        cost=9)
    Enterprise.objects.filter(pk=undated.pk).update(registered_on=None, industry_cluster="")
    big = scenario.extra_enterprise("T00000000000000007", "庚公司", employees=10, tech_staff=2, sales=10, rd=1,
                                    cost=9)
    for year, rd_dom in ((2023, "123456789012.3457"), (2024, "0.0001"), (2025, "7.1")):
        AnnualDeclaration.objects.update_or_create(enterprise=big, fiscal_year=year,
                                                   defaults={"rd_dom": Decimal(rd_dom), "equity_new": Decimal("1.1")})


def dict_path_frames(evaluation_date: date, chunk_size: int) -> list[tuple[list[int], pl.DataFrame]]:
    """The frames as they were made before: facts dict by dict, one frame per chunk, coerced."""
    chunks: list[list[tuple[int, dict]]] = [[]]
    for pk, facts in registry_facts(evaluation_date=evaluation_date):
        if len(chunks[-1]) == chunk_size:
            chunks.append([])
        chunks[-1].append((pk, facts))
    return [([pk for pk, _f in chunk], coerce_frame(pl.DataFrame([f for _pk, f in chunk], infer_schema_length=None)))
            for chunk in chunks]


@pytest.mark.parametrize("evaluation_date", [scenario.EVAL, date(2025, 1, 1), date(2027, 3, 31)])
@pytest.mark.parametrize("chunk_size", [2, 5000])
def test_the_registry_frames_are_the_frames_of_the_facts_dicts(cast, evaluation_date, chunk_size):
    varied_registry(cast)
    expected = dict_path_frames(evaluation_date, chunk_size)
    got = list(registry_frames(evaluation_date=evaluation_date, chunk_size=chunk_size))
    assert [pks for pks, _f in got] == [pks for pks, _f in expected]
    for (_pks, frame), (_same, reference) in zip(got, expected, strict=True):
        assert frame.schema == reference.schema
        assert_frame_equal(frame, reference, check_exact=True)
    if evaluation_date != scenario.EVAL:
        return
    rows = [row for _pks, frame in got for row in frame.to_dicts()]
    big = next(row for row in rows if row["credit_code"] == "T00000000000000007")
    assert big["rd_dom_3y"] == float(Decimal("123456789012.3457") + Decimal("0.0001") + Decimal("7.1"))


def typed(value):
    """A value with the type of every part, so that 1 and 1.0 (or a str and a Decimal) differ."""
    if isinstance(value, dict):
        return {key: typed(item) for key, item in value.items()}
    if isinstance(value, list):
        return [typed(item) for item in value]
    return (type(value).__name__, value)


def expected_results(run) -> dict[int, dict]:
    """What the straightforward path stored for the run: the engine on the dict-path frames, each result through
    `stored_fields`, its snapshot the frame's row made JSON-safe, all of it through a JSON round trip."""
    import json

    standard = services.engine_standard(run.standard)
    chunks = dict_path_frames(run.evaluation_date, 5000)
    whole = pl.concat([frame for _pks, frame in chunks], how="diagonal_relaxed")
    reference = (points_engine.build_reference(standard, whole, evaluation_date=run.evaluation_date)
                 if standard.uses_percentiles else None)
    expected = {}
    for pks, frame in chunks:
        out = points_engine.score_batch(frame, standard, evaluation_date=run.evaluation_date, reference=reference,
                                        on_error="mark", keep_input=False, application=run.application).frame
        for pk, facts, row in zip(pks, frame.to_dicts(), out.to_dicts(), strict=True):
            stored = selectors.stored_fields(
                verdict=row["verdict"], route=row.get("route"), score_min=row.get("score_min"),
                score_max=row.get("score_max"), grade=row.get("grade"),
                points={c.removeprefix("points."): row[c] for c in out.columns if c.startswith("points.")},
                bands={c.removeprefix("band."): row[c] for c in out.columns if c.startswith("band.")})
            facts = {k: (v.isoformat() if isinstance(v, date) else
                         None if isinstance(v, float) and v != v or v in (float("inf"), float("-inf")) else v)
                     for k, v in facts.items()}
            expected[pk] = {
                **stored, "points": json.loads(json.dumps(stored["points"])),
                "reasons": [part for part in (row.get("reasons") or "").split("; ") if part],
                "facts": json.loads(json.dumps(facts)), "stage": row.get("stage") or "",
                "peer_group": row.get("peer_group") or "",
            }
    return expected


@pytest.mark.parametrize("standard_id", ["tsme-2017", "scp-v1", "hnte-2016"])
def test_a_run_stores_exactly_what_the_straightforward_path_stored(cast, standard_id):
    varied_registry(cast)
    run = scenario.run(cast, standard_id)
    assert run.status == "done", run.error
    expected = expected_results(run)
    results = {r.enterprise_id: r for r in ScoreResult.objects.filter(run=run).select_related("snapshot")}
    assert set(results) == set(expected)
    for pk, result in results.items():
        got = {name: getattr(result, name) for name in expected[pk]}
        assert typed(got) == typed(expected[pk]), pk
    assert run.verdict_counts == {v: sum(1 for e in expected.values() if e["verdict"] == v)
                                  for v in {e["verdict"] for e in expected.values()}}


def test_the_runs_of_one_date_share_the_facts_snapshots_until_the_facts_change(cast):
    varied_registry(cast)
    first = scenario.run(cast, "tsme-2017")
    second = scenario.run(cast, "hnte-2016")
    enterprises = Enterprise.objects.count()
    assert FactsSnapshot.objects.count() == enterprises
    pairs = {r.enterprise_id: r.snapshot_id for r in first.results.all()}
    assert {r.enterprise_id: r.snapshot_id for r in second.results.all()} == pairs
    before = ScoreResult.objects.get(run=first, enterprise=cast.alice_co).facts
    AnnualDeclaration.objects.filter(enterprise=cast.alice_co, fiscal_year=2025).update(sales=Decimal("5100"))
    third = scenario.run(cast, "tsme-2017")
    assert FactsSnapshot.objects.count() == enterprises + 1
    assert ScoreResult.objects.get(run=third, enterprise=cast.alice_co).facts["sales_y3"] == 5100.0
    assert ScoreResult.objects.get(run=first, enterprise=cast.alice_co).facts == before
    assert before["sales_y3"] == 5000.0
    other_day = scenario.run(cast, "tsme-2017", evaluation_date=date(2026, 7, 1))
    assert other_day.results.count() == enterprises
    assert FactsSnapshot.objects.count() == 2 * enterprises + 1


def test_facts_read_through_the_queryset_and_a_result_saved_alone(cast):
    scenario.seed(cast)
    run = scenario.run(cast, "tsme-2017")
    by_values = dict(ScoreResult.objects.filter(run=run).values_list("enterprise_id", "facts"))
    assert by_values == {r.enterprise_id: r.facts for r in run.results.all()}
    assert {row["enterprise_id"]: row["facts"] for row in run.results.values("enterprise_id", "facts")} == by_values
    ScoreResult.objects.filter(run=run, enterprise=cast.bob_co).delete()
    alone = ScoreResult.objects.create(run=run, enterprise=cast.bob_co, verdict="pass", facts={"sales_y3": 1.5})
    assert ScoreResult.objects.get(pk=alone.pk).facts == {"sales_y3": 1.5}
    assert alone.snapshot.evaluation_date == run.evaluation_date
