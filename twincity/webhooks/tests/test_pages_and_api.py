"""The institution's webhook pages and API: its own endpoints only (bella vs bruno), olivia sees all; secrets
shown to managers, rotated and audited without the secret; resend; query counts bounded."""

import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext

from twincity.accounts.models import ApiToken
from twincity.core.models import AuditEntry
from twincity.webhooks.models import Delivery, Endpoint
from twincity.webhooks.services import endpoint_create, webhook_emit

pytestmark = pytest.mark.django_db


@pytest.fixture(autouse=True)
def _public_urls_only(settings):
    settings.WEBHOOK_ALLOW_PRIVATE = False


def _token(user) -> dict:
    raw = ApiToken.new_key()
    ApiToken.objects.create(name="t", user=user, key_prefix=raw[:8], key_hash=ApiToken.digest(raw))
    return {"Authorization": f"Bearer {raw}"}


@pytest.fixture
def endpoints(cast):
    a = endpoint_create(actor=cast.bella, organisation=cast.bank_a_branch, url="https://crcb.example/hooks",
                        events=["*"])
    b = endpoint_create(actor=cast.bruno, organisation=cast.bank_b_branch, url="https://cdb.example/hooks",
                        events=["finance.demand.published"])
    return a, b


# --- API -------------------------------------------------------------------------------------------------------


def test_an_officer_registers_an_endpoint_and_gets_its_secret_once_asked(client, cast):
    auth = _token(cast.bella)
    response = client.post("/api/webhooks/endpoints", {
        "organisation_id": cast.bank_a_branch.pk, "url": "https://crcb.example/hooks",
        "events": ["finance.demand.published", "finance.demand.published", "finance.application.approved"],
        "description": "信贷系统"}, content_type="application/json", headers=auth)
    assert response.status_code == 201, response.json()
    body = response.json()
    endpoint = Endpoint.objects.get()
    assert body["id"] == str(endpoint.public_id) and body["secret"] == endpoint.secret
    assert body["secret"].startswith("whsec_")
    assert body["events"] == ["finance.application.approved", "finance.demand.published"]
    entry = AuditEntry.objects.get(object_type="webhooks.endpoint")
    assert (entry.actor, entry.action) == (cast.bella, "create")
    assert endpoint.secret not in str(entry.changes)
    # the plain read has no secret; the secret read has it
    assert "secret" not in client.get(f"/api/webhooks/endpoints/{endpoint.public_id}", headers=auth).json()
    assert client.get(f"/api/webhooks/endpoints/{endpoint.public_id}/secret",
                      headers=auth).json()["secret"] == endpoint.secret


@pytest.mark.parametrize(("payload", "status"), [
    ({"url": "http://10.0.0.5/hooks"}, 422),
    ({"url": "http://localhost:8000/hooks"}, 422),
    ({"url": "ftp://crcb.example/"}, 422),
    ({"events": ["Not valid"]}, 422),
    ({"events": []}, 422),
])
def test_bad_endpoints_are_refused(client, cast, payload, status):
    data = {"organisation_id": cast.bank_a_branch.pk, "url": "https://crcb.example/hooks", "events": ["*"]} | payload
    response = client.post("/api/webhooks/endpoints", data, content_type="application/json",
                           headers=_token(cast.bella))
    assert response.status_code == status
    assert not Endpoint.objects.exists()


def test_nobody_registers_an_endpoint_for_another_bank(client, cast):
    response = client.post("/api/webhooks/endpoints", {
        "organisation_id": cast.bank_b_branch.pk, "url": "https://evil.example/", "events": ["*"]},
        content_type="application/json", headers=_token(cast.bella))
    assert (response.status_code, response.json()["code"]) == (422, "invalid")
    for user in (cast.alice, cast.charlie, cast.clara):
        response = client.post("/api/webhooks/endpoints", {
            "organisation_id": cast.bank_a_branch.pk, "url": "https://x.example/", "events": ["*"]},
            content_type="application/json", headers=_token(user))
        assert response.status_code == 403
    assert not Endpoint.objects.exists()


def test_each_bank_sees_its_own_endpoints_and_deliveries_and_olivia_all(client, cast, endpoints):
    a, b = endpoints
    webhook_emit(cast.bank_a_branch, "finance.demand.published", {"n": 1})
    webhook_emit(cast.bank_b_branch, "finance.demand.published", {"n": 2})
    bella, bruno, olivia = _token(cast.bella), _token(cast.bruno), _token(cast.olivia)
    assert [e["id"] for e in client.get("/api/webhooks/endpoints", headers=bella).json()["items"]] == [str(a.public_id)]
    assert [e["id"] for e in client.get("/api/webhooks/endpoints", headers=bruno).json()["items"]] == [str(b.public_id)]
    assert client.get("/api/webhooks/endpoints", headers=olivia).json()["count"] == 2
    bellas = client.get("/api/webhooks/deliveries", headers=bella).json()["items"]
    assert [(d["endpoint_id"], d["status"], d["attempts"]) for d in bellas] == [(str(a.public_id), "pending", 0)]
    # bruno's endpoint, its secret and its deliveries do not exist for bella
    assert client.get(f"/api/webhooks/endpoints/{b.public_id}/secret", headers=bella).status_code == 404
    assert client.get(f"/api/webhooks/deliveries?endpoint_id={b.public_id}", headers=bella).status_code == 404
    brunos = Delivery.objects.get(endpoint=b)
    assert client.get(f"/api/webhooks/deliveries/{brunos.public_id}", headers=bella).status_code == 404
    assert client.post(f"/api/webhooks/deliveries/{brunos.public_id}/resend", headers=bella).status_code == 404
    assert client.patch(f"/api/webhooks/endpoints/{b.public_id}", {"active": False},
                        content_type="application/json", headers=bella).status_code == 404
    b.refresh_from_db()
    assert b.active


def test_rotate_disable_and_resend_over_the_api(client, cast, endpoints):
    a, _ = endpoints
    auth = _token(cast.bella)
    old = a.secret
    body = client.post(f"/api/webhooks/endpoints/{a.public_id}/rotate-secret", headers=auth).json()
    a.refresh_from_db()
    assert body["secret"] == a.secret != old
    rotation = AuditEntry.objects.get(object_type="webhooks.endpoint", context="secret rotated")
    assert old not in str(rotation.changes) and a.secret not in str(rotation.changes)

    [delivery] = webhook_emit(cast.bank_a_branch, "a.b", {})
    response = client.post(f"/api/webhooks/deliveries/{delivery.public_id}/resend", headers=auth)
    assert (response.status_code, response.json()["code"]) == (409, "delivery_pending")
    Delivery.objects.filter(pk=delivery.pk).update(status="failed", attempts=6)
    response = client.post(f"/api/webhooks/deliveries/{delivery.public_id}/resend", headers=auth)
    assert (response.status_code, response.json()["status"], response.json()["attempts"]) == (202, "pending", 6)

    response = client.patch(f"/api/webhooks/endpoints/{a.public_id}", {"active": False},
                            content_type="application/json", headers=auth)
    assert (response.status_code, response.json()["active"]) == (200, False)
    assert webhook_emit(cast.bank_a_branch, "a.b", {}) == []  # disabled: no new deliveries


def test_delivery_detail_holds_the_payload_and_the_attempts(client, cast, endpoints):
    [delivery] = webhook_emit(cast.bank_a_branch, "finance.demand.published", {"amount": "300.00"})
    body = client.get(f"/api/webhooks/deliveries/{delivery.public_id}", headers=_token(cast.bella)).json()
    assert (body["payload"], body["attempt_log"], body["event_id"]) == (
        {"amount": "300.00"}, [], str(delivery.event_id))


# --- pages -----------------------------------------------------------------------------------------------------


def test_the_pages_show_a_bank_its_own_and_refuse_others(client, cast, endpoints):
    a, b = endpoints
    client.force_login(cast.bella)
    html = client.get("/webhooks/").content.decode()
    assert "crcb.example" in html and "cdb.example" not in html
    assert a.secret in client.get(f"/webhooks/endpoints/{a.public_id}/").content.decode()
    assert client.get(f"/webhooks/endpoints/{b.public_id}/").status_code == 404
    client.force_login(cast.alice)
    assert client.get("/webhooks/").status_code == 403
    client.force_login(cast.olivia)
    html = client.get("/webhooks/").content.decode()
    assert "crcb.example" in html and "cdb.example" in html


def test_adding_rotating_disabling_and_resending_on_the_pages(client, cast):
    client.force_login(cast.bella)
    response = client.post("/webhooks/", {"organisation": cast.bank_a_branch.pk, "url": "https://crcb.example/h",
                                          "events": "finance.demand.published，finance.loan.repaid"})
    endpoint = Endpoint.objects.get()
    assert response["Location"] == f"/webhooks/endpoints/{endpoint.public_id}/"
    assert endpoint.events == ["finance.demand.published", "finance.loan.repaid"]
    response = client.post("/webhooks/", {"organisation": cast.bank_a_branch.pk, "url": "http://192.168.1.2/",
                                          "events": "*"})
    assert response.status_code == 200 and "不是公网地址" in response.content.decode()
    old = endpoint.secret
    client.post(f"/webhooks/endpoints/{endpoint.public_id}/rotate")
    endpoint.refresh_from_db()
    assert endpoint.secret != old
    [delivery] = webhook_emit(cast.bank_a_branch, "finance.demand.published", {})
    Delivery.objects.filter(pk=delivery.pk).update(status="failed")
    client.post(f"/webhooks/deliveries/{delivery.public_id}/resend")
    delivery.refresh_from_db()
    assert delivery.status == "pending"
    client.post(f"/webhooks/endpoints/{endpoint.public_id}/active", {"active": "0"})
    endpoint.refresh_from_db()
    assert not endpoint.active


def test_the_endpoint_page_costs_a_fixed_number_of_queries(client, cast, endpoints):
    a, _ = endpoints
    client.force_login(cast.bella)
    webhook_emit(cast.bank_a_branch, "a.b", {})

    def queries(url: str) -> int:
        with CaptureQueriesContext(connection) as captured:
            assert client.get(url).status_code == 200
        return len(captured)

    few = (queries(f"/webhooks/endpoints/{a.public_id}/"), queries("/webhooks/"))
    for _ in range(30):
        webhook_emit(cast.bank_a_branch, "a.b", {})
        endpoint_create(actor=cast.bella, organisation=cast.bank_a, url="https://crcb.example/x", events=["*"])
    assert (queries(f"/webhooks/endpoints/{a.public_id}/"), queries("/webhooks/")) == few
    assert max(few) <= 10


def test_the_delivery_page_shows_the_payload_and_every_attempt(client, cast, endpoints):
    from twincity.webhooks.models import DeliveryAttempt

    [delivery] = webhook_emit(cast.bank_a_branch, "finance.demand.published", {"amount": "300.00", "企业": "金凤"})
    Delivery.objects.filter(pk=delivery.pk).update(status="failed", attempts=1, last_status_code=500)
    DeliveryAttempt.objects.create(delivery=delivery, number=1, timestamp=1764417600, status_code=500,
                                   error="HTTP 500", response_excerpt="oops")
    client.force_login(cast.bella)
    html = client.get(f"/webhooks/deliveries/{delivery.public_id}/").content.decode()
    assert '"企业": "金凤"' in html.replace("&quot;", '"') and "1764417600" in html and "HTTP 500" in html
    assert f"/webhooks/deliveries/{delivery.public_id}/resend" in html  # failed: may be resent
    client.force_login(cast.bruno)
    assert client.get(f"/webhooks/deliveries/{delivery.public_id}/").status_code == 404
    assert client.post(f"/webhooks/deliveries/{delivery.public_id}/resend").status_code == 404
