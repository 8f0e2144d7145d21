"""The demo's cast: the personas of PRODUCT.md and the organisations they act for. The demo data and the test
cast (twincity.testing) are both built from these, so the personas are defined once."""

from dataclasses import dataclass

DEMO_PASSWORD = "twincity"
CHONGQING, CHENGDU = "chongqing", "chengdu"


@dataclass(frozen=True)
class OrgSpec:
    key: str
    name: str
    kind: str  # accounts.Organisation.Kind value
    city: str = ""
    parent: str = ""


ORGANISATIONS: tuple[OrgSpec, ...] = (
    # The persona companies (their Enterprise rows are made by the generator).
    OrgSpec("alice_org", "重庆金凤微电子科技有限公司", "enterprise", CHONGQING),
    OrgSpec("bob_org", "成都天府星云软件有限公司", "enterprise", CHENGDU),
    # Banks: head organisations and their branches in both cities.
    OrgSpec("crcb", "重庆农村商业银行", "bank"),
    OrgSpec("crcb_kxc", "重庆农村商业银行科学城支行", "bank", CHONGQING, "crcb"),
    OrgSpec("crcb_gx", "重庆农村商业银行高新区支行", "bank", CHONGQING, "crcb"),
    OrgSpec("cdb", "成都银行", "bank"),
    OrgSpec("cdb_gx", "成都银行高新支行", "bank", CHENGDU, "cdb"),
    OrgSpec("cdb_cq", "成都银行重庆分行", "bank", CHONGQING, "cdb"),
    OrgSpec("cqb", "重庆银行", "bank"),
    OrgSpec("cqb_kxc", "重庆银行西部科学城支行", "bank", CHONGQING, "cqb"),
    OrgSpec("cqb_cd", "重庆银行成都分行", "bank", CHENGDU, "cqb"),
    OrgSpec("ccb", "中国建设银行", "bank"),
    OrgSpec("ccb_cq", "中国建设银行重庆科学城支行", "bank", CHONGQING, "ccb"),
    OrgSpec("ccb_cd", "中国建设银行成都高新支行", "bank", CHENGDU, "ccb"),
    OrgSpec("ccb_tf", "中国建设银行成都天府新区支行", "bank", CHENGDU, "ccb"),
    # Guarantors and credit enhancement, a fund.
    OrgSpec("cq_guarantee", "重庆科学城融资担保有限公司", "guarantor", CHONGQING),
    OrgSpec("cd_guarantee", "成都高新投资融资担保有限公司", "guarantor", CHENGDU),
    OrgSpec("sc_credit", "双城(重庆)信用增进股份有限公司", "guarantor", CHONGQING),
    OrgSpec("kxc_fund", "西部(重庆)科学城产业引导基金", "fund", CHONGQING),
    # Institutes and universities named in the article, and one in Chengdu.
    OrgSpec("cqu_atc", "重庆大学分析测试中心", "institute", CHONGQING),
    OrgSpec("jinfeng", "金凤实验室", "institute", CHONGQING),
    OrgSpec("pku_bigdata", "北京大学重庆大数据研究院", "institute", CHONGQING),
    OrgSpec("uestc_micro", "电子科技大学重庆微电子产业技术研究院", "institute", CHONGQING),
    OrgSpec("bit_micro", "北京理工大学重庆微电子研究院", "institute", CHONGQING),
    OrgSpec("xidian_ic", "西安电子科技大学重庆集成电路创新研究院", "institute", CHONGQING),
    OrgSpec("scu_atc", "四川大学分析测试中心", "institute", CHENGDU),
    # Government offices of both cities.
    OrgSpec("cq_committee", "西部(重庆)科学城管委会", "government", CHONGQING),
    OrgSpec("cq_services", "重庆高新区政务服务中心", "government", CHONGQING),
    OrgSpec("cd_committee", "成都高新区管委会", "government", CHENGDU),
    OrgSpec("cd_services", "成都高新区政务服务中心", "government", CHENGDU),
    # Departments that handle public-service cases (政务服务事项的实施机关).
    OrgSpec("cq_hrss", "重庆高新区人力资源和社会保障局", "government", CHONGQING),
    OrgSpec("cq_market", "重庆高新区市场监督管理局", "government", CHONGQING),
    OrgSpec("cq_disability", "重庆高新区残疾人联合会", "government", CHONGQING),
    OrgSpec("cq_science", "重庆高新区科技创新局", "government", CHONGQING),
    OrgSpec("cd_hrss", "成都高新区社区发展治理和社会保障局", "government", CHENGDU),
    OrgSpec("cd_market", "成都高新区市场监督管理局", "government", CHENGDU),
    OrgSpec("cd_disability", "成都高新区残疾人联合会", "government", CHENGDU),
)


@dataclass(frozen=True)
class Persona:
    username: str
    role: str  # accounts.User.Role value
    organisation: str  # OrgSpec.key or ""
    display_name: str
    who: str
    tries: str


PERSONAS: tuple[Persona, ...] = (
    Persona("alice", "enterprise_user", "alice_org", "Alice 艾丽", "enterprise user, 重庆金凤微电子 (重庆高新区, ic)",
            "我的企业: profile, HNTE + TSME qualifications, 3 declarations; import a declaration file"),
    Persona("bob", "enterprise_user", "bob_org", "Bob 鲍勃", "enterprise user, 成都天府星云软件 (成都高新区, ict)",
            "the same for his company; never sees alice's"),
    Persona("bella", "bank_officer", "crcb_kxc", "Bella 贝拉", "credit officer, 重庆农村商业银行科学城支行",
            "the enterprise registry (profiles, no declarations)"),
    Persona("bruno", "bank_officer", "cdb_gx", "Bruno 布鲁诺", "credit officer, 成都银行高新支行",
            "the same; never sees bella's bank"),
    Persona("gary", "guarantee_officer", "cq_guarantee", "Gary 盖瑞", "guarantee officer, 重庆科学城融资担保",
            "the registry"),
    Persona("owen", "instrument_owner", "cqu_atc", "Owen 欧文", "lab manager, 重庆大学分析测试中心", "home page"),
    Persona("clara", "clerk", "cq_services", "Clara 克拉拉", "service clerk, 重庆高新区政务服务中心", "the registry"),
    Persona("chen", "clerk", "cd_services", "Chen 陈晨", "service clerk, 成都高新区政务服务中心",
            "政务服务: window intake of both cities' items, forwarding, acceptance and delivery of Chengdu's cases"),
    Persona("hank", "clerk", "cq_hrss", "Hank 韩克", "department clerk, 重庆高新区人力资源和社会保障局",
            "政务服务: the department's work queue with the clock, pauses, decisions; the dashboard"),
    Persona("olivia", "administrator", "cq_committee", "Olivia 奥利维亚", "administrator, 西部(重庆)科学城管委会",
            "everything: registry, flagged declarations, imports, audit trail, API tokens"),
    Persona("ruby", "enterprise_user", "bob_org", "Ruby 如玉", "researcher at bob's company 成都天府星云软件; holds a "
            "金熊猫 card (B类)", "我的人才卡 (QR, what it shows); a shared service in Chongqing granted, an own-zone one "
            "refused with the reason"),
    Persona("felix", "", "jinfeng", "Felix 飞翔", "researcher, 金凤实验室 (重庆); holds a 金凤凰 card (II类)",
            "renews his card in its 30-day window; the shared services in Chengdu"),
    Persona("charlie", "", "", "", "no role, no organisation", "only public pages"),
)
PERSONA_USERNAMES = tuple(p.username for p in PERSONAS)

# The persona companies: fixed codes (the same as the test cast's) and fixed, consistent figures.
ALICE_CODE = "91500107MA5YP4QX2A"
BOB_CODE = "91510100MA6CGNB36L"

PERSONA_HONOURS = {
    "alice": {"sei": True, "niche_years": 6, "innov_title": False, "nat_award_5y_top3": False, "sci_award_3y": True,
              "led_standard_5y": False, "maker_top500_3y": False},
    "bob": {"sei": True, "niche_years": 8, "innov_title": False, "nat_award_5y_top3": False, "sci_award_3y": False,
            "led_standard_5y": True, "maker_top500_3y": False},
}
