"""The registry's vocabulary: every field a profile or a declaration holds, its label, its kind, its limits
and who may change it. Defined once; the model choices, the API schemas, the forms, the import templates and
the validation are all derived from these tables.

Field names follow shared/reference/facts.md exactly where a field is an evaluation fact, and such a field's
labels come from the one facts vocabulary (`points_engine.FACTS`): only the registry's own fields (district,
contacts, …) are labelled here. A declaration holds one fiscal year, so its figures carry no `_y*` suffix (the
suffix is relative to an evaluation date and is added when facts are built, in twincity.points.facts).
Pure Python: no Django.
"""

from dataclasses import dataclass
from decimal import Decimal
from typing import Any, Literal

from points_engine import FACTS

Kind = Literal["text", "city", "choice", "date", "bool", "count", "headcount", "money", "year", "credit_code",
               "email"]
# Who may change a profile field: "admin" (the registered identity and the platform's classification) or
# "company" (contact details and what the company declares about itself; administrators too).
EditLevel = Literal["admin", "company", "never"]


@dataclass(frozen=True)
class FieldSpec:
    name: str
    label_zh: str
    label_en: str
    kind: Kind
    required: bool = False
    edit: EditLevel = "admin"
    max_length: int | None = None
    # Whether the stored value can be "unknown": None for nullable columns, "" for text columns.
    nullable: bool = True
    # The largest value of a count (the smallest is 0; head counts may be negative and are then flagged).
    maximum: int | None = None

    @property
    def header(self) -> str:
        """The column header of import templates: `name (中文标签)`."""
        return f"{self.name} ({self.label_zh})"


INDUSTRY_CLUSTERS: dict[str, tuple[str, str]] = {
    "ic": ("集成电路", "Integrated circuits"),
    "ev": ("智能网联新能源汽车", "Intelligent connected new-energy vehicles"),
    "ict": ("新一代信息技术/软件", "Next-generation IT / software"),
    "materials": ("新材料", "New materials"),
    "biomed": ("生物医药/大健康", "Biomedicine / health"),
    "equipment": ("高端装备", "High-end equipment"),
    "energy": ("绿色能源/储能", "Green energy / storage"),
    "other": ("其他", "Other"),
}
DEFAULT_CLUSTER = "other"

SIZE_CLASSES: dict[str, tuple[str, str]] = {
    "micro": ("微型", "Micro"),
    "small": ("小型", "Small"),
    "medium": ("中型", "Medium"),
    "large": ("大型", "Large"),
}

SOURCES: dict[str, tuple[str, str]] = {
    "self_declared": ("企业自报", "Self-declared"),
    "tax": ("税务", "Tax bureau"),
    "social_security": ("社保", "Social security"),
    "ip_office": ("知识产权局", "IP office"),
    "audit_report": ("审计报告", "Audit report"),
}
DEFAULT_SOURCE = "self_declared"

CHOICES: dict[str, dict[str, tuple[str, str]]] = {
    "industry_cluster": INDUSTRY_CLUSTERS,
    "size_class": SIZE_CLASSES,
}

# --- limits (the database columns hold these; the API schemas state them) ----------------------------------

COUNT_LIMIT = 10_000_000
MONEY_LIMIT = Decimal(10) ** 12  # DecimalField(max_digits=16, decimal_places=4): |value| < 10^12 万元
MONEY_PLACES = 4  # 万元 to four places is one yuan
MONEY_STEP = Decimal(1).scaleb(-MONEY_PLACES)
NICHE_YEARS_LIMIT = 200
FISCAL_YEAR_MIN = 1980
CREDIT_CODE_PATTERN = r"^[0-9A-HJ-NPQRTUWXY]{2}[0-9]{6}[0-9A-HJ-NPQRTUWXY]{10}$"
INDUSTRY_CODE_PATTERN = r"^[A-T]\d{0,4}$"
CITY_PATTERN = r"^[a-z]{2,32}$"

def _fact(name: str, kind: Kind, *, label_zh: str = "", **options: Any) -> FieldSpec:
    """A registry field that is an evaluation fact (a declaration figure: the fact of its latest year),
    labelled as the facts vocabulary labels it (or more precisely, where one year's declaration says more)."""
    spec = FACTS.get(name) or FACTS[f"{name}_y3"]
    return FieldSpec(name, label_zh or spec.label_zh, spec.label_en[:1].upper() + spec.label_en[1:], kind, **options)


# --- the enterprise profile ----------------------------------------------------------------------------------

ENTERPRISE_FIELDS: tuple[FieldSpec, ...] = (
    _fact("credit_code", "credit_code", required=True, edit="never", nullable=False),
    _fact("name", "text", required=True, max_length=200, nullable=False),
    _fact("city", "city", required=True, max_length=32, nullable=False),
    FieldSpec("district", "区县", "District", "text", max_length=64, nullable=False),
    _fact("registered_on", "date"),
    _fact("industry_cluster", "choice", nullable=False),
    FieldSpec("industry_code", "国民经济行业代码", "National industry code", "text", max_length=8, nullable=False),
    FieldSpec("size_class", "企业规模", "Size class", "choice", nullable=False),
    _fact("resident", "bool"),
    _fact("prohibited", "bool"),
    _fact("compliant", "bool"),
    _fact("is_sme", "bool"),
    FieldSpec("contact_person", "联系人", "Contact person", "text", edit="company", max_length=64, nullable=False),
    FieldSpec("contact_phone", "联系电话", "Contact phone", "text", edit="company", max_length=32, nullable=False),
    FieldSpec("contact_email", "联系邮箱", "Contact email", "email", edit="company", max_length=254,
              nullable=False),
    FieldSpec("address", "通讯地址", "Mailing address", "text", edit="company", max_length=200, nullable=False),
    _fact("ip_I_self", "count", edit="company"),
    _fact("ip_I_acq", "count", edit="company"),
    _fact("ip_I_hv", "count", edit="company"),
    _fact("ip_II", "count", edit="company"),
    _fact("transforms_3y", "count", edit="company"),
    _fact("sei", "bool", edit="company"),
    _fact("niche_years", "count", edit="company", maximum=NICHE_YEARS_LIMIT),
    _fact("innov_title", "bool", edit="company"),
    _fact("nat_award_5y_top3", "bool", edit="company"),
    _fact("sci_award_3y", "bool", edit="company"),
    _fact("led_standard_5y", "bool", edit="company"),
    _fact("maker_top500_3y", "bool", edit="company"),
)
ENTERPRISE_FIELD = {spec.name: spec for spec in ENTERPRISE_FIELDS}
# What a profile write may change (everything but the key).
PROFILE_FIELD_NAMES: frozenset[str] = frozenset(spec.name for spec in ENTERPRISE_FIELDS if spec.edit != "never")
# What a company's own users may change of their profile.
COMPANY_EDITABLE_FIELDS: frozenset[str] = frozenset(spec.name for spec in ENTERPRISE_FIELDS if spec.edit == "company")
# The text columns store "" for unknown; a blank cluster is the model's default.
PROFILE_BLANKS: dict[str, object] = {
    spec.name: (DEFAULT_CLUSTER if spec.name == "industry_cluster" else "")
    for spec in ENTERPRISE_FIELDS
    if not spec.nullable and not spec.required
}

# --- annual declarations ---------------------------------------------------------------------------------------

DECLARATION_FIGURES: tuple[FieldSpec, ...] = (
    _fact("employees", "headcount"),
    _fact("tech_staff", "headcount"),
    _fact("rd_staff", "headcount"),
    _fact("sales", "money"),
    _fact("oprev", "money"),
    _fact("main", "money"),
    _fact("na", "money", label_zh="净资产(年末)"),
    _fact("assets", "money"),
    _fact("liab", "money"),
    _fact("rd", "money"),
    FieldSpec("rd_dom", "境内研发费用", "Domestic R&D expense", "money"),
    _fact("cost", "money"),
    _fact("total_income", "money"),
    _fact("hitech_rev", "money"),
    _fact("net_profit", "money"),
    _fact("tax", "money"),
    FieldSpec("equity_new", "新增股权融资(合格机构实缴)", "New equity financing", "money"),
    _fact("tech_contract", "money"),
)
FIGURE = {spec.name: spec for spec in DECLARATION_FIGURES}
FIGURE_NAMES: tuple[str, ...] = tuple(spec.name for spec in DECLARATION_FIGURES)
HEADCOUNT_FIGURES: tuple[str, ...] = tuple(spec.name for spec in DECLARATION_FIGURES if spec.kind == "headcount")
MONEY_FIGURES: tuple[str, ...] = tuple(spec.name for spec in DECLARATION_FIGURES if spec.kind == "money")

DECLARATION_KEY_FIELDS: tuple[FieldSpec, ...] = (
    _fact("credit_code", "credit_code", required=True),
    FieldSpec("fiscal_year", "会计年度", "Fiscal year", "year", required=True),
)

# A cell (or a form field) holding one of these words clears the stored value; a blank cell changes nothing.
CLEAR_WORDS: frozenset[str] = frozenset({"清空", "清除", "clear", "(clear)", "（清空）"})
