"""The batch path agrees exactly with the per-enterprise path (Hypothesis, and a synthetic registry)."""

import datetime as dt

import polars as pl
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from finance_engine import as_products, eligible_pairs, match_batch, match_product, prepare_facts
from points_engine.synthetic import synthetic_facts

from .products import ALL, EVALUATION_DATE

FAST = settings(max_examples=60, deadline=None, suppress_health_check=[HealthCheck.too_slow])

# conditions over every kind of fact a product reads, with values that sit on their boundaries
POOL = [
    "points >= 600",
    "points < 450.5",
    "grade == 'A' or grade == 'B'",
    "grade <= 'C'",
    "industry_cluster == 'ic' or industry_cluster == 'ev'",
    "city == 'chongqing'",
    "city != 'chengdu'",
    "hnte_valid or tsme_valid",
    "srdi_valid and innov_valid",
    "not prohibited",
    "reg_days >= 730",
    "reg_days / 365 >= 2",
    "oprev_y3 >= 500 and oprev_y3 <= 20000",
    "ratio(rd_y3, oprev_y3) >= 0.05",
    "growth(oprev_y2, oprev_y3) > 0.1",
    "compliant",
    "is_null(equity_3y) or equity_3y >= 100",
    "coalesce(employees, 0) <= 500",
    "not (city == 'chongqing' and industry_cluster == 'other')",
]

money = st.one_of(
    st.none(),
    st.sampled_from([0.0, 100.0, 499.99, 500.0, 500.01, 20000.0, 20000.01, 550.0, 5000.0]),
    st.floats(min_value=0, max_value=50000, allow_nan=False).map(lambda x: round(x, 2)),
)
flag = st.one_of(st.none(), st.booleans())


@st.composite
def enterprise(draw, i=0):
    registered = draw(st.one_of(st.none(), st.dates(dt.date(2000, 1, 1), EVALUATION_DATE)))
    return {
        "id": f"e{i}",
        "city": draw(st.sampled_from(["chongqing", "chengdu", "xian", None])),
        "industry_cluster": draw(st.sampled_from(["ic", "ev", "biomed", "other", None])),
        "registered_on": registered,
        "reg_days": draw(st.one_of(st.none(), st.sampled_from([729, 730, 731]), st.integers(0, 9000)))
        if registered is None else None,
        "oprev_y2": draw(money),
        "oprev_y3": draw(money),
        "rd_y3": draw(money),
        "equity_3y": draw(money),
        "employees": draw(st.one_of(st.none(), st.integers(1, 900))),
        "hnte_valid": draw(flag), "tsme_valid": draw(flag), "srdi_valid": draw(flag), "innov_valid": draw(flag),
        "prohibited": draw(flag), "compliant": draw(flag),
        "score.scp-v1": draw(st.one_of(st.none(), st.sampled_from([450.5, 599.99, 600.0, 600.01]),
                                       st.floats(0, 1000, allow_nan=False))),
        "grade.scp-v1": draw(st.sampled_from(["A", "B", "C", "D", "E", None])),
    }


@st.composite
def products(draw):
    out = []
    for j in range(draw(st.integers(1, 4))):
        exprs = draw(st.lists(st.sampled_from(POOL), min_size=0, max_size=6))
        out.append({
            "id": f"p{j}", "version": "1", "kind": "credit_loan", "institution": "bank", "name_zh": "产品",
            "name_en": "product", "standard": "scp-v1",
            "conditions": [{"id": f"c{k}", "name_zh": "条件", "name_en": "condition", "expr": e}
                           for k, e in enumerate(exprs)],
        })
    return out


def assert_agree(rows, items, frame=None):
    items = as_products(items)
    out = match_batch(rows if frame is None else frame, items, evaluation_date=EVALUATION_DATE)
    assert out.get_column("id").to_list() == [r["id"] for r in rows]
    for i, row in enumerate(rows):
        prepared = prepare_facts(row, EVALUATION_DATE)
        for p in items:
            m = match_product(prepared, p)
            assert out[i, f"mask.{p.id}"] == m.mask, (row, p.id, [c.met for c in m.conditions])
            assert out[i, f"eligible.{p.id}"] == m.eligible
    lean = match_batch(rows if frame is None else frame, items, evaluation_date=EVALUATION_DATE, detail=False)
    assert lean.columns == ["id", *(f"eligible.{p.id}" for p in items)]
    assert lean.equals(out.select(lean.columns))
    return out


@FAST
@given(data=st.data(), items=products())
def test_batch_agrees_with_single_on_random_enterprises(data, items):
    rows = [data.draw(enterprise(i)) for i in range(data.draw(st.integers(1, 8)))]
    assert_agree(rows, items)


def test_batch_agrees_on_a_synthetic_registry():
    n = 3000
    base = synthetic_facts(n, seed=7)
    idx = pl.int_range(0, n, dtype=pl.Int64, eager=True)
    frame = base.with_columns(
        pl.Series("score.scp-v1", [None if i % 17 == 0 else float((i * 37) % 1000) for i in range(n)]),
        pl.Series("grade.scp-v1", [None if i % 13 == 0 else "ABCDE"[i % 5] for i in idx]),
        pl.Series("city", [["chongqing", "chengdu", "xian"][i % 3] for i in range(n)]),
    )
    rows = frame.to_dicts()
    items = ALL + [
        {"id": f"pool{k}", "version": "1", "kind": "credit_loan", "institution": "bank", "name_zh": "产品",
         "name_en": "product", "standard": "scp-v1",
         "conditions": [{"id": f"c{j}", "name_zh": "条件", "name_en": "condition", "expr": e}
                        for j, e in enumerate(POOL[k:k + 5])]}
        for k in range(0, len(POOL), 3)
    ]
    out = assert_agree(rows, items, frame=frame)
    assert 0 < eligible_pairs(out) < n * len(items)
