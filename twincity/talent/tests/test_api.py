"""The talent API through the real URLs (so the API's error handlers run): every answer in the one shape."""

from datetime import date

import pytest
from django.utils import timezone

from twincity.talent.models import CardApplication, ServiceRequest, TalentCard
from twincity.talent.tests.conftest import B_EVIDENCE, panda_card

pytestmark = pytest.mark.django_db


def post(client, url, body):
    return client.post(url, body, content_type="application/json")


def test_apply_review_issue(client, cast, schemes):
    client.force_login(cast.bob)
    r = post(client, "/api/talent/applications", {"scheme": "jinxiongmao", "applicant_id": cast.ruby.pk,
                                                  "evidence": B_EVIDENCE})
    assert r.status_code == 201, r.content
    assert (r.json()["proposed_tier"], r.json()["channel"], r.json()["status"]) == ("B", "employer", "submitted")
    client.force_login(cast.clara)
    assert client.get("/api/talent/applications/queue").json() == []  # a Chengdu scheme: not clara's
    r = post(client, f"/api/talent/applications/{r.json()['public_id']}/decision", {"approve": True})
    assert r.status_code == 404 and r.json()["code"] == "not_found"  # not hers to see
    client.force_login(cast.olivia)
    public_id = client.get("/api/talent/applications/queue").json()[0]["public_id"]
    r = post(client, f"/api/talent/applications/{public_id}/decision", {"approve": True})
    assert r.status_code == 200 and r.json()["status"] == "approved"
    r = post(client, f"/api/talent/applications/{public_id}/decision", {"approve": False, "note": "x"})
    assert (r.status_code, r.json()["code"]) == (409, "talent_state")
    assert TalentCard.objects.get().holder == cast.ruby


def test_unknown_evidence_is_422_with_each_error(client, cast, schemes):
    client.force_login(cast.ruby)
    r = post(client, "/api/talent/applications", {"scheme": "jinxiongmao",
                                                  "evidence": [{"criterion": "nobel", "type": "photo"}]})
    assert r.status_code == 422
    assert r.json()["extra"]["errors"] == ["evidence[0]: 未知认定标准 unknown criterion 'nobel'",
                                           "evidence[0]: 未知材料类型 unknown evidence type 'photo'"]
    assert not CardApplication.objects.exists()


def test_my_cards_disclosure_loss_and_a_service_request(client, cast, schemes):
    card = panda_card(cast, schemes, evidence=B_EVIDENCE, on=timezone.localdate())
    client.force_login(cast.ruby)
    [out] = client.get("/api/talent/cards").json()
    assert out["verify_url"].startswith("http://testserver/verify/")
    r = client.put(f"/api/talent/cards/{card.public_id}/disclosure", {"fields": ["name"]},
                   content_type="application/json")
    assert r.status_code == 200 and r.json()["disclosure"] == ["name"]
    r = client.post(f"/api/talent/cards/{card.public_id}/renewal")
    assert (r.status_code, r.json()["code"]) == (409, "renew_window_closed")
    r = client.post(f"/api/talent/cards/{card.public_id}/loss")
    assert r.status_code == 200 and r.json()["code_version"] == 2
    r = post(client, "/api/talent/service-requests", {"card": str(card.public_id), "provider": "jinfenghuang",
                                                      "service": "talent_apartment"})
    assert r.status_code == 201
    assert (r.json()["granted"], r.json()["rule"], r.json()["mapping_version"]) == (False, "not_shared", 1)
    assert ServiceRequest.objects.get().granted is False


def test_someone_else_s_card_is_404(client, cast, schemes):
    card = panda_card(cast, schemes, evidence=B_EVIDENCE, on=date(2026, 3, 1))
    client.force_login(cast.alice)
    r = client.post(f"/api/talent/cards/{card.public_id}/loss")
    assert (r.status_code, r.json()["code"]) == (404, "not_found")
    card.refresh_from_db()
    assert card.code_version == 1


def test_administrators_publish_a_mapping_version(client, cast, schemes):
    client.force_login(cast.olivia)
    r = post(client, "/api/talent/mappings", {"home": "jinfenghuang", "partner": "jinxiongmao",
                                              "effective_from": "2027-01-01", "pairs": {"D": "III"}})
    assert r.status_code == 201 and r.json()["version"] == 2
    r = post(client, "/api/talent/mappings", {"home": "jinfenghuang", "partner": "jinxiongmao",
                                              "effective_from": "2026-06-01", "pairs": {"Z": "III"}})
    assert r.status_code == 422 and r.json()["extra"]["errors"] == ["未知的对方层级 unknown partner tier 'Z'"]
    client.force_login(cast.ruby)
    r = post(client, "/api/talent/mappings", {"home": "jinfenghuang", "partner": "jinxiongmao",
                                              "effective_from": "2027-06-01", "pairs": {"D": "III"}})
    assert r.status_code == 403
    services_count = schemes["phoenix"].recognitions.count()
    assert services_count == 2
