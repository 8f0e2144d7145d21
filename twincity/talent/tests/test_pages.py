"""The talent pages, in Chinese, each for the people its predicate admits."""

from datetime import date

import pytest
from django.utils import timezone

from twincity.talent.models import CardApplication, ServiceRequest
from twincity.talent.tests.conftest import B_EVIDENCE, panda_card

pytestmark = pytest.mark.django_db


def test_my_card_page_shows_the_qr_code_and_the_disclosure(client, cast, schemes):
    card = panda_card(cast, schemes, evidence=B_EVIDENCE, on=timezone.localdate())
    client.force_login(cast.ruby)
    page = client.get("/talent/").content.decode()
    assert "<svg" in page and card.number in page and "扫码时公开的信息" in page
    r = client.post(f"/talent/cards/{card.public_id}/disclosure", {"fields": ["name", "tier"]})
    assert r.status_code == 302
    card.refresh_from_db()
    assert card.disclosure == ["name", "tier"]


def test_the_apply_form_submits(client, cast, schemes):
    client.force_login(cast.ruby)
    assert "就高原则" in client.get("/talent/apply/?scheme=jinxiongmao").content.decode()
    r = client.post("/talent/apply/", {"scheme": "jinxiongmao", "ev:national_program:title_certificate": "1",
                                       "ref:national_program": "杰青"})
    assert r.status_code == 302
    application = CardApplication.objects.get()
    assert (application.proposed_tier, application.evidence) == (
        "B", [{"criterion": "national_program", "type": "title_certificate", "reference": "杰青"}])


def test_the_service_page_shows_the_reason(client, cast, schemes):
    card = panda_card(cast, schemes, evidence=B_EVIDENCE, on=date(2026, 3, 1))
    client.force_login(cast.ruby)
    r = client.post("/talent/services/", {"card": str(card.public_id), "service": "jinfenghuang:talent_apartment"})
    assert r.status_code == 200
    page = r.content.decode()
    assert "不属于互认共享服务" in page and "互认映射第1版" in page
    assert ServiceRequest.objects.get().rule == "not_shared"


def test_the_review_queue_and_the_scheme_editor(client, cast, schemes):
    client.force_login(cast.olivia)
    assert client.get("/talent/review/").status_code == 200
    page = client.get("/talent/schemes/").content.decode()
    assert "演示值" in page and "金凤凰人才卡" in page
    r = client.post("/talent/schemes/", {"what": "mapping", "home": "jinfenghuang", "partner": "jinxiongmao",
                                         "effective_from": "2027-01-01", "definition": '{"D": "III"}'})
    assert r.status_code == 302
    assert schemes["phoenix"].recognitions.count() == 2
    r = client.post("/talent/schemes/", {"what": "scheme", "scheme": "jinfenghuang", "effective_from": "2020-01-01",
                                         "definition": "{}"})
    assert r.status_code == 422


@pytest.mark.parametrize("persona,pages", [
    ("ruby", {"/talent/": 200, "/talent/services/": 200, "/talent/review/": 403, "/talent/schemes/": 403}),
    ("clara", {"/talent/": 403, "/talent/review/": 200, "/talent/schemes/": 403}),
    ("charlie", {"/talent/": 403, "/talent/services/": 403}),
    ("olivia", {"/talent/review/": 200, "/talent/schemes/": 200}),
])
def test_who_opens_what(client, cast, schemes, persona, pages):
    client.force_login(getattr(cast, persona))
    assert {url: client.get(url).status_code for url in pages} == pages
