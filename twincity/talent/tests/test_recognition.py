"""Mutual recognition at the moment of use: a 金熊猫 holder in Chongqing gets the shared services and is refused the
others with the reason; a mapping changed with an effective date judges each request by the version in force on
its day (explicit dates); versions are published, never edited."""

from datetime import date

import pytest

from twincity.core.models import AuditEntry
from twincity.talent import services
from twincity.talent.errors import VersionOrder
from twincity.talent.models import RecognitionMapping, ServiceRequest
from twincity.talent.tests.conftest import B_EVIDENCE, D_EVIDENCE, at, panda_card

pytestmark = pytest.mark.django_db


def _request(cast, card, schemes, code, day):
    return services.service_request_create(actor=cast.ruby, card=card, provider=schemes["phoenix"],
                                           service_code=code, at=at(day))


def test_a_shared_service_in_chongqing_is_granted(cast, schemes):
    card = panda_card(cast, schemes, evidence=B_EVIDENCE)
    request = _request(cast, card, schemes, "children_school", date(2026, 6, 1))
    assert (request.granted, request.rule, request.home_tier, request.mapping, request.city) == (
        True, "granted", "II", schemes["mapping"], "chongqing")
    assert request.reason == "符合“子女入学协调”的适用条件（B层级，经互认映射第1版对应本区II层级） (entitled)"
    assert AuditEntry.objects.filter(object_type="talent.servicerequest", object_id=str(request.pk)).count() == 1


def test_a_non_shared_service_is_refused_with_the_reason(cast, schemes):
    card = panda_card(cast, schemes, evidence=B_EVIDENCE)
    request = _request(cast, card, schemes, "talent_apartment", date(2026, 6, 1))
    assert (request.granted, request.rule, request.home_tier, request.mapping) == (
        False, "not_shared", "II", schemes["mapping"])
    assert request.reason == "“科学城人才公寓”不属于互认共享服务，仅限本区持卡人 (not a shared service; own-zone holders only)"
    assert ServiceRequest.objects.filter(granted=True).count() == 0


def test_requests_are_judged_by_the_mapping_in_force_on_their_day(cast, schemes):
    card = panda_card(cast, schemes, evidence=D_EVIDENCE)  # tier D: not recognised by v1
    v2 = services.mapping_publish(actor=cast.olivia, home=schemes["phoenix"], partner=schemes["panda"],
                                  effective_from=date(2026, 12, 1),
                                  pairs={"A": "I", "B": "II", "C": "III", "D": "III"})
    v1 = RecognitionMapping.objects.get(pk=schemes["mapping"].pk)
    assert (v1.effective_to, v1.pairs, v2.version) == (date(2026, 12, 1), {"A": "I", "B": "II", "C": "III"}, 2)

    before = _request(cast, card, schemes, "medical_green", date(2026, 11, 30))
    after = _request(cast, card, schemes, "medical_green", date(2026, 12, 1))
    assert (before.granted, before.rule, before.mapping) == (False, "tier_not_mapped", v1)
    assert before.reason == ("互认映射第1版（2025-01-01起）未认可D层级 (tier D is not mapped by mapping v1)")
    assert (after.granted, after.rule, after.mapping, after.home_tier) == (True, "granted", v2, "III")
    # a request made later about the earlier day is still judged by v1
    late = services.service_request_create(actor=cast.ruby, card=card, provider=schemes["phoenix"],
                                           service_code="medical_green", at=at(date(2026, 11, 30), 23))
    assert (late.granted, late.mapping) == (False, v1)


def test_the_day_is_shanghai_s(cast, schemes):
    """2026-11-30 16:30 UTC is already 12-01 in Shanghai: the new mapping applies."""
    from datetime import UTC, datetime

    card = panda_card(cast, schemes, evidence=D_EVIDENCE)
    v2 = services.mapping_publish(actor=cast.olivia, home=schemes["phoenix"], partner=schemes["panda"],
                                  effective_from=date(2026, 12, 1), pairs={"D": "III"})
    request = services.service_request_create(actor=cast.ruby, card=card, provider=schemes["phoenix"],
                                              service_code="medical_green",
                                              at=datetime(2026, 11, 30, 16, 30, tzinfo=UTC))
    assert (request.used_on, request.mapping, request.granted) == (date(2026, 12, 1), v2, True)


def test_a_mapping_that_ends_leaves_the_card_unrecognised(cast, schemes):
    card = panda_card(cast, schemes, evidence=B_EVIDENCE)
    services.mapping_publish(actor=cast.olivia, home=schemes["phoenix"], partner=schemes["panda"],
                             effective_from=date(2026, 7, 1), effective_to=date(2026, 8, 1), pairs={"B": "II"})
    assert _request(cast, card, schemes, "medical_green", date(2026, 7, 15)).granted
    request = _request(cast, card, schemes, "medical_green", date(2026, 8, 1))
    assert (request.granted, request.rule, request.mapping) == (False, "not_recognised", None)


def test_versions_are_never_inserted_into_the_past(cast, schemes):
    with pytest.raises(VersionOrder):
        services.mapping_publish(actor=cast.olivia, home=schemes["phoenix"], partner=schemes["panda"],
                                 effective_from=date(2025, 1, 1), pairs={"A": "I"})
    assert RecognitionMapping.objects.count() == 1


def test_only_administrators_publish(cast, schemes):
    with pytest.raises(Exception) as refused:
        services.mapping_publish(actor=cast.clara, home=schemes["phoenix"], partner=schemes["panda"],
                                 effective_from=date(2027, 1, 1), pairs={"A": "I"})
    assert refused.value.status == 403


def test_the_quota_counts_granted_uses_of_the_year(cast, schemes):
    card = panda_card(cast, schemes, evidence=B_EVIDENCE)
    for month in range(1, 7):
        assert _request(cast, card, schemes, "instrument_discount", date(2026, month + 3, 1)).granted
    services.scheme_version_publish(
        actor=cast.olivia, scheme=schemes["phoenix"], effective_from=date(2026, 10, 1),
        definition={**schemes["phoenix"].versions.get().definition,
                    "services": [{"code": "instrument_discount", "name": "大型仪器共享服务优惠", "tiers": ["II"],
                                  "scope": "both", "quota_per_year": 6}]})
    refused = _request(cast, card, schemes, "instrument_discount", date(2026, 10, 2))
    assert (refused.granted, refused.rule, refused.provider_version.version) == (False, "quota_used", 2)
    assert _request(cast, card, schemes, "instrument_discount", date(2027, 1, 2)).granted
