"""Consent: without it an institution reads neither an enterprise's points nor its declarations (the public
profile only, as before); with it, it does, and each read is logged where the enterprise sees it; after a
revocation it stops at once. Grants and revocations are audited."""

import json
from datetime import timedelta

import pytest
from django.utils import timezone

from twincity.core.errors import Conflict, Forbidden, InvalidInput
from twincity.core.models import AuditEntry
from twincity.finance import access, services
from twincity.finance.models import AccessLog, Consent
from twincity.testing import ALICE_CODE

POINTS = f"/api/finance/enterprises/{ALICE_CODE}/points"
DECLARATIONS = f"/api/finance/enterprises/{ALICE_CODE}/declarations"


def grant(cast, **kwargs) -> Consent:
    defaults = {"institution": cast.bank_a_branch, "purpose": "financing",
                "valid_until": timezone.now() + timedelta(days=30)}
    return services.consent_grant(actor=cast.alice, enterprise=cast.alice_co, **{**defaults, **kwargs})


def post(client, url, body=None):
    return client.post(url, json.dumps(body or {}), content_type="application/json")


def test_without_consent_bella_reads_neither_points_nor_declarations(client, cast, scored):
    client.force_login(cast.bella)
    for url in (POINTS, DECLARATIONS, f"/api/finance/match?enterprise={ALICE_CODE}"):
        r = client.get(url)
        assert r.status_code == 403 and r.json()["code"] == "forbidden", url
    assert client.get(f"/api/enterprises/{ALICE_CODE}").status_code == 200  # the public profile, as before
    assert not AccessLog.objects.exists()


def test_with_consent_bella_reads_and_every_read_is_logged_then_revocation_stops_it_at_once(client, cast, scored,
                                                                                               products):
    consent = grant(cast)
    client.force_login(cast.bella)
    r = client.get(POINTS)
    assert r.status_code == 200
    assert [(p["standard_id"], p["grade"]) for p in r.json()] == [("scp-v1", "A")]
    assert [d["fiscal_year"] for d in client.get(DECLARATIONS).json()] == [2025, 2024, 2023]
    match = client.get(f"/api/finance/match?enterprise={ALICE_CODE}&amount=1000000&term_months=12").json()
    assert next(o for o in match["offers"] if o["product_id"] == "crcb-points-loan")["cost"]["total"] == "19500.00"
    log = list(AccessLog.objects.order_by("at", "pk"))
    assert [(a.user, a.institution, a.what, a.consent_id, a.purpose) for a in log] == [
        (cast.bella, cast.bank_a_branch, "points", consent.pk, "financing"),
        (cast.bella, cast.bank_a_branch, "declarations", consent.pk, "financing"),
        (cast.bella, cast.bank_a_branch, "match", consent.pk, "financing"),
    ]

    client.force_login(cast.alice)
    r = client.post(f"/finance/consents/{consent.pk}/revoke")
    assert r.status_code == 302
    client.force_login(cast.bella)
    assert client.get(POINTS).status_code == 403
    assert client.get(DECLARATIONS).status_code == 403
    assert AccessLog.objects.count() == 3  # a refused read logs nothing and reads nothing

    # alice sees every access, on the page and through the API.
    client.force_login(cast.alice)
    page = client.get("/finance/consents/").content.decode()
    assert page.count("data-access=") == 3 and "Bella 贝拉" in page and "已撤销" in page
    body = client.get("/api/finance/access-log").json()
    assert [(a["user"], a["what"]) for a in body["items"]] == [("bella", "match"), ("bella", "declarations"),
                                                               ("bella", "points")]


def test_a_consent_covers_the_bank_named_its_branches_or_a_kind(cast):
    consent = grant(cast, institution=cast.bank_a)  # the head office: its branches too
    assert access.can_institution_read(cast.bella, cast.alice_co)
    assert not access.can_institution_read(cast.bruno, cast.alice_co)  # another bank
    assert not access.can_institution_read(cast.gary, cast.alice_co)  # a guarantor
    assert not access.can_institution_read(cast.alice, cast.alice_co)  # not an institution
    assert not access.can_institution_read(cast.olivia, cast.alice_co)
    assert list(access.enterprises_institution_may_read(cast.bella)) == [cast.alice_co]
    assert list(access.enterprises_institution_may_read(cast.bruno)) == []
    services.consent_revoke(actor=cast.alice, consent=consent)
    grant(cast, institution=None, institution_kind="guarantor", purpose="guarantee")
    assert access.can_institution_read(cast.gary, cast.alice_co)
    assert not access.can_institution_read(cast.bella, cast.alice_co)


def test_a_consent_holds_only_within_its_period(cast):
    now = timezone.now()
    consent = grant(cast, valid_from=now + timedelta(days=1), valid_until=now + timedelta(days=3))
    assert not access.can_institution_read(cast.bella, cast.alice_co)
    assert access.can_institution_read(cast.bella, cast.alice_co, at=now + timedelta(days=2))
    assert not access.can_institution_read(cast.bella, cast.alice_co, at=now + timedelta(days=3))
    services.consent_revoke(actor=cast.alice, consent=consent)
    assert not access.can_institution_read(cast.bella, cast.alice_co, at=now + timedelta(days=2))


def test_a_consent_is_in_force_the_same_in_python_and_in_sql(cast):
    now = timezone.now()
    start, end = now + timedelta(days=1), now + timedelta(days=3)
    consent = grant(cast, valid_from=start, valid_until=end)
    tick = timedelta(microseconds=1)
    for at, expected in [(start - tick, False), (start, True), (end - tick, True), (end, False)]:
        assert consent.active_at(at) is expected
        assert Consent.objects.active_at(at).filter(pk=consent.pk).exists() is expected


def test_only_the_enterprise_grants_and_revokes_and_both_are_audited(cast):
    for persona in ("bella", "olivia", "bob", "charlie"):
        with pytest.raises(Forbidden):
            services.consent_grant(actor=getattr(cast, persona), enterprise=cast.alice_co, purpose="financing",
                                   institution=cast.bank_a_branch, valid_until=timezone.now() + timedelta(days=1))
    consent = grant(cast)
    with pytest.raises(Forbidden):
        services.consent_revoke(actor=cast.bella, consent=consent)
    services.consent_revoke(actor=cast.alice, consent=consent)
    with pytest.raises(Conflict):
        services.consent_revoke(actor=cast.alice, consent=consent)
    entries = AuditEntry.objects.filter(object_type="finance.consent").order_by("at", "pk")
    assert [(e.action, e.actor) for e in entries] == [("create", cast.alice), ("update", cast.alice)]
    assert all(e.subject == f"enterprises.enterprise:{cast.alice_co.pk}" for e in entries)
    with pytest.raises(InvalidInput):
        grant(cast, institution=cast.institute)
    with pytest.raises(InvalidInput):
        grant(cast, institution=cast.bank_a, institution_kind="bank")
    with pytest.raises(InvalidInput):
        grant(cast, valid_until=timezone.now() - timedelta(seconds=1))


def test_the_consent_api(client, cast):
    client.force_login(cast.alice)
    until = (timezone.now() + timedelta(days=10)).isoformat()
    r = post(client, "/api/finance/consents", {"institution_id": cast.bank_a_branch.pk, "purpose": "financing",
                                               "valid_until": until})
    assert r.status_code == 201
    body = r.json()
    assert (body["credit_code"], body["institution"], body["active"]) == (ALICE_CODE, "重庆农村商业银行科学城支行", True)
    assert client.get("/api/finance/consents").json()["count"] == 1
    assert post(client, f"/api/finance/consents/{body['id']}/revoke").json()["active"] is False
    assert post(client, f"/api/finance/consents/{body['id']}/revoke").status_code == 409
    r = post(client, "/api/finance/consents", {"institution_kind": "bank", "purpose": "nope", "valid_until": until})
    assert r.status_code == 422
    client.force_login(cast.bella)
    assert client.get(f"/api/finance/consents?enterprise={ALICE_CODE}").status_code == 403
    assert client.get(f"/api/finance/access-log?enterprise={ALICE_CODE}").status_code == 403
    assert post(client, f"/api/finance/consents/{body['id']}/revoke").status_code == 404
    r = post(client, "/api/finance/consents", {"credit_code": ALICE_CODE, "institution_kind": "bank",
                                               "purpose": "financing", "valid_until": until})
    assert r.status_code == 403


def test_the_consent_page_grants_and_lists(client, cast):
    client.force_login(cast.alice)
    page = client.get("/finance/consents/").content.decode()
    assert "授权管理" in page and "尚未授权任何机构" in page
    until = (timezone.localdate() + timedelta(days=30)).isoformat()
    r = client.post("/finance/consents/", {"institution": cast.bank_a_branch.pk, "purpose": "financing",
                                           "valid_until": until})
    assert r.status_code == 302
    consent = Consent.objects.get()
    # The consent holds through the chosen day (Asia/Shanghai): it ends at midnight after it.
    end = timezone.localtime(consent.valid_until)
    assert (end.date() - timedelta(days=1)).isoformat() == until and (end.hour, end.minute) == (0, 0)
    page = client.get("/finance/consents/").content.decode()
    assert f'data-consent="{consent.pk}"' in page and "有效" in page
    r = client.post("/finance/consents/", {"purpose": "financing", "valid_until": until})
    assert r.status_code == 200 and "请选择一个机构或一类机构" in r.content.decode()
    for persona in ("bella", "olivia", "charlie"):
        client.force_login(getattr(cast, persona))
        assert client.get("/finance/consents/").status_code == 404
    client.force_login(cast.bob)
    assert client.post(f"/finance/consents/{consent.pk}/revoke").status_code == 404


def test_an_enterprise_deleted_takes_its_consents_and_access_log_with_it(cast):
    from twincity.enterprises.models import Enterprise

    grant(cast)
    services.institution_read_record(user=cast.bella, enterprise=cast.alice_co, what="points", via="test")
    Enterprise.objects.filter(pk=cast.alice_co.pk).delete()
    assert not Consent.objects.exists() and not AccessLog.objects.exists()
