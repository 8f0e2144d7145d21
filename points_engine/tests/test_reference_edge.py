"""Peer reference edge cases: groups (or the whole population) without any known value of a
percentile indicator, and the nearest-rank cuts computed by hand."""

import math

import polars as pl

from points_engine import build_reference, load_builtin, score_batch
from points_engine.synthetic import synthetic_facts

from .helpers import assert_paths_agree

SCP = load_builtin("scp-v1")


def test_group_without_known_values_falls_back_and_scores():
    pop = synthetic_facts(3000, seed=11)
    # every `ic` enterprise has an unknown tax: the ic groups have no known tax value at all
    pop = pop.with_columns(
        pl.when(pl.col("industry_cluster") == "ic").then(None).otherwise(pl.col("tax_y3")).alias("tax_y3")
    )
    res = score_batch(pop, SCP)
    ref = res.reference
    for key, g in ref["groups"].items():
        if key.endswith("|ic"):
            assert g["n"]["tax"] == 0
            assert g["source"]["tax"] != key
            assert g["cuts"]["tax"] is not None and len(g["cuts"]["tax"]) == 20
    assert ref == build_reference(SCP, pop)
    assert score_batch(pop, SCP, reference=ref).frame.equals(res.frame)
    assert_paths_agree(pop.head(60).to_dicts(), SCP, reference=ref)


def test_indicator_unknown_for_everyone_has_no_cuts():
    pop = synthetic_facts(200, seed=5).with_columns(pl.lit(None, dtype=pl.Float64).alias("tax_y3"))
    res = score_batch(pop, SCP)
    for g in res.reference["groups"].values():
        assert g["n"]["tax"] == 0 and g["cuts"]["tax"] is None
    assert res.frame["points.tax"].null_count() == res.frame.height
    assert_paths_agree(pop.head(30).to_dicts(), SCP, reference=res.reference)


def test_cuts_are_nearest_rank_quantiles_of_known_values():
    pop = synthetic_facts(2000, seed=9)
    res = score_batch(pop, SCP)
    frame = res.frame.select("peer_group", "tax_y3")
    for key, g in res.reference["groups"].items():
        if g["source"]["tax"] != key:
            continue
        vals = sorted(v for v in frame.filter(pl.col("peer_group") == key)["tax_y3"].to_list() if v is not None)
        n = len(vals)
        assert g["n"]["tax"] == n
        assert g["cuts"]["tax"] == [float(vals[math.ceil(k * n / 20) - 1]) for k in range(1, 21)]


def test_score_batch_many_equals_score_batch():
    import datetime as dt

    from points_engine import list_builtin, score_batch_many

    pop = synthetic_facts(800, seed=13)
    day = dt.date(2026, 1, 1)
    stds = list_builtin()
    many = score_batch_many(pop, stds, evaluation_date=day)
    assert list(many) == [s.id for s in stds]
    for std in stds:
        one = score_batch(pop, std, evaluation_date=day)
        assert many[std.id].frame.equals(one.frame) and many[std.id].frame.schema == one.frame.schema
        assert many[std.id].reference == one.reference
    # a frozen reference is used as given
    ref = build_reference(SCP, pop.head(300), evaluation_date=day)
    again = score_batch_many(pop, [SCP], evaluation_date=day, references={"scp-v1": ref})
    assert again["scp-v1"].reference is ref
    assert again["scp-v1"].frame.equals(score_batch(pop, SCP, evaluation_date=day, reference=ref).frame)
