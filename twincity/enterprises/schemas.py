"""API schemas of the registry (input ...In, output ...Out), derived from the one vocabulary (fields.py): each
input states the real constraints of its field, so the OpenAPI document says what the services accept."""

from datetime import date, datetime
from decimal import Decimal
from typing import Annotated, Any, Literal

from ninja import Field, Schema
from ninja.schema import DjangoGetter
from pydantic import ConfigDict, ModelWrapValidatorHandler, StrictBool, ValidationInfo, create_model, model_validator

from twincity.core.api import IsoDate, JsonInt, decimal_text
from twincity.enterprises.fields import (
    CHOICES,
    CITY_PATTERN,
    COUNT_LIMIT,
    CREDIT_CODE_PATTERN,
    DECLARATION_FIGURES,
    ENTERPRISE_FIELDS,
    MONEY_LIMIT,
    SOURCES,
    FieldSpec,
)
from twincity.enterprises.validation import EMAIL_PATTERN

# Text inputs never hold NUL (no database column can) and a required one holds more than spaces.
NO_NUL = r"^[^\x00]*$"
NOT_BLANK = r"^[^\x00]*[^\s\x00][^\x00]*$"
# fields.INDUSTRY_CODE_PATTERN, in either case (the service upper-cases it), or empty (= unknown).
INDUSTRY_CODE_PATTERN_IN = r"^([A-Ta-t]\d{0,4})?$"
# Money as text: |x| < MONEY_LIMIT (10^12), as its digits say; or blank (= no change).
MONEY_TEXT = decimal_text(rf"^(-?\d{{1,{len(str(int(MONEY_LIMIT))) - 1}}}(\.\d+)?)?$")
# validation.EMAIL_PATTERN, with the spaces around it that the service strips, or empty (= none).
EMAIL_PATTERN_IN = rf"^\s*({EMAIL_PATTERN[1:-1]})?\s*$"
SourceKey = Literal[tuple(SOURCES)]  # type: ignore[valid-type]
Money = Decimal


def _input_field(spec: FieldSpec, *, required: bool = False) -> tuple[Any, Any]:
    """(annotation, pydantic Field) of one profile or figure field. Optional inputs accept null (= clear)."""
    default = ... if required else None
    description = f"{spec.label_zh} / {spec.label_en}"
    kind = spec.kind
    if kind in ("text", "email"):
        pattern = NOT_BLANK if spec.required else NO_NUL
        if spec.name == "industry_code":
            pattern = INDUSTRY_CODE_PATTERN_IN
        elif kind == "email":
            pattern = EMAIL_PATTERN_IN
        annotation: Any = str
        field = Field(default, max_length=spec.max_length, pattern=pattern, description=description)
    elif kind == "city":
        annotation = str
        field = Field(default, pattern=CITY_PATTERN, description=description + " (pinyin, e.g. chongqing)")
    elif kind == "choice":
        annotation = Literal[tuple(CHOICES[spec.name])]  # type: ignore[valid-type]
        field = Field(default, description=description)
    elif kind == "date":
        annotation = IsoDate
        field = Field(default, description=description)
    elif kind == "bool":  # strictly what the document says: true or false, not 1 or "yes"
        annotation = StrictBool
        field = Field(default, description=description)
    elif kind == "count":  # a JSON integer, not "12" or 12.5
        annotation = JsonInt
        field = Field(default, ge=0, le=spec.maximum or COUNT_LIMIT, description=description)
    elif kind == "headcount":
        annotation = JsonInt
        field = Field(default, ge=-COUNT_LIMIT, le=COUNT_LIMIT, description=description)
    elif kind == "money":
        annotation = Annotated[Decimal, Field(gt=-MONEY_LIMIT, lt=MONEY_LIMIT, allow_inf_nan=False), MONEY_TEXT[0]]
        field = Field(default, json_schema_extra=MONEY_TEXT[1], description=description + " (万元; rounded to 4 places)")
    else:  # pragma: no cover - every kind of fields.py is handled above
        raise ValueError(kind)
    if spec.required and not required:
        # A change may leave a required field out, never clear it: not nullable, and no null default shown.
        field.json_schema_extra = _without_default
    elif not required:
        annotation = annotation | None
    return annotation, field


def _without_default(schema: dict[str, Any]) -> None:
    schema.pop("default", None)


class StrictSchema(Schema):
    """An input that refuses keys it does not know (422), rather than ignoring a typo."""

    model_config = ConfigDict(extra="forbid")


EnterpriseProfileIn = create_model(
    "EnterpriseProfileIn",
    __base__=StrictSchema,
    **{spec.name: _input_field(spec) for spec in ENTERPRISE_FIELDS if spec.name != "credit_code"},
)
EnterpriseProfileIn.__doc__ = ("The profile fields to change; a field left out is unchanged, null clears it. A "
                               "company's own users may change contact details and self-declared facts only.")

EnterpriseCreateIn = create_model(
    "EnterpriseCreateIn",
    __base__=EnterpriseProfileIn,
    credit_code=(str, Field(..., pattern=CREDIT_CODE_PATTERN, json_schema_extra={"format": "uscc"},
                            description="统一社会信用代码 (GB 32100-2015, with its check character)")),
    **{spec.name: _input_field(spec, required=True) for spec in ENTERPRISE_FIELDS
       if spec.required and spec.name != "credit_code"},
)

FiguresIn = create_model(
    "FiguresIn",
    __base__=StrictSchema,
    **{spec.name: _input_field(spec) for spec in DECLARATION_FIGURES},
)


class ProvenanceIn(StrictSchema):
    """Where a figure comes from. Only administrators may mark a figure verified (403 otherwise)."""

    source: SourceKey | None = None
    verified: StrictBool | None = None


ProvenanceMapIn = create_model(
    "ProvenanceMapIn",
    __base__=StrictSchema,
    **{spec.name: (ProvenanceIn | None, None) for spec in DECLARATION_FIGURES},
)


class DeclarationIn(StrictSchema):
    """One fiscal year's figures. A figure left out keeps its value (all of them with `replace`: cleared);
    null clears it. Changing a figure drops its verification unless an administrator restates it."""

    figures: FiguresIn  # type: ignore[valid-type]
    provenance: ProvenanceMapIn = Field(default_factory=ProvenanceMapIn)  # type: ignore[valid-type]
    replace: StrictBool = False


class QualificationIn(StrictSchema):
    kind: Literal["hnte", "tsme", "innov", "srdi", "little_giant", "prov_rd_inst"]
    certificate_no: str = Field(..., max_length=64, pattern=NOT_BLANK)
    valid_from: IsoDate
    valid_until: IsoDate | None = None


class QualificationOut(Schema):
    id: int
    kind: str
    kind_label: str = Field(..., alias="get_kind_display")
    certificate_no: str
    valid_from: date
    valid_until: date | None


class EnterpriseOut(Schema):
    credit_code: str
    name: str
    city: str
    district: str
    registered_on: date | None
    industry_cluster: str
    industry_code: str
    size_class: str
    resident: bool | None
    prohibited: bool | None
    compliant: bool | None
    is_sme: bool | None
    contact_person: str
    contact_phone: str
    contact_email: str
    address: str
    ip_I_self: int | None
    ip_I_acq: int | None
    ip_I_hv: int | None
    ip_II: int | None
    transforms_3y: int | None
    sei: bool | None
    niche_years: int | None
    innov_title: bool | None
    nat_award_5y_top3: bool | None
    sci_award_3y: bool | None
    led_standard_5y: bool | None
    maker_top500_3y: bool | None
    updated_at: datetime

    @model_validator(mode="wrap")
    @classmethod
    def _run_root_validator(cls, values: Any, handler: ModelWrapValidatorHandler, info: ValidationInfo) -> Any:
        """Every field is a plain attribute of the enterprise: pydantic reads them itself (from_attributes),
        several times faster than ninja's getter on a page of 100. A subclass with related lists
        (EnterpriseDetailOut's qualifications) goes through ninja's getter, as every other schema does."""
        if cls is EnterpriseOut:
            return handler(values)
        return handler(DjangoGetter(values, cls, info.context))


class EnterpriseDetailOut(EnterpriseOut):
    qualifications: list[QualificationOut]


class FlagOut(Schema):
    code: str
    fields: list[str]
    message_zh: str
    message_en: str


class DeclarationOut(Schema):
    credit_code: str = Field(..., alias="enterprise.credit_code")
    fiscal_year: int
    employees: int | None
    tech_staff: int | None
    rd_staff: int | None
    sales: Money | None
    oprev: Money | None
    main: Money | None
    na: Money | None
    assets: Money | None
    liab: Money | None
    rd: Money | None
    rd_dom: Money | None
    cost: Money | None
    total_income: Money | None
    hitech_rev: Money | None
    net_profit: Money | None
    tax: Money | None
    equity_new: Money | None
    tech_contract: Money | None
    provenance: dict[str, dict]
    flags: list[FlagOut]
    updated_at: datetime
