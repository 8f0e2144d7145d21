"""The registry's vocabulary: which figures exist, their Chinese labels and types.

Field names follow shared/reference/facts.md exactly; a declaration holds one fiscal year, so its figures
carry no `_y*` suffix (the suffix is relative to an evaluation date and is added when facts are built).
"""

from dataclasses import dataclass
from typing import Literal

Kind = Literal["int", "money", "text", "date", "bool"]


@dataclass(frozen=True)
class FieldSpec:
    name: str
    label_zh: str
    label_en: str
    kind: Kind
    required: bool = False


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

SIZE_CLASSES: dict[str, tuple[str, str]] = {
    "micro": ("微型", "Micro"),
    "small": ("小型", "Small"),
    "medium": ("中型", "Medium"),
    "large": ("大型", "Large"),
}

ENTERPRISE_FIELDS: tuple[FieldSpec, ...] = (
    FieldSpec("credit_code", "统一社会信用代码", "Unified social credit code", "text", required=True),
    FieldSpec("name", "企业名称", "Name", "text", required=True),
    FieldSpec("city", "注册地", "City", "text", required=True),
    FieldSpec("district", "区县", "District", "text"),
    FieldSpec("registered_on", "注册日期", "Registration date", "date"),
    FieldSpec("industry_cluster", "重点产业集群", "Industry cluster", "text"),
    FieldSpec("industry_code", "国民经济行业代码", "National industry code", "text"),
    FieldSpec("size_class", "企业规模", "Size class", "text"),
    FieldSpec("resident", "境内居民企业", "Resident enterprise", "bool"),
    FieldSpec("prohibited", "产品属禁止/限制/淘汰类", "Prohibited products", "bool"),
    FieldSpec("compliant", "无重大违法失信", "Compliant", "bool"),
    FieldSpec("is_sme", "中小企业", "SME", "bool"),
    FieldSpec("ip_I_self", "自主研发Ⅰ类知识产权数", "Class I IP, self-developed", "int"),
    FieldSpec("ip_I_acq", "受让/受赠/并购取得Ⅰ类知识产权数", "Class I IP, acquired", "int"),
    FieldSpec("ip_I_hv", "其中高价值Ⅰ类知识产权数", "High-value class I IP", "int"),
    FieldSpec("ip_II", "Ⅱ类知识产权数", "Class II IP", "int"),
    FieldSpec("transforms_3y", "近三年科技成果转化数", "Tech transfers, last 3 years", "int"),
    FieldSpec("sei", "主导产品属《战略性新兴产业分类》", "Main product in a strategic emerging industry", "bool"),
    FieldSpec("niche_years", "从事特定细分市场年数", "Years in a niche market", "int"),
    FieldSpec("innov_title", "国家级技术创新示范企业、知识产权优势/示范企业", "National innovation / IP title", "bool"),
    FieldSpec("nat_award_5y_top3", "近五年国家级科技奖励(前三名完成单位)", "National S&T award, 5 years, top 3", "bool"),
    FieldSpec("sci_award_3y", "近三年国家级或省级科技奖励", "National or provincial S&T award, 3 years", "bool"),
    FieldSpec("led_standard_5y", "近五年主导制定国际/国家/行业标准", "Led a standard, 5 years", "bool"),
    FieldSpec("maker_top500_3y", "近三年创客中国全国500强", "Maker China top 500, 3 years", "bool"),
)

# Enterprise facts that the scoring engine reads as they are (facts.md names).
ENTERPRISE_FACT_NAMES: tuple[str, ...] = (
    "resident", "prohibited", "compliant", "is_sme", "ip_I_self", "ip_I_acq", "ip_I_hv", "ip_II", "transforms_3y",
    "sei", "niche_years", "innov_title", "nat_award_5y_top3", "sci_award_3y", "led_standard_5y", "maker_top500_3y",
)

# The yearly figures of facts.md, one fiscal year per declaration.
DECLARATION_FIGURES: tuple[FieldSpec, ...] = (
    FieldSpec("employees", "职工总数", "Employees", "int"),
    FieldSpec("tech_staff", "科技人员数", "Technical staff", "int"),
    FieldSpec("rd_staff", "研发人员数", "R&D staff", "int"),
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

DECLARATION_KEY_FIELDS: tuple[FieldSpec, ...] = (
    FieldSpec("credit_code", "统一社会信用代码", "Unified social credit code", "text", required=True),
    FieldSpec("fiscal_year", "会计年度", "Fiscal year", "int", required=True),
)

FIGURE_NAMES: tuple[str, ...] = tuple(f.name for f in DECLARATION_FIGURES)

SOURCES: dict[str, tuple[str, str]] = {
    "self_declared": ("企业自报", "Self-declared"),
    "tax": ("税务", "Tax bureau"),
    "social_security": ("社保", "Social security"),
    "ip_office": ("知识产权局", "IP office"),
    "audit_report": ("审计报告", "Audit report"),
}
