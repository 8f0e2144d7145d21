"""The one adapter from the registry to the engine's facts (shared/reference/facts.md names).

Which fact comes from where is written once, here, as data derived from the two vocabularies — the engine's
facts (`points_engine.facts.FIELD_TYPES`) and the registry's fields (`twincity.enterprises.fields`):

* profile facts: registry profile fields whose name is a fact (`ip_I_self`, `sei`, …);
* yearly facts: each declaration figure `f` gives `f_y1`, `f_y2`, `f_y3` where the engine knows them;
* staff facts: the head counts of the latest completed year (`_y3`), read as point-in-time facts;
* sums: `rd_dom_3y`, `equity_2y`, `equity_3y`;
* titles: a valid certificate of a kind on the evaluation date (`hnte_valid`, `tsme_valid`, …);
* derived: `id`, `reg_days`, `op_years`;
* every other engine field is declared unknown to the registry in NOT_IN_REGISTRY, with the reason.

For an evaluation date D, `_y3` is the last fiscal year completed before D, `_y2` the one before, `_y1` the
one before that. A figure the registry does not hold is None (unknown), never 0.
"""

from collections import defaultdict
from collections.abc import Iterable, Iterator, Mapping, Sequence
from datetime import date
from decimal import Decimal
from typing import Any

from django.db import connection
from django.db.models import CharField, FloatField
from django.db.models.functions import Cast

from points_engine.facts import FACTS, FIELD_TYPES
from twincity.enterprises.fields import ENTERPRISE_FIELDS, FIGURE_NAMES, HEADCOUNT_FIGURES, MONEY_FIGURES
from twincity.enterprises.models import AnnualDeclaration, Enterprise, Qualification, in_force
from twincity.points.models import EvaluationInput

YEAR_SUFFIXES = ("_y1", "_y2", "_y3")
IDENTITY_FACTS = ("credit_code", "name", "city", "industry_cluster", "registered_on")
PROFILE_FACTS: tuple[str, ...] = tuple(
    spec.name for spec in ENTERPRISE_FIELDS if spec.name in FIELD_TYPES and spec.name not in IDENTITY_FACTS
)
YEARLY: tuple[str, ...] = tuple(name for name in FIGURE_NAMES if f"{name}_y3" in FIELD_TYPES)
STAFF_FACTS: tuple[str, ...] = tuple(name for name in HEADCOUNT_FIGURES if name in FIELD_TYPES)
# fact → (declaration figure, the years it sums)
SUMS: dict[str, tuple[str, tuple[str, ...]]] = {
    "rd_dom_3y": ("rd_dom", ("_y1", "_y2", "_y3")),
    "equity_2y": ("equity_new", ("_y2", "_y3")),
    "equity_3y": ("equity_new", ("_y1", "_y2", "_y3")),
}
# fact → the qualification kind whose certificate, valid on the evaluation date, means the title is held.
# The platform records titles as certificates: no certificate on file means not held.
TITLES: dict[str, str] = {
    "hnte_valid": Qualification.Kind.HNTE,
    "prov_rd_inst": Qualification.Kind.PROV_RD_INST,
    "tsme_valid": Qualification.Kind.TSME,
    "innov_valid": Qualification.Kind.INNOV,
    "srdi_valid": Qualification.Kind.SRDI,
}
DERIVED = ("id", "reg_days", "op_years")
# fact → (the recorded evaluation input it comes from, the year relative to the evaluation date: 0 = this year,
# -1 = the year before; None: the input is not about a year). Scores and judgements the registry cannot derive.
INPUTS: dict[str, tuple[str, int | None]] = {
    "quality_score": (EvaluationInput.Fact.QUALITY_SCORE, 0),
    "quality_score_prev": (EvaluationInput.Fact.QUALITY_SCORE, -1),
    "market_share": (EvaluationInput.Fact.MARKET_SHARE, None),
    "market_position_ok": (EvaluationInput.Fact.MARKET_POSITION_OK, None),
    "market_top3_cn": (EvaluationInput.Fact.MARKET_TOP3_CN, None),
    "key_chain_link": (EvaluationInput.Fact.KEY_CHAIN_LINK, None),
    "award_3y_top3": (EvaluationInput.Fact.AWARD_3Y_TOP3, None),
    "nat_award_3y_top3": (EvaluationInput.Fact.NAT_AWARD_3Y_TOP3, None),
}
# Engine fields the registry does not hold, and why (a facts file or an expert supplies them).
NOT_IN_REGISTRY: dict[str, str] = {
    name: "expert input, given during a review" for name in FIELD_TYPES if name.startswith("x_")
}
ENTERPRISE_COLUMNS = ("pk", *IDENTITY_FACTS, *PROFILE_FACTS)

# The engine computes in float64; reading money as floats in SQL skips building a Decimal per cell only
# to turn it back into the same float (the stored 4-place decimal's nearest double either way).
AS_FLOAT = {f"{name}_as_float": Cast(name, FloatField()) for name in MONEY_FIGURES}
FLOAT_ALIAS_TO_NAME = {f"{name}_as_float": name for name in MONEY_FIGURES}


# The facts that are amounts of money (万元), as the facts vocabulary says.
MONEY_FACTS: frozenset[str] = frozenset(name for name, spec in FACTS.items() if spec.unit == "万元")


def produced_facts() -> set[str]:
    """Every fact name the registry produces (the test holds it against the engine's fields)."""
    return {
        *DERIVED, *IDENTITY_FACTS, *PROFILE_FACTS, *STAFF_FACTS, *TITLES, *SUMS, *INPUTS,
        *(f"{name}{suffix}" for name in YEARLY for suffix in YEAR_SUFFIXES),
    }


def fiscal_years_for(evaluation_date: date) -> tuple[int, int, int]:
    y3 = evaluation_date.year - 1
    return (y3 - 2, y3 - 1, y3)


def operating_years(registered_on: date | None, evaluation_date: date) -> int | None:
    """Full fiscal years of operation before the evaluation, capped at 3."""
    if registered_on is None:
        return None
    first_full_year = registered_on.year if (registered_on.month, registered_on.day) == (1, 1) else registered_on.year + 1
    last_completed = evaluation_date.year - 1
    return max(0, min(3, last_completed - first_full_year + 1))


def _sum_or_none(values: Iterable[float | Decimal | None]) -> Decimal | None:
    """The exact decimal sum of figures held to four places (repr of such a float is its decimal)."""
    values = list(values)
    known = [v for v in values if v is not None]
    if len(known) < len(values):
        return None
    return sum((Decimal(repr(v)) if isinstance(v, float) else Decimal(v) for v in known), Decimal(0))


def _plain(value):
    return float(value) if isinstance(value, Decimal) else value


def _input_value(value: object) -> object:
    """A recorded input as the engine reads it: judgements as booleans, scores and shares as floats."""
    if isinstance(value, bool) or value is None:
        return value
    return float(Decimal(str(value)))


def facts_for(
    enterprise: dict, declarations: dict[int, dict], qualifications: Sequence[Mapping[str, Any]],
    evaluation_date: date, inputs: Mapping[tuple[str, int], object] | None = None,
) -> dict[str, object]:
    """The facts of one enterprise on an evaluation date. `inputs` holds its recorded evaluation inputs by
    (fact, year), year 0 for those that are not about a year."""
    y1, y2, y3 = fiscal_years_for(evaluation_date)
    by_suffix = {"_y1": declarations.get(y1, {}), "_y2": declarations.get(y2, {}), "_y3": declarations.get(y3, {})}
    registered_on = enterprise["registered_on"]
    facts: dict[str, object] = {
        "id": enterprise["credit_code"],
        "credit_code": enterprise["credit_code"],
        "name": enterprise["name"],
        "city": enterprise["city"],
        "industry_cluster": enterprise["industry_cluster"],
        "registered_on": registered_on.isoformat() if registered_on else None,
        "reg_days": (evaluation_date - registered_on).days if registered_on else None,
        "op_years": operating_years(registered_on, evaluation_date),
    }
    for name in PROFILE_FACTS:
        facts[name] = enterprise[name]
    latest = by_suffix["_y3"]
    for name in STAFF_FACTS:
        facts[name] = latest.get(name)
    for name in YEARLY:
        for suffix, figures in by_suffix.items():
            facts[f"{name}{suffix}"] = _plain(figures.get(name))
    for fact, (figure, suffixes) in SUMS.items():
        facts[fact] = _plain(_sum_or_none(by_suffix[s].get(figure) for s in suffixes))
    inputs = inputs or {}
    for fact, (source, offset) in INPUTS.items():
        year = 0 if offset is None else evaluation_date.year + offset
        facts[fact] = _input_value(inputs.get((source, year)))
    for fact, kind in TITLES.items():
        facts[fact] = any(q["kind"] == kind and in_force(q["valid_from"], q["valid_until"], evaluation_date)
                          for q in qualifications)
    return facts


def registry_facts(
    *, evaluation_date: date, enterprise_ids: Iterable[int] | None = None, chunk_size: int = 5000
) -> Iterator[tuple[int, dict[str, object]]]:
    """(enterprise pk, facts) for the registry (or the given enterprises), a bounded number of queries per chunk."""
    years = fiscal_years_for(evaluation_date)
    enterprises = Enterprise.objects.order_by("pk").values(*ENTERPRISE_COLUMNS)
    if enterprise_ids is not None:
        enterprises = enterprises.filter(pk__in=list(enterprise_ids))
    # Each chunk is read by its own query, finished before the caller writes (keyset pagination, not a cursor held
    # open across chunks): on SQLite an open cursor pins its read snapshot, and the caller's next write
    # transaction fails at once ("database is locked") as soon as anyone else has committed meanwhile.
    last_pk = 0
    while chunk := list(enterprises.filter(pk__gt=last_pk)[:chunk_size]):
        last_pk = chunk[-1]["pk"]
        pks = [row["pk"] for row in chunk]
        declarations: dict[int, dict[int, dict]] = defaultdict(dict)
        for row in AnnualDeclaration.objects.filter(enterprise_id__in=pks, fiscal_year__in=years).values(
            "enterprise_id", "fiscal_year", *HEADCOUNT_FIGURES, **AS_FLOAT
        ):
            declarations[row["enterprise_id"]][row["fiscal_year"]] = {
                FLOAT_ALIAS_TO_NAME.get(key, key): value for key, value in row.items()
            }
        qualifications: dict[int, list[Mapping[str, Any]]] = defaultdict(list)
        for row in Qualification.objects.filter(enterprise_id__in=pks).values(
            "enterprise_id", "kind", "valid_from", "valid_until"
        ):
            qualifications[row["enterprise_id"]].append(row)
        inputs: dict[int, dict[tuple[str, int], object]] = defaultdict(dict)
        for enterprise_id, fact, year, value in EvaluationInput.objects.filter(enterprise_id__in=pks).values_list(
            "enterprise_id", "fact", "year", "value"
        ):
            inputs[enterprise_id][(fact, year)] = value
        for row in chunk:
            yield row["pk"], facts_for(row, declarations[row["pk"]], qualifications[row["pk"]], evaluation_date,
                                       inputs[row["pk"]])


# --- the registry as typed frames (scoring runs) -------------------------------------------------------------

# Money held to four places below this size has at most 15 significant digits: its float is the nearest double of
# the decimal, so the decimal sum can be taken in integers of 1/10000.
_EXACT_MONEY = 1e11


def _fetch(queryset) -> list[tuple]:
    """The queryset's rows as the driver returns them (no per-cell model conversion)."""
    sql, params = queryset.query.sql_with_params()
    with connection.cursor() as cursor:
        cursor.execute(sql, params)
        return cursor.fetchall()


def _frame(rows: list[tuple], schema: dict[str, Any]):
    import polars as pl

    return pl.DataFrame(rows, schema=schema, orient="row", strict=False, infer_schema_length=None)


def _exact_sum(frame, columns: list[str]):
    """The sum of the money columns as `_sum_or_none` takes it: the exact decimal sum, as a float; None when one
    is unknown. Figures within the exact range are summed in integers of 1/10000 (a division of two columns is
    correctly rounded, as float(Decimal) is; a division by a literal is not); a chunk with any other figure is
    summed value by value."""
    import polars as pl

    units = {c: (pl.col(c) * 10000).round().cast(pl.Int64) for c in columns}
    scale = pl.DataFrame({"scale": pl.repeat(10000.0, frame.height, eager=True)})
    parts = pl.concat([frame.select(columns), scale], how="horizontal").with_columns(
        **{f"{c}__units": units[c] for c in columns})
    checked = parts.select(
        exact=pl.all_horizontal(
            pl.col(c).is_null() | ((pl.col(c).abs() < _EXACT_MONEY)
                                   & (pl.col(f"{c}__units").cast(pl.Float64) / pl.col("scale") == pl.col(c)))
            for c in columns).all(),
        total=pl.when(pl.all_horizontal(pl.col(c).is_not_null() for c in columns)).then(
            pl.sum_horizontal(pl.col(f"{c}__units") for c in columns).cast(pl.Float64) / pl.col("scale")),
    )
    if checked["exact"].all():
        return checked["total"].rename("sum")
    return pl.Series("sum", [_plain(_sum_or_none(row)) for row in frame.select(columns).rows()], dtype=pl.Float64)


def registry_frames(*, evaluation_date: date, chunk_size: int = 5000) -> Iterator[tuple[list[int], Any]]:
    """(enterprise pks, facts frame) per chunk of the registry, in pk order: the frame `coerce_frame` makes of
    the chunk's `registry_facts`, column for column, read with one query per table and built column-wise."""
    import polars as pl

    from points_engine.facts import coerce_frame

    y1, y2, y3 = fiscal_years_for(evaluation_date)
    # The registration date is read as its ISO text (no date object per row) and parsed by polars.
    enterprises = Enterprise.objects.order_by("pk").annotate(
        registered_on_text=Cast("registered_on", CharField())).values_list(
        *("registered_on_text" if name == "registered_on" else name for name in ENTERPRISE_COLUMNS))
    enterprise_schema = {"pk": pl.Int64, **{name: pl.String for name in IDENTITY_FACTS},
                         **{name: FIELD_TYPES[name] for name in PROFILE_FACTS}}
    declaration_columns = ("enterprise_id", "fiscal_year", *STAFF_FACTS, *AS_FLOAT)
    declaration_schema = {"enterprise_id": pl.Int64, "fiscal_year": pl.Int64,
                          **{name: pl.Int64 for name in STAFF_FACTS},
                          **{FLOAT_ALIAS_TO_NAME[alias]: pl.Float64 for alias in AS_FLOAT}}
    day = pl.lit(evaluation_date)
    last_pk = 0
    while rows := _fetch(enterprises.filter(pk__gt=last_pk)[:chunk_size]):
        base = _frame(rows, enterprise_schema).with_columns(pl.col("registered_on").str.to_date("%Y-%m-%d"))
        pks = base["pk"].to_list()
        # The chunk is every enterprise from its first pk to its last: a range, not a list of 5000 parameters.
        in_chunk = {"enterprise_id__gte": pks[0], "enterprise_id__lte": pks[-1]}
        last_pk = pks[-1]
        declarations = _frame(_fetch(
            AnnualDeclaration.objects.filter(**in_chunk, fiscal_year__in=(y1, y2, y3))
            .order_by().annotate(**AS_FLOAT).values_list(*declaration_columns)
        ), declaration_schema)
        frame = base
        for suffix, year in (("_y1", y1), ("_y2", y2), ("_y3", y3)):
            figures = list(dict.fromkeys([*YEARLY, *(figure for figure, _years in SUMS.values()),
                                          *(STAFF_FACTS if suffix == "_y3" else ())]))
            of_year = declarations.filter(pl.col("fiscal_year") == year).select(
                pl.col("enterprise_id").alias("pk"), *[pl.col(c).alias(f"{c}{suffix}") for c in figures])
            frame = frame.join(of_year, on="pk", how="left", maintain_order="left")
        sums = {fact: _exact_sum(frame, [f"{figure}{s}" for s in suffixes])
                for fact, (figure, suffixes) in SUMS.items()}
        held = {kind for kind in TITLES.values()}
        titles = _frame(_fetch(
            Qualification.objects.valid_on(evaluation_date).filter(**in_chunk, kind__in=held)
            .order_by().values_list("enterprise_id", "kind").distinct()
        ), {"enterprise_id": pl.Int64, "kind": pl.String})
        held_by = {kind: titles.filter(pl.col("kind") == kind)["enterprise_id"] for kind in held}
        inputs: dict[int, dict[tuple[str, int], object]] = defaultdict(dict)
        for enterprise_id, fact, year, value in EvaluationInput.objects.filter(**in_chunk).values_list(
            "enterprise_id", "fact", "year", "value"
        ):
            inputs[enterprise_id][(fact, year)] = value
        registered = pl.col("registered_on")
        first_full = pl.when((registered.dt.month() == 1) & (registered.dt.day() == 1)).then(
            registered.dt.year()).otherwise(registered.dt.year() + 1)
        columns: dict[str, Any] = {
            "id": pl.col("credit_code"),
            **{name: pl.col(name) for name in IDENTITY_FACTS},
            "reg_days": (day - registered).dt.total_days().cast(pl.Int64),
            "op_years": pl.when(registered.is_not_null()).then(
                (evaluation_date.year - first_full).clip(0, 3)).otherwise(None).cast(pl.Int64),
            **{name: pl.col(name) for name in PROFILE_FACTS},
            **{name: pl.col(f"{name}_y3") for name in STAFF_FACTS},
            **{f"{name}{suffix}": pl.col(f"{name}{suffix}") for name in YEARLY for suffix in YEAR_SUFFIXES},
            **{fact: pl.lit(values) for fact, values in sums.items()},
        }
        for fact, (source, offset) in INPUTS.items():
            year = 0 if offset is None else evaluation_date.year + offset
            values = [_input_value(inputs[pk].get((source, year))) for pk in inputs] if inputs else []
            if any(value is not None for value in values):
                at = {pk: value for pk, value in zip(inputs, values, strict=True) if value is not None}
                columns[fact] = pl.lit(pl.Series(fact, [at.get(pk) for pk in pks]))
            else:  # typed when all unknown (most chunks): coerce_frame has nothing to parse then
                columns[fact] = pl.lit(pl.Series(fact, [None] * len(pks), dtype=FIELD_TYPES[fact]))
        for fact, kind in TITLES.items():
            columns[fact] = pl.col("pk").is_in(held_by[kind].implode())
        yield pks, coerce_frame(frame.select(**columns))
