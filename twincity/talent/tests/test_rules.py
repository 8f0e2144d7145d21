"""The pure talent-card rules: the highest-tier rule, the renewal window's boundaries, validity arithmetic and
the entitlement decision."""

from datetime import date

from twincity.talent import catalogue, rules

PANDA = rules.SchemeDefinition.from_dict(catalogue.JINXIONGMAO_DEFINITION)
PHOENIX = rules.SchemeDefinition.from_dict(catalogue.JINFENGHUANG_DEFINITION)
E = rules.Evidence


def test_the_seeded_definitions_are_valid():
    assert rules.validate_definition(catalogue.JINXIONGMAO_DEFINITION) == []
    assert rules.validate_definition(catalogue.JINFENGHUANG_DEFINITION) == []


def test_validation_names_each_problem():
    bad = {"tiers": [{"code": "A", "name": "A", "rank": 1}],
           "criteria": [{"code": "x", "name": "x", "tier": "Z", "evidence": ["photo"]}],
           "services": [{"code": "s", "name": "s", "tiers": ["A"], "scope": "everywhere", "quota_per_year": 0}]}
    assert rules.validate_definition(bad) == [
        "criteria[0]: 未知层级 unknown tier 'Z'",
        "criteria[0]: 未知材料类型 unknown evidence type 'photo'",
        "services[0]: scope 须为 own / partner / both",
        "services[0]: quota_per_year 须为正整数或空 (a positive integer or null)",
    ]


def test_the_highest_tier_met_wins():
    decision = rules.highest_tier(PANDA, [E("doctorate", "degree_certificate"), E("doctorate", "employment_contract"),
                                          E("national_program", "title_certificate")])
    assert decision.tier == "B"
    assert decision.met == ("national_program", "doctorate")


def test_a_criterion_without_all_its_evidence_is_not_met():
    decision = rules.highest_tier(PANDA, [E("unicorn_founder", "founder_proof"), E("doctorate", "degree_certificate"),
                                          E("doctorate", "employment_contract")])
    assert decision.tier == "D"
    assert decision.missing == {"unicorn_founder": ("enterprise_rating",)}
    assert rules.highest_tier(PANDA, [E("unicorn_founder", "founder_proof")]).tier is None


def test_validity_and_the_renewal_window_boundaries():
    until = rules.valid_until(date(2024, 3, 1), 3)
    assert until == date(2027, 2, 28)
    assert rules.renew_window(until) == (date(2027, 1, 29), date(2027, 2, 28))
    assert not rules.may_renew(until, date(2027, 1, 28))  # 31 days before: not yet
    assert rules.may_renew(until, date(2027, 1, 29))  # 30 days before: opens
    assert rules.may_renew(until, date(2027, 2, 28))  # the last valid day
    assert not rules.may_renew(until, date(2027, 3, 1))  # lapsed
    assert rules.renewed_until(until, 3) == date(2030, 2, 28)
    assert rules.valid_until(date(2024, 2, 29), 1) == date(2025, 2, 27)


def test_transitions():
    assert rules.card_may("active", "renew") and rules.card_may("active", "report_loss")
    assert not rules.card_may("lapsed", "renew") and not rules.card_may("revoked", "report_loss")
    assert rules.application_may("submitted", "approve") and not rules.application_may("approved", "reject")


def _judge(tier, service, mapping, *, on=date(2026, 6, 1), used=0, family=False, scheme="jinxiongmao"):
    card = rules.CardFacts(scheme, tier, "active", date(2028, 1, 1))
    return rules.judge(card=card, on=on, provider_scheme="jinfenghuang", provider=PHOENIX, service_code=service,
                       mapping=mapping, used_this_year=used, for_family=family)


V1 = rules.MappingFacts(1, date(2025, 1, 1), {"A": "I", "B": "II", "C": "III"})


def test_a_partner_card_gets_a_shared_service_through_the_mapping():
    decision = _judge("B", "children_school", V1)
    assert (decision.granted, decision.rule, decision.home_tier, decision.mapping_version) == (True, "granted", "II", 1)


def test_refusals_name_their_rule():
    assert _judge("B", "talent_apartment", V1).rule == "not_shared"
    assert _judge("C", "children_school", V1).rule == "tier_not_entitled"
    assert _judge("D", "medical_green", V1).rule == "tier_not_mapped"
    assert _judge("B", "medical_green", None).rule == "not_recognised"
    assert _judge("B", "medical_green", V1, used=12).rule == "quota_used"
    assert _judge("B", "instrument_discount", V1, family=True).rule == "not_for_family"
    assert _judge("B", "medical_green", V1, family=True).granted
    card = rules.CardFacts("jinxiongmao", "B", "active", date(2028, 1, 1))
    assert rules.judge(card=card, on=date(2026, 6, 1), provider_scheme="jinfenghuang", provider=PHOENIX,
                       service_code="medical_green", mapping=V1, used_this_year=0, for_family=True,
                       family_extension=False).rule == "not_for_family"
    assert _judge("II", "visiting_lab", None, scheme="jinfenghuang").rule == "scope_partner_only"
    assert _judge("II", "talent_apartment", None, scheme="jinfenghuang").granted
    assert _judge("B", "medical_green", V1, on=date(2028, 1, 2)).rule == "card_expired"


def test_a_refusal_explains_itself():
    decision = _judge("B", "talent_apartment", V1)
    assert decision.reason == "“科学城人才公寓”不属于互认共享服务，仅限本区持卡人 (not a shared service; own-zone holders only)"


def test_validation_survives_any_json():
    weird = {"tiers": [{"code": ["A"], "name": {}, "rank": 1}], "criteria": [], "services": []}
    assert rules.validate_definition(weird) == ["tiers[0]: 须有 code 与 name (needs a code and a name)"]
    odd = {"tiers": [{"code": "A", "name": "A", "rank": 1}],
           "criteria": [{"code": "x", "name": "x", "tier": ["A"], "evidence": [{"a": 1}]}],
           "services": [{"code": "s", "name": "s", "tiers": [["A"]], "scope": {}}]}
    assert len(rules.validate_definition(odd)) == 4
