"""The registry's vocabulary: every field a profile or a declaration holds, its label, its kind, its limits
and who may change it. Defined once; the model choices, the API schemas, the forms, the import templates and
the validation are all derived from these tables.

Field names follow shared/reference/facts.md exactly where a field is an evaluation fact; a declaration holds
one fiscal year, so its figures carry no `_y*` suffix (the suffix is relative to an evaluation date and is
added when facts are built, in twincity.points.facts). Pure Python: no Django.
"""

from dataclasses import dataclass
from decimal import Decimal
from typing import Literal

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

# --- the enterprise profile ----------------------------------------------------------------------------------

ENTERPRISE_FIELDS: tuple[FieldSpec, ...] = (
    FieldSpec("credit_code", "统一社会信用代码", "Unified social credit code", "credit_code", required=True,
              edit="never", nullable=False),
    FieldSpec("name", "企业名称", "Name", "text", required=True, max_length=200, nullable=False),
    FieldSpec("city", "注册地", "City", "city", required=True, max_length=32, nullable=False),
    FieldSpec("district", "区县", "District", "text", max_length=64, nullable=False),
    FieldSpec("registered_on", "注册日期", "Registration date", "date"),
    FieldSpec("industry_cluster", "重点产业集群", "Industry cluster", "choice", nullable=False),
    FieldSpec("industry_code", "国民经济行业代码", "National industry code", "text", max_length=8, nullable=False),
    FieldSpec("size_class", "企业规模", "Size class", "choice", nullable=False),
    FieldSpec("resident", "境内居民企业", "Resident enterprise", "bool"),
    FieldSpec("prohibited", "产品属禁止/限制/淘汰类", "Prohibited products", "bool"),
    FieldSpec("compliant", "无重大违法失信", "Compliant", "bool"),
    FieldSpec("is_sme", "中小企业", "SME", "bool"),
    FieldSpec("contact_person", "联系人", "Contact person", "text", edit="company", max_length=64, nullable=False),
    FieldSpec("contact_phone", "联系电话", "Contact phone", "text", edit="company", max_length=32, nullable=False),
    FieldSpec("contact_email", "联系邮箱", "Contact email", "email", edit="company", max_length=254,
              nullable=False),
    FieldSpec("address", "通讯地址", "Mailing address", "text", edit="company", max_length=200, nullable=False),
    FieldSpec("ip_I_self", "自主研发Ⅰ类知识产权数", "Class I IP, self-developed", "count", edit="company"),
    FieldSpec("ip_I_acq", "受让/受赠/并购取得Ⅰ类知识产权数", "Class I IP, acquired", "count", edit="company"),
    FieldSpec("ip_I_hv", "其中高价值Ⅰ类知识产权数", "High-value class I IP", "count", edit="company"),
    FieldSpec("ip_II", "Ⅱ类知识产权数", "Class II IP", "count", edit="company"),
    FieldSpec("transforms_3y", "近三年科技成果转化数", "Tech transfers, last 3 years", "count", edit="company"),
    FieldSpec("sei", "主导产品属《战略性新兴产业分类》", "Main product in a strategic emerging industry", "bool",
              edit="company"),
    FieldSpec("niche_years", "从事特定细分市场年数", "Years in a niche market", "count", edit="company",
              maximum=NICHE_YEARS_LIMIT),
    FieldSpec("innov_title", "国家级技术创新示范企业、知识产权优势/示范企业", "National innovation / IP title", "bool",
              edit="company"),
    FieldSpec("nat_award_5y_top3", "近五年国家级科技奖励(前三名完成单位)", "National S&T award, 5 years, top 3", "bool",
              edit="company"),
    FieldSpec("sci_award_3y", "近三年国家级或省级科技奖励", "National or provincial S&T award, 3 years", "bool",
              edit="company"),
    FieldSpec("led_standard_5y", "近五年主导制定国际/国家/行业标准", "Led a standard, 5 years", "bool", edit="company"),
    FieldSpec("maker_top500_3y", "近三年创客中国全国500强", "Maker China top 500, 3 years", "bool", edit="company"),
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
    FieldSpec("employees", "职工总数", "Employees", "headcount"),
    FieldSpec("tech_staff", "科技人员数", "Technical staff", "headcount"),
    FieldSpec("rd_staff", "研发人员数", "R&D staff", "headcount"),
    FieldSpec("sales", "销售收入", "Sales revenue", "money"),
    FieldSpec("oprev", "营业收入", "Operating revenue", "money"),
    FieldSpec("main", "主营业务收入", "Main business revenue", "money"),
    FieldSpec("na", "净资产(年末)", "Net assets (year end)", "money"),
    FieldSpec("assets", "资产总额", "Total assets", "money"),
    FieldSpec("liab", "负债总额", "Total liabilities", "money"),
    FieldSpec("rd", "研发费用", "R&D expense", "money"),
    FieldSpec("rd_dom", "境内研发费用", "Domestic R&D expense", "money"),
    FieldSpec("cost", "成本费用支出总额", "Total cost and expense", "money"),
    FieldSpec("total_income", "总收入(高企口径)", "Total income (HNTE basis)", "money"),
    FieldSpec("hitech_rev", "高新技术产品(服务)收入", "High-tech product revenue", "money"),
    FieldSpec("net_profit", "净利润", "Net profit", "money"),
    FieldSpec("tax", "纳税总额", "Total tax paid", "money"),
    FieldSpec("equity_new", "新增股权融资(合格机构实缴)", "New equity financing", "money"),
    FieldSpec("tech_contract", "技术合同成交额", "Technology contract turnover", "money"),
)
FIGURE = {spec.name: spec for spec in DECLARATION_FIGURES}
FIGURE_NAMES: tuple[str, ...] = tuple(spec.name for spec in DECLARATION_FIGURES)
HEADCOUNT_FIGURES: tuple[str, ...] = tuple(spec.name for spec in DECLARATION_FIGURES if spec.kind == "headcount")
MONEY_FIGURES: tuple[str, ...] = tuple(spec.name for spec in DECLARATION_FIGURES if spec.kind == "money")

DECLARATION_KEY_FIELDS: tuple[FieldSpec, ...] = (
    FieldSpec("credit_code", "统一社会信用代码", "Unified social credit code", "credit_code", required=True),
    FieldSpec("fiscal_year", "会计年度", "Fiscal year", "year", required=True),
)

# A cell (or a form field) holding one of these words clears the stored value; a blank cell changes nothing.
CLEAR_WORDS: frozenset[str] = frozenset({"清空", "清除", "clear", "(clear)", "（清空）"})
