"""Products used by the tests: one per kind of condition of issue #8 (points or grade under a named standard,
clusters, cities, qualifications, years since registration, revenue range, compliance)."""

import datetime as dt

EVALUATION_DATE = dt.date(2026, 11, 29)

POINTS_LOAN = {
    "id": "cq-points-loan", "version": "1", "kind": "points_loan", "institution": "bank-cq-hitech",
    "name_zh": "创新积分贷", "name_en": "Innovation-points loan", "standard": "scp-v1",
    "conditions": [
        {"id": "grade", "name_zh": "科创积分等级C级及以上", "name_en": "points grade C or better",
         "expr": "grade == 'A' or grade == 'B' or grade == 'C'"},
        {"id": "city", "name_zh": "注册地在重庆", "name_en": "registered in Chongqing", "expr": "city == 'chongqing'"},
        {"id": "age", "name_zh": "成立满2年", "name_en": "registered at least 2 years", "expr": "reg_days >= 730"},
        {"id": "compliant", "name_zh": "无重大违法失信", "name_en": "compliant", "expr": "compliant"},
    ],
    "pricing": {"rate": "0.0345", "guarantee_fee": "0.01", "interest_subsidy": "0.015", "fee_subsidy": "0.005"},
}

IC_CREDIT = {
    "id": "ic-credit", "version": "2", "kind": "credit_loan", "institution": "bank-b",
    "name_zh": "硬科技信用贷", "name_en": "Hard-tech credit loan", "standard": "scp-v1",
    "conditions": [
        {"id": "points", "name_zh": "科创积分≥600", "name_en": "points ≥ 600", "expr": "points >= 600"},
        {"id": "cluster", "name_zh": "集成电路、汽车或新材料集群", "name_en": "IC, EV or materials cluster",
         "expr": "industry_cluster == 'ic' or industry_cluster == 'ev' or industry_cluster == 'materials'"},
        {"id": "qualified", "name_zh": "高企或科技型中小企业", "name_en": "HNTE or tech-based SME",
         "expr": "hnte_valid or tsme_valid"},
        {"id": "revenue", "name_zh": "上年度营业收入500万–2亿元", "name_en": "revenue last year 5–200 M CNY",
         "expr": "oprev_y3 >= 500 and oprev_y3 <= 20000"},
    ],
    "pricing": {"rate": "0.039"},
    "credit_line": {"max_amount": "10000000"},
}

TWIN_CITY = {
    "id": "twin-city", "version": "1", "kind": "twin_city_loan", "institution": "boc",
    "name_zh": "双城贷", "name_en": "Twin-city loan",
    "conditions": [
        {"id": "cities", "name_zh": "注册地在成都或重庆", "name_en": "registered in Chengdu or Chongqing",
         "expr": "city == 'chongqing' or city == 'chengdu'"},
        {"id": "srdi", "name_zh": "专精特新中小企业", "name_en": "SRDI SME", "expr": "srdi_valid"},
    ],
    "pricing": {"rate": "0.031", "guarantee_fee": "0.008"},
}

STARTUP = {
    "id": "startup", "version": "1", "kind": "credit_loan", "institution": "bank-b",
    "name_zh": "初创贷", "name_en": "Start-up loan",
    "conditions": [
        {"id": "young", "name_zh": "成立不满3年", "name_en": "registered under 3 years", "expr": "reg_days < 1095"},
    ],
    "pricing": {"rate": "0.042"},
}

ALL = [STARTUP, TWIN_CITY, IC_CREDIT, POINTS_LOAN]

ALICE = {
    "id": "91500000MA5U000001", "name": "重庆芯测科技有限公司", "city": "chongqing", "industry_cluster": "ic",
    "registered_on": "2019-05-01", "hnte_valid": "Y", "oprev_y3": "3200.5", "compliant": "Y",
    "score.scp-v1": "612.5", "grade.scp-v1": "B",
}
