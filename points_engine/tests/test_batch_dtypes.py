"""The batch frame's compact column types (issue #7, third pass): text look-ups (bands, verdict, route,
grade, stage, peer group) are polars Enums of the standard's own texts, whole-number points of banded
indicators a narrow integer type. They read, cast, concatenate and encode exactly as the String and
Int64 columns did, which is all the platform relies on (twincity.points.services)."""

import json

import polars as pl
import pytest

from points_engine import explain, list_builtin, load_builtin, score_batch
from points_engine.batch import output_columns, points_dtype
from points_engine.synthetic import synthetic_facts

POP = synthetic_facts(400, seed=21)
TEXT = ("verdict", "route", "stage", "peer_group")


@pytest.mark.parametrize("std", list_builtin(), ids=lambda s: s.id)
def test_text_columns_are_enums_that_read_as_the_texts(std):
    frame = score_batch(POP, std, on_error="mark").frame
    cs = std.compiled
    for c in [*TEXT, *(f"band.{i.id}" for i in cs.indicators)]:
        if c not in frame.columns:
            continue
        col = frame[c]
        assert isinstance(col.dtype, pl.Enum), c
        cats = col.dtype.categories.to_list()
        assert cats == sorted(cats)  # sorts as the texts do
        assert col.cast(pl.String).to_list() == col.to_list()
        assert all(v is None or isinstance(v, str) for v in col.to_list())


@pytest.mark.parametrize("sid", ["tsme-2017", "innov-2022", "srdi-2022", "scp-v1"])
def test_chunks_of_one_standard_share_their_dtypes_and_encode_as_before(sid):
    """A run scores the registry in chunks: their frames concatenate (the Enum categories come from the
    standard, not from the rows), and the platform's JSON of bands and points is plain text and numbers."""
    std = load_builtin(sid)
    whole = score_batch(POP, std, on_error="mark")
    a = score_batch(POP.head(7), std, on_error="mark", reference=whole.reference).frame
    b = score_batch(POP.tail(9), std, on_error="mark", reference=whole.reference).frame
    assert a.drop("reasons").schema == b.drop("reasons").schema  # reasons: the texts that occur
    both = pl.concat([a.drop("reasons"), b.drop("reasons")])
    assert both.height == 16
    bands = [c for c in a.columns if c.startswith("band.")]
    points = [c for c in a.columns if c.startswith("points.")]
    row = json.loads(a.select(pl.struct(bands).struct.json_encode()).item(0, 0))
    assert row == {c: a[c][0] for c in bands}
    encoded = json.loads(a.select(pl.struct(points).struct.json_encode()).item(0, 0))
    for c in points:
        v = a[c][0]
        assert encoded[c] == v and type(encoded[c]) is type(v)


def test_whole_number_points_are_narrow_and_equal_the_single_path():
    std = load_builtin("tsme-2017")
    frame = score_batch(POP, std).frame
    for ind in std.compiled.indicators:
        assert points_dtype(std.compiled, ind) == pl.Int8
        assert frame[f"points.{ind.id}"].dtype == pl.Int8
    for i, row in enumerate(POP.head(50).to_dicts()):
        single = explain(row, std).to_row()
        for c in output_columns(std.compiled):
            assert frame[c][i] == single[c], c


def test_points_with_expert_input_or_peer_weight_keep_their_type():
    hnte, scp = load_builtin("hnte-2016"), load_builtin("scp-v1")
    assert all(points_dtype(hnte.compiled, i) is None for i in hnte.compiled.indicators)  # expert inputs
    weighted = [i for i in scp.compiled.indicators if i.id in scp.compiled.weight_factor]
    assert weighted and all(points_dtype(scp.compiled, i) is None for i in weighted)
    frame = score_batch(POP, scp).frame
    assert all(frame[f"points.{i.id}"].dtype == pl.Float64 for i in weighted)


def test_verdict_and_route_have_one_dtype_under_every_standard():
    """Their Enums list the whole vocabulary, so results of different standards concatenate."""
    frames = [score_batch(POP, std, on_error="mark").frame.select("verdict", "route") for std in list_builtin()]
    assert len({f.schema["verdict"] for f in frames}) == 1 and len({f.schema["route"] for f in frames}) == 1
    both = pl.concat(frames)
    assert set(both["verdict"].unique().to_list()) <= {"pass", "fail", "expert_dependent", "needs_review", "not_applicable"}
    assert set(both["route"].unique().to_list()) <= {"", "direct", "score"}
