"""API schemas of the points domain (input ...In, output ...Out) and the plain-data shaping of engine objects."""

import math
from datetime import date, datetime
from decimal import Decimal
from typing import Annotated, Any, Literal
from uuid import UUID

import polars as pl
from ninja import Field, Schema
from pydantic import ConfigDict, StrictBool, StrictFloat, create_model, model_validator

import points_engine
from points_engine.facts import FIELD_TYPES
from twincity.core.api import IsoDate, JsonInt, decimal_text
from twincity.points.services import WHAT_IF_LOCKED


def plain(value: Any) -> Any:
    """JSON-safe: non-finite floats become None, dates ISO text, tuples lists."""
    if isinstance(value, float) and not math.isfinite(value):
        return None
    if isinstance(value, (date, datetime)):
        return value.isoformat()
    if isinstance(value, dict):
        return {str(k): plain(v) for k, v in value.items()}
    if isinstance(value, (list, tuple)):
        return [plain(v) for v in value]
    return value


class StandardOut(Schema):
    standard_id: str
    version: str
    name_zh: str
    name_en: str
    region: str
    effective_from: date
    provisional: bool
    note: str
    derived_from_version: str | None = None
    created_at: datetime

    @staticmethod
    def resolve_derived_from_version(obj) -> str | None:
        return obj.derived_from.version if obj.derived_from_id else None


class StandardDetailOut(StandardOut):
    definition: dict[str, Any]


class StandardDeriveIn(Schema):
    model_config = ConfigDict(extra="forbid")

    version: str = Field(..., min_length=1, max_length=16, pattern=r"^[0-9A-Za-z][0-9A-Za-z._-]{0,15}$")
    note: str = Field("", max_length=255, pattern=r"^[^\x00]*$")
    # Either the whole new definition, or changes {dotted path: new value} (paths as in the diff).
    definition: dict[str, Any] | None = None
    changes: dict[str, Any] | None = None

    @model_validator(mode="after")
    def one_of(self):
        if self.definition is not None and self.changes is not None:
            raise ValueError("give definition or changes, not both")
        return self


class DiffItemOut(Schema):
    path: str
    old: Any = None
    new: Any = None


class StandardDiffOut(Schema):
    standard_id: str
    a: str
    b: str
    changes: list[DiffItemOut]


class RunOut(Schema):
    public_id: UUID
    standard_id: str
    version: str
    evaluation_date: date
    application: str
    status: str
    total: int
    done: int
    percent: int
    started_by: str | None = None
    created_at: datetime
    started_at: datetime | None
    finished_at: datetime | None
    duration_seconds: float | None
    verdict_counts: dict[str, int]
    error: str

    @staticmethod
    def resolve_standard_id(obj) -> str:
        return obj.standard.standard_id

    @staticmethod
    def resolve_version(obj) -> str:
        return obj.standard.version

    @staticmethod
    def resolve_started_by(obj) -> str | None:
        return obj.started_by.username if obj.started_by_id else None


# Every stored version belongs to one of the built-in standards (a derived version keeps its standard's id).
StandardIdIn = Literal[tuple(sorted({s.id for s in points_engine.list_builtin()}))]  # type: ignore[valid-type]
VersionIn = Field(None, max_length=16, pattern=r"^[0-9A-Za-z][0-9A-Za-z._-]*$",
                  description="the standard's version (default: the latest); an unknown version answers 404")


KindIn = Literal[tuple(points_engine.EVALUATION_KINDS)]  # type: ignore[valid-type]
ApplicationIn = Literal["new", "renewal"]


class RunCreateIn(Schema):
    """Give a kind of evaluation (the version is the one in force on the evaluation date; for renewals, the one
    configured for that year), or a standard (and version: its latest when left out)."""

    # Exactly one of kind and standard_id; a version only with standard_id (as the validator below says).
    model_config = ConfigDict(extra="forbid", json_schema_extra={"oneOf": [
        {"required": ["kind"], "not": {"required": ["standard_id"]}, "properties": {"version": {"type": "null"}}},
        {"required": ["standard_id"], "not": {"required": ["kind"]}},
    ]})

    kind: KindIn = None  # type: ignore[assignment]  # absent, never null
    standard_id: StandardIdIn = None  # type: ignore[assignment]
    version: str | None = VersionIn
    evaluation_date: IsoDate = Field(..., ge=date(1990, 1, 1), le=date(2100, 12, 31),
                                     json_schema_extra={"pattern": r"^(199\d|20\d\d|2100)-"})  # the years, documented
    application: ApplicationIn = "new"

    @model_validator(mode="after")
    def kind_or_standard(self):
        if (self.kind is None) == (self.standard_id is None):
            raise ValueError("give either kind or standard_id")
        if self.kind is not None and self.version is not None:
            raise ValueError("a version goes with standard_id, not with kind")
        return self


class KindInForceOut(Schema):
    kind: str
    name_zh: str
    name_en: str
    new: str | None = Field(None, description="standard_id and version new applications are judged by")
    renewal: str | None = Field(None, description="standard_id and version renewals are judged by")
    renewal_configured: bool
    superseded: list[str]


class RenewalRuleIn(Schema):
    model_config = ConfigDict(extra="forbid")

    standard_id: StandardIdIn
    version: str = Field(..., max_length=16, pattern=r"^[0-9A-Za-z][0-9A-Za-z._-]*$")
    note: str = Field("", max_length=255, pattern=r"^[^\x00]*$")


class RenewalRuleOut(Schema):
    kind: str
    year: int
    standard_id: str = Field(..., alias="standard.standard_id")
    version: str = Field(..., alias="standard.version")
    note: str
    updated_at: datetime


# A recorded number as text: 0 to 100, as its digits say.
INPUT_TEXT = decimal_text(r"^(\d{1,2}(\.\d+)?|100(\.0+)?)$")


class EvaluationInputIn(Schema):
    """`value`: true/false for a judgement; a number for quality_score (0–100, with its `year`) or market_share
    (0–1)."""

    model_config = ConfigDict(extra="forbid")

    value: StrictBool | Annotated[Decimal, Field(ge=0, le=100, allow_inf_nan=False), INPUT_TEXT[0]] = Field(
        ..., description="true/false, or a number from 0 to 100", json_schema_extra=INPUT_TEXT[1])
    year: int | None = Field(None, ge=2000, le=2100)
    source: str = Field("", max_length=200, pattern=r"^[^\x00]*$")
    note: str = Field("", max_length=255, pattern=r"^[^\x00]*$")


class EvaluationInputOut(Schema):
    fact: str
    year: int
    value: Any
    source: str
    note: str
    recorded_by: str | None = Field(None, alias="recorded_by.username")
    updated_at: datetime


class GroupOut(Schema):
    key: str
    label: str
    count: int
    mean: float | None
    median: float | None
    p90: float | None
    grade_counts: dict[str, int]


class BucketOut(Schema):
    bucket_start: float
    bucket_end: float
    count: int


class ResultRowOut(Schema):
    credit_code: str
    name: str
    city: str
    industry_cluster: str
    verdict: str
    score_min: Decimal | None
    score_max: Decimal | None
    grade: str
    stage: str

    @staticmethod
    def resolve_credit_code(obj) -> str:
        return obj.enterprise.credit_code

    @staticmethod
    def resolve_name(obj) -> str:
        return obj.enterprise.name

    @staticmethod
    def resolve_city(obj) -> str:
        return obj.enterprise.city

    @staticmethod
    def resolve_industry_cluster(obj) -> str:
        return obj.enterprise.industry_cluster


class RankingsOut(Schema):
    run: RunOut
    group_by: str
    count: int
    groups: list[GroupOut]
    top: list[ResultRowOut]
    histogram: list[BucketOut]


GroupBy = Literal["industry_cluster", "city", "stage"]
ExportFormat = Literal["json", "csv", "xlsx"]


# A score as text: |x| <= 100000, as its digits say.
SCORE_TEXT = decimal_text(r"^-?(\d{1,5}(\.\d+)?|100000(\.0+)?)$")


class WhitelistFilters(Schema):
    min_grade: Literal["A", "B", "C", "D", "E"] | None = None
    min_score: Annotated[Decimal, Field(ge=-100000, le=100000, allow_inf_nan=False), SCORE_TEXT[0]] | None = Field(
        None, json_schema_extra=SCORE_TEXT[1])
    format: ExportFormat = "json"
    # Pages of the json format (files hold every row).
    limit: int = Field(100, ge=1, le=1000)
    offset: int = Field(0, ge=0, le=2**31 - 1)


class WhitelistPageOut(Schema):
    items: list[ResultRowOut]
    count: int


class IndicatorOut(Schema):
    id: str
    name_zh: str
    name_en: str
    category: str
    value: Any = None
    band: str | None
    points: float | None
    points_min: float | None
    points_max: float | None
    max_points: float | None
    next_band: dict[str, Any] | None = None


class ExplanationOut(Schema):
    standard_id: str
    version: str
    evaluation_date: date | None
    verdict: str
    route: str
    score_min: float | None
    score_max: float | None
    grade: str | None
    stage: str | None
    peer_group: str | None
    reasons: list[str]
    indicators: list[IndicatorOut]


def explanation_data(explanation: points_engine.Explanation) -> dict[str, Any]:
    return {
        "standard_id": explanation.standard_id,
        "version": explanation.version,
        "evaluation_date": explanation.evaluation_date,
        "verdict": explanation.verdict,
        "route": explanation.route,
        "score_min": plain(explanation.score_min),
        "score_max": plain(explanation.score_max),
        "grade": explanation.grade,
        "stage": explanation.stage,
        "peer_group": explanation.peer_group,
        "reasons": [f"{zh} / {en}" for zh, en in explanation.reasons],
        "indicators": [
            {"id": i.id, "name_zh": i.name_zh, "name_en": i.name_en, "category": i.category,
             "value": plain(i.value), "band": i.band, "points": plain(i.points), "points_min": plain(i.points_min),
             "points_max": plain(i.points_max), "max_points": plain(i.max_points), "next_band": plain(i.next_band)}
            for i in explanation.indicators
        ],
    }


class CategoryOut(Schema):
    id: str
    name_zh: str
    name_en: str
    points: float
    max_points: float


class HistoryOut(Schema):
    standard_id: str
    evaluation_date: date
    run_public_id: UUID
    standard_version: str
    verdict: str
    score_min: Decimal | None
    score_max: Decimal | None
    grade: str


class StandardRefOut(Schema):
    standard_id: str
    version: str
    name_zh: str
    name_en: str


class EnterprisePointsOut(Schema):
    credit_code: str
    name: str
    standards: list[StandardRefOut]
    current: StandardRefOut | None
    run_public_id: UUID | None
    evaluation_date: date | None
    application: str | None
    engine_version: str | None
    explained: bool
    result: ExplanationOut | None
    categories: list[CategoryOut]
    history: list[HistoryOut]


def _what_if_change(dtype: pl.DataType) -> tuple[Any, Any]:
    """(annotation, Field) of one fact a what-if may change: its engine type, strictly; null clears it."""
    if isinstance(dtype, pl.Boolean):
        return StrictBool | None, None
    if isinstance(dtype, pl.Int64):
        return Annotated[JsonInt, Field(ge=-(2**53), le=2**53)] | None, None
    if isinstance(dtype, pl.Date):
        return IsoDate | None, None
    if isinstance(dtype, pl.String):
        return str | None, Field(None, max_length=200, pattern=r"^[^\x00]*$")
    return Annotated[StrictFloat, Field(allow_inf_nan=False)] | None, None


# The facts a what-if may change (facts.md names; not the enterprise's identity), each with its engine type.
# Other names are refused (422) by the service, which names each of them; the document says so.
WhatIfChangesIn = create_model(
    "WhatIfChangesIn",
    __config__=ConfigDict(extra="allow", json_schema_extra={"additionalProperties": False}),
    **{name: _what_if_change(dtype) for name, dtype in sorted(FIELD_TYPES.items()) if name not in WHAT_IF_LOCKED},
)


class WhatIfIn(Schema):
    model_config = ConfigDict(extra="forbid")

    standard_id: StandardIdIn = "scp-v1"
    version: str | None = VersionIn
    changes: WhatIfChangesIn  # type: ignore[valid-type]


class WhatIfOut(Schema):
    before: ExplanationOut
    after: ExplanationOut
    # Indicators whose points changed: {id: [before, after]}.
    changed: dict[str, list[float | None]]
