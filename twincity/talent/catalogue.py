"""The seed versions of the two cards the article names, and of their mutual recognition: configuration an
administrator replaces by publishing new versions (人才卡方案与互认), never code to edit.

Confidence (see ../shared/reference/gov-services.md §1):
* 金熊猫: the tiering follows Chengdu's A/B/C/D scheme, with founders of 平台生态型龙头 / 独角兽, 瞪羚 and 种子期雏鹰
  enterprises in A, B and C (成都高新区 2019-11-29 policy, [C]); the A–D examples are the 蓉城人才绿卡's [P] and the
  2023 成都市人才分类目录's (D includes 博士) [C]. Its services were not found: DEMO.
* 金凤凰: no source was found for the card at all. The tiers I/II/III copy the classes of Chongqing's 重庆英才服务卡
  A卡 (渝人社发〔2020〕53号, [C]) as a plausible guess; criteria, services and the 3-year validity (the A卡's) are
  DEMO values.
* The "68+N" services: the `shared` services stand for the 68 shared list, the others for a zone's N: DEMO.
* The tier mapping: no official mapping was found: DEMO.
Every seeded version and mapping carries demo=True and says so in its note.
"""

DEMO_NOTE = "演示值：来源未能核实（见 gov-services.md §1），须管理员核对后发布正式版本"

JINXIONGMAO = {
    "code": "jinxiongmao", "name": "金熊猫人才卡", "city": "chengdu", "issuer": "成都高新区", "number_prefix": "JXM",
}
JINFENGHUANG = {
    "code": "jinfenghuang", "name": "金凤凰人才卡", "city": "chongqing", "issuer": "重庆高新区（西部(重庆)科学城）",
    "number_prefix": "JFH",
}

JINXIONGMAO_DEFINITION = {
    "tiers": [
        {"code": "A", "name": "A类 国内外顶尖人才", "rank": 4},
        {"code": "B", "name": "B类 国家级领军人才", "rank": 3},
        {"code": "C", "name": "C类 地方级领军人才", "rank": 2},
        {"code": "D", "name": "D类 其他高级人才", "rank": 1},
    ],
    "criteria": [
        {"code": "academician", "name": "中国科学院、中国工程院院士", "tier": "A", "evidence": ["title_certificate"]},
        {"code": "top_award", "name": "国家最高科学技术奖获得者", "tier": "A", "evidence": ["award_certificate"]},
        {"code": "unicorn_founder", "name": "平台生态型龙头 / 独角兽企业创始人", "tier": "A",
         "evidence": ["enterprise_rating", "founder_proof"]},
        {"code": "national_program", "name": "国家“万人计划”、国家杰青等国家级人才计划入选者", "tier": "B",
         "evidence": ["title_certificate"]},
        {"code": "gazelle_founder", "name": "瞪羚企业创始人", "tier": "B",
         "evidence": ["enterprise_rating", "founder_proof"]},
        {"code": "provincial_program", "name": "省“千人计划”、“成都人才计划”入选者", "tier": "C",
         "evidence": ["title_certificate"]},
        {"code": "seed_founder", "name": "种子期雏鹰企业创始人", "tier": "C",
         "evidence": ["enterprise_rating", "founder_proof"]},
        {"code": "senior_title", "name": "正高级职称", "tier": "D",
         "evidence": ["professional_title", "employment_contract"]},
        {"code": "doctorate", "name": "博士研究生", "tier": "D", "evidence": ["degree_certificate", "employment_contract"]},
    ],
    "services": [
        {"code": "medical_green", "name": "医疗绿色通道", "tiers": ["A", "B", "C"], "scope": "both", "family": True,
         "quota_per_year": 12, "shared": True},
        {"code": "children_school", "name": "子女入学协调", "tiers": ["A", "B"], "scope": "both", "family": True,
         "shared": True},
        {"code": "airport_vip", "name": "机场贵宾通道", "tiers": ["A", "B"], "scope": "both", "quota_per_year": 6,
         "shared": True},
        {"code": "talent_housing", "name": "人才公寓配租", "tiers": ["A", "B", "C", "D"], "scope": "own"},
        {"code": "visiting_office", "name": "来蓉人才工作站（临时办公）", "tiers": ["A", "B", "C", "D"],
         "scope": "partner"},
    ],
}

JINFENGHUANG_DEFINITION = {
    "tiers": [
        {"code": "I", "name": "I类 顶尖人才", "rank": 3},
        {"code": "II", "name": "II类 国家级领军人才", "rank": 2},
        {"code": "III", "name": "III类 市级领军及高层次人才", "rank": 1},
    ],
    "criteria": [
        {"code": "academician", "name": "两院院士、重庆英才计划优秀科学家", "tier": "I", "evidence": ["title_certificate"]},
        {"code": "national_program", "name": "国家重点人才计划入选者、国家级奖项获得者", "tier": "II",
         "evidence": ["title_certificate"]},
        {"code": "municipal_program", "name": "重庆市重点人才计划入选者、市级奖项获得者", "tier": "III",
         "evidence": ["title_certificate"]},
        {"code": "doctorate", "name": "在科学城全职工作的博士", "tier": "III",
         "evidence": ["degree_certificate", "employment_contract", "social_insurance"]},
    ],
    "services": [
        {"code": "medical_green", "name": "医疗绿色通道", "tiers": ["I", "II", "III"], "scope": "both", "family": True,
         "quota_per_year": 12, "shared": True},
        {"code": "children_school", "name": "子女入学协调", "tiers": ["I", "II"], "scope": "both", "family": True,
         "shared": True},
        {"code": "instrument_discount", "name": "大型仪器共享服务优惠", "tiers": ["I", "II", "III"], "scope": "both",
         "shared": True},
        {"code": "talent_apartment", "name": "科学城人才公寓", "tiers": ["I", "II", "III"], "scope": "own"},
        {"code": "title_review", "name": "职称评审绿色通道", "tiers": ["I", "II", "III"], "scope": "own"},
        {"code": "visiting_lab", "name": "来渝人才实验室访问", "tiers": ["I", "II", "III"], "scope": "partner"},
    ],
}

# partner tier → home tier (DEMO): a 金熊猫 card in Chongqing, a 金凤凰 card in Chengdu.
JINXIONGMAO_IN_CHONGQING = {"A": "I", "B": "II", "C": "III"}
JINFENGHUANG_IN_CHENGDU = {"I": "A", "II": "B", "III": "C"}
